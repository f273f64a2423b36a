//! The offsets API (KIP-875, spec §2.22): reading, altering and resetting a
//! connector's offsets while it is stopped.
//!
//! Source offsets live in the worker's offsets store; the plugin's
//! `alter-offsets` hook is asked first and may refuse. Sink offsets are the
//! committed offsets of the consumer group `connect-<name>`. librdkafka has
//! no call to delete one partition's committed offset, so resetting a single
//! sink partition commits its earliest offset instead, which is the same
//! under the default `auto.offset.reset=earliest`; resetting them all
//! deletes the group, as Kafka does.

use std::time::Duration;

use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

use std::sync::Arc;

use super::Worker;
use crate::config::Config;
use crate::config::clients::{consumer, describe_client_error};
use crate::config::worker::{list, lookup};
use crate::error::HerderError;
use crate::instance::{ConnectorInstance, InstanceSpec};
use crate::plugin::{Plugin, World};

const TIMEOUT: Duration = Duration::from_secs(30);

/// One `{"partition": …, "offset": …}` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetEntry {
    /// The partition object.
    pub partition: Value,
    /// The offset object; `null` means reset.
    pub offset: Value,
}

/// What an alter or reset did, in Kafka's words.
fn success(altered: bool, acknowledged: bool) -> String {
    let verb = if altered { "altered" } else { "reset" };
    if acknowledged {
        format!("The offsets for this connector have been {verb} successfully")
    } else {
        format!(
            "The Connect framework-managed offsets for this connector have been {verb} successfully. However, if this connector manages offsets externally, they will need to be manually {verb} in the system that the connector uses."
        )
    }
}

/// The connector the offsets API acts on: its name, plugin and resolved
/// configuration. The herder checks that it may be acted on (it exists; to
/// alter or reset, it is stopped).
pub struct OffsetsOf<'a> {
    /// The connector's name.
    pub name: &'a str,
    /// Its plugin.
    pub plugin: Arc<Plugin>,
    /// Its configuration, resolved.
    pub config: Config,
}

impl Worker {
    /// `GET /connectors/{name}/offsets`.
    pub async fn get_offsets(&self, of: OffsetsOf<'_>) -> Result<Vec<OffsetEntry>, HerderError> {
        let OffsetsOf {
            name,
            plugin,
            config,
        } = of;
        if plugin.info().world != World::Sink {
            return Ok(self
                .source_offsets()
                .offsets_of(name)
                .await
                .map_err(HerderError::internal)?
                .into_iter()
                .filter_map(|(p, o)| {
                    Some(OffsetEntry {
                        partition: serde_json::from_str(&p).ok()?,
                        offset: serde_json::from_str(&o).ok()?,
                    })
                })
                .collect());
        }
        let bootstrap = self.kafka().bootstrap().to_string();
        let worker_consumer = self.config().consumer.clone();
        let overrides = self
            .config()
            .overrides
            .permitted(&config, "consumer.override.");
        let name = name.to_string();
        tokio::task::spawn_blocking(move || -> Result<Vec<OffsetEntry>, HerderError> {
            let group = group_consumer(&bootstrap, &name, &worker_consumer, &overrides)?;
            let tpl = sink_partitions(&group, &config)?;
            let committed = group.committed_offsets(tpl, TIMEOUT).map_err(|e| HerderError::internal(format!("cannot read the consumer group's offsets: {e}")))?;
            Ok(committed
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some(OffsetEntry {
                        partition: json!({"kafka_topic": e.topic(), "kafka_partition": e.partition()}),
                        offset: json!({"kafka_offset": o}),
                    }),
                    _ => None,
                })
                .collect())
        })
        .await
        .map_err(|e| HerderError::internal(e.to_string()))?
    }

    /// `PATCH /connectors/{name}/offsets`.
    pub async fn alter_offsets(
        &self,
        of: OffsetsOf<'_>,
        entries: Option<Vec<OffsetEntry>>,
    ) -> Result<String, HerderError> {
        let OffsetsOf {
            name,
            plugin,
            config,
        } = of;
        let entries = entries.filter(|e| !e.is_empty()).ok_or_else(|| {
            HerderError::bad_request(
                "Partitions / offsets need to be provided for an alter offsets request",
            )
        })?;
        if plugin.info().world == World::Sink {
            let parsed = entries
                .iter()
                .map(parse_sink_entry)
                .collect::<Result<Vec<_>, _>>()?;
            let acknowledged = self.hook(name, &plugin, &config, &entries).await?;
            self.write_sink_offsets(name, &config, parsed).await?;
            return Ok(success(true, acknowledged));
        }
        for e in &entries {
            check_source_entry(e)?;
        }
        let acknowledged = self.hook(name, &plugin, &config, &entries).await?;
        let updates: Vec<(String, Option<String>)> = entries
            .iter()
            .map(|e| {
                (
                    e.partition.to_string(),
                    (!e.offset.is_null()).then(|| e.offset.to_string()),
                )
            })
            .collect();
        self.source_offsets()
            .apply(name, updates)
            .await
            .map_err(HerderError::internal)?;
        Ok(success(true, acknowledged))
    }

    /// `DELETE /connectors/{name}/offsets`.
    pub async fn reset_offsets(&self, of: OffsetsOf<'_>) -> Result<String, HerderError> {
        let OffsetsOf {
            name,
            plugin,
            config,
        } = of;
        if plugin.info().world == World::Sink {
            let group = lookup(&config, "consumer.override.group.id")
                .map(str::to_string)
                .unwrap_or_else(|| format!("connect-{name}"));
            let acknowledged = self.hook(name, &plugin, &config, &[]).await?;
            let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
                crate::config::clients::admin(self.kafka().bootstrap(), &self.config().admin)
                    .create()
                    .map_err(|e| HerderError::internal(describe_client_error("admin", &e)))?;
            let results = admin
                .delete_groups(
                    &[group.as_str()],
                    &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
                )
                .await
                .map_err(|e| {
                    HerderError::internal(format!("cannot delete consumer group {group}: {e}"))
                })?;
            for r in results {
                match r {
                    Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
                    Err((_, RDKafkaErrorCode::NonEmptyGroup)) => {
                        return Err(HerderError::internal(format!(
                            "Failed to reset offsets for connector {name}: consumer group {group} is not empty; a zombie sink task may still be running"
                        )));
                    }
                    Err((_, code)) => {
                        return Err(HerderError::internal(format!(
                            "cannot delete consumer group {group}: {code}"
                        )));
                    }
                }
            }
            return Ok(success(false, acknowledged));
        }
        let partitions: Vec<OffsetEntry> = self
            .source_offsets()
            .offsets_of(name)
            .await
            .map_err(HerderError::internal)?
            .into_iter()
            .filter_map(|(p, _)| {
                Some(OffsetEntry {
                    partition: serde_json::from_str(&p).ok()?,
                    offset: Value::Null,
                })
            })
            .collect();
        let acknowledged = self.hook(name, &plugin, &config, &partitions).await?;
        let updates: Vec<(String, Option<String>)> = partitions
            .iter()
            .map(|e| (e.partition.to_string(), None))
            .collect();
        self.source_offsets()
            .apply(name, updates)
            .await
            .map_err(HerderError::internal)?;
        Ok(success(false, acknowledged))
    }

    /// Asks the plugin's `alter-offsets` hook; a refusal is a 500 with its message.
    async fn hook(
        &self,
        name: &str,
        plugin: &Plugin,
        config: &Config,
        entries: &[OffsetEntry],
    ) -> Result<bool, HerderError> {
        let mut instance =
            ConnectorInstance::new(plugin, InstanceSpec::new(name, None, config.clone()))
                .await
                .map_err(|e| HerderError::internal(e.to_string()))?;
        let offsets: Vec<(String, Option<String>)> = entries
            .iter()
            .map(|e| {
                (
                    e.partition.to_string(),
                    (!e.offset.is_null()).then(|| e.offset.to_string()),
                )
            })
            .collect();
        let result = instance.alter_offsets(config, &offsets).await;
        let _ = instance.stop().await;
        result.map_err(|e| {
            HerderError::internal(match e {
                crate::GuestError::Fatal { message, .. }
                | crate::GuestError::Retriable { message, .. } => message,
                other => other.to_string(),
            })
        })
    }

    async fn write_sink_offsets(
        &self,
        name: &str,
        config: &Config,
        offsets: Vec<(String, i32, Option<i64>)>,
    ) -> Result<(), HerderError> {
        let bootstrap = self.kafka().bootstrap().to_string();
        let worker_consumer = self.config().consumer.clone();
        let overrides = self
            .config()
            .overrides
            .permitted(config, "consumer.override.");
        let name = name.to_string();
        tokio::task::spawn_blocking(move || -> Result<(), HerderError> {
            let group = group_consumer(&bootstrap, &name, &worker_consumer, &overrides)?;
            let mut tpl = TopicPartitionList::new();
            for (topic, partition, offset) in offsets {
                let at = match offset {
                    Some(o) => o,
                    None => {
                        group
                            .fetch_watermarks(&topic, partition, TIMEOUT)
                            .map_err(|e| {
                                HerderError::internal(format!(
                                    "cannot read the start of {topic}-{partition}: {e}"
                                ))
                            })?
                            .0
                    }
                };
                tpl.add_partition_offset(&topic, partition, Offset::Offset(at))
                    .map_err(|e| HerderError::bad_request(e.to_string()))?;
            }
            group.commit(&tpl, CommitMode::Sync).map_err(|e| {
                HerderError::internal(format!("cannot commit the consumer group's offsets: {e}"))
            })
        })
        .await
        .map_err(|e| HerderError::internal(e.to_string()))?
    }
}

/// A consumer in the sink's group that never joins it (no subscription),
/// for reading and committing its offsets.
fn group_consumer(
    bootstrap: &str,
    name: &str,
    worker: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<BaseConsumer, HerderError> {
    consumer(bootstrap, name, 0, worker, overrides)
        .create()
        .map_err(|e| HerderError::internal(describe_client_error("consumer", &e)))
}

/// Every partition of the sink's topics.
fn sink_partitions(
    group: &BaseConsumer,
    config: &[(String, String)],
) -> Result<TopicPartitionList, HerderError> {
    let metadata = group
        .fetch_metadata(None, TIMEOUT)
        .map_err(|e| HerderError::internal(format!("cannot read topic metadata: {e}")))?;
    let topics = list(lookup(config, "topics"));
    let regex = lookup(config, "topics.regex")
        .filter(|r| !r.trim().is_empty())
        .map(|r| regex::Regex::new(&format!("^(?:{r})$")))
        .transpose()
        .map_err(|e| HerderError::bad_request(format!("invalid topics.regex: {e}")))?;
    let mut tpl = TopicPartitionList::new();
    for t in metadata.topics() {
        let wanted = topics.iter().any(|x| x == t.name())
            || regex.as_ref().is_some_and(|r| r.is_match(t.name()));
        if wanted {
            for p in t.partitions() {
                tpl.add_partition(t.name(), p.id());
            }
        }
    }
    Ok(tpl)
}

fn parse_sink_entry(e: &OffsetEntry) -> Result<(String, i32, Option<i64>), HerderError> {
    let bad = |m: &str| HerderError::bad_request(m.to_string());
    let partition = match &e.partition {
        Value::Null => {
            return Err(bad(
                "The partition for a sink connector offset cannot be null or missing",
            ));
        }
        Value::Object(p) => p,
        _ => {
            return Err(bad(
                "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
            ));
        }
    };
    let (Some(topic), Some(part)) = (
        partition.get("kafka_topic"),
        partition.get("kafka_partition"),
    ) else {
        return Err(bad(
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
        ));
    };
    let topic = topic
        .as_str()
        .ok_or_else(|| bad("Kafka topic names must be valid strings"))?
        .to_string();
    let part = integer(part).ok_or_else(|| {
        bad(&format!("Failed to parse the following Kafka partition value in the provided offsets: '{part}'. Partition values for sink connectors need to be integers."))
    })? as i32;
    let offset = match &e.offset {
        Value::Null => None,
        Value::Object(o) => {
            let v = o
                .get("kafka_offset")
                .ok_or_else(|| bad("The offset for a sink connector should either be null or contain the key 'kafka_offset'"))?;
            Some(integer(v).ok_or_else(|| {
                bad(&format!("Failed to parse the following Kafka offset value in the provided offsets: '{v}'. Offset values for sink connectors need to be integers."))
            })?)
        }
        _ => {
            return Err(bad(
                "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
            ));
        }
    };
    Ok((topic, part, offset))
}

/// `10` and `"10"` are both integers, as in Kafka.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn check_source_entry(e: &OffsetEntry) -> Result<(), HerderError> {
    let primitive_map = |v: &Value| match v {
        Value::Object(m) => m.values().all(|x| !x.is_object() && !x.is_array()),
        _ => false,
    };
    if !primitive_map(&e.partition) {
        return Err(HerderError::internal(
            "Partitions must be maps of strings to primitive values",
        ));
    }
    if !e.offset.is_null() && !primitive_map(&e.offset) {
        return Err(HerderError::internal(
            "Offsets must be maps of strings to primitive values, or null",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(p: Value, o: Value) -> OffsetEntry {
        OffsetEntry {
            partition: p,
            offset: o,
        }
    }

    #[test]
    fn sink_entries_are_checked_with_kafkas_messages() {
        let ok = parse_sink_entry(&entry(
            json!({"kafka_topic":"t","kafka_partition":"2"}),
            json!({"kafka_offset":5}),
        ))
        .unwrap();
        assert_eq!(ok, ("t".to_string(), 2, Some(5)));
        let reset = parse_sink_entry(&entry(
            json!({"kafka_topic":"t","kafka_partition":0}),
            Value::Null,
        ))
        .unwrap();
        assert_eq!(reset.2, None);
        let err = parse_sink_entry(&entry(Value::Null, Value::Null)).unwrap_err();
        assert_eq!(
            err.message,
            "The partition for a sink connector offset cannot be null or missing"
        );
        let err = parse_sink_entry(&entry(json!({"kafka_topic":"t"}), Value::Null)).unwrap_err();
        assert!(
            err.message
                .contains("must contain the keys 'kafka_topic' and 'kafka_partition'")
        );
        let err = parse_sink_entry(&entry(
            json!({"kafka_topic":"t","kafka_partition":"x"}),
            Value::Null,
        ))
        .unwrap_err();
        assert!(
            err.message
                .ends_with("Partition values for sink connectors need to be integers.")
        );
        let err = parse_sink_entry(&entry(
            json!({"kafka_topic":"t","kafka_partition":1}),
            json!({"o":1}),
        ))
        .unwrap_err();
        assert_eq!(
            err.message,
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'"
        );
        assert_eq!(err.status, 400);
    }

    #[test]
    fn success_messages_match_kafka() {
        assert_eq!(
            success(true, true),
            "The offsets for this connector have been altered successfully"
        );
        assert!(success(false, false).starts_with(
            "The Connect framework-managed offsets for this connector have been reset successfully."
        ));
    }
}
