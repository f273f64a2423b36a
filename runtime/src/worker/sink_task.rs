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
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{ClientContext, Message, Offset, Timestamp, TopicPartitionList};
use tokio::sync::{mpsc, watch};

use super::errors::{Consumed, ErrorReporter, Failure, Stage, Subject};
use super::retry::{RetryPolicy, wait_unless_stopped};
use super::task::{TaskContext, TaskLoop, run_task};
use super::transforms::TransformChain;
use crate::bindings::types::{
    Header, PartitionOffset, SinkRecord, TimestampType, TopicPartition, TransformRecord,
};
use crate::config::clients::{consumer, describe_client_error};
use crate::convert::Converter;
use crate::instance::{InstanceSpec, SinkTaskInstance};

/// How long to wait for a first record before looking at stop and flush.
const RECV_WAIT: Duration = Duration::from_millis(100);

/// A change of partition assignment.
enum Assignment {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// Relays librdkafka's rebalance callbacks (on its own thread) to the loop.
struct RebalanceContext {
    events: mpsc::UnboundedSender<Assignment>,
}

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(tpl) => Assignment::Assigned(partitions(tpl)),
            Rebalance::Revoke(tpl) => Assignment::Revoked(partitions(tpl)),
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "consumer group rebalance failed");
                return;
            }
        };
        let _ = self.events.send(event);
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition {
            topic: e.topic().to_string(),
            partition: e.partition(),
        })
        .collect()
}

/// Runs the task until `stop` is raised or it fails; the outcome is in the
/// status board.
pub async fn run(ctx: TaskContext, stop: watch::Receiver<bool>) {
    run_task(ctx.clone(), Runner::start(ctx, stop)).await
}

struct Runner {
    ctx: TaskContext,
    instance: SinkTaskInstance,
    consumer: Arc<BaseConsumer<RebalanceContext>>,
    events: mpsc::UnboundedReceiver<Assignment>,
    stop: watch::Receiver<bool>,
    /// Next offset to consume per assigned partition, after what `put` took.
    current: BTreeMap<(String, i32), i64>,
    /// The partitions assigned now (closed on stop, as Kafka does).
    assigned: Vec<TopicPartition>,
    max_batch: usize,
    retry: RetryPolicy,
    transforms: TransformChain,
    errors: ErrorReporter,
}

/// What one poll of the consumer gave.
struct Polled {
    /// Converted records, in order.
    records: Vec<SinkRecord>,
    /// Records that failed to convert, as consumed, with the failure.
    failed: Vec<(Consumed, Stage, String)>,
    /// Each converted record as consumed, index for index, when a
    /// transformation may refuse one and a dead letter queue wants it.
    raw: Option<Vec<Consumed>>,
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
        let transforms = TransformChain::start(&ctx).await?;
        let errors = ErrorReporter::start(&ctx, true).await?;
        let (tx, events) = mpsc::unbounded_channel();
        let consumer: BaseConsumer<RebalanceContext> = consumer(
            ctx.kafka.bootstrap(),
            &ctx.connector,
            ctx.task,
            &ctx.worker.consumer,
            &ctx.worker
                .overrides
                .permitted(&ctx.connector_config, "consumer.override."),
        )
        .create_with_context(RebalanceContext { events: tx })
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
        let max_batch = ctx.settings.sink.max_batch;
        Ok(Runner {
            retry: ctx.settings.retry,
            ctx,
            instance,
            consumer: Arc::new(consumer),
            events,
            stop,
            current: BTreeMap::new(),
            assigned: Vec::new(),
            max_batch,
            transforms,
            errors,
        })
    }
}

impl TaskLoop for Runner {
    async fn run(&mut self) -> Result<(), String> {
        let mut last_commit = Instant::now();
        while !*self.stop.borrow() {
            self.apply_assignments().await?;
            let polled = self.next_batch().await?;
            if !polled.records.is_empty() || !polled.failed.is_empty() {
                self.put(polled).await?;
            }
            if last_commit.elapsed() >= self.ctx.worker.offset_flush_interval {
                self.commit(1).await?;
                last_commit = Instant::now();
            }
        }
        Ok(())
    }

    async fn shutdown(&mut self, commit: bool) -> Result<(), String> {
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
        self.consumer.unsubscribe();
        committed
    }
}

impl Runner {
    async fn apply_assignments(&mut self) -> Result<(), String> {
        while let Ok(event) = self.events.try_recv() {
            match event {
                Assignment::Assigned(parts) => {
                    tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, partitions = parts.len(), "partitions assigned");
                    for p in &parts {
                        self.ctx.status.record_topic(&self.ctx.connector, &p.topic);
                    }
                    self.assigned.extend(parts.iter().cloned());
                    self.instance
                        .open(&parts)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Assignment::Revoked(parts) => {
                    tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, partitions = parts.len(), "partitions revoked");
                    for p in &parts {
                        self.current.remove(&(p.topic.clone(), p.partition));
                    }
                    self.assigned.retain(|a| !parts.contains(a));
                    self.instance
                        .close(&parts)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// Up to `max_batch` consumed records, converted: waits briefly for
    /// the first, then takes whatever is already fetched. The polling runs
    /// on a blocking thread, one hop per batch: librdkafka's poll is a plain
    /// call, and an async receive per message (a waker registered and
    /// dropped each time) cost more than the rest of the sink path.
    async fn next_batch(&mut self) -> Result<Polled, String> {
        let consumer = self.consumer.clone();
        let converters = (self.ctx.key_converter, self.ctx.value_converter);
        let max = self.max_batch;
        // Copies of the consumed bytes are kept only for a dead letter queue
        // behind a transformation chain: the one case they are needed.
        let keep_raw =
            !self.transforms.is_empty() && self.ctx.settings.errors.dead_letter_queue.is_some();
        let (polled, error) = tokio::task::spawn_blocking(move || {
            let mut polled = Polled {
                records: Vec::new(),
                failed: Vec::new(),
                raw: keep_raw.then(Vec::new),
            };
            let mut wait = RECV_WAIT;
            while polled.records.len() + polled.failed.len() < max {
                match consumer.poll(wait) {
                    None => break,
                    Some(Err(e)) => return (polled, Some(e)),
                    Some(Ok(msg)) => match convert(converters, &msg) {
                        Ok(record) => {
                            if let Some(raw) = &mut polled.raw {
                                raw.push(as_consumed(&msg, &record.headers));
                            }
                            polled.records.push(record);
                        }
                        Err((stage, e)) => {
                            let headers = headers_of(&msg);
                            polled.failed.push((as_consumed(&msg, &headers), stage, e));
                        }
                    },
                }
                wait = Duration::ZERO;
            }
            (polled, None)
        })
        .await
        .map_err(|e| format!("the consumer poll did not finish: {e}"))?;
        if let Some(e) = error {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "consumer error: {e}");
        }
        Ok(polled)
    }

    async fn put(&mut self, polled: Polled) -> Result<(), String> {
        let Polled {
            records: batch,
            failed,
            raw,
        } = polled;
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
            match self.instance.put(&batch).await {
                Ok(()) => break Ok(()),
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
        outcome?;
        self.current.extend(consumed);
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

    /// Asks the task what is safe to commit, keeps what it may commit
    /// (see [`clamp`]), and commits it synchronously on a blocking thread,
    /// so a refused commit is seen: logged, and tried again up to
    /// `attempts` times; after that the next commit covers the offsets.
    async fn commit(&mut self, attempts: u32) -> Result<(), String> {
        if self.current.is_empty() {
            return Ok(());
        }
        // Records skipped as errors are committed past only once the dead
        // letter queue holds them.
        self.errors.flush().await?;
        let current: Vec<PartitionOffset> = self
            .current
            .iter()
            .map(|((topic, partition), offset)| PartitionOffset {
                topic: topic.clone(),
                partition: *partition,
                offset: *offset,
            })
            .collect();
        let asked = self
            .instance
            .pre_commit(&current)
            .await
            .map_err(|e| e.to_string())?;
        let (safe, ignored) = clamp(asked, &self.current);
        for (po, why) in ignored {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "Ignoring invalid task provided offset {}-{}/{} -- {why}", po.topic, po.partition, po.offset);
        }
        if safe.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for po in &safe {
            tpl.add_partition_offset(&po.topic, po.partition, Offset::Offset(po.offset))
                .map_err(|e| format!("invalid offset from pre-commit: {e}"))?;
        }
        for attempt in 1..=attempts.max(1) {
            let consumer = self.consumer.clone();
            let tpl = tpl.clone();
            let outcome =
                tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
                    .await
                    .map_err(|e| format!("the offset commit did not finish: {e}"))?;
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

/// `msg` as consumed, for error reports (`headers`: its headers, already
/// copied).
fn as_consumed(msg: &BorrowedMessage<'_>, headers: &[Header]) -> Consumed {
    let (timestamp, timestamp_type) = timestamp_of(msg);
    Consumed {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        timestamp,
        timestamp_type,
        key: msg.key().map(<[u8]>::to_vec),
        value: msg.payload().map(<[u8]>::to_vec),
        headers: headers.to_vec(),
    }
}

fn headers_of(msg: &BorrowedMessage<'_>) -> Vec<Header> {
    msg.headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    key: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn timestamp_of(msg: &BorrowedMessage<'_>) -> (Option<i64>, TimestampType) {
    match msg.timestamp() {
        Timestamp::NotAvailable => (None, TimestampType::NoTimestamp),
        Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    }
}

/// Converts a consumed message into what the plugin sees; a failure names
/// the converter's stage.
fn convert(
    (key_converter, value_converter): (Converter, Converter),
    msg: &BorrowedMessage<'_>,
) -> Result<SinkRecord, (Stage, String)> {
    let at = || {
        format!(
            "{}-{} offset {}",
            msg.topic(),
            msg.partition(),
            msg.offset()
        )
    };
    let key = key_converter.to_payload(msg.key()).map_err(|e| {
        (
            Stage::KeyConverter,
            format!("converting the key of the record at {} failed: {e}", at()),
        )
    })?;
    let value = value_converter.to_payload(msg.payload()).map_err(|e| {
        (
            Stage::ValueConverter,
            format!("converting the value of the record at {} failed: {e}", at()),
        )
    })?;
    let (timestamp, timestamp_type) = timestamp_of(msg);
    Ok(SinkRecord {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        key,
        value,
        headers: headers_of(msg),
        timestamp,
        timestamp_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(topic: &str, partition: i32, offset: i64) -> SinkRecord {
        SinkRecord {
            topic: topic.into(),
            partition,
            offset,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
            timestamp_type: TimestampType::NoTimestamp,
        }
    }

    #[test]
    fn next_offsets_are_one_past_each_partitions_last_record() {
        let batch = [
            record("a", 0, 5),
            record("a", 1, 9),
            record("a", 0, 6),
            record("b", 0, 0),
            record("a", 1, 10),
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
        let mut next = next_offsets(&[record("a", 0, 5)]);
        advance(&mut next, "a", 0, 9);
        advance(&mut next, "a", 0, 7);
        advance(&mut next, "b", 2, 0);
        assert_eq!(
            next,
            [(("a".to_string(), 0), 10), (("b".to_string(), 2), 1)]
        );
    }
}
