//! The config topic (`config.storage.topic`) in Kafka Connect's record
//! formats, and the rules that rebuild the cluster's view from it.
//!
//! Keys are plain strings, values compact schemaless JSON, a null value a
//! tombstone:
//!
//! | key | value |
//! |---|---|
//! | `connector-<name>` | `{"properties":{…}}` |
//! | `task-<name>-<n>` | `{"properties":{…}}` |
//! | `commit-<name>` | `{"tasks":<count>}` |
//! | `target-state-<name>` | `{"state":"STARTED"\|"PAUSED","state.v2":"STARTED"\|"PAUSED"\|"STOPPED"}` |
//! | `restart-connector-<name>` | `{"include-tasks":bool,"only-failed":bool}` |
//!
//! Task configurations take effect only with their commit record, and only
//! if it finds every task `0..count` written before it; otherwise the
//! connector is *inconsistent* (it has no tasks) until its configurations
//! are written again. That is how a leader that dies half-way through
//! writing them never leaves a cluster running half a set.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::protocol::{TaskId, Work};
use super::session_key::SessionKey;
use crate::config::TargetState;

/// A configuration map.
pub type Properties = BTreeMap<String, String>;

/// One record of the config topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRecord {
    /// A connector's configuration; `None` deletes the connector.
    Connector {
        name: String,
        properties: Option<Properties>,
    },
    /// One task's configuration (pending until its commit).
    Task {
        connector: String,
        task: u32,
        properties: Properties,
    },
    /// The task configurations of `connector` are complete: `tasks` of them.
    Commit { connector: String, tasks: u32 },
    /// The connector's target state; `None` clears it.
    TargetState {
        connector: String,
        state: Option<TargetState>,
    },
    /// A restart request (KIP-745).
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    /// The leader's session key for signed internal requests.
    SessionKey(SessionKey),
    /// A record this worker does not act on (fencing,
    /// logger levels, or a key it does not know), kept only for the offset.
    Other(String),
}

fn state_name(state: TargetState) -> &'static str {
    match state {
        TargetState::Started => "STARTED",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

impl ConfigRecord {
    /// The record's key and value bytes (`None`: a tombstone).
    pub fn encode(&self) -> (String, Option<Vec<u8>>) {
        let props = |p: &Properties| json!({ "properties": p }).to_string().into_bytes();
        match self {
            ConfigRecord::Connector { name, properties } => {
                (format!("connector-{name}"), properties.as_ref().map(props))
            }
            ConfigRecord::Task {
                connector,
                task,
                properties,
            } => (format!("task-{connector}-{task}"), Some(props(properties))),
            ConfigRecord::Commit { connector, tasks } => (
                format!("commit-{connector}"),
                Some(json!({ "tasks": tasks }).to_string().into_bytes()),
            ),
            ConfigRecord::TargetState { connector, state } => (
                format!("target-state-{connector}"),
                state.map(|s| {
                    // Workers that predate STOPPED read `state`: PAUSED is
                    // the closest they know.
                    let v1 = if s == TargetState::Stopped {
                        "PAUSED"
                    } else {
                        state_name(s)
                    };
                    json!({ "state": v1, "state.v2": state_name(s) })
                        .to_string()
                        .into_bytes()
                }),
            ),
            ConfigRecord::Restart {
                connector,
                include_tasks,
                only_failed,
            } => (
                format!("restart-connector-{connector}"),
                Some(
                    json!({ "include-tasks": include_tasks, "only-failed": only_failed })
                        .to_string()
                        .into_bytes(),
                ),
            ),
            ConfigRecord::SessionKey(k) => (
                "session-key".to_string(),
                Some(k.to_json().to_string().into_bytes()),
            ),
            ConfigRecord::Other(key) => (key.clone(), None),
        }
    }

    /// Reads a record. Unknown keys become [`ConfigRecord::Other`]; a value
    /// that does not parse is an error naming the key (the caller skips
    /// it, as Kafka Connect does).
    pub fn decode(key: &str, value: Option<&[u8]>) -> Result<ConfigRecord, String> {
        let json = match value {
            None => None,
            Some(bytes) => Some(
                serde_json::from_slice::<Value>(bytes)
                    .map_err(|e| format!("config record {key} is not JSON: {e}"))?,
            ),
        };
        let properties = |v: &Value| -> Result<Properties, String> {
            let map = v
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| format!("config record {key} has no \"properties\" map"))?;
            Ok(map
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect())
        };
        if let Some(connector) = key.strip_prefix("target-state-") {
            let state = match &json {
                None => None,
                Some(v) => {
                    let name = v
                        .get("state.v2")
                        .and_then(Value::as_str)
                        .or_else(|| v.get("state").and_then(Value::as_str))
                        .ok_or_else(|| format!("config record {key} has no state"))?;
                    Some(match name {
                        "STARTED" => TargetState::Started,
                        "PAUSED" => TargetState::Paused,
                        "STOPPED" => TargetState::Stopped,
                        other => return Err(format!("config record {key}: unknown state {other}")),
                    })
                }
            };
            return Ok(ConfigRecord::TargetState {
                connector: connector.to_string(),
                state,
            });
        }
        if let Some(name) = key.strip_prefix("connector-") {
            return Ok(ConfigRecord::Connector {
                name: name.to_string(),
                properties: json.as_ref().map(properties).transpose()?,
            });
        }
        if let Some(rest) = key.strip_prefix("task-") {
            // The name may contain '-': the number is after the last one.
            let (connector, task) = rest
                .rsplit_once('-')
                .and_then(|(c, n)| Some((c, n.parse::<u32>().ok()?)))
                .ok_or_else(|| format!("config record {key}: not task-<connector>-<n>"))?;
            let Some(v) = &json else {
                return Ok(ConfigRecord::Other(key.to_string()));
            };
            return Ok(ConfigRecord::Task {
                connector: connector.to_string(),
                task,
                properties: properties(v)?,
            });
        }
        if let Some(connector) = key.strip_prefix("commit-") {
            let tasks = json
                .as_ref()
                .and_then(|v| v.get("tasks"))
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("config record {key} has no task count"))?;
            return Ok(ConfigRecord::Commit {
                connector: connector.to_string(),
                tasks,
            });
        }
        if key == "session-key" {
            return match &json {
                Some(v) => SessionKey::from_json(v).map(ConfigRecord::SessionKey),
                None => Ok(ConfigRecord::Other(key.to_string())),
            };
        }
        if let Some(connector) = key.strip_prefix("restart-connector-") {
            let flag = |name: &str| {
                json.as_ref()
                    .and_then(|v| v.get(name))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            return Ok(ConfigRecord::Restart {
                connector: connector.to_string(),
                include_tasks: flag("include-tasks"),
                only_failed: flag("only-failed"),
            });
        }
        Ok(ConfigRecord::Other(key.to_string()))
    }
}

/// What applying a record changed, for the herder to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing the herder acts on.
    None,
    /// A connector was created or its configuration changed.
    ConnectorConfig(String),
    /// A connector was deleted.
    ConnectorRemoved(String),
    /// A connector's task configurations were committed (consistent or not).
    TaskConfigs(String),
    /// A connector's target state changed.
    TargetState(String),
    /// A restart was requested.
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
}

/// The cluster's configuration as the config topic says it.
#[derive(Debug, Clone, Default)]
pub struct ConfigState {
    /// One past the last record applied (-1 before any), what a member
    /// reports as its config offset.
    pub offset: i64,
    connectors: BTreeMap<String, Properties>,
    target_states: BTreeMap<String, TargetState>,
    task_counts: BTreeMap<String, u32>,
    task_configs: BTreeMap<(String, u32), Properties>,
    deferred: BTreeMap<String, BTreeMap<u32, Properties>>,
    inconsistent: BTreeSet<String>,
    session_key: Option<SessionKey>,
}

impl ConfigState {
    /// An empty view (offset -1).
    pub fn new() -> Self {
        ConfigState {
            offset: -1,
            ..ConfigState::default()
        }
    }

    /// The latest session key, if the leader wrote one.
    pub fn session_key(&self) -> Option<&SessionKey> {
        self.session_key.as_ref()
    }

    /// Applies the record at `offset`.
    pub fn apply(&mut self, offset: i64, record: ConfigRecord) -> Change {
        self.offset = offset + 1;
        match record {
            ConfigRecord::SessionKey(key) => {
                self.session_key = Some(key);
                Change::None
            }
            ConfigRecord::Connector {
                name,
                properties: None,
            } => {
                self.connectors.remove(&name);
                self.target_states.remove(&name);
                self.task_counts.remove(&name);
                self.task_configs.retain(|(c, _), _| *c != name);
                self.deferred.remove(&name);
                self.inconsistent.remove(&name);
                Change::ConnectorRemoved(name)
            }
            ConfigRecord::Connector {
                name,
                properties: Some(properties),
            } => {
                self.connectors.insert(name.clone(), properties);
                self.target_states
                    .entry(name.clone())
                    .or_insert(TargetState::Started);
                Change::ConnectorConfig(name)
            }
            ConfigRecord::Task {
                connector,
                task,
                properties,
            } => {
                self.deferred
                    .entry(connector)
                    .or_default()
                    .insert(task, properties);
                Change::None
            }
            ConfigRecord::Commit { connector, tasks } => {
                let deferred = self.deferred.remove(&connector).unwrap_or_default();
                if !self.connectors.contains_key(&connector) {
                    // Deleted (and compacted) since: nothing to apply.
                    return Change::None;
                }
                // Every task 0..tasks must be there; extra ids may be stale
                // leftovers of an earlier, larger set.
                if (0..tasks).all(|t| deferred.contains_key(&t)) {
                    for (t, p) in deferred {
                        self.task_configs.insert((connector.clone(), t), p);
                    }
                    self.inconsistent.remove(&connector);
                } else {
                    self.inconsistent.insert(connector.clone());
                }
                self.task_counts.insert(connector.clone(), tasks);
                Change::TaskConfigs(connector)
            }
            ConfigRecord::TargetState { connector, state } => {
                match state {
                    Some(s) => {
                        self.target_states.insert(connector.clone(), s);
                    }
                    None if self.connectors.contains_key(&connector) => {
                        self.target_states
                            .insert(connector.clone(), TargetState::Started);
                    }
                    None => {
                        self.target_states.remove(&connector);
                    }
                }
                if self.connectors.contains_key(&connector) {
                    Change::TargetState(connector)
                } else {
                    // Written before its connector (initial_state): kept.
                    Change::None
                }
            }
            ConfigRecord::Restart {
                connector,
                include_tasks,
                only_failed,
            } => Change::Restart {
                connector,
                include_tasks,
                only_failed,
            },
            ConfigRecord::Other(_) => Change::None,
        }
    }

    /// Connector names.
    pub fn connectors(&self) -> impl Iterator<Item = &String> {
        self.connectors.keys()
    }

    /// A connector's configuration.
    pub fn connector(&self, name: &str) -> Option<&Properties> {
        self.connectors.get(name)
    }

    /// A connector's target state (STARTED when it has none).
    pub fn target_state(&self, name: &str) -> TargetState {
        self.target_states
            .get(name)
            .copied()
            .unwrap_or(TargetState::Started)
    }

    /// A connector's committed task configurations, in task order; none
    /// while it is inconsistent.
    pub fn tasks(&self, name: &str) -> Vec<&Properties> {
        if self.inconsistent.contains(name) {
            return Vec::new();
        }
        let count = self.task_counts.get(name).copied().unwrap_or(0);
        (0..count)
            .filter_map(|t| self.task_configs.get(&(name.to_string(), t)))
            .collect()
    }

    /// Whether a connector's last task commit was incomplete.
    pub fn is_inconsistent(&self, name: &str) -> bool {
        self.inconsistent.contains(name)
    }

    /// Everything to run: each connector, and its tasks unless it is
    /// stopped (a paused connector's tasks run, paused).
    pub fn work(&self) -> Work {
        let mut work = Work::default();
        for name in self.connectors.keys() {
            work.connectors.insert(name.clone());
            if self.target_state(name) == TargetState::Stopped {
                continue;
            }
            for t in 0..self.tasks(name).len() {
                work.tasks.insert(TaskId {
                    connector: name.clone(),
                    task: t as i32,
                });
            }
        }
        work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Encodes and decodes each record, then applies it.
    fn replay(state: &mut ConfigState, records: Vec<ConfigRecord>) -> Vec<Change> {
        records
            .into_iter()
            .map(|r| {
                let (key, value) = r.encode();
                let decoded = ConfigRecord::decode(&key, value.as_deref()).unwrap();
                assert_eq!(decoded, r, "{key} round-trips");
                let offset = state.offset.max(0);
                state.apply(offset, decoded)
            })
            .collect()
    }

    #[test]
    fn records_have_kafka_connects_keys_and_values() {
        let (k, v) = ConfigRecord::Connector {
            name: "c".into(),
            properties: Some(props(&[("name", "c"), ("tasks.max", "2")])),
        }
        .encode();
        assert_eq!(k, "connector-c");
        assert_eq!(
            String::from_utf8(v.unwrap()).unwrap(),
            r#"{"properties":{"name":"c","tasks.max":"2"}}"#
        );
        let (k, v) = ConfigRecord::TargetState {
            connector: "c".into(),
            state: Some(TargetState::Stopped),
        }
        .encode();
        assert_eq!(k, "target-state-c");
        assert_eq!(
            String::from_utf8(v.unwrap()).unwrap(),
            r#"{"state":"PAUSED","state.v2":"STOPPED"}"#
        );
        let (k, v) = ConfigRecord::Commit {
            connector: "my-conn".into(),
            tasks: 2,
        }
        .encode();
        assert_eq!(
            (k.as_str(), v.unwrap()),
            ("commit-my-conn", br#"{"tasks":2}"#.to_vec())
        );
        // A task key whose connector name has dashes.
        assert_eq!(
            ConfigRecord::decode("task-my-conn-12", Some(br#"{"properties":{}}"#)).unwrap(),
            ConfigRecord::Task {
                connector: "my-conn".into(),
                task: 12,
                properties: Properties::new()
            }
        );
        // Old workers' target state (no state.v2).
        assert_eq!(
            ConfigRecord::decode("target-state-c", Some(br#"{"state":"PAUSED"}"#)).unwrap(),
            ConfigRecord::TargetState {
                connector: "c".into(),
                state: Some(TargetState::Paused)
            }
        );
        assert!(ConfigRecord::decode("connector-c", Some(b"{nope")).is_err());
        assert!(ConfigRecord::decode("session-key", Some(b"{}")).is_err());
        assert_eq!(
            ConfigRecord::decode("logger-cluster-org.example", Some(b"{}")).unwrap(),
            ConfigRecord::Other("logger-cluster-org.example".into())
        );
        let key = crate::distributed::session_key::SessionKey::generate().unwrap();
        let (k, v) = ConfigRecord::SessionKey(key.clone()).encode();
        assert_eq!(
            ConfigRecord::decode(&k, v.as_deref()).unwrap(),
            ConfigRecord::SessionKey(key)
        );
    }

    #[test]
    fn task_configs_take_effect_only_with_a_complete_commit() {
        let mut state = ConfigState::new();
        let task = |n: u32| ConfigRecord::Task {
            connector: "c".into(),
            task: n,
            properties: props(&[("task", &n.to_string())]),
        };
        let changes = replay(
            &mut state,
            vec![
                ConfigRecord::Connector {
                    name: "c".into(),
                    properties: Some(props(&[("name", "c")])),
                },
                task(0),
                task(1),
            ],
        );
        assert_eq!(changes[0], Change::ConnectorConfig("c".into()));
        assert!(state.tasks("c").is_empty(), "not before the commit");
        replay(
            &mut state,
            vec![ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 2,
            }],
        );
        assert_eq!(state.tasks("c").len(), 2);
        assert_eq!(state.work().tasks.len(), 2);

        // A leader died after writing task 0 of a new set of 3: the commit
        // finds 1 and 2 missing, so the connector has no tasks until the
        // configurations are written again.
        replay(
            &mut state,
            vec![
                task(0),
                ConfigRecord::Commit {
                    connector: "c".into(),
                    tasks: 3,
                },
            ],
        );
        assert!(state.is_inconsistent("c"));
        assert!(state.tasks("c").is_empty());
        replay(
            &mut state,
            vec![
                task(0),
                task(1),
                task(2),
                ConfigRecord::Commit {
                    connector: "c".into(),
                    tasks: 3,
                },
            ],
        );
        assert!(!state.is_inconsistent("c"));
        assert_eq!(state.tasks("c")[2], &props(&[("task", "2")]));
    }

    #[test]
    fn deletion_target_states_and_offsets() {
        let mut state = ConfigState::new();
        assert_eq!(state.offset, -1);
        // initial_state PAUSED is written before the connector.
        let changes = replay(
            &mut state,
            vec![
                ConfigRecord::TargetState {
                    connector: "c".into(),
                    state: Some(TargetState::Paused),
                },
                ConfigRecord::Connector {
                    name: "c".into(),
                    properties: Some(props(&[("name", "c")])),
                },
            ],
        );
        assert_eq!(changes[0], Change::None);
        assert_eq!(state.target_state("c"), TargetState::Paused);
        state.apply(
            7,
            ConfigRecord::TargetState {
                connector: "c".into(),
                state: Some(TargetState::Stopped),
            },
        );
        assert_eq!(state.offset, 8);
        assert_eq!(state.work().connectors.len(), 1);
        assert!(
            state.work().tasks.is_empty(),
            "a stopped connector has no tasks"
        );
        let removed = state.apply(
            8,
            ConfigRecord::Connector {
                name: "c".into(),
                properties: None,
            },
        );
        assert_eq!(removed, Change::ConnectorRemoved("c".into()));
        assert!(state.work().is_empty());
        assert_eq!(state.connectors().count(), 0);
    }
}
