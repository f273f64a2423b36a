//! The status and offset topics' record formats (Kafka Connect's).
//!
//! Status topic: key `status-connector-<name>` or
//! `status-task-<name>-<n>`, value
//! `{"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":7}`,
//! a tombstone for DESTROYED. Offsets topic: key `["<connector>",{partition}]`
//! and value the offset object, both compact JSON.

use serde_json::{Value, json};

/// What a status record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKey {
    Connector(String),
    Task { connector: String, task: u32 },
}

impl StatusKey {
    /// The record key.
    pub fn encode(&self) -> String {
        match self {
            StatusKey::Connector(c) => format!("status-connector-{c}"),
            StatusKey::Task { connector, task } => format!("status-task-{connector}-{task}"),
        }
    }

    /// Reads a key; `None` for other records (topic statuses, unknown).
    pub fn decode(key: &str) -> Option<StatusKey> {
        if let Some(c) = key.strip_prefix("status-connector-") {
            return Some(StatusKey::Connector(c.to_string()));
        }
        let rest = key.strip_prefix("status-task-")?;
        let (connector, task) = rest.rsplit_once('-')?;
        Some(StatusKey::Task {
            connector: connector.to_string(),
            task: task.parse().ok()?,
        })
    }
}

/// A connector's or task's state as one worker reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED or RESTARTING.
    pub state: String,
    pub trace: Option<String>,
    /// The reporting worker's `host:port`.
    pub worker_id: String,
    /// The group generation it was written in.
    pub generation: i32,
}

impl StatusRecord {
    pub fn encode(&self) -> Vec<u8> {
        json!({
            "state": self.state,
            "trace": self.trace,
            "worker_id": self.worker_id,
            "generation": self.generation,
        })
        .to_string()
        .into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<StatusRecord, String> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("status record is not JSON: {e}"))?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(StatusRecord {
            state: text("state").ok_or("status record has no state")?,
            trace: text("trace"),
            worker_id: text("worker_id").unwrap_or_default(),
            generation: v
                .get("generation")
                .and_then(Value::as_i64)
                .and_then(|g| i32::try_from(g).ok())
                .unwrap_or(-1),
        })
    }

    /// Kafka Connect's rule for FAILED and UNASSIGNED ("safe") writes: skip
    /// one that would overwrite a newer generation's status written by
    /// another worker (a worker that lost its tasks in a rebalance must not
    /// overwrite what their new owner reported).
    pub fn may_overwrite(&self, cached: Option<&StatusRecord>) -> bool {
        match cached {
            None => true,
            Some(c) => {
                !matches!(self.state.as_str(), "FAILED" | "UNASSIGNED")
                    || c.worker_id == self.worker_id
                    || c.generation <= self.generation
            }
        }
    }
}

/// The offsets topic's key for a source partition (a JSON object, in the
/// canonical form the worker stores): `["<connector>",{…}]`.
pub fn offset_key(connector: &str, partition: &str) -> Result<Vec<u8>, String> {
    let partition: Value = serde_json::from_str(partition)
        .map_err(|e| format!("source partition is not JSON: {e}"))?;
    Ok(json!([connector, partition]).to_string().into_bytes())
}

/// The connector and source partition of an offsets-topic key.
pub fn parse_offset_key(key: &[u8]) -> Result<(String, String), String> {
    let v: Value =
        serde_json::from_slice(key).map_err(|e| format!("offset key is not JSON: {e}"))?;
    match v.as_array().map(Vec::as_slice) {
        Some([Value::String(connector), partition @ Value::Object(_)]) => {
            Ok((connector.clone(), partition.to_string()))
        }
        _ => Err(format!(
            "offset key {v} is not [\"<connector>\",{{partition}}]"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_records_have_kafka_connects_format() {
        let r = StatusRecord {
            state: "RUNNING".into(),
            trace: None,
            worker_id: "w1:8083".into(),
            generation: 7,
        };
        assert_eq!(
            String::from_utf8(r.encode()).unwrap(),
            r#"{"generation":7,"state":"RUNNING","trace":null,"worker_id":"w1:8083"}"#
        );
        assert_eq!(StatusRecord::decode(&r.encode()).unwrap(), r);
        assert_eq!(
            StatusKey::Task {
                connector: "my-c".into(),
                task: 3
            }
            .encode(),
            "status-task-my-c-3"
        );
        assert_eq!(
            StatusKey::decode("status-task-my-c-3"),
            Some(StatusKey::Task {
                connector: "my-c".into(),
                task: 3
            })
        );
        assert_eq!(
            StatusKey::decode("status-connector-c"),
            Some(StatusKey::Connector("c".into()))
        );
        assert_eq!(StatusKey::decode("status-topic-t:connector-c"), None);
    }

    #[test]
    fn a_stale_worker_cannot_overwrite_a_newer_owners_status() {
        let running = StatusRecord {
            state: "RUNNING".into(),
            trace: None,
            worker_id: "new:1".into(),
            generation: 5,
        };
        let stale = StatusRecord {
            state: "UNASSIGNED".into(),
            trace: None,
            worker_id: "old:1".into(),
            generation: 4,
        };
        assert!(!stale.may_overwrite(Some(&running)));
        assert!(stale.may_overwrite(None));
        let failed_now = StatusRecord {
            state: "FAILED".into(),
            generation: 5,
            ..stale.clone()
        };
        assert!(failed_now.may_overwrite(Some(&running)));
        let paused = StatusRecord {
            state: "PAUSED".into(),
            ..stale
        };
        assert!(paused.may_overwrite(Some(&running)), "unconditional states");
    }

    #[test]
    fn offset_keys_are_connector_and_partition() {
        let key = offset_key("src", r#"{"filename":"/a"}"#).unwrap();
        assert_eq!(key, br#"["src",{"filename":"/a"}]"#.to_vec());
        assert_eq!(
            parse_offset_key(&key).unwrap(),
            ("src".to_string(), r#"{"filename":"/a"}"#.to_string())
        );
        assert!(parse_offset_key(br#"{"a":1}"#).is_err());
    }
}
