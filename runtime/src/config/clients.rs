//! Kafka client settings for connector tasks, layered as Kafka Connect
//! layers them (spec §6.1): framework defaults, then the worker's
//! `producer.*` / `consumer.*` / `admin.*`, then the connector's
//! `producer.override.*` / `consumer.override.*` / `admin.override.*` as
//! [`super::overrides`] lets them through. A sink's consumer never commits
//! on its own: `enable.auto.commit=false` is set last, whatever the layers
//! say, since the task commits what `put` has taken.
//!
//! librdkafka shares most of its property names with the Java clients, so
//! settings pass through unchanged. Java-only settings that librdkafka has
//! no use for (serialisers, `buffer.memory`, …) are dropped with a log line;
//! anything else librdkafka does not know fails client creation with an
//! error naming the key (see [`describe_client_error`]).

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;

use super::pairs;

/// Java client settings with no librdkafka meaning that are safe to drop:
/// the worker always moves raw bytes, and librdkafka sizes its own buffers.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "buffer.memory",
    "max.block.ms",
    "interceptor.classes",
    "metric.reporters",
    "partitioner.class",
    "max.poll.records",
    "default.api.timeout.ms",
    "exclude.internal.topics",
];

/// Builds a client config from layers of settings; later layers win.
pub fn layered(what: &str, layers: &[&[(String, String)]]) -> ClientConfig {
    let mut config = ClientConfig::new();
    for layer in layers {
        for (key, value) in layer.iter() {
            if JAVA_ONLY.contains(&key.as_str()) {
                tracing::debug!(
                    key,
                    client = what,
                    "dropping a Java client setting librdkafka has no use for"
                );
                continue;
            }
            if key == "partition.assignment.strategy" {
                config.set(key, assignors(value));
            } else {
                config.set(key, value);
            }
        }
    }
    config
}

/// `partition.assignment.strategy` in librdkafka's names: a Java client's
/// class names (`org.apache.kafka.clients.consumer.RangeAssignor`, …)
/// become `range`, `roundrobin` and `cooperative-sticky`; anything else is
/// left for librdkafka to accept or refuse by name.
fn assignors(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.rsplit('.').next().unwrap_or(s) {
            "RangeAssignor" => "range",
            "RoundRobinAssignor" => "roundrobin",
            "CooperativeStickyAssignor" => "cooperative-sticky",
            _ => s,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Settings for a source task's producer.
pub fn producer(
    bootstrap: &str,
    connector: &str,
    task: u32,
    worker: &[(String, String)],
    overrides: &[(String, String)],
) -> ClientConfig {
    task_producer("producer", bootstrap, connector, task, worker, overrides)
}

/// Settings for one of a task's producers, `role` naming it in Kafka's
/// client id `connector-<role>-<connector>-<task>` (`producer` for a source
/// task's records, `dlq-producer` for a dead letter queue); the worker's
/// and the connector's settings may still replace the id, as in Kafka.
pub fn task_producer(
    role: &str,
    bootstrap: &str,
    connector: &str,
    task: u32,
    worker: &[(String, String)],
    overrides: &[(String, String)],
) -> ClientConfig {
    let client_id = task_client_id(role, connector, task);
    let base = pairs(&[
        ("bootstrap.servers", bootstrap),
        ("client.id", &client_id),
        // At-least-once without reordering or duplicates from retries.
        ("enable.idempotence", "true"),
        ("acks", "all"),
    ]);
    layered("producer", &[&base, worker, overrides])
}

/// Kafka Connect's client id for one of a task's producers (see
/// [`task_producer`]).
pub fn task_client_id(role: &str, connector: &str, task: u32) -> String {
    format!("connector-{role}-{connector}-{task}")
}

/// Settings for a sink task's consumer (group `connect-<connector>`).
pub fn consumer(
    bootstrap: &str,
    connector: &str,
    task: u32,
    worker: &[(String, String)],
    overrides: &[(String, String)],
) -> ClientConfig {
    let base = pairs(&[
        ("bootstrap.servers", bootstrap),
        ("group.id", &format!("connect-{connector}")),
        (
            "client.id",
            &format!("connector-consumer-{connector}-{task}"),
        ),
        ("enable.auto.commit", "false"),
        ("auto.offset.reset", "earliest"),
        // Incremental rebalancing: a member joining or leaving takes only
        // the partitions that move from the others, instead of every task
        // giving up (and committing, closing, reopening) all of its own.
        ("partition.assignment.strategy", "cooperative-sticky"),
        // librdkafka stops fetching a partition for this long once its
        // queue holds `queued.min.messages` (100,000), 1 s by default; a
        // task that drains the queue faster then waits out the rest of
        // the second with nothing to read, which held sink tasks to about
        // 100,000 records/s whatever their speed (docs/benchmarks.md).
        // Kafka's Java consumer fetches again as soon as it has room.
        ("fetch.queue.backoff.ms", "10"),
    ]);
    layered(
        "consumer",
        &[
            &base,
            worker,
            overrides,
            &pairs(&[("enable.auto.commit", "false")]),
        ],
    )
}

/// Settings for an admin client.
pub fn admin(bootstrap: &str, worker: &[(String, String)]) -> ClientConfig {
    let base = pairs(&[("bootstrap.servers", bootstrap)]);
    layered("admin", &[&base, worker])
}

/// A client creation error in an operator's words, naming the key when
/// librdkafka rejected one. The value is left out (it may be a password),
/// also where librdkafka's own description quotes it.
pub fn describe_client_error(what: &str, e: &KafkaError) -> String {
    match e {
        KafkaError::ClientConfig(_, description, key, value) if !key.is_empty() => {
            let description = if value.is_empty() {
                description.clone()
            } else {
                description.replace(value.as_str(), "[hidden]")
            };
            format!(
                "{what} setting {key} is not usable: {description} (librdkafka names most settings as the Java clients do; see its CONFIGURATION.md)"
            )
        }
        other => format!("cannot create the {what} client: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::producer::BaseProducer;

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn layers_override_in_kafkas_order_and_java_only_keys_are_dropped() {
        let worker = [
            kv("linger.ms", "50"),
            kv("acks", "1"),
            kv("buffer.memory", "1"),
        ];
        // The connector's overrides, as `OverrideRules::permitted` hands
        // them over (prefix stripped).
        let c = producer("h:1", "c", 2, &worker, &[kv("linger.ms", "7")]);
        assert_eq!(c.get("linger.ms"), Some("7"));
        assert_eq!(c.get("acks"), Some("1"));
        assert_eq!(c.get("enable.idempotence"), Some("true"));
        assert_eq!(c.get("client.id"), Some("connector-producer-c-2"));
        let dlq = task_producer("dlq-producer", "h:1", "c", 2, &[], &[]);
        assert_eq!(dlq.get("client.id"), Some("connector-dlq-producer-c-2"));
        assert_eq!(c.get("buffer.memory"), None);
        let c = consumer(
            "h:1",
            "my sink",
            0,
            &[],
            &[kv("group.id", "custom"), kv("enable.auto.commit", "true")],
        );
        assert_eq!(c.get("group.id"), Some("custom"));
        assert_eq!(
            c.get("enable.auto.commit"),
            Some("false"),
            "a sink's consumer never commits on its own"
        );
        assert_eq!(
            consumer("h:1", "s", 0, &[], &[]).get("group.id"),
            Some("connect-s")
        );
    }

    #[test]
    fn consumers_fetch_again_soon_after_a_full_queue_unless_told_otherwise() {
        let c = consumer("h:1", "s", 0, &[], &[]);
        assert_eq!(c.get("fetch.queue.backoff.ms"), Some("10"));
        let worker = [kv("fetch.queue.backoff.ms", "250")];
        let c = consumer("h:1", "s", 0, &worker, &[]);
        assert_eq!(c.get("fetch.queue.backoff.ms"), Some("250"));
    }

    #[test]
    fn sink_consumers_rebalance_incrementally_and_java_assignor_names_translate() {
        let c = consumer("h:1", "s", 0, &[], &[]);
        assert_eq!(
            c.get("partition.assignment.strategy"),
            Some("cooperative-sticky")
        );
        let java = [kv(
            "partition.assignment.strategy",
            "org.apache.kafka.clients.consumer.RangeAssignor, RoundRobinAssignor",
        )];
        let c = consumer("h:1", "s", 0, &[], &java);
        assert_eq!(
            c.get("partition.assignment.strategy"),
            Some("range,roundrobin")
        );
        assert_eq!(
            assignors("org.apache.kafka.clients.consumer.CooperativeStickyAssignor"),
            "cooperative-sticky"
        );
    }

    #[test]
    fn unknown_settings_fail_with_the_key_named() {
        let worker = [kv("no.such.setting", "1")];
        let err = producer("127.0.0.1:1", "c", 0, &worker, &[])
            .create::<BaseProducer>()
            .err()
            .unwrap();
        let text = describe_client_error("producer", &err);
        assert!(text.contains("no.such.setting"), "{text}");
    }
}
