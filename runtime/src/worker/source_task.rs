//! Running one source task: poll the guest, convert, produce, and commit
//! source offsets only once Kafka acknowledged every record before them.
//!
//! Records get a sequence number as they are handed to the producer; the
//! [`AckTracker`] marks them as acknowledgements arrive (on librdkafka's
//! delivery thread) and releases offsets strictly in sequence order. So a
//! stored offset never runs ahead of an unacknowledged record: after a
//! crash the task re-reads at most what was sent since the last flush
//! (at-least-once), and after a graceful stop, nothing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message};
use tokio::sync::watch;

use super::errors::{ErrorReporter, Failure, Stage, Subject};
use super::retry::{Retrier, wait_unless_stopped};
use super::task::{TaskContext, TaskLoop, run_task};
use super::transforms::TransformChain;
use crate::GuestError;
use crate::bindings::source_task::{AckStatus, RecordAck};
use crate::bindings::types::{SourceRecord, TransformRecord};
use crate::config::clients::{describe_client_error, producer};
use crate::host::offsets::{OffsetReader, canonical_object};
use crate::instance::{InstanceSpec, SourceTaskInstance};
use crate::sandbox::limits::Usage;

/// Records handed to the producer, in order, until their offsets are stored.
#[derive(Debug, Default)]
pub struct AckTracker {
    first_seq: u64,
    entries: VecDeque<Pending>,
    unacked: usize,
    failure: Option<String>,
    guest_acks: Vec<RecordAck>,
}

#[derive(Debug)]
struct Pending {
    partition: String,
    offset: String,
    token: Option<u64>,
    acked: bool,
}

impl AckTracker {
    /// Registers a record about to be sent; returns its sequence number.
    pub fn push(&mut self, partition: String, offset: String, token: Option<u64>) -> u64 {
        let seq = self.first_seq + self.entries.len() as u64;
        self.entries.push_back(Pending {
            partition,
            offset,
            token,
            acked: false,
        });
        self.unacked += 1;
        seq
    }

    /// Registers a record a transformation dropped: nothing to wait for,
    /// so its offset is released with the run it belongs to, and the task
    /// hears it was filtered.
    pub fn push_filtered(&mut self, partition: String, offset: String, token: Option<u64>) {
        self.entries.push_back(Pending {
            partition,
            offset,
            token: None,
            acked: true,
        });
        if let Some(token) = token {
            self.guest_acks.push(RecordAck {
                token,
                status: AckStatus::Filtered,
            });
        }
    }

    /// Records Kafka's answer for record `seq`.
    pub fn acknowledge(&mut self, seq: u64, outcome: Result<(i32, i64), String>) {
        let Some(idx) = seq.checked_sub(self.first_seq) else {
            return;
        };
        let Some(entry) = self.entries.get_mut(idx as usize) else {
            return;
        };
        if entry.acked {
            return;
        }
        match outcome {
            Ok((partition, offset)) => {
                entry.acked = true;
                self.unacked -= 1;
                if let Some(token) = entry.token {
                    self.guest_acks.push(RecordAck {
                        token,
                        status: AckStatus::Written((partition, offset)),
                    });
                }
            }
            Err(e) => {
                self.failure.get_or_insert(e);
            }
        }
    }

    /// Pops the acknowledged prefix; returns the latest offset per source
    /// partition within it, as the task gave it (not yet canonical: only
    /// the offsets that get stored are parsed).
    pub fn drain_committable(&mut self) -> Vec<(String, String)> {
        let mut latest = BTreeMap::new();
        while self.entries.front().is_some_and(|e| e.acked) {
            if let Some(e) = self.entries.pop_front() {
                latest.insert(e.partition, e.offset);
            }
            self.first_seq += 1;
        }
        latest.into_iter().collect()
    }

    /// Records sent but not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.unacked
    }

    /// The first delivery failure, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure.clone()
    }

    /// Acknowledgements the guest asked for, since the last call.
    pub fn take_guest_acks(&mut self) -> Vec<RecordAck> {
        std::mem::take(&mut self.guest_acks)
    }
}

/// Feeds librdkafka's delivery reports into the tracker.
struct AckContext {
    tracker: Arc<Mutex<AckTracker>>,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let outcome = match result {
            Ok(msg) => Ok((msg.partition(), msg.offset())),
            Err((e, msg)) => Err(format!(
                "Kafka did not accept a record for topic {}: {e}",
                msg.topic()
            )),
        };
        if let Ok(mut t) = self.tracker.lock() {
            t.acknowledge(seq as u64, outcome);
        }
    }
}

/// What the task loop needs from the code that makes records: the
/// sandboxed plugin, or native code (the benchmark runs a native twin of
/// the datagen plugin through the same loop to measure the sandbox's cost).
pub trait SourceGuest: Send + 'static {
    /// `source-task.start`.
    fn start(
        &mut self,
        config: &[(String, String)],
    ) -> impl Future<Output = Result<(), GuestError>> + Send;
    /// `source-task.poll`.
    fn poll(&mut self) -> impl Future<Output = Result<Vec<SourceRecord>, GuestError>> + Send;
    /// `source-task.commit-records`.
    fn commit_records(
        &mut self,
        acks: &[RecordAck],
    ) -> impl Future<Output = Result<(), GuestError>> + Send;
    /// `source-task.commit`.
    fn commit(&mut self) -> impl Future<Output = Result<(), GuestError>> + Send;
    /// `source-task.stop`.
    fn stop(&mut self) -> impl Future<Output = Result<(), GuestError>> + Send;
    /// Resources used so far.
    fn usage(&self) -> Usage;
}

impl SourceGuest for SourceTaskInstance {
    fn start(
        &mut self,
        config: &[(String, String)],
    ) -> impl Future<Output = Result<(), GuestError>> + Send {
        SourceTaskInstance::start(self, config)
    }
    fn poll(&mut self) -> impl Future<Output = Result<Vec<SourceRecord>, GuestError>> + Send {
        SourceTaskInstance::poll(self)
    }
    fn commit_records(
        &mut self,
        acks: &[RecordAck],
    ) -> impl Future<Output = Result<(), GuestError>> + Send {
        SourceTaskInstance::commit_records(self, acks)
    }
    fn commit(&mut self) -> impl Future<Output = Result<(), GuestError>> + Send {
        SourceTaskInstance::commit(self)
    }
    fn stop(&mut self) -> impl Future<Output = Result<(), GuestError>> + Send {
        SourceTaskInstance::stop(self)
    }
    fn usage(&self) -> Usage {
        SourceTaskInstance::usage(self)
    }
}

/// Runs the task until `stop` is raised or it fails; the outcome is in the
/// status board.
pub async fn run(ctx: TaskContext, stop: watch::Receiver<bool>) {
    let start = async {
        let offsets: Arc<dyn OffsetReader> = ctx.offsets.clone();
        let spec = InstanceSpec {
            offsets: Some(offsets),
            limits: ctx.limits,
            secrets: ctx.secrets.clone(),
            ..InstanceSpec::new(&ctx.connector, Some(ctx.task), ctx.config.clone())
        };
        let instance = SourceTaskInstance::new(&ctx.plugin, spec)
            .await
            .map_err(|e| e.to_string())?;
        let guest_stop = instance.stop_handle();
        Runner::start(ctx.clone(), stop.clone(), instance, move || {
            guest_stop.stop()
        })
        .await
    };
    run_task(ctx.clone(), start).await
}

/// Runs `guest` (already created, not yet started) through the task loop
/// until `stop` is raised or it fails. For native guests; `on_stop` is
/// called when a stop is requested.
pub async fn run_native<G: SourceGuest>(
    ctx: TaskContext,
    stop: watch::Receiver<bool>,
    guest: G,
    on_stop: impl FnOnce() + Send + 'static,
) {
    run_task(ctx.clone(), Runner::start(ctx, stop, guest, on_stop)).await
}

struct Runner<G> {
    ctx: TaskContext,
    instance: G,
    /// The topic of the previous record, already created and recorded.
    known_topic: Option<String>,
    /// The previous record's source partition as given and in canonical form.
    last_partition: Option<(String, String)>,
    producer: ThreadedProducer<AckContext>,
    tracker: Arc<Mutex<AckTracker>>,
    stop: watch::Receiver<bool>,
    retry: Retrier,
    transforms: TransformChain,
    errors: ErrorReporter,
}

impl<G: SourceGuest> Runner<G> {
    /// Creates the producer and starts the guest task.
    async fn start(
        ctx: TaskContext,
        stop: watch::Receiver<bool>,
        mut instance: G,
        on_stop: impl FnOnce() + Send + 'static,
    ) -> Result<Runner<G>, String> {
        let tracker = Arc::new(Mutex::new(AckTracker::default()));
        let producer = producer(
            ctx.kafka.bootstrap(),
            &ctx.connector,
            ctx.task,
            &ctx.worker.producer,
            &ctx.worker
                .overrides
                .permitted(&ctx.connector_config, "producer.override."),
        )
        .create_with_context(AckContext {
            tracker: tracker.clone(),
        })
        .map_err(|e| describe_client_error("producer", &e))?;
        let started = async {
            let chain = TransformChain::start(&ctx).await?;
            let errors = ErrorReporter::start(&ctx, false).await?;
            instance
                .start(&ctx.config)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((chain, errors))
        };
        let (transforms, errors) = match started.await {
            Ok(started) => started,
            Err(e) => {
                // Dropping a producer blocks; see `run_task`.
                let _ = tokio::task::spawn_blocking(move || drop(producer)).await;
                return Err(e);
            }
        };
        // A stop request reaches a guest that is inside `poll` at once.
        let mut watch_stop = stop.clone();
        tokio::spawn(async move {
            let _ = watch_stop.wait_for(|s| *s).await;
            on_stop();
        });
        Ok(Runner {
            retry: ctx.settings.retry.start(),
            ctx,
            instance,
            known_topic: None,
            last_partition: None,
            producer,
            tracker,
            stop,
            transforms,
            errors,
        })
    }
}

impl<G: SourceGuest> TaskLoop for Runner<G> {
    async fn run(&mut self) -> Result<(), String> {
        let mut last_flush = Instant::now();
        while !*self.stop.borrow() {
            if let Some(failure) = self.tracker.lock().ok().and_then(|t| t.failure()) {
                return Err(failure);
            }
            let polled = self.instance.poll().await;
            // Reported whatever the outcome, so a failed task shows its usage.
            self.ctx
                .status
                .task_usage(&self.ctx.connector, self.ctx.task, self.instance.usage());
            let records = match polled {
                Ok(r) => {
                    self.retry.succeeded();
                    r
                }
                Err(e) if e.is_retriable() => {
                    let delay = self.retry.after(&e)?;
                    tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}; retrying in {} ms", delay.as_millis());
                    wait_unless_stopped(&mut self.stop, delay).await;
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
            if self.transforms.is_empty() {
                for record in records {
                    self.send(record).await?;
                }
            } else {
                self.send_transformed(records).await?;
            }
            self.deliver_guest_acks().await?;
            if last_flush.elapsed() >= self.ctx.worker.offset_flush_interval {
                self.flush().await?;
                last_flush = Instant::now();
            }
        }
        Ok(())
    }

    /// Waits (bounded) for outstanding acknowledgements, stores the final
    /// offsets and stops the guest.
    async fn shutdown(&mut self, _clean: bool) -> Result<(), String> {
        let deadline = Instant::now() + self.ctx.worker.shutdown_timeout;
        while self.tracker.lock().map(|t| t.unacked()).unwrap_or(0) > 0 && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let unacked = self.tracker.lock().map(|t| t.unacked()).unwrap_or(0);
        if unacked > 0 {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, unacked, "stopping with records Kafka has not acknowledged; their offsets are not stored");
        }
        let flushed = self.flush().await;
        let _ = self.deliver_guest_acks().await;
        if let Err(e) = self.instance.stop().await {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
        }
        flushed
    }
}

impl<G: SourceGuest> Runner<G> {
    /// Hands one record to the producer. Per-record work is kept to the
    /// conversions and the send: topics are checked and source partitions
    /// canonicalised only when they change from one record to the next,
    /// offsets only when they are stored (see [`AckTracker`]).
    async fn send(&mut self, mut record: SourceRecord) -> Result<(), String> {
        let (key_converter, value_converter) = (self.ctx.key_converter, self.ctx.value_converter);
        let key = match key_converter.from_owned_payload(record.key.take()) {
            Ok(key) => key,
            Err(e) => {
                let error = format!(
                    "converting a record key for topic {} failed: {e}",
                    record.topic
                );
                return self.skip(&record, Stage::KeyConverter, key_converter.class(), &error);
            }
        };
        let value = match value_converter.from_owned_payload(record.value.take()) {
            Ok(value) => value,
            Err(e) => {
                let error = format!(
                    "converting a record value for topic {} failed: {e}",
                    record.topic
                );
                return self.skip(
                    &record,
                    Stage::ValueConverter,
                    value_converter.class(),
                    &error,
                );
            }
        };
        let partition = self.canonical_partition(&record.source_partition)?;
        if self.known_topic.as_deref() != Some(record.topic.as_str()) {
            self.ctx
                .kafka
                .ensure_topic(
                    &record.topic,
                    self.ctx.settings.source.topic_partitions,
                    self.ctx.settings.source.topic_replication,
                )
                .await?;
            self.ctx
                .status
                .record_topic(&self.ctx.connector, &record.topic);
            self.known_topic = Some(record.topic.clone());
        }
        let seq = self
            .tracker
            .lock()
            .map_err(|_| "ack tracker poisoned".to_string())?
            .push(partition, record.source_offset.clone(), record.ack_token);
        let mut out = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&record.topic, seq as usize);
        // librdkafka allocates a header list even for none; most records
        // have none.
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for h in &record.headers {
                headers = headers.insert(Header {
                    key: &h.key,
                    value: h.value.as_deref(),
                });
            }
            out = out.headers(headers);
        }
        if let Some(k) = &key {
            out = out.key(k.as_slice());
        }
        if let Some(v) = &value {
            out = out.payload(v.as_slice());
        }
        if let Some(p) = record.partition {
            out = out.partition(p);
        }
        if let Some(ts) = record.timestamp {
            out = out.timestamp(ts);
        }
        loop {
            match self.producer.send(out) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // librdkafka's queue is full: wait for deliveries to drain it.
                    out = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => {
                    return Err(format!(
                        "cannot send a record to topic {}: {e}",
                        record.topic
                    ));
                }
            }
        }
    }

    /// Reports a record that failed at `stage`; under `errors.tolerance=all`
    /// it is skipped: never written, its offset released as a filtered
    /// record's is.
    fn skip(
        &mut self,
        record: &SourceRecord,
        stage: Stage,
        class: &str,
        error: &str,
    ) -> Result<(), String> {
        self.errors.report(Failure {
            stage,
            class,
            error,
            subject: Subject::Source {
                topic: &record.topic,
                partition: &record.source_partition,
                offset: &record.source_offset,
            },
        })?;
        self.release(
            record.source_partition.clone(),
            record.source_offset.clone(),
            record.ack_token,
        )
    }

    /// Marks a record that will never be written as done with, so offsets
    /// behind it can be stored.
    fn release(
        &mut self,
        source_partition: String,
        source_offset: String,
        ack_token: Option<u64>,
    ) -> Result<(), String> {
        let partition = self.canonical_partition(&source_partition)?;
        self.tracker
            .lock()
            .map_err(|_| "ack tracker poisoned".to_string())?
            .push_filtered(partition, source_offset, ack_token);
        Ok(())
    }

    /// A source partition in canonical form; parsed only when it differs
    /// from the previous record's.
    fn canonical_partition(&mut self, raw: &str) -> Result<String, String> {
        match &self.last_partition {
            Some((last, canonical)) if last == raw => Ok(canonical.clone()),
            _ => {
                let canonical =
                    canonical_object(raw).map_err(|e| format!("invalid source partition: {e}"))?;
                self.last_partition = Some((raw.to_string(), canonical.clone()));
                Ok(canonical)
            }
        }
    }

    /// Runs a polled batch through the transformation chain, then sends
    /// what it kept and releases the offsets of what it dropped.
    async fn send_transformed(&mut self, records: Vec<SourceRecord>) -> Result<(), String> {
        let mut origins = Vec::with_capacity(records.len());
        // The topic is copied only for error logs that print it.
        let log_topics = self.ctx.settings.errors.log_messages;
        let inputs: Vec<TransformRecord> = records
            .into_iter()
            .map(|r| {
                let topic = log_topics.then(|| r.topic.clone());
                origins.push((r.source_partition, r.source_offset, r.ack_token, topic));
                TransformRecord {
                    topic: r.topic,
                    partition: r.partition,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                    timestamp: r.timestamp,
                }
            })
            .collect();
        let outputs = self.transforms.apply(inputs).await?;
        for ((source_partition, source_offset, ack_token, topic), out) in
            origins.into_iter().zip(outputs)
        {
            match out {
                Ok(Some(t)) => {
                    self.send(SourceRecord {
                        source_partition,
                        source_offset,
                        topic: t.topic,
                        partition: t.partition,
                        key: t.key,
                        value: t.value,
                        headers: t.headers,
                        timestamp: t.timestamp,
                        ack_token,
                    })
                    .await?
                }
                Ok(None) => self.release(source_partition, source_offset, ack_token)?,
                Err(refused) => {
                    self.errors.report(Failure {
                        stage: Stage::Transformation,
                        class: &refused.class,
                        error: &refused.error,
                        subject: Subject::Source {
                            topic: topic.as_deref().unwrap_or_default(),
                            partition: &source_partition,
                            offset: &source_offset,
                        },
                    })?;
                    self.release(source_partition, source_offset, ack_token)?;
                }
            }
        }
        Ok(())
    }

    async fn deliver_guest_acks(&mut self) -> Result<(), String> {
        let acks = self
            .tracker
            .lock()
            .map(|mut t| t.take_guest_acks())
            .unwrap_or_default();
        if acks.is_empty() {
            return Ok(());
        }
        self.instance
            .commit_records(&acks)
            .await
            .map_err(|e| e.to_string())
    }

    /// Stores the offsets of every acknowledged record, then tells the task.
    async fn flush(&mut self) -> Result<(), String> {
        let committable = self
            .tracker
            .lock()
            .map_err(|_| "ack tracker poisoned".to_string())?
            .drain_committable();
        if committable.is_empty() {
            return Ok(());
        }
        let committable = committable
            .into_iter()
            .map(|(partition, offset)| {
                canonical_object(&offset)
                    .map(|offset| (partition, offset))
                    .map_err(|e| format!("invalid source offset: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let updates = committable
            .into_iter()
            .map(|(partition, offset)| (partition, Some(offset)))
            .collect();
        self.ctx.offsets.apply(&self.ctx.connector, updates).await?;
        if let Err(e) = self.instance.commit().await {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_released_only_behind_an_unbroken_run_of_acks() {
        let mut t = AckTracker::default();
        let a = t.push("p1".into(), "1".into(), None);
        let b = t.push("p2".into(), "1".into(), Some(7));
        let c = t.push("p1".into(), "2".into(), None);
        t.acknowledge(c, Ok((0, 12)));
        assert!(t.drain_committable().is_empty(), "c is acked but a is not");
        t.acknowledge(a, Ok((0, 10)));
        assert_eq!(t.drain_committable(), [("p1".to_string(), "1".to_string())]);
        t.acknowledge(b, Ok((0, 11)));
        assert_eq!(
            t.drain_committable(),
            [
                ("p1".to_string(), "2".to_string()),
                ("p2".to_string(), "1".to_string())
            ]
        );
        assert_eq!(t.unacked(), 0);
        assert_eq!(
            t.take_guest_acks(),
            [RecordAck {
                token: 7,
                status: AckStatus::Written((0, 11))
            }]
        );
    }

    #[test]
    fn a_failed_delivery_is_kept_and_blocks_its_offset() {
        let mut t = AckTracker::default();
        let a = t.push("p".into(), "1".into(), None);
        t.acknowledge(a, Err("rejected".into()));
        assert_eq!(t.failure().as_deref(), Some("rejected"));
        assert!(t.drain_committable().is_empty());
    }
}
