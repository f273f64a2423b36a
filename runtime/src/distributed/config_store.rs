//! The cluster's configuration on the config topic (Kafka Connect's
//! `KafkaConfigBackingStore`): a [`TopicLog`] of one partition and the
//! [`ConfigState`] it rebuilds.
//!
//! Writes follow Kafka Connect's order, so that a reader never acts on half
//! a change: a target state before its connector, task configurations
//! before their commit (each after reading the log to its end), and a
//! deleted connector's record before its target state's. Every write waits
//! for its acknowledgement and then reads the log back, so the writer's own
//! view includes what it wrote.

use super::config_log::{Change, ConfigRecord, ConfigState, Properties};
use super::session_key::SessionKey;
use super::topic_log::{TopicLog, TopicSpec};
use crate::config::TargetState;
use crate::store::RecordLog;

/// The config topic and the view it yields.
pub struct ConfigStore {
    log: Box<dyn RecordLog>,
    state: ConfigState,
}

impl ConfigStore {
    /// Opens (creating when missing) `topic`, which must have exactly one
    /// partition (the order of records is the order of changes), and reads
    /// it to the end.
    pub async fn open(
        bootstrap: &str,
        settings: &[(String, String)],
        topic: &str,
        replication: i32,
        client_id: &str,
    ) -> Result<(ConfigStore, Vec<Change>), String> {
        let spec = TopicSpec {
            topic: topic.to_string(),
            partitions: 1,
            replication,
        };
        let log = TopicLog::open(bootstrap, settings, &spec, client_id).await?;
        if log.partitions() != 1 {
            return Err(format!(
                "config.storage.topic {topic} has {} partitions; it must have exactly 1",
                log.partitions()
            ));
        }
        ConfigStore::over(Box::new(log)).await
    }

    /// The store over any log (an in-memory one in tests), read to the end.
    pub async fn over(log: Box<dyn RecordLog>) -> Result<(ConfigStore, Vec<Change>), String> {
        if log.partitions() != 1 {
            return Err(format!(
                "the config topic has {} partitions; it must have exactly 1",
                log.partitions()
            ));
        }
        let mut store = ConfigStore {
            log,
            state: ConfigState::new(),
        };
        let changes = store.refresh().await?;
        Ok((store, changes))
    }

    /// The view as of the last read.
    pub fn state(&self) -> &ConfigState {
        &self.state
    }

    /// Reads what others wrote since the last read; returns what changed.
    pub async fn refresh(&mut self) -> Result<Vec<Change>, String> {
        let mut changes = Vec::new();
        for record in self.log.read_to_end().await? {
            let Some(key) = record.text_key() else {
                tracing::warn!(
                    offset = record.offset,
                    "skipping a config record without a text key"
                );
                continue;
            };
            match ConfigRecord::decode(key, record.value.as_deref()) {
                Ok(r) => match self.state.apply(record.offset, r) {
                    Change::None => {}
                    change => changes.push(change),
                },
                // Kafka Connect skips a record it cannot read.
                Err(e) => tracing::warn!(offset = record.offset, "skipping a config record: {e}"),
            }
        }
        Ok(changes)
    }

    async fn write(&self, record: &ConfigRecord) -> Result<(), String> {
        let (key, value) = record.encode();
        self.log
            .send(key.as_bytes(), value.as_deref())
            .await
            .map(|_| ())
    }

    /// Creates or updates a connector (with its initial target state).
    pub async fn put_connector(
        &mut self,
        name: &str,
        properties: Properties,
        target: Option<TargetState>,
    ) -> Result<Vec<Change>, String> {
        if let Some(state) = target {
            self.write(&ConfigRecord::TargetState {
                connector: name.to_string(),
                state: Some(state),
            })
            .await?;
        }
        self.write(&ConfigRecord::Connector {
            name: name.to_string(),
            properties: Some(properties),
        })
        .await?;
        self.refresh().await
    }

    /// Deletes a connector (its task records stay until compaction; the
    /// view drops them at once).
    pub async fn remove_connector(&mut self, name: &str) -> Result<Vec<Change>, String> {
        self.write(&ConfigRecord::Connector {
            name: name.to_string(),
            properties: None,
        })
        .await?;
        self.write(&ConfigRecord::TargetState {
            connector: name.to_string(),
            state: None,
        })
        .await?;
        self.refresh().await
    }

    /// Writes a connector's task configurations and their commit (the
    /// leader does, for every connector).
    pub async fn put_task_configs(
        &mut self,
        name: &str,
        configs: &[Properties],
    ) -> Result<Vec<Change>, String> {
        let mut changes = self.refresh().await?;
        for (task, properties) in configs.iter().enumerate() {
            self.write(&ConfigRecord::Task {
                connector: name.to_string(),
                task: task as u32,
                properties: properties.clone(),
            })
            .await?;
        }
        self.write(&ConfigRecord::Commit {
            connector: name.to_string(),
            tasks: configs.len() as u32,
        })
        .await?;
        changes.extend(self.refresh().await?);
        Ok(changes)
    }

    /// Sets a connector's target state (any worker may: pause, resume and
    /// stop are not forwarded to the leader).
    pub async fn put_target_state(
        &mut self,
        name: &str,
        state: TargetState,
    ) -> Result<Vec<Change>, String> {
        self.write(&ConfigRecord::TargetState {
            connector: name.to_string(),
            state: Some(state),
        })
        .await?;
        self.refresh().await
    }

    /// Writes a new session key (the leader does, for signed requests).
    pub async fn put_session_key(&mut self, key: &SessionKey) -> Result<Vec<Change>, String> {
        self.write(&ConfigRecord::SessionKey(key.clone())).await?;
        self.refresh().await
    }

    /// Writes a raw record (tests use it to stage a leader that died
    /// half-way through writing task configurations).
    pub async fn put_record(&mut self, record: &ConfigRecord) -> Result<Vec<Change>, String> {
        self.write(record).await?;
        self.refresh().await
    }
}
