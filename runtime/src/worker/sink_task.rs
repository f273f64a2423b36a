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
    max_batch: usize,
    retry: RetryPolicy,
    transforms: TransformChain,
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
            max_batch,
            transforms,
        })
    }
}

impl TaskLoop for Runner {
    async fn run(&mut self) -> Result<(), String> {
        let mut last_commit = Instant::now();
        while !*self.stop.borrow() {
            self.apply_assignments().await?;
            let batch = self.next_batch().await?;
            if !batch.is_empty() {
                self.put(batch).await?;
            }
            if last_commit.elapsed() >= self.ctx.worker.offset_flush_interval {
                self.commit(CommitMode::Async).await?;
                last_commit = Instant::now();
            }
        }
        Ok(())
    }

    async fn shutdown(&mut self, commit: bool) -> Result<(), String> {
        let committed = if commit {
            let _ = self.apply_assignments().await;
            // Synchronous: the offsets must be stored before the group is left.
            self.commit(CommitMode::Sync).await
        } else {
            Ok(())
        };
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
                    self.instance
                        .close(&parts)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// Up to `max_batch` converted records: waits briefly for the first,
    /// then takes whatever is already fetched. The polling runs on a
    /// blocking thread, one hop per batch: librdkafka's poll is a plain
    /// call, and an async receive per message (a waker registered and
    /// dropped each time) cost more than the rest of the sink path.
    async fn next_batch(&mut self) -> Result<Vec<SinkRecord>, String> {
        let consumer = self.consumer.clone();
        let converters = (self.ctx.key_converter, self.ctx.value_converter);
        let max = self.max_batch;
        let (batch, error) = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::new();
            let mut wait = RECV_WAIT;
            while batch.len() < max {
                match consumer.poll(wait) {
                    None => break,
                    Some(Err(e)) => return (Ok(batch), Some(e)),
                    Some(Ok(msg)) => match convert(converters, &msg) {
                        Ok(record) => batch.push(record),
                        Err(e) => return (Err(e), None),
                    },
                }
                wait = Duration::ZERO;
            }
            (Ok(batch), None)
        })
        .await
        .map_err(|e| format!("the consumer poll did not finish: {e}"))?;
        if let Some(e) = error {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "consumer error: {e}");
        }
        batch
    }

    async fn put(&mut self, batch: Vec<SinkRecord>) -> Result<(), String> {
        // Offsets advance past every consumed record, including those a
        // transformation drops, and by the topic-partition they came from
        // even if a transformation renamed the topic.
        let consumed = next_offsets(&batch);
        let batch = if self.transforms.is_empty() {
            batch
        } else {
            self.transform(batch).await?
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

    /// Runs converted records through the transformation chain.
    async fn transform(&mut self, batch: Vec<SinkRecord>) -> Result<Vec<SinkRecord>, String> {
        let mut origins = Vec::with_capacity(batch.len());
        let inputs: Vec<TransformRecord> = batch
            .into_iter()
            .map(|r| {
                origins.push((r.partition, r.offset, r.timestamp_type));
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
        Ok(origins
            .into_iter()
            .zip(outputs)
            .filter_map(|((partition, offset, timestamp_type), out)| {
                let t = out?;
                Some(SinkRecord {
                    topic: t.topic,
                    partition: t.partition.unwrap_or(partition),
                    offset,
                    key: t.key,
                    value: t.value,
                    headers: t.headers,
                    timestamp: t.timestamp,
                    timestamp_type,
                })
            })
            .collect())
    }

    /// Asks the task what is safe to commit, and commits it.
    async fn commit(&mut self, mode: CommitMode) -> Result<(), String> {
        if self.current.is_empty() {
            return Ok(());
        }
        let current: Vec<PartitionOffset> = self
            .current
            .iter()
            .map(|((topic, partition), offset)| PartitionOffset {
                topic: topic.clone(),
                partition: *partition,
                offset: *offset,
            })
            .collect();
        let safe = self
            .instance
            .pre_commit(&current)
            .await
            .map_err(|e| e.to_string())?;
        if safe.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for po in &safe {
            tpl.add_partition_offset(&po.topic, po.partition, Offset::Offset(po.offset))
                .map_err(|e| format!("invalid offset from pre-commit: {e}"))?;
        }
        if let Err(e) = self.consumer.commit(&tpl, mode) {
            // Not fatal: the next commit covers these offsets again.
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "offset commit failed: {e}");
        }
        Ok(())
    }
}

/// The next offset to consume of each topic-partition in `batch` (one
/// entry per partition, not per record: a batch holds few partitions).
fn next_offsets(batch: &[SinkRecord]) -> Vec<((String, i32), i64)> {
    let mut next: Vec<((String, i32), i64)> = Vec::new();
    for r in batch {
        match next
            .iter_mut()
            .find(|((topic, partition), _)| *partition == r.partition && *topic == r.topic)
        {
            Some((_, offset)) => *offset = r.offset + 1,
            None => next.push(((r.topic.clone(), r.partition), r.offset + 1)),
        }
    }
    next
}

/// Converts a consumed message into what the plugin sees.
fn convert(
    (key_converter, value_converter): (Converter, Converter),
    msg: &BorrowedMessage<'_>,
) -> Result<SinkRecord, String> {
    let at = || {
        format!(
            "{}-{} offset {}",
            msg.topic(),
            msg.partition(),
            msg.offset()
        )
    };
    let key = key_converter
        .to_payload(msg.key())
        .map_err(|e| format!("converting the key of the record at {} failed: {e}", at()))?;
    let value = value_converter
        .to_payload(msg.payload())
        .map_err(|e| format!("converting the value of the record at {} failed: {e}", at()))?;
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    key: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default();
    let (timestamp, timestamp_type) = match msg.timestamp() {
        Timestamp::NotAvailable => (None, TimestampType::NoTimestamp),
        Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    };
    Ok(SinkRecord {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        key,
        value,
        headers,
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
}
