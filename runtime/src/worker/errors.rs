//! What a task does with a record that fails to convert or transform, as
//! Kafka Connect does it (KIP-298):
//!
//! * `errors.tolerance=none` (the default): the task fails, with "Tolerance
//!   exceeded in error handler" and the cause in its trace;
//! * `errors.tolerance=all`: the record is skipped (its offset is still
//!   committed) and the task goes on;
//! * `errors.log.enable`: each failure is logged at ERROR in Kafka's words,
//!   with the record's coordinates when `errors.log.include.messages` is on;
//! * sinks only, `errors.deadletterqueue.topic.name`: the record, as it was
//!   consumed, goes to that topic (created with one partition and
//!   `errors.deadletterqueue.topic.replication.factor` when missing), with
//!   Kafka's `__connect.errors.*` headers when
//!   `errors.deadletterqueue.context.headers.enable` is on.
//!
//! Unlike Kafka, a record that cannot be written to the dead letter queue
//! fails the task: its offset is committed only once the dead letter queue
//! has it ([`ErrorReporter::flush`] runs before every commit), so nothing is
//! skipped without a trace. A guest that traps or runs out of memory is not
//! a record error: its instance is gone, and the task fails whatever the
//! tolerance.
//!
//! Task loops build an [`ErrorReporter`] from [`ErrorSettings`] (parsed
//! with the task's other settings) and call [`ErrorReporter::report`].

use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use super::status::StatusBoard;
use super::task::TaskContext;
use crate::bindings::types::{Header, Payload, TimestampType};
use crate::config::clients::describe_client_error;
use crate::config::worker::{list, lookup};
use crate::convert::parse_bool;

/// Where in the pipeline a record failed (Kafka's `Stage` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    Transformation,
    /// A record a sink task reported through `errant-records`.
    TaskPut,
}

impl Stage {
    /// Kafka's name, as in logs and the `__connect.errors.stage` header.
    pub fn name(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
        }
    }
}

/// The `errors.*` settings of a connector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorSettings {
    /// `errors.tolerance=all`.
    pub tolerate_all: bool,
    /// `errors.log.enable`.
    pub log: bool,
    /// `errors.log.include.messages`.
    pub log_messages: bool,
    /// `errors.deadletterqueue.*`, when a topic is named (sinks as in
    /// Kafka; sources too, beyond it).
    pub dead_letter_queue: Option<DeadLetterQueue>,
}

/// A sink's dead letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetterQueue {
    pub topic: String,
    pub replication_factor: i16,
    pub context_headers: bool,
}

/// `errors.deadletterqueue.topic.replication.factor`'s default.
const DLQ_REPLICATION_DEFAULT: i16 = 3;

impl ErrorSettings {
    /// Parses the keys; the first bad value is refused in Kafka's words.
    pub fn parse(config: &[(String, String)]) -> Result<ErrorSettings, String> {
        let tolerate_all = tolerance(config).map_err(|(_, m)| m)?;
        let flag = |key: &str| boolean(config, key).map_err(|(_, m)| m);
        let (log, log_messages) = (
            flag("errors.log.enable")?,
            flag("errors.log.include.messages")?,
        );
        let dead_letter_queue = match lookup(config, "errors.deadletterqueue.topic.name")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(topic) => Some(DeadLetterQueue {
                topic: topic.to_string(),
                replication_factor: replication(config).map_err(|(_, m)| m)?,
                context_headers: flag("errors.deadletterqueue.context.headers.enable")?,
            }),
        };
        Ok(ErrorSettings {
            tolerate_all,
            log,
            log_messages,
            dead_letter_queue,
        })
    }

    /// Every problem with the keys, by key, for validation; `sink` adds
    /// Kafka's rule that a sink may not consume its own dead letter queue.
    pub fn problems(config: &[(String, String)], sink: bool) -> Vec<(String, String)> {
        let mut found = Vec::new();
        found.extend(tolerance(config).err());
        for key in ["errors.log.enable", "errors.log.include.messages"] {
            found.extend(boolean(config, key).err());
        }
        found.extend(boolean(config, "errors.deadletterqueue.context.headers.enable").err());
        found.extend(replication(config).err());
        if !sink {
            return found;
        }
        let Some(dlq) = lookup(config, "errors.deadletterqueue.topic.name")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return found;
        };
        // Kafka's messages, on the topic keys alone (checked against
        // Kafka Connect 4.3 in tests/tests/compat.rs).
        let topics = list(lookup(config, "topics"));
        if topics.iter().any(|t| t == dlq) {
            found.push((
                "topics".into(),
                format!(
                    "The DLQ topic '{dlq}' may not be included in the list of topics ('topics=[{}]') consumed by the connector",
                    topics.join(", ")
                ),
            ));
        }
        if let Some(regex) = lookup(config, "topics.regex").filter(|r| !r.trim().is_empty())
            && regex::Regex::new(&format!("^(?:{regex})$")).is_ok_and(|r| r.is_match(dlq))
        {
            found.push((
                "topics.regex".into(),
                format!(
                    "The DLQ topic '{dlq}' may not be matched by the regex for the topics ('topics.regex={regex}') consumed by the connector"
                ),
            ));
        }
        found
    }
}

type Problem = (String, String);

fn invalid(key: &str, value: &str, why: &str) -> Problem {
    (
        key.to_string(),
        format!("Invalid value {value} for configuration {key}: {why}"),
    )
}

fn tolerance(config: &[(String, String)]) -> Result<bool, Problem> {
    match lookup(config, "errors.tolerance").map(str::trim) {
        None | Some("none") => Ok(false),
        Some("all") => Ok(true),
        Some(v) => Err(invalid(
            "errors.tolerance",
            v,
            "String must be one of: none, all",
        )),
    }
}

fn boolean(config: &[(String, String)], key: &str) -> Result<bool, Problem> {
    match lookup(config, key) {
        None => Ok(false),
        Some(v) => parse_bool(v)
            .ok_or_else(|| invalid(key, v, "Expected value to be either true or false")),
    }
}

fn replication(config: &[(String, String)]) -> Result<i16, Problem> {
    let key = "errors.deadletterqueue.topic.replication.factor";
    match lookup(config, key).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DLQ_REPLICATION_DEFAULT),
        // Kafka checks the type only; a factor the broker refuses fails
        // the creation of the topic, with the broker's reason.
        Some(v) => v
            .parse::<i16>()
            .map_err(|_| invalid(key, v, "Not a number of type SHORT")),
    }
}

/// A record as a sink task consumed it: what goes to the dead letter queue.
#[derive(Debug, Clone)]
pub struct Consumed {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub timestamp_type: TimestampType,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

/// The record that failed.
pub enum Subject<'a> {
    /// Consumed by a sink task.
    Consumed(&'a Consumed),
    /// Polled from a source task (its source partition and offset as JSON;
    /// `record`: what it held, kept when a dead letter queue wants it).
    Source {
        topic: &'a str,
        partition: &'a str,
        offset: &'a str,
        record: Option<&'a Produced>,
    },
}

/// What a source record held, as bytes, for the dead letter queue: its
/// key and value converted, or as the task gave them where conversion is
/// what failed (text as UTF-8, JSON as its document).
#[derive(Debug, Clone, Default)]
pub struct Produced {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
    pub timestamp: Option<i64>,
}

/// One failure to report.
pub struct Failure<'a> {
    pub stage: Stage,
    /// The converter's or transformation's class.
    pub class: &'a str,
    pub error: &'a str,
    pub subject: Subject<'a>,
}

/// Kafka's task error metrics (`task-error-metrics`), shown in the task's
/// status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// `total-record-errors`: records that failed.
    pub record_errors: u64,
    /// `total-records-skipped`: records skipped under `errors.tolerance=all`.
    pub records_skipped: u64,
    /// `total-errors-logged`.
    pub errors_logged: u64,
    /// `deadletterqueue-produce-requests`.
    pub dlq_produce_requests: u64,
    /// `deadletterqueue-produce-failures`.
    pub dlq_produce_failures: u64,
    /// `last-error-timestamp`: when the last record failed, in milliseconds
    /// since the epoch (0: never).
    pub last_error_timestamp_ms: u64,
}

/// How a dead letter queue record is headed: the name, then the value.
const HEADER_PREFIX: &str = "__connect.errors.";

/// A payload's bytes as the task gave them: text as UTF-8, binary as is,
/// JSON as its document (for the dead letter queue, where conversion is
/// what failed).
pub fn raw_bytes(payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::Binary(bytes) => bytes.clone(),
        Payload::Text(text) => text.as_bytes().to_vec(),
        Payload::Json(json) => json.document.as_bytes().to_vec(),
    }
}

/// Reports one task's record failures.
pub struct ErrorReporter {
    connector: String,
    task: u32,
    settings: ErrorSettings,
    status: Arc<StatusBoard>,
    counts: ErrorCounts,
    /// The dead letter queue's producer and topic, when one is named.
    dlq: Option<(FutureProducer, DeadLetterQueue)>,
    /// Dead letter queue records not yet acknowledged, with where they came
    /// from.
    pending: Vec<(DeliveryFuture, String)>,
}

/// How long to wait for the dead letter queue before failing the task.
const DLQ_DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

impl ErrorReporter {
    /// The reporter of `ctx`'s task; it opens the dead letter queue the
    /// connector names (creating its topic when missing). Sources have one
    /// too, beyond Kafka, where `errors.tolerance=all` would otherwise only
    /// log what it skips.
    pub async fn start(ctx: &TaskContext) -> Result<ErrorReporter, String> {
        let settings = ctx.settings.errors.clone();
        let dlq = match settings.dead_letter_queue.clone() {
            None => None,
            Some(dlq) => {
                ctx.kafka
                    .ensure_topic(&dlq.topic, 1, i32::from(dlq.replication_factor))
                    .await
                    .map_err(|e| {
                        format!(
                            "Could not initialize dead letter queue with topic={}: {e}",
                            dlq.topic
                        )
                    })?;
                let producer: FutureProducer = ctx
                    .producer_settings("dlq-producer")
                    .create()
                    .map_err(|e| describe_client_error("dead letter queue producer", &e))?;
                Some((producer, dlq))
            }
        };
        Ok(ErrorReporter {
            connector: ctx.connector.clone(),
            task: ctx.task,
            settings,
            status: ctx.status.clone(),
            counts: ErrorCounts::default(),
            dlq,
            pending: Vec::new(),
        })
    }

    /// Reports `failure`: logs it if asked, then fails the task (`Err`, the
    /// trace) or skips the record, sending it to the dead letter queue.
    pub fn report(&mut self, failure: Failure<'_>) -> Result<(), String> {
        self.counts.record_errors += 1;
        self.counts.last_error_timestamp_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let context = self.context(&failure, self.settings.log_messages);
        if self.settings.log {
            tracing::error!(connector = %self.connector, task = self.task, error = %failure.error, "Error encountered in task {}-{}. {context}", self.connector, self.task);
            self.counts.errors_logged += 1;
        }
        if !self.settings.tolerate_all {
            self.publish();
            return Err(format!(
                "Tolerance exceeded in error handler. {context}\nCaused by: {}",
                failure.error
            ));
        }
        self.counts.records_skipped += 1;
        let Some((producer, dlq)) = &self.dlq else {
            self.publish();
            return Ok(());
        };
        let (key, value, timestamp, own_headers, at) = match &failure.subject {
            Subject::Consumed(r) => (
                r.key.as_deref(),
                r.value.as_deref(),
                r.timestamp,
                r.headers.as_slice(),
                format!("{}-{} offset {}", r.topic, r.partition, r.offset),
            ),
            Subject::Source {
                partition,
                offset,
                record: Some(r),
                ..
            } => (
                r.key.as_deref(),
                r.value.as_deref(),
                r.timestamp,
                r.headers.as_slice(),
                format!("source partition {partition} offset {offset}"),
            ),
            // Not kept: the task has no dead letter queue to write to.
            Subject::Source { record: None, .. } => {
                self.publish();
                return Ok(());
            }
        };
        {
            self.counts.dlq_produce_requests += 1;
            let headers = dlq_headers(own_headers, &failure, dlq, &self.connector, self.task);
            let mut out = FutureRecord::<[u8], [u8]>::to(&dlq.topic).headers(headers);
            if let Some(k) = key {
                out = out.key(k);
            }
            if let Some(v) = value {
                out = out.payload(v);
            }
            if let Some(ts) = timestamp {
                out = out.timestamp(ts);
            }
            match producer.send_result(out) {
                Ok(delivery) => self.pending.push((delivery, at)),
                Err((e, _)) => {
                    self.counts.dlq_produce_failures += 1;
                    self.publish();
                    return Err(dlq_failed(&dlq.topic, &at, &e));
                }
            }
        }
        self.publish();
        Ok(())
    }

    /// Waits until the dead letter queue holds every record reported so far;
    /// called before offsets past them are committed.
    pub async fn flush(&mut self) -> Result<(), String> {
        let Some((_, dlq)) = &self.dlq else {
            return Ok(());
        };
        let topic = dlq.topic.clone();
        let mut outcome = Ok(());
        for (delivery, at) in std::mem::take(&mut self.pending) {
            let failed = match tokio::time::timeout(DLQ_DELIVERY_TIMEOUT, delivery).await {
                Ok(Ok(Ok(_))) => None,
                Ok(Ok(Err((e, _)))) => Some(e.to_string()),
                Ok(Err(_)) => Some("the producer was closed".to_string()),
                Err(_) => Some(format!(
                    "not acknowledged within {} s",
                    DLQ_DELIVERY_TIMEOUT.as_secs()
                )),
            };
            if let Some(e) = failed {
                self.counts.dlq_produce_failures += 1;
                if outcome.is_ok() {
                    outcome = Err(dlq_failed(&topic, &at, &e));
                }
            }
        }
        self.publish();
        outcome
    }

    /// Whether a source task should keep each record's data for the dead
    /// letter queue: only a tolerant task with one skips records into it.
    pub fn keeps_records(&self) -> bool {
        self.settings.tolerate_all && self.dlq.is_some()
    }

    fn publish(&self) {
        if self.counts != ErrorCounts::default() {
            self.status
                .task_errors(&self.connector, self.task, self.counts);
        }
    }

    /// Kafka's `ProcessingContext.toString`: the stage and class, and the
    /// record's coordinates when `with_record`.
    fn context(&self, f: &Failure<'_>, with_record: bool) -> String {
        let mut out = format!(
            "Executing stage '{}' with class '{}'",
            f.stage.name(),
            f.class
        );
        if with_record {
            match &f.subject {
                Subject::Consumed(r) => {
                    out.push_str(&format!(
                        ", where consumed record is {{topic='{}', partition={}, offset={}",
                        r.topic, r.partition, r.offset
                    ));
                    if let (Some(ts), Some(kind)) = (r.timestamp, timestamp_name(r.timestamp_type))
                    {
                        out.push_str(&format!(", timestamp={ts}, timestampType={kind}"));
                    }
                    out.push('}');
                }
                Subject::Source {
                    topic,
                    partition,
                    offset,
                    ..
                } => out.push_str(&format!(
                    ", where source record is = SourceRecord{{sourcePartition={partition}, sourceOffset={offset}}} ConnectRecord{{topic='{topic}'}}"
                )),
            }
        }
        out.push('.');
        out
    }
}

fn timestamp_name(t: TimestampType) -> Option<&'static str> {
    match t {
        TimestampType::CreateTime => Some("CreateTime"),
        TimestampType::LogAppendTime => Some("LogAppendTime"),
        TimestampType::NoTimestamp => None,
    }
}

fn dlq_failed(topic: &str, at: &str, e: &dyn std::fmt::Display) -> String {
    format!(
        "Could not produce the record at {at} to the dead letter queue topic {topic}: {e}; its offset is not committed"
    )
}

/// The record's own headers, then Kafka's context headers: where a
/// consumed record came from, or (beyond Kafka) a source record's source
/// partition and offset and the topic it was meant for.
fn dlq_headers(
    own: &[Header],
    f: &Failure<'_>,
    dlq: &DeadLetterQueue,
    connector: &str,
    task: u32,
) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(own.len() + 10);
    for h in own {
        headers = headers.insert(KafkaHeader {
            key: &h.key,
            value: h.value.as_deref(),
        });
    }
    if !dlq.context_headers {
        return headers;
    }
    let mut context = match &f.subject {
        Subject::Consumed(record) => vec![
            ("topic", record.topic.clone()),
            ("partition", record.partition.to_string()),
            ("offset", record.offset.to_string()),
        ],
        Subject::Source {
            topic,
            partition,
            offset,
            ..
        } => vec![
            ("topic", topic.to_string()),
            ("source.partition", partition.to_string()),
            ("source.offset", offset.to_string()),
        ],
    };
    context.extend([
        ("connector.name", connector.to_string()),
        ("task.id", task.to_string()),
        ("stage", f.stage.name().to_string()),
        ("class.name", f.class.to_string()),
        ("exception.class.name", EXCEPTION_CLASS.to_string()),
        ("exception.message", f.error.to_string()),
        // No Java stack to print: the first line of one, as Java prints it.
        (
            "exception.stacktrace",
            format!("{EXCEPTION_CLASS}: {}", f.error),
        ),
    ]);
    for (name, value) in &context {
        let key = format!("{HEADER_PREFIX}{name}");
        headers = headers.insert(KafkaHeader {
            key: &key,
            value: Some(value.as_bytes()),
        });
    }
    headers
}

/// The exception Kafka Connect's converters and transformations raise
/// when they refuse data.
const EXCEPTION_CLASS: &str = "org.apache.kafka.connect.errors.DataException";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pairs;

    #[test]
    fn defaults_fail_on_the_first_error_and_log_nothing() {
        assert_eq!(ErrorSettings::parse(&[]).unwrap(), ErrorSettings::default());
    }

    #[test]
    fn every_key_is_read() {
        let s = ErrorSettings::parse(&pairs(&[
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
            ("errors.log.include.messages", "TRUE"),
            ("errors.deadletterqueue.topic.name", " dlq "),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]))
        .unwrap();
        assert!(s.tolerate_all && s.log && s.log_messages);
        assert_eq!(
            s.dead_letter_queue,
            Some(DeadLetterQueue {
                topic: "dlq".into(),
                replication_factor: 1,
                context_headers: true
            })
        );
    }

    #[test]
    fn bad_values_are_refused_in_kafkas_words() {
        let problems = ErrorSettings::problems(
            &pairs(&[
                ("errors.tolerance", "some"),
                ("errors.log.enable", "yes"),
                ("errors.deadletterqueue.topic.replication.factor", "three"),
            ]),
            true,
        );
        let messages: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Invalid value some for configuration errors.tolerance: String must be one of: none, all",
                "Invalid value yes for configuration errors.log.enable: Expected value to be either true or false",
                "Invalid value three for configuration errors.deadletterqueue.topic.replication.factor: Not a number of type SHORT",
            ]
        );
        // Sources have a dead letter queue too (beyond Kafka), but no
        // topics it could be among.
        assert_eq!(
            ErrorSettings::problems(
                &pairs(&[
                    ("errors.deadletterqueue.topic.replication.factor", "three"),
                    ("errors.deadletterqueue.topic.name", "t"),
                    ("topics", "t"),
                ]),
                false
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_sink_may_not_consume_its_dead_letter_queue() {
        let problems = ErrorSettings::problems(
            &pairs(&[
                ("topics", "a, dlq"),
                ("errors.deadletterqueue.topic.name", "dlq"),
            ]),
            true,
        );
        assert_eq!(
            problems[0],
            (
                "topics".to_string(),
                "The DLQ topic 'dlq' may not be included in the list of topics ('topics=[a, dlq]') consumed by the connector".to_string()
            )
        );
        assert_eq!(problems.len(), 1);
        let problems = ErrorSettings::problems(
            &pairs(&[
                ("topics.regex", "d.*"),
                ("errors.deadletterqueue.topic.name", "dlq"),
            ]),
            true,
        );
        assert_eq!(
            problems,
            [(
                "topics.regex".to_string(),
                "The DLQ topic 'dlq' may not be matched by the regex for the topics ('topics.regex=d.*') consumed by the connector".to_string()
            )]
        );
    }
}
