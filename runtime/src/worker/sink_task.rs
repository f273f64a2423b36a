//! Running one sink task: consume from the connector's topics in group
//! `connect-<name>`, convert, `put` batches, and commit the offsets the
//! task's `pre-commit` says are safe.
//!
//! Offsets are committed only after `put` returned and `pre-commit`
//! approved them, so a record is never marked consumed before the plugin
//! wrote it (at-least-once). Partition assignments reach the guest as
//! `open` / `close` calls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::{mpsc, watch};

use super::errors::{Consumed, ErrorReporter, Failure, Stage, Subject};
use super::rebalance::{Assignment, RebalanceContext};
use super::retry::{RetryPolicy, wait_unless_stopped};
use super::sink_poll::{Polled, Poller, PollerSpec};
use super::task::{TaskContext, TaskLoop, run_task};
use super::transforms::TransformChain;
use crate::bindings::types::{
    PartitionOffset, SinkRecord, TimestampType, TopicPartition, TransformRecord,
};
use crate::config::clients::{consumer, describe_client_error};
use crate::instance::{InstanceSpec, SinkTaskInstance};

/// How long the loop waits for a batch before it looks at stop and the
/// commit interval again.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Runs the task until `stop` is raised or it fails; the outcome is in the
/// status board.
pub async fn run(ctx: TaskContext, stop: watch::Receiver<bool>) {
    run_task(ctx.clone(), Runner::start(ctx, stop)).await
}

struct Runner {
    // Dropped before the consumer: a revocation that closing the consumer
    // brings then finds nobody to ask, instead of waiting for an answer.
    events: mpsc::UnboundedReceiver<Assignment>,
    ctx: TaskContext,
    instance: SinkTaskInstance,
    consumer: Arc<BaseConsumer<RebalanceContext>>,
    closing: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
    /// Next offset to consume per assigned partition, after what `put` took.
    current: BTreeMap<(String, i32), i64>,
    /// The partitions assigned now (closed on stop, as Kafka does).
    assigned: Vec<TopicPartition>,
    /// Polls and converts ahead of the loop, on a thread of its own.
    poller: Poller,
    /// Revocations the loop has applied, and the partitions of those a
    /// batch still in flight may predate (see [`Self::receive`]).
    revocations: u64,
    revoked: Vec<(u64, Vec<TopicPartition>)>,
    retry: RetryPolicy,
    transforms: TransformChain,
    errors: ErrorReporter,
}

impl Runner {
    /// Creates the instance and the consumer and starts the guest task.
    async fn start(ctx: TaskContext, stop: watch::Receiver<bool>) -> Result<Runner, String> {
        let spec = InstanceSpec {
            limits: ctx.limits,
            secrets: ctx.secrets.clone(),
            ..InstanceSpec::new(&ctx.connector, Some(ctx.task), ctx.config.clone())
        };
        let mut instance = SinkTaskInstance::new(&ctx.plugin, spec)
            .await
            .map_err(|e| e.to_string())?;
        instance.tolerate_errant_records(ctx.settings.errors.tolerate_all);
        let transforms = TransformChain::start(&ctx).await?;
        let errors = ErrorReporter::start(&ctx).await?;
        let (tx, events) = mpsc::unbounded_channel();
        let closing = Arc::new(AtomicBool::new(false));
        let revocations = Arc::new(AtomicU64::new(0));
        let consumer: BaseConsumer<RebalanceContext> = consumer(
            ctx.kafka.bootstrap(),
            &ctx.connector,
            ctx.task,
            &ctx.worker.consumer,
            &ctx.worker
                .overrides
                .permitted(&ctx.connector_config, "consumer.override."),
        )
        .create_with_context(RebalanceContext {
            events: tx,
            closing: closing.clone(),
            revocations: revocations.clone(),
            connector: ctx.connector.clone(),
            task: ctx.task,
            metrics: ctx.metrics.clone(),
        })
        .map_err(|e| describe_client_error("consumer", &e))?;
        let subscription = &ctx.settings.sink.subscription;
        let refs: Vec<&str> = subscription.iter().map(String::as_str).collect();
        consumer
            .subscribe(&refs)
            .map_err(|e| format!("cannot subscribe to {}: {e}", subscription.join(", ")))?;
        instance
            .start(&ctx.config)
            .await
            .map_err(|e| e.to_string())?;
        let consumer = Arc::new(consumer);
        let poller = Poller::start(PollerSpec {
            consumer: consumer.clone(),
            converters: (ctx.key_converter, ctx.value_converter),
            max_batch: ctx.settings.sink.max_batch,
            // Copies of the consumed bytes are kept only for a dead letter
            // queue behind a transformation chain: the one case they are
            // needed.
            keep_raw: !transforms.is_empty() && ctx.settings.errors.dead_letter_queue.is_some(),
            revocations,
        })?;
        Ok(Runner {
            retry: ctx.settings.retry,
            ctx,
            instance,
            consumer,
            closing,
            events,
            stop,
            current: BTreeMap::new(),
            assigned: Vec::new(),
            poller,
            revocations: 0,
            revoked: Vec::new(),
            transforms,
            errors,
        })
    }
}

impl TaskLoop for Runner {
    async fn run(&mut self) -> Result<(), String> {
        let mut last_commit = Instant::now();
        // Records were put since the last commit: the task may hold some.
        let mut holding = false;
        while !*self.stop.borrow() {
            self.apply_assignments().await?;
            match self.next_batch().await? {
                Some(polled) if !polled.is_empty() => {
                    self.put(polled).await?;
                    holding = true;
                }
                // Nothing came: a task that may hold records (lingering
                // before a bulk request, say) hears of the time passing
                // through an empty put, as Kafka's tasks do after a poll
                // that returned nothing. Idle tasks are not called.
                _ if holding => self.put(Polled::default()).await?,
                _ => {}
            }
            if last_commit.elapsed() >= self.ctx.worker.offset_flush_interval {
                self.commit_periodically().await?;
                last_commit = Instant::now();
                holding = false;
            }
        }
        Ok(())
    }

    async fn shutdown(&mut self, commit: bool) -> Result<(), String> {
        // Nothing is polled past this point; a revocation the poller is
        // waiting in is answered while it ends.
        self.poller.halt();
        loop {
            tokio::select! {
                biased;
                Some(event) = self.events.recv() => {
                    if let Err(e) = self.apply(event).await {
                        tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
                    }
                }
                () = self.poller.exited() => break,
            }
        }
        let committed = if commit {
            let _ = self.apply_assignments().await;
            // The offsets must be stored before the group is left: a commit
            // refused while the group rebalances is tried again.
            self.commit(SHUTDOWN_COMMIT_ATTEMPTS).await
        } else {
            Ok(())
        };
        // Kafka closes the partitions a stopping task holds, after the
        // commit, so a buffering sink writes out what it holds.
        if !self.assigned.is_empty() {
            let assigned = std::mem::take(&mut self.assigned);
            if let Err(e) = self.instance.close(&assigned).await {
                tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
            }
        }
        if let Err(e) = self.instance.stop().await {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
        }
        self.closing.store(true, Ordering::Release);
        self.consumer.unsubscribe();
        committed
    }
}

impl Runner {
    /// Applies the assignment changes that arrived since the last look.
    async fn apply_assignments(&mut self) -> Result<(), String> {
        while let Ok(event) = self.events.try_recv() {
            self.apply(event).await?;
        }
        Ok(())
    }

    async fn apply(&mut self, event: Assignment) -> Result<(), String> {
        match event {
            Assignment::Assigned(parts) => {
                tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, partitions = parts.len(), "partitions assigned");
                for p in &parts {
                    self.ctx.status.record_topic(&self.ctx.connector, &p.topic);
                }
                self.assigned.extend(parts.iter().cloned());
                self.ctx.metrics.partitions(self.assigned.len());
                self.instance.open(&parts).await.map_err(|e| e.to_string())
            }
            Assignment::Revoking(parts, reply) => {
                tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, partitions = parts.len(), "partitions revoked");
                self.revocations += 1;
                self.revoked.push((self.revocations, parts.clone()));
                let offsets = self.committable(Some(&parts)).await?;
                // The callback commits while the task closes the partitions
                // (Kafka commits first; the order does not matter, as the
                // offsets are fixed by now).
                let _ = reply.send(offsets);
                self.current
                    .retain(|(t, p), _| !parts.iter().any(|r| r.partition == *p && r.topic == *t));
                self.assigned.retain(|a| !parts.contains(a));
                self.ctx.metrics.partitions(self.assigned.len());
                self.instance.close(&parts).await.map_err(|e| e.to_string())
            }
        }
    }

    /// The next batch from the poller, if one comes within [`BATCH_WAIT`];
    /// assignment changes are applied first, as they happen (a revocation
    /// waits inside the poller's `poll` for this loop's answer).
    async fn next_batch(&mut self) -> Result<Option<Polled>, String> {
        let wait = tokio::time::sleep(BATCH_WAIT);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                // Events first: an assignment is relayed before the records
                // of its partitions, and must reach the task before them.
                biased;
                Some(event) = self.events.recv() => self.apply(event).await?,
                polled = self.poller.next() => {
                    let polled = polled.ok_or("the consumer's polling thread ended")?;
                    return Ok(Some(self.receive(polled)));
                }
                _ = self.stop.changed() => return Ok(None),
                () = &mut wait => return Ok(None),
            }
        }
    }

    /// A batch as the loop may put it: without the records of partitions
    /// revoked after its polling began (they were fetched before the
    /// revocation; the partition's new owner reads them from the offset
    /// committed then).
    fn receive(&mut self, mut polled: Polled) -> Polled {
        if let Some(e) = polled.error.take() {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "consumer error: {e}");
        }
        // Batches come in polling order, so revocations this one follows
        // concern no later batch either.
        self.revoked.retain(|(n, _)| *n > polled.revocations);
        for (_, parts) in &self.revoked {
            polled.drop_partitions(parts);
        }
        polled
    }

    async fn put(&mut self, polled: Polled) -> Result<(), String> {
        let Polled {
            records: batch,
            failed,
            raw,
            ..
        } = polled;
        self.ctx.metrics.read(batch.len() + failed.len());
        // Offsets advance past every consumed record, including those a
        // transformation drops and those skipped as errors, and by the
        // topic-partition they came from even if a transformation renamed
        // the topic.
        let mut consumed = next_offsets(&batch);
        for (record, stage, error) in &failed {
            let class = match stage {
                Stage::KeyConverter => self.ctx.key_converter.class(),
                _ => self.ctx.value_converter.class(),
            };
            self.errors.report(Failure {
                stage: *stage,
                class,
                error,
                subject: Subject::Consumed(record),
            })?;
            advance(
                &mut consumed,
                &record.topic,
                record.partition,
                record.offset,
            );
        }
        let batch = if self.transforms.is_empty() {
            batch
        } else {
            self.transform(batch, raw).await?
        };
        let mut retry = self.retry.start();
        let outcome = loop {
            let attempt = Instant::now();
            match self.instance.put(&batch).await {
                Ok(()) => break Ok(attempt.elapsed()),
                Err(e) if e.is_retriable() && !*self.stop.borrow() => match retry.after(&e) {
                    Ok(delay) => {
                        tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}; retrying the batch in {} ms", delay.as_millis());
                        wait_unless_stopped(&mut self.stop, delay).await;
                    }
                    Err(trace) => break Err(trace),
                },
                Err(e) => break Err(e.to_string()),
            }
        };
        // Reported whatever the outcome, so a failed task shows its usage.
        self.ctx
            .status
            .task_usage(&self.ctx.connector, self.ctx.task, self.instance.usage());
        self.report_errant_records()?;
        self.ctx.metrics.put(batch.len(), outcome?);
        self.current.extend(consumed);
        Ok(())
    }

    /// Hands the records the task reported through `errant-records` to the
    /// error handling, each serialised back with the task's converters (as
    /// Kafka's `WorkerErrantRecordReporter` does) for the dead letter queue.
    fn report_errant_records(&mut self) -> Result<(), String> {
        let reported = self.instance.take_errant_records();
        if reported.is_empty() {
            return Ok(());
        }
        let class = self.ctx.plugin.info().task_class.clone();
        for (record, error) in reported {
            // A payload the converter cannot write back goes without its
            // bytes; the coordinates and the error still reach the log and
            // the dead letter queue's headers.
            let key = self
                .ctx
                .key_converter
                .from_owned_payload(record.key)
                .unwrap_or_default();
            let value = self
                .ctx
                .value_converter
                .from_owned_payload(record.value)
                .unwrap_or_default();
            let consumed = Consumed {
                topic: record.topic,
                partition: record.partition,
                offset: record.offset,
                timestamp: record.timestamp,
                timestamp_type: record.timestamp_type,
                key,
                value,
                headers: record.headers,
            };
            self.errors.report(Failure {
                stage: Stage::TaskPut,
                class: &class,
                error: &error,
                subject: Subject::Consumed(&consumed),
            })?;
        }
        Ok(())
    }

    /// Runs converted records through the transformation chain; records a
    /// transformation refuses are reported (`raw`: each record as consumed,
    /// for the dead letter queue).
    async fn transform(
        &mut self,
        batch: Vec<SinkRecord>,
        raw: Option<Vec<Consumed>>,
    ) -> Result<Vec<SinkRecord>, String> {
        let mut origins = Vec::with_capacity(batch.len());
        let inputs: Vec<TransformRecord> = batch
            .into_iter()
            .map(|r| {
                origins.push(Origin {
                    topic: r.topic.clone(),
                    partition: r.partition,
                    offset: r.offset,
                    timestamp: r.timestamp,
                    timestamp_type: r.timestamp_type,
                });
                TransformRecord {
                    topic: r.topic,
                    partition: Some(r.partition),
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                    timestamp: r.timestamp,
                }
            })
            .collect();
        let outputs = self.transforms.apply(inputs).await?;
        let mut kept = Vec::with_capacity(outputs.len());
        for (index, (origin, out)) in origins.into_iter().zip(outputs).enumerate() {
            match out {
                Ok(None) => {}
                Ok(Some(t)) => kept.push(SinkRecord {
                    topic: t.topic,
                    partition: t.partition.unwrap_or(origin.partition),
                    offset: origin.offset,
                    key: t.key,
                    value: t.value,
                    headers: t.headers,
                    timestamp: t.timestamp,
                    timestamp_type: origin.timestamp_type,
                }),
                Err(refused) => {
                    let record = match raw.as_ref().and_then(|r| r.get(index)) {
                        Some(record) => record.clone(),
                        None => origin.without_data(),
                    };
                    self.errors.report(Failure {
                        stage: Stage::Transformation,
                        class: &refused.class,
                        error: &refused.error,
                        subject: Subject::Consumed(&record),
                    })?;
                }
            }
        }
        Ok(kept)
    }

    /// Asks the task what is safe to commit of the partitions in `only`
    /// (every held partition when `None`) and keeps what it may commit (see
    /// [`clamp`]). Records skipped as errors are committed past only once
    /// the dead letter queue holds them, so that is flushed first.
    async fn committable(
        &mut self,
        only: Option<&[TopicPartition]>,
    ) -> Result<TopicPartitionList, String> {
        let held: BTreeMap<(String, i32), i64> = self
            .current
            .iter()
            .filter(|((t, p), _)| {
                only.is_none_or(|o| o.iter().any(|r| r.partition == *p && r.topic == *t))
            })
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let mut tpl = TopicPartitionList::new();
        if held.is_empty() {
            return Ok(tpl);
        }
        self.errors.flush().await?;
        let current: Vec<PartitionOffset> = held
            .iter()
            .map(|((topic, partition), offset)| PartitionOffset {
                topic: topic.clone(),
                partition: *partition,
                offset: *offset,
            })
            .collect();
        let asked = match self.instance.pre_commit(&current).await {
            Ok(asked) => asked,
            // A task that could not write out what it holds (its server is
            // down) keeps it: nothing is committed now, and the next flush
            // tries again, as Kafka's WorkerSinkTask carries on after a
            // failed commit.
            Err(e) if e.is_retriable() => {
                tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}; the offsets are committed at a later flush");
                self.report_errant_records()?;
                return Ok(tpl);
            }
            Err(e) => return Err(e.to_string()),
        };
        // What the task reported while flushing goes to the error handling,
        // and reaches the dead letter queue before its offsets are committed.
        self.report_errant_records()?;
        self.errors.flush().await?;
        let (safe, ignored) = clamp(asked, &held);
        for (po, why) in ignored {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "Ignoring invalid task provided offset {}-{}/{} -- {why}", po.topic, po.partition, po.offset);
        }
        for po in &safe {
            tpl.add_partition_offset(&po.topic, po.partition, Offset::Offset(po.offset))
                .map_err(|e| format!("invalid offset from pre-commit: {e}"))?;
        }
        Ok(tpl)
    }

    /// The periodic commit: what [`Self::committable`] allows, sent
    /// asynchronously, as Kafka's `WorkerSinkTask` does, so the loop does
    /// not wait a broker round trip every `offset.flush.interval.ms`. Its
    /// outcome is seen in [`RebalanceContext`]'s commit callback; offsets a
    /// refused commit carried are sent again with the next one.
    async fn commit_periodically(&mut self) -> Result<(), String> {
        let tpl = self.committable(None).await?;
        if tpl.count() == 0 {
            return Ok(());
        }
        // Counted when librdkafka takes the commit: its answer does not
        // reach this consumer's context (see `RebalanceContext`), so a
        // commit the broker refuses later is not seen here.
        let started = Instant::now();
        let sent = self.consumer.commit(&tpl, CommitMode::Async);
        self.ctx.metrics.committed(sent.is_ok(), started.elapsed());
        match sent {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "offset commit could not be sent: {e}");
            }
        }
        Ok(())
    }

    /// Commits what [`Self::committable`] allows, synchronously on a
    /// blocking thread, so a refused commit is seen: logged, and tried
    /// again up to `attempts` times (a stopping task's last commit).
    async fn commit(&mut self, attempts: u32) -> Result<(), String> {
        let tpl = self.committable(None).await?;
        if tpl.count() == 0 {
            return Ok(());
        }
        for attempt in 1..=attempts.max(1) {
            let consumer = self.consumer.clone();
            let tpl = tpl.clone();
            let started = Instant::now();
            let outcome =
                tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
                    .await
                    .map_err(|e| format!("the offset commit did not finish: {e}"))?;
            self.ctx
                .metrics
                .committed(outcome.is_ok(), started.elapsed());
            match outcome {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, attempt, "offset commit failed: {e}");
                    if attempt < attempts {
                        tokio::time::sleep(COMMIT_RETRY_BACKOFF).await;
                    }
                }
            }
        }
        // Not fatal: the offsets stay current, and the next commit covers
        // them again.
        Ok(())
    }
}

/// Tries of the final commit when a task stops.
const SHUTDOWN_COMMIT_ATTEMPTS: u32 = 3;
/// The pause between them (a rebalance in progress needs a moment).
const COMMIT_RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// What of a task's `pre-commit` answer may be committed, as Kafka's
/// `WorkerSinkTask` decides: only partitions the task holds, and no offset
/// past what it was given (committing beyond would skip records it never
/// saw). The rest comes back with the reason.
fn clamp(
    asked: Vec<PartitionOffset>,
    current: &BTreeMap<(String, i32), i64>,
) -> (Vec<PartitionOffset>, Vec<(PartitionOffset, String)>) {
    let mut safe = Vec::with_capacity(asked.len());
    let mut ignored = Vec::new();
    for po in asked {
        match current.get(&(po.topic.clone(), po.partition)) {
            None => ignored.push((po, "partition not assigned".to_string())),
            Some(&consumed) if po.offset > consumed => {
                ignored.push((po, format!("not yet consumed, currentOffset={consumed}")))
            }
            Some(_) if po.offset < 0 => ignored.push((po, "negative offset".to_string())),
            Some(_) => safe.push(po),
        }
    }
    (safe, ignored)
}

/// The next offset to consume of each topic-partition in `batch` (one
/// entry per partition, not per record: a batch holds few partitions).
fn next_offsets(batch: &[SinkRecord]) -> Vec<((String, i32), i64)> {
    let mut next: Vec<((String, i32), i64)> = Vec::new();
    for r in batch {
        advance(&mut next, &r.topic, r.partition, r.offset);
    }
    next
}

/// Moves `topic`-`partition`'s next offset past `offset`.
fn advance(next: &mut Vec<((String, i32), i64)>, topic: &str, partition: i32, offset: i64) {
    match next
        .iter_mut()
        .find(|((t, p), _)| *p == partition && t == topic)
    {
        Some((_, next)) => *next = (*next).max(offset + 1),
        None => next.push(((topic.to_string(), partition), offset + 1)),
    }
}

/// Where a record came from, kept across the transformation chain.
struct Origin {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    timestamp_type: TimestampType,
}

impl Origin {
    /// The record's coordinates alone (for the log when no dead letter
    /// queue needs its bytes).
    fn without_data(self) -> Consumed {
        Consumed {
            topic: self.topic,
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            timestamp_type: self.timestamp_type,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_offsets_are_one_past_each_partitions_last_record() {
        let batch = [
            SinkRecord::bare("a", 0, 5),
            SinkRecord::bare("a", 1, 9),
            SinkRecord::bare("a", 0, 6),
            SinkRecord::bare("b", 0, 0),
            SinkRecord::bare("a", 1, 10),
        ];
        assert_eq!(
            next_offsets(&batch),
            [
                (("a".to_string(), 0), 7),
                (("a".to_string(), 1), 11),
                (("b".to_string(), 0), 1)
            ]
        );
        assert!(next_offsets(&[]).is_empty());
    }

    #[test]
    fn only_held_and_consumed_offsets_are_committed() {
        let current = BTreeMap::from([(("a".to_string(), 0), 10), (("a".to_string(), 1), 3)]);
        let po = |topic: &str, partition: i32, offset: i64| PartitionOffset {
            topic: topic.into(),
            partition,
            offset,
        };
        let (safe, ignored) = clamp(
            vec![po("a", 0, 7), po("a", 1, 4), po("b", 0, 1), po("a", 0, -5)],
            &current,
        );
        assert_eq!(safe, [po("a", 0, 7)]);
        let why: Vec<&str> = ignored.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(
            why,
            [
                "not yet consumed, currentOffset=3",
                "partition not assigned",
                "negative offset"
            ]
        );
    }

    #[test]
    fn a_skipped_record_moves_its_partition_forward_never_back() {
        let mut next = next_offsets(&[SinkRecord::bare("a", 0, 5)]);
        advance(&mut next, "a", 0, 9);
        advance(&mut next, "a", 0, 7);
        advance(&mut next, "b", 2, 0);
        assert_eq!(
            next,
            [(("a".to_string(), 0), 10), (("b".to_string(), 2), 1)]
        );
    }
}
