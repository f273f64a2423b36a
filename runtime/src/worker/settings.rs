//! A task's settings, parsed once from its connector's configuration when
//! the worker starts the connector's tasks, and handed to the task loops in
//! their [`TaskContext`](super::task::TaskContext): the loops read fields,
//! never keys. A value that does not parse fails the connector with a
//! message naming the key, as Kafka's `ConfigDef` parsing does; validation
//! refuses such values earlier, so this is the second line.

use super::errors::ErrorSettings;
use super::exactly_once::{Boundary, boundary};
use super::retry::RetryPolicy;
use crate::config::WorkerConfig;
use crate::config::worker::{list, lookup};

/// A sink task's batch size when neither the worker nor the connector sets
/// `max.poll.records` (Kafka's consumer default).
const DEFAULT_MAX_BATCH: usize = 500;

/// Everything a task loop takes from configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSettings {
    /// Retries of retriable errors (`errors.retry.*`).
    pub retry: RetryPolicy,
    /// What becomes of records that fail to convert or transform
    /// (`errors.tolerance`, `errors.log.*`, `errors.deadletterqueue.*`).
    pub errors: ErrorSettings,
    /// What only source tasks read.
    pub source: SourceSettings,
    /// What only sink tasks read.
    pub sink: SinkSettings,
}

/// A source task's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    /// Partitions and replication factor of topics the task creates
    /// (`topic.creation.default.*`); -1: the broker's own defaults, as when
    /// Kafka Connect leaves creation to broker auto-create.
    pub topic_partitions: i32,
    pub topic_replication: i32,
    /// When the task commits its producer transaction; `None`: the worker
    /// runs sources at least once (see [`super::exactly_once`]).
    pub exactly_once: Option<Boundary>,
}

/// A sink task's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkSettings {
    /// `topics`, or `topics.regex` as librdkafka takes a pattern (leading
    /// `^`).
    pub subscription: Vec<String>,
    /// Records handed to `put` at most at once (`max.poll.records`: the
    /// connector's `consumer.override.` first, then the worker's).
    pub max_batch: usize,
}

impl TaskSettings {
    /// Parses `connector` (its configuration with placeholders resolved)
    /// under the worker's settings.
    pub fn parse(connector: &[(String, String)], worker: &WorkerConfig) -> Result<Self, String> {
        let int = |key: &str| number::<i32>(connector, key, "INT");
        let topics = list(lookup(connector, "topics"));
        let subscription = match lookup(connector, "topics.regex").filter(|r| !r.trim().is_empty())
        {
            // librdkafka treats a subscription starting with ^ as a regex.
            Some(regex) if topics.is_empty() => vec![if regex.starts_with('^') {
                regex.to_string()
            } else {
                format!("^{regex}")
            }],
            _ => topics,
        };
        let max_batch = match int("consumer.override.max.poll.records")? {
            Some(n) => Some(n),
            None => number::<i32>(&worker.consumer, "max.poll.records", "INT")?,
        };
        Ok(TaskSettings {
            retry: RetryPolicy::parse(connector)?,
            errors: ErrorSettings::parse(connector)?,
            source: SourceSettings {
                topic_partitions: int("topic.creation.default.partitions")?.unwrap_or(-1),
                topic_replication: int("topic.creation.default.replication.factor")?.unwrap_or(-1),
                exactly_once: boundary(
                    connector,
                    worker.exactly_once_source,
                    worker.offset_flush_interval,
                )?,
            },
            sink: SinkSettings {
                subscription,
                max_batch: max_batch
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|&n| n > 0)
                    .unwrap_or(DEFAULT_MAX_BATCH),
            },
        })
    }
}

/// `key` as a whole number of Kafka's type `LONG`; `None` when unset or
/// blank.
pub(super) fn long(config: &[(String, String)], key: &str) -> Result<Option<i64>, String> {
    number(config, key, "LONG")
}

/// `key` as a number of Kafka's type `kind`, refused in Kafka's words.
fn number<T: std::str::FromStr>(
    config: &[(String, String)],
    key: &str,
    kind: &str,
) -> Result<Option<T>, String> {
    match lookup(config, key).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            format!("Invalid value {v} for configuration {key}: Not a number of type {kind}")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pairs;

    fn worker(extra: &[(&str, &str)]) -> WorkerConfig {
        let mut props = pairs(&[
            ("key.converter", "StringConverter"),
            ("value.converter", "StringConverter"),
        ]);
        props.extend(pairs(extra));
        WorkerConfig::from_properties(&props).unwrap()
    }

    #[test]
    fn unset_keys_take_kafkas_defaults() {
        let s = TaskSettings::parse(&pairs(&[("topics", "a, b")]), &worker(&[])).unwrap();
        assert_eq!(s.retry, RetryPolicy::default());
        assert_eq!(
            (s.source.topic_partitions, s.source.topic_replication),
            (-1, -1)
        );
        assert_eq!(s.sink.subscription, ["a", "b"]);
        assert_eq!(s.sink.max_batch, 500);
    }

    #[test]
    fn a_pattern_subscribes_when_no_topics_are_listed_and_the_override_wins() {
        let config = pairs(&[
            ("topics.regex", "logs-.*"),
            ("consumer.override.max.poll.records", "50"),
            ("topic.creation.default.partitions", "3"),
        ]);
        let s =
            TaskSettings::parse(&config, &worker(&[("consumer.max.poll.records", "7")])).unwrap();
        assert_eq!(s.sink.subscription, ["^logs-.*"]);
        assert_eq!(s.sink.max_batch, 50);
        assert_eq!(s.source.topic_partitions, 3);
        let s = TaskSettings::parse(&pairs(&[]), &worker(&[("consumer.max.poll.records", "7")]))
            .unwrap();
        assert_eq!(s.sink.max_batch, 7);
    }

    #[test]
    fn values_of_the_wrong_type_name_their_key() {
        let bad =
            |k: &str, v: &str| TaskSettings::parse(&pairs(&[(k, v)]), &worker(&[])).unwrap_err();
        assert_eq!(
            bad("topic.creation.default.partitions", "three"),
            "Invalid value three for configuration topic.creation.default.partitions: Not a number of type INT"
        );
        assert_eq!(
            bad("topic.creation.default.replication.factor", "9999999999"),
            "Invalid value 9999999999 for configuration topic.creation.default.replication.factor: Not a number of type INT"
        );
        assert!(bad("errors.retry.delay.max.ms", "1s").contains("errors.retry.delay.max.ms"));
    }
}
