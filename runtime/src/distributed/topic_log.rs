//! A compacted topic read as a log, as Kafka Connect's `KafkaBasedLog`:
//! the config, offset and status stores of distributed mode.
//!
//! The log is created compacted if it is missing. Every partition is
//! assigned from the beginning (no consumer group). [`TopicLog::read_to_end`]
//! returns what was written since the previous read, up to the end offsets
//! taken when it was called. That is the "read to the end" a worker does at
//! start, and after its own writes, before it acts on what the log says.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::store::RecordLog;

/// How long a read to the end may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a write may wait for its acknowledgement.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

pub use crate::store::LogRecord;

/// Which topic, and how to create it.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub topic: String,
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication: i32,
}

/// A topic read from the beginning and written with acknowledgements.
pub struct TopicLog {
    topic: String,
    partitions: i32,
    consumer: Arc<BaseConsumer>,
    producer: FutureProducer,
    /// The next offset to read, per partition.
    next: Arc<Mutex<BTreeMap<i32, i64>>>,
}

impl TopicLog {
    /// Opens `spec.topic` (creating it compacted when missing) through
    /// `bootstrap`, with the worker's client `settings` (security and the
    /// like) under the log's own.
    pub async fn open(
        bootstrap: &str,
        settings: &[(String, String)],
        spec: &TopicSpec,
        client_id: &str,
    ) -> Result<TopicLog, String> {
        let config = |extra: &[(&str, &str)]| {
            let mut c = ClientConfig::new();
            for (k, v) in settings {
                c.set(k, v);
            }
            c.set("bootstrap.servers", bootstrap);
            c.set("client.id", client_id);
            for (k, v) in extra {
                c.set(*k, *v);
            }
            c
        };
        create_compacted(&config(&[]), spec).await?;
        // murmur2, as Kafka's Java clients partition: a key lands in the
        // partition Kafka Connect would put (and look for) it in.
        let producer: FutureProducer = config(&[
            ("acks", "all"),
            ("linger.ms", "0"),
            ("partitioner", "murmur2_random"),
        ])
        .create()
        .map_err(|e| format!("cannot create the producer for {}: {e}", spec.topic))?;
        let consumer: BaseConsumer = config(&[
            ("group.id", &format!("{client_id}-{}", spec.topic)),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
            // Transactions leave markers (and aborted records) a consumer
            // never sees: the end of a partition is then known only from
            // the consumer's end-of-partition event (see `read_to_end`).
            ("enable.partition.eof", "true"),
            ("isolation.level", "read_committed"),
        ])
        .create()
        .map_err(|e| format!("cannot create the consumer for {}: {e}", spec.topic))?;
        let consumer = Arc::new(consumer);
        let topic = spec.topic.clone();
        let partitions = {
            let consumer = consumer.clone();
            let topic = topic.clone();
            tokio::task::spawn_blocking(move || partition_count(&consumer, &topic))
                .await
                .map_err(|e| format!("reading the metadata of {}: {e}", spec.topic))??
        };
        let mut assignment = TopicPartitionList::new();
        for p in 0..partitions {
            assignment
                .add_partition_offset(&topic, p, Offset::Beginning)
                .map_err(|e| format!("assigning {topic}-{p}: {e}"))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| format!("assigning {topic}: {e}"))?;
        Ok(TopicLog {
            topic,
            partitions,
            consumer,
            producer,
            next: Arc::new(Mutex::new((0..partitions).map(|p| (p, 0)).collect())),
        })
    }
}

#[async_trait]
impl RecordLog for TopicLog {
    fn partitions(&self) -> i32 {
        self.partitions
    }

    /// Reads up to the end offsets as they are when called.
    async fn read_to_end(&self) -> Result<Vec<LogRecord>, String> {
        let consumer = self.consumer.clone();
        let next = self.next.clone();
        let topic = self.topic.clone();
        let partitions = self.partitions;
        tokio::task::spawn_blocking(move || read_to_end(&consumer, &topic, partitions, &next))
            .await
            .map_err(|e| format!("reading {}: {e}", self.topic))?
    }

    /// Waits for Kafka's acknowledgement (`acks=all`).
    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(i32, i64), String> {
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, WRITE_TIMEOUT)
            .await
            .map(|delivery| (delivery.partition, delivery.offset))
            .map_err(|(e, _)| format!("writing to {}: {e}", self.topic))
    }
}

/// Creates the topic compacted; one that exists already is fine.
async fn create_compacted(config: &ClientConfig, spec: &TopicSpec) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(|e| format!("cannot create the admin client: {e}"))?;
    let replication = if spec.replication < 0 {
        TopicReplication::Fixed(-1)
    } else {
        TopicReplication::Fixed(spec.replication)
    };
    let topic =
        NewTopic::new(&spec.topic, spec.partitions, replication).set("cleanup.policy", "compact");
    let results = admin
        .create_topics(
            &[topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .map_err(|e| format!("cannot create topic {}: {e}", spec.topic))?;
    for result in results {
        match result {
            Ok(_) => {
                tracing::info!(topic = %spec.topic, partitions = spec.partitions, "created compacted topic")
            }
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(format!("cannot create topic {}: {code}", spec.topic)),
        }
    }
    Ok(())
}

fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<i32, String> {
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .map_err(|e| format!("reading the metadata of {topic}: {e}"))?;
        if let Some(t) = metadata.topics().iter().find(|t| t.name() == topic)
            && !t.partitions().is_empty()
        {
            return Ok(t.partitions().len() as i32);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "topic {topic} has no partitions after {READ_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every partition's end offset, as [`end_offsets_once`], retried while the
/// broker answers with an error that passes: a topic created a moment ago
/// has no leader yet (Apache Kafka says `NotLeaderForPartition` for a
/// second or so), and a leader moves when a broker restarts.
fn end_offsets(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, i64>, String> {
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        match end_offsets_once(consumer, topic, partitions) {
            Err((e, Some(code))) if retriable(code) && Instant::now() < deadline => {
                tracing::debug!(topic, "reading the end offsets again: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other.map_err(|(e, _)| e),
        }
    }
}

/// Errors a leader election or a broker restart clears.
fn retriable(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::NotLeaderForPartition
            | RDKafkaErrorCode::LeaderNotAvailable
            | RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::NotCoordinator
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
    )
}

/// Every partition's end offset, in one ListOffsets round trip per broker
/// (asking partition by partition costs a round trip each: seconds for the
/// 25 partitions of an offsets topic). An error comes with its code.
fn end_offsets_once(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, i64>, (String, Option<RDKafkaErrorCode>)> {
    let mut request = TopicPartitionList::new();
    for p in 0..partitions {
        // As a timestamp, "end" asks for the latest offset.
        request
            .add_partition_offset(topic, p, Offset::End)
            .map_err(|e| (format!("{topic}-{p}: {e}"), None))?;
    }
    let answer = consumer
        .offsets_for_times(request, Duration::from_secs(10))
        .map_err(|e| {
            (
                format!("reading the end offsets of {topic}: {e}"),
                e.rdkafka_error_code(),
            )
        })?;
    let mut ends = BTreeMap::new();
    for element in answer.elements() {
        if let Err(e) = element.error() {
            return Err((
                format!("reading the end of {topic}-{}: {e}", element.partition()),
                e.rdkafka_error_code(),
            ));
        }
        let end = match element.offset() {
            Offset::Offset(o) => o,
            // No offset: fall back to the partition's watermarks.
            _ => {
                consumer
                    .fetch_watermarks(topic, element.partition(), Duration::from_secs(10))
                    .map_err(|e| {
                        (
                            format!("reading the end of {topic}-{}: {e}", element.partition()),
                            e.rdkafka_error_code(),
                        )
                    })?
                    .1
            }
        };
        ends.insert(element.partition(), end);
    }
    Ok(ends)
}

/// Reads every committed record up to the end offsets as they are when
/// called (under `read_committed`, a partition's end is its last stable
/// offset). A partition is read to its end when a record at or past its
/// end offset arrived; a transaction's closing marker and aborted records
/// are never delivered, though (Java's `position()` moves past them,
/// librdkafka's application position does not). So a partition still
/// short of its end when nothing arrives is sought back to where reading
/// stands, and the consumer's end-of-partition event after that seek says
/// it is read: a seek discards events of fetches made before it, so that
/// event comes from a fetch made after the end offsets were measured.
fn read_to_end(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
    next: &Mutex<BTreeMap<i32, i64>>,
) -> Result<Vec<LogRecord>, String> {
    let ends = end_offsets(consumer, topic, partitions)?;
    let mut next = next
        .lock()
        .map_err(|_| "topic log lock poisoned".to_string())?;
    let mut out = Vec::new();
    let mut sought = std::collections::BTreeSet::new();
    let mut at_end = std::collections::BTreeSet::new();
    let deadline = Instant::now() + READ_TIMEOUT;
    let short = |next: &BTreeMap<i32, i64>, at_end: &std::collections::BTreeSet<i32>| {
        ends.iter()
            .filter(|(p, end)| next.get(p).copied().unwrap_or(0) < **end && !at_end.contains(*p))
            .map(|(p, _)| *p)
            .collect::<Vec<i32>>()
    };
    loop {
        let waiting = short(&next, &at_end);
        if waiting.is_empty() {
            return Ok(out);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "could not read {topic} to its end within {READ_TIMEOUT:?}"
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                next.insert(m.partition(), m.offset() + 1);
                out.push(LogRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                });
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                if sought.contains(&p) {
                    at_end.insert(p);
                }
            }
            Some(Err(e)) => tracing::warn!(topic, "reading the log: {e}"),
            None => {
                for p in waiting {
                    if !sought.insert(p) {
                        continue;
                    }
                    let from = Offset::Offset(next.get(&p).copied().unwrap_or(0));
                    consumer
                        .seek(topic, p, from, Duration::from_secs(10))
                        .map_err(|e| format!("seeking {topic}-{p}: {e}"))?;
                }
            }
        }
    }
}
