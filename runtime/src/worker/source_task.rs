//! Running one source task: poll the guest, convert, produce, and commit
//! source offsets only once Kafka acknowledged every record before them.
//!
//! Records get a sequence number as they are handed to the producer; the
//! [`AckTracker`] marks them as acknowledgements arrive (on librdkafka's
//! delivery thread) and releases offsets strictly in sequence order. So a
//! stored offset never runs ahead of an unacknowledged record: after a
//! crash the task re-reads at most what was sent since the last flush
//! (at-least-once), and after a graceful stop, nothing.
//!
//! With exactly-once support on, the producer is transactional: records and
//! the offsets they advance commit together at each transaction boundary
//! (see [`super::exactly_once`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::BaseRecord;
use tokio::sync::watch;

use super::acks::{AckContext, AckTracker, Ticket};
use super::errors::{ErrorReporter, Failure, Produced, Stage, Subject, raw_bytes};
use super::exactly_once::{Transactions, transactional_id};
use super::producers::SourceProducer;
use super::retry::{Retrier, wait_unless_stopped};
use super::task::{TaskContext, TaskLoop, run_task};
use super::transforms::TransformChain;
use crate::GuestError;
use crate::bindings::source_task::RecordAck;
use crate::bindings::types::{SourceRecord, TransformRecord};
use crate::config::clients::{describe_client_error, task_client_id};
use crate::host::offsets::{OffsetReader, canonical_object};
use crate::instance::{InstanceSpec, SourceTaskInstance};
use crate::sandbox::limits::Usage;

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
        // The offsets the guest reads on start include what other workers
        // wrote up to now (a task that moved resumes where it stopped).
        ctx.offsets.offsets_of(&ctx.connector).await?;
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
    /// Shared with the worker's other source tasks of the same producer
    /// settings, unless the task runs exactly once.
    producer: Arc<SourceProducer>,
    /// The producer's transactions, when the task runs exactly once.
    transactions: Option<Transactions>,
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
        let tracker = Arc::new(Mutex::new(AckTracker::with_metrics(ctx.metrics.clone())));
        let mut settings = ctx.producer_settings("producer");
        let exactly_once = ctx.settings.source.exactly_once;
        if exactly_once.is_some() {
            if ctx.offsets.as_topic_records(&ctx.connector, &[]).is_none() {
                return Err(
                    "exactly-once source support needs the offsets in a Kafka topic \
                            (a distributed worker)"
                        .into(),
                );
            }
            let group = ctx.worker.get("group.id").unwrap_or_default();
            settings
                .set(
                    "transactional.id",
                    transactional_id(group, &ctx.connector, ctx.task),
                )
                // Keyed records by murmur2, as Kafka's Java producer: the
                // offsets records then land in the partition every other
                // writer of the offsets topic puts their key in.
                .set("partitioner", "murmur2_random");
        }
        let producer = if exactly_once.is_some() {
            Arc::new(
                settings
                    .create_with_context(AckContext)
                    .map_err(|e| describe_client_error("producer", &e))?,
            )
        } else {
            ctx.kafka.producers().get(
                settings,
                &task_client_id("producer", &ctx.connector, ctx.task),
            )?
        };
        let started = async {
            let transactions = match exactly_once {
                Some(boundary) => Some(Transactions::start(boundary, &producer).await?),
                None => None,
            };
            let chain = TransformChain::start(&ctx).await?;
            let errors = ErrorReporter::start(&ctx).await?;
            instance
                .start(&ctx.config)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((chain, errors, transactions))
        };
        let (transforms, errors, transactions) = match started.await {
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
            transactions,
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
            let poll_started = Instant::now();
            let polled = self.instance.poll().await;
            // Reported whatever the outcome, so a failed task shows its usage.
            self.ctx
                .status
                .task_usage(&self.ctx.connector, self.ctx.task, self.instance.usage());
            let records = match polled {
                Ok(r) => {
                    self.retry.succeeded();
                    // Kafka records a poll only when it returned records (an
                    // idle Java task returns null); an empty batch here is that
                    // null, and counting it would drag the batch size and poll
                    // time averages towards the idle wait.
                    if !r.is_empty() {
                        self.ctx.metrics.polled(r.len(), poll_started.elapsed());
                    }
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
            match &self.transactions {
                Some(t) => {
                    if t.due() {
                        self.commit_transaction().await?;
                    }
                }
                None => {
                    if last_flush.elapsed() >= self.ctx.worker.offset_flush_interval {
                        self.flush().await?;
                        last_flush = Instant::now();
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits (bounded) for outstanding acknowledgements, stores the final
    /// offsets and stops the guest. An exactly-once task commits its open
    /// transaction after a clean stop and aborts it after a failure.
    async fn shutdown(&mut self, clean: bool) -> Result<(), String> {
        if self.transactions.is_some() {
            let ended = if clean {
                self.commit_transaction().await
            } else {
                self.abort_transaction().await;
                Ok(())
            };
            let _ = self.deliver_guest_acks().await;
            if let Err(e) = self.instance.stop().await {
                tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
            }
            return ended;
        }
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
        // Copies for the dead letter queue, only when one takes skipped
        // records: conversion consumes the payloads.
        let kept = self
            .errors
            .keeps_records()
            .then(|| (record.key.clone(), record.value.clone()));
        let key = match key_converter.from_owned_payload(record.key.take()) {
            Ok(key) => key,
            Err(e) => {
                let error = format!(
                    "converting a record key for topic {} failed: {e}",
                    record.topic
                );
                let data = kept.map(|(k, v)| Produced {
                    key: k.as_ref().map(raw_bytes),
                    value: v.as_ref().map(raw_bytes),
                    headers: record.headers.clone(),
                    timestamp: record.timestamp,
                });
                let class = key_converter.class();
                return self.skip(&record, Stage::KeyConverter, class, &error, data.as_ref());
            }
        };
        let value = match value_converter.from_owned_payload(record.value.take()) {
            Ok(value) => value,
            Err(e) => {
                let error = format!(
                    "converting a record value for topic {} failed: {e}",
                    record.topic
                );
                let data = kept.map(|(_, v)| Produced {
                    key: key.clone(),
                    value: v.as_ref().map(raw_bytes),
                    headers: record.headers.clone(),
                    timestamp: record.timestamp,
                });
                let class = value_converter.class();
                return self.skip(&record, Stage::ValueConverter, class, &error, data.as_ref());
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
        let mut out = BaseRecord::<[u8], [u8], Box<Ticket>>::with_opaque_to(
            &record.topic,
            Ticket::new(&self.tracker, seq),
        );
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
        if let Some(t) = &mut self.transactions {
            t.begin(&self.producer)?;
        }
        // Counted before the send: Kafka's answer may come first.
        self.ctx.metrics.sending();
        loop {
            match self.producer.send(out) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // librdkafka's queue is full: wait for deliveries to drain it.
                    out = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => {
                    self.ctx.metrics.write_failed();
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
        data: Option<&Produced>,
    ) -> Result<(), String> {
        self.errors.report(Failure {
            stage,
            class,
            error,
            subject: Subject::Source {
                topic: &record.topic,
                partition: &record.source_partition,
                offset: &record.source_offset,
                record: data,
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
        // The topic is copied only for error logs that print it and the
        // dead letter queue's headers; the record only for that queue.
        let keep = self.errors.keeps_records();
        let log_topics = self.ctx.settings.errors.log_messages || keep;
        let inputs: Vec<TransformRecord> = records
            .into_iter()
            .map(|r| {
                let topic = log_topics.then(|| r.topic.clone());
                let data = keep.then(|| self.produced(&r));
                origins.push((
                    r.source_partition,
                    r.source_offset,
                    r.ack_token,
                    topic,
                    data,
                ));
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
        for ((source_partition, source_offset, ack_token, topic, data), out) in
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
                            record: data.as_ref(),
                        },
                    })?;
                    self.release(source_partition, source_offset, ack_token)?;
                }
            }
        }
        Ok(())
    }

    /// `r` as bytes for the dead letter queue: each payload converted as it
    /// would have been written, or as the task gave it where that fails.
    fn produced(&self, r: &SourceRecord) -> Produced {
        let bytes = |converter: crate::convert::Converter,
                     p: &Option<crate::bindings::types::Payload>| {
            converter
                .from_owned_payload(p.clone())
                .unwrap_or_else(|_| p.as_ref().map(raw_bytes))
        };
        Produced {
            key: bytes(self.ctx.key_converter, &r.key),
            value: bytes(self.ctx.value_converter, &r.value),
            headers: r.headers.clone(),
            timestamp: r.timestamp,
        }
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

    /// The latest offset of each source partition behind an unbroken run
    /// of acknowledged records, in canonical form, taken off the tracker.
    fn committable(&mut self) -> Result<Vec<(String, Option<String>)>, String> {
        self.tracker
            .lock()
            .map_err(|_| "ack tracker poisoned".to_string())?
            .drain_committable()
            .into_iter()
            .map(|(partition, offset)| {
                canonical_object(&offset)
                    .map(|offset| (partition, Some(offset)))
                    .map_err(|e| format!("invalid source offset: {e}"))
            })
            .collect()
    }

    /// [`Self::store_offsets`], timed and counted as an offset commit.
    async fn flush(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let stored = self.store_offsets().await;
        self.ctx
            .metrics
            .committed(stored.is_ok(), started.elapsed());
        stored
    }

    /// Stores the offsets of every acknowledged record, then tells the task.
    async fn store_offsets(&mut self) -> Result<(), String> {
        // Offsets past skipped records are stored only once the dead letter
        // queue holds them.
        self.errors.flush().await?;
        let updates = self.committable()?;
        if updates.is_empty() {
            return Ok(());
        }
        self.ctx.offsets.apply(&self.ctx.connector, updates).await?;
        self.committed().await;
        Ok(())
    }

    /// Tells the task its offsets are stored (a failure there only logs, as
    /// Kafka's `commit` does).
    async fn committed(&mut self) {
        if let Err(e) = self.instance.commit().await {
            tracing::warn!(connector = %self.ctx.connector, task = self.ctx.task, "{e}");
        }
    }

    /// Commits the open transaction with the offsets of the records in it:
    /// waits until Kafka has every record, writes the offsets to the
    /// offsets topic in the same transaction, and commits. A record Kafka
    /// refused aborts the transaction and fails the task; its successor
    /// starts after the last committed transaction.
    async fn commit_transaction(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let committed = self.commit_transaction_now().await;
        self.ctx
            .metrics
            .committed(committed.is_ok(), started.elapsed());
        committed
    }

    async fn commit_transaction_now(&mut self) -> Result<(), String> {
        let Some(t) = self.transactions.as_mut() else {
            return Ok(());
        };
        if !t.is_open() {
            return Ok(());
        }
        t.flush(&self.producer).await?;
        self.errors.flush().await?;
        if let Some(failure) = self.tracker.lock().ok().and_then(|t| t.failure()) {
            self.abort_transaction().await;
            return Err(failure);
        }
        let updates = self.committable()?;
        let records = match self
            .ctx
            .offsets
            .as_topic_records(&self.ctx.connector, &updates)
        {
            Some(records) => records?,
            None => return Err("the worker's offsets are not in a Kafka topic".into()),
        };
        if let Some(t) = self.transactions.as_mut() {
            let tracker = self.tracker.clone();
            t.commit(&self.producer, records, || Ticket::unrouted(&tracker))
                .await?;
        }
        self.ctx.offsets.remember(&self.ctx.connector, &updates)?;
        self.deliver_guest_acks().await?;
        self.committed().await;
        Ok(())
    }

    async fn abort_transaction(&mut self) {
        if let Some(t) = self.transactions.as_mut() {
            t.abort(&self.producer).await;
        }
    }
}
