//! What a standalone worker remembers across restarts: every connector's
//! configuration, its target state, and the failures not yet restarted.
//!
//! Kafka's standalone worker forgets connectors created over REST when it
//! restarts; this one keeps them in `<offsets file>.connectors.json`,
//! beside the offsets file, rewritten atomically on every change. A paused
//! connector comes back paused, a stopped one stopped, and a FAILED task
//! stays FAILED (with its trace) until someone restarts it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::offset_file::write_atomically;
use crate::config::TargetState;

/// One remembered connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredConnector {
    /// The configuration as submitted.
    pub config: Vec<(String, String)>,
    /// The target state.
    pub target: TargetState,
    /// The connector's own failure trace, if it failed.
    #[serde(default)]
    pub connector_failure: Option<String>,
    /// Failed tasks and their traces.
    #[serde(default)]
    pub task_failures: BTreeMap<u32, String>,
}

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    connectors: BTreeMap<String, StoredConnector>,
}

fn poisoned<T>(_: T) -> String {
    "connector store lock poisoned".to_string()
}

/// The store; `None` path keeps everything in memory.
#[derive(Debug)]
pub struct ConnectorStore {
    path: Option<PathBuf>,
    connectors: Mutex<BTreeMap<String, StoredConnector>>,
    /// Serialises updates, so that readers of `connectors` never wait for a
    /// file write and its fsyncs.
    writer: Mutex<()>,
}

impl ConnectorStore {
    /// The store beside `offset_file`; a missing file is an empty store.
    pub fn beside(offset_file: &Path) -> Result<ConnectorStore, String> {
        let mut name = offset_file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".connectors.json");
        let path = offset_file.with_file_name(name);
        let connectors = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<FileFormat>(&bytes)
                    .map_err(|e| {
                        format!("the connector store {} is unreadable: {e}", path.display())
                    })?
                    .connectors
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(format!(
                    "cannot read the connector store {}: {e}",
                    path.display()
                ));
            }
        };
        Ok(ConnectorStore {
            path: Some(path),
            connectors: Mutex::new(connectors),
            writer: Mutex::new(()),
        })
    }

    /// A store kept in memory only (distributed mode, where the cluster's
    /// topics are what is remembered; this remembers failed tasks).
    pub fn in_memory() -> ConnectorStore {
        ConnectorStore {
            path: None,
            connectors: Mutex::new(BTreeMap::new()),
            writer: Mutex::new(()),
        }
    }

    /// Every remembered connector.
    pub fn all(&self) -> BTreeMap<String, StoredConnector> {
        self.connectors
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The remembered failure trace of one task, if any.
    pub fn task_failure(&self, name: &str, task: u32) -> Option<String> {
        self.connectors.lock().ok().and_then(|c| {
            c.get(name)
                .and_then(|s| s.task_failures.get(&task).cloned())
        })
    }

    /// Changes the entry of `name` (`None` means absent; leave it `None` to remove)
    /// and rewrites the file.
    pub fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut Option<StoredConnector>),
    ) -> Result<(), String> {
        let _writing = self.writer.lock().map_err(poisoned)?;
        let mut next = self.connectors.lock().map_err(poisoned)?.clone();
        let mut entry = next.get(name).cloned();
        change(&mut entry);
        match entry {
            Some(e) => next.insert(name.to_string(), e),
            None => next.remove(name),
        };
        if let Some(path) = &self.path {
            let bytes = serde_json::to_vec_pretty(&FileFormat {
                connectors: next.clone(),
            })
            .map_err(|e| e.to_string())?;
            write_atomically(path, &bytes)
                .map_err(|e| format!("cannot write the connector store {}: {e}", path.display()))?;
        }
        *self.connectors.lock().map_err(poisoned)? = next;
        Ok(())
    }

    /// Remembers that a task failed.
    pub fn task_failed(&self, name: &str, task: u32, trace: &str) {
        let result = self.update(name, |e| {
            if let Some(e) = e {
                e.task_failures.insert(task, trace.to_string());
            }
        });
        if let Err(e) = result {
            tracing::warn!(connector = name, task, "{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let offsets = dir.path().join("connect.offsets");
        let store = ConnectorStore::beside(&offsets).unwrap();
        let config = vec![("name".to_string(), "a".to_string())];
        store
            .update("a", |e| {
                *e = Some(StoredConnector {
                    config: config.clone(),
                    target: TargetState::Paused,
                    connector_failure: None,
                    task_failures: BTreeMap::new(),
                })
            })
            .unwrap();
        store.task_failed("a", 1, "boom");
        let reopened = ConnectorStore::beside(&offsets).unwrap().all();
        assert_eq!(reopened["a"].target, TargetState::Paused);
        assert_eq!(reopened["a"].task_failures[&1], "boom");
        assert!(dir.path().join("connect.offsets.connectors.json").exists());
        store.update("a", |e| *e = None).unwrap();
        assert!(ConnectorStore::beside(&offsets).unwrap().all().is_empty());
    }

    #[test]
    fn initial_states_parse_case_insensitively() {
        assert_eq!(
            TargetState::from_initial_state("paused"),
            Some(TargetState::Paused)
        );
        assert_eq!(
            TargetState::from_initial_state("RUNNING"),
            Some(TargetState::Started)
        );
        assert_eq!(TargetState::from_initial_state("nope"), None);
    }
}
