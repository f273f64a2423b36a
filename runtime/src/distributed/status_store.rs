//! Connector and task states on the status topic (Kafka Connect's
//! `KafkaStatusBackingStore`): each worker writes the states of what it
//! runs, and every worker reads everyone's, so any worker answers
//! `GET /connectors/<name>/status` for the whole cluster.
//!
//! A worker that lost work in a rebalance may still report it FAILED or
//! UNASSIGNED after its new owner reported RUNNING; such "safe" writes are
//! skipped when they would overwrite a newer generation's status from
//! another worker ([`StatusRecord::may_overwrite`]), and on reading, a
//! stale UNASSIGNED never replaces a newer RUNNING.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::status_log::{StatusKey, StatusRecord};
use super::topic_log::{TopicLog, TopicSpec};
use crate::store::RecordLog;

/// The status topic and the latest state of every connector and task.
pub struct StatusStore {
    log: Box<dyn RecordLog>,
    view: Mutex<BTreeMap<String, StatusRecord>>,
}

impl StatusStore {
    /// Opens (creating when missing) the topic and reads it to the end.
    pub async fn open(
        bootstrap: &str,
        settings: &[(String, String)],
        spec: &TopicSpec,
        client_id: &str,
    ) -> Result<StatusStore, String> {
        let log = TopicLog::open(bootstrap, settings, spec, client_id).await?;
        StatusStore::over(Box::new(log)).await
    }

    /// The store over any log (an in-memory one in tests), read to the end.
    pub async fn over(log: Box<dyn RecordLog>) -> Result<StatusStore, String> {
        let store = StatusStore {
            log,
            view: Mutex::new(BTreeMap::new()),
        };
        store.refresh().await?;
        Ok(store)
    }

    /// Reads what other workers wrote since the last read.
    pub async fn refresh(&self) -> Result<(), String> {
        let records = self.log.read_to_end().await?;
        let mut view = self.view.lock().map_err(|_| "status store lock poisoned")?;
        for r in records {
            let Some(key) = r.text_key() else {
                continue;
            };
            let Some(parsed) = StatusKey::decode(key) else {
                continue;
            };
            match r.value.as_deref().map(StatusRecord::decode) {
                None => {
                    view.remove(key);
                }
                Some(Ok(record)) => {
                    let stale_unassigned = record.state == "UNASSIGNED"
                        && matches!(parsed, StatusKey::Task { .. })
                        && view.get(key).is_some_and(|c| {
                            c.state == "RUNNING" && c.generation >= record.generation
                        });
                    if !stale_unassigned {
                        view.insert(key.to_string(), record);
                    }
                }
                Some(Err(e)) => tracing::warn!(key, "skipping a status record: {e}"),
            }
        }
        Ok(())
    }

    /// Writes a state, unless it is a safe write that would overwrite a
    /// newer owner's; returns whether it was written.
    pub async fn put(&self, key: &StatusKey, record: &StatusRecord) -> Result<bool, String> {
        let k = key.encode();
        let allowed = {
            let view = self.view.lock().map_err(|_| "status store lock poisoned")?;
            record.may_overwrite(view.get(&k))
        };
        if !allowed {
            tracing::debug!(key = %k, state = %record.state, "skipping a stale status write");
            return Ok(false);
        }
        self.log.send(k.as_bytes(), Some(&record.encode())).await?;
        self.view
            .lock()
            .map_err(|_| "status store lock poisoned")?
            .insert(k, record.clone());
        Ok(true)
    }

    /// Deletes a state (DESTROYED).
    pub async fn delete(&self, key: &StatusKey) -> Result<(), String> {
        let k = key.encode();
        self.log.send(k.as_bytes(), None).await?;
        self.view
            .lock()
            .map_err(|_| "status store lock poisoned")?
            .remove(&k);
        Ok(())
    }

    /// The latest state of `key`.
    pub fn get(&self, key: &StatusKey) -> Option<StatusRecord> {
        self.view.lock().ok()?.get(&key.encode()).cloned()
    }

    /// A connector's task states, by task number.
    pub fn tasks(&self, connector: &str) -> BTreeMap<u32, StatusRecord> {
        let Ok(view) = self.view.lock() else {
            return BTreeMap::new();
        };
        view.iter()
            .filter_map(|(k, v)| match StatusKey::decode(k)? {
                StatusKey::Task { connector: c, task } if c == connector => Some((task, v.clone())),
                _ => None,
            })
            .collect()
    }
}
