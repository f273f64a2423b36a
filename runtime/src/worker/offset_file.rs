//! Source offsets of a standalone worker, in `offset.storage.file.filename`.
//!
//! The file holds JSON: `{"offsets":[{"connector":…,"partition":{…},"offset":{…}}]}`.
//! It is rewritten whole on every flush, atomically: written to a temporary
//! file beside it, synced, then renamed over it, so a crash leaves either
//! the old file or the new one, never a torn one. (Kafka's own file is a
//! Java-serialised map; the spec lets the format be implementation-private.)
//!
//! Flushes are group commits: while one rewrite runs, the flushes that
//! arrive wait together and go into the next one, so a hundred tasks
//! flushing every 100 ms cost one writer thread and a rewrite at a time,
//! not a blocked thread each (Kafka writes through one thread, too).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::oneshot;

use serde::{Deserialize, Serialize};

use crate::host::offsets::{OffsetReader, canonical_object};
use crate::store::OffsetBackingStore;

#[derive(Serialize, Deserialize)]
struct FileFormat {
    offsets: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    connector: String,
    partition: serde_json::Value,
    offset: serde_json::Value,
}

type Key = (String, String);

/// Changes to offsets, canonical: a `None` offset removes the partition.
type Changes = Vec<(Key, Option<String>)>;

/// Committed source offsets backed by a file. Clones share the offsets.
#[derive(Debug, Clone)]
pub struct OffsetFile {
    path: PathBuf,
    offsets: Arc<Mutex<BTreeMap<Key, String>>>,
    queue: Arc<Mutex<Queue>>,
}

/// Flushes waiting for the next rewrite, and whether one is running.
#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<(Changes, oneshot::Sender<Result<(), String>>)>,
    writing: bool,
}

impl OffsetFile {
    /// Opens `path`; a missing or empty file means no offsets yet. A file
    /// that is not ours is an error naming it.
    pub fn open(path: &Path) -> Result<OffsetFile, String> {
        let mut offsets = BTreeMap::new();
        match std::fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {}
            Ok(bytes) => {
                let file: FileFormat = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "the offsets file {} is not a wasmconnect offsets file: {e}",
                        path.display()
                    )
                })?;
                for e in file.offsets {
                    offsets.insert((e.connector, e.partition.to_string()), e.offset.to_string());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "cannot read the offsets file {}: {e}",
                    path.display()
                ));
            }
        }
        Ok(OffsetFile {
            path: path.to_path_buf(),
            offsets: Arc::new(Mutex::new(offsets)),
            queue: Arc::default(),
        })
    }

    /// Records `updates` (partition, offset JSON objects) for `connector`
    /// and rewrites the file. Nothing is recorded if the write fails.
    pub fn commit(&self, connector: &str, updates: &[(String, String)]) -> Result<(), String> {
        let updates: Vec<(String, Option<String>)> = updates
            .iter()
            .map(|(p, o)| (p.clone(), Some(o.clone())))
            .collect();
        self.apply_blocking(connector, &updates)
    }

    /// Like [`OffsetFile::commit`]; a `None` offset removes the partition.
    pub fn apply_blocking(
        &self,
        connector: &str,
        updates: &[(String, Option<String>)],
    ) -> Result<(), String> {
        self.write(&[canonical(connector, updates)?])
    }

    /// Applies every group of changes and rewrites the file once; nothing
    /// is recorded if the write fails.
    fn write(&self, groups: &[Changes]) -> Result<(), String> {
        let mut offsets = self
            .offsets
            .lock()
            .map_err(|_| "offsets lock poisoned".to_string())?;
        let mut next = offsets.clone();
        for (key, offset) in groups.iter().flatten() {
            match offset {
                Some(o) => next.insert(key.clone(), o.clone()),
                None => next.remove(key),
            };
        }
        write_atomically(&self.path, &render(&next)?)
            .map_err(|e| format!("cannot write the offsets file {}: {e}", self.path.display()))?;
        *offsets = next;
        Ok(())
    }

    /// Every committed (partition, offset) of `connector`.
    pub fn committed(&self, connector: &str) -> Vec<(String, String)> {
        self.offsets
            .lock()
            .map(|o| {
                o.iter()
                    .filter(|((c, _), _)| c == connector)
                    .map(|((_, p), v)| (p.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[async_trait]
impl OffsetBackingStore for OffsetFile {
    async fn apply(
        &self,
        connector: &str,
        updates: Vec<(String, Option<String>)>,
    ) -> Result<(), String> {
        // Refused on its own, before it joins a group commit.
        let changes = canonical(connector, &updates)?;
        let (done, outcome) = oneshot::channel();
        let start_writer = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.waiting.push((changes, done));
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            tokio::spawn(self.clone().write_waiting());
        }
        outcome
            .await
            .map_err(|_| "offset write did not finish".to_string())?
    }

    async fn offsets_of(&self, connector: &str) -> Result<Vec<(String, String)>, String> {
        Ok(self.committed(connector))
    }
}

impl OffsetFile {
    /// The group-commit writer: rewrites the file with everything waiting,
    /// answers each flush, and goes on until nothing waits.
    async fn write_waiting(self) {
        loop {
            let waiting = {
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            let (groups, answers): (Vec<Changes>, Vec<_>) = waiting.into_iter().unzip();
            // The file is fsynced; keep that off the async worker threads.
            let file = self.clone();
            let outcome = tokio::task::spawn_blocking(move || file.write(&groups))
                .await
                .unwrap_or_else(|e| Err(format!("offset write did not finish: {e}")));
            for answer in answers {
                let _ = answer.send(outcome.clone());
            }
        }
    }
}

/// `updates` of `connector` with keys and offsets in canonical JSON.
fn canonical(connector: &str, updates: &[(String, Option<String>)]) -> Result<Changes, String> {
    updates
        .iter()
        .map(|(partition, offset)| {
            let key = (connector.to_string(), canonical_object(partition)?);
            Ok((key, offset.as_deref().map(canonical_object).transpose()?))
        })
        .collect()
}

impl OffsetReader for OffsetFile {
    fn read(&self, connector: &str, partitions: &[String]) -> Result<Vec<Option<String>>, String> {
        let offsets = self
            .offsets
            .lock()
            .map_err(|_| "offsets lock poisoned".to_string())?;
        Ok(partitions
            .iter()
            .map(|p| offsets.get(&(connector.to_string(), p.clone())).cloned())
            .collect())
    }
}

fn render(offsets: &BTreeMap<Key, String>) -> Result<Vec<u8>, String> {
    let entries = offsets
        .iter()
        .map(|((connector, partition), offset)| {
            Ok(Entry {
                connector: connector.clone(),
                partition: serde_json::from_str(partition).map_err(|e| e.to_string())?,
                offset: serde_json::from_str(offset).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    serde_json::to_vec_pretty(&FileFormat { offsets: entries }).map_err(|e| e.to_string())
}

/// Temporary file, sync, rename, sync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(&dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_survive_reopening_and_are_keyed_by_canonical_partition() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        let store = OffsetFile::open(&path).unwrap();
        store
            .commit(
                "src",
                &[(r#"{"filename":"/a"}"#.into(), r#"{"position":10}"#.into())],
            )
            .unwrap();
        store
            .commit(
                "src",
                &[(
                    r#"{ "filename" : "/a" }"#.into(),
                    r#"{"position":20}"#.into(),
                )],
            )
            .unwrap();
        store
            .commit(
                "other",
                &[(r#"{"filename":"/a"}"#.into(), r#"{"position":1}"#.into())],
            )
            .unwrap();
        let reopened = OffsetFile::open(&path).unwrap();
        let got = reopened
            .read("src", &[r#"{"filename":"/a"}"#.into()])
            .unwrap();
        assert_eq!(got, [Some(r#"{"position":20}"#.to_string())]);
        assert_eq!(reopened.committed("other").len(), 1);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_flushes_all_land_and_a_bad_one_is_refused_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        let store = OffsetFile::open(&path).unwrap();
        let flushes = (0..50).map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let partition = format!(r#"{{"task":{task}}}"#);
                store
                    .apply(
                        &format!("c{task}"),
                        vec![(partition, Some(r#"{"seq":7}"#.into()))],
                    )
                    .await
            })
        });
        let bad = store.apply("bad", vec![(r#"{"p":1}"#.into(), Some("[1]".into()))]);
        assert!(bad.await.unwrap_err().contains("expected a JSON object"));
        for flush in flushes {
            flush.await.unwrap().unwrap();
        }
        let reopened = OffsetFile::open(&path).unwrap();
        for task in 0..50 {
            assert_eq!(
                reopened.committed(&format!("c{task}")),
                [(format!(r#"{{"task":{task}}}"#), r#"{"seq":7}"#.to_string())]
            );
        }
        assert!(reopened.committed("bad").is_empty());
    }

    #[test]
    fn empty_or_missing_files_hold_no_offsets_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            OffsetFile::open(&dir.path().join("missing"))
                .unwrap()
                .committed("x")
                .is_empty()
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(OffsetFile::open(&empty).is_ok());
        let java = dir.path().join("java");
        std::fs::write(&java, b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap").unwrap();
        let err = OffsetFile::open(&java).unwrap_err();
        assert!(err.contains("is not a wasmconnect offsets file"), "{err}");
    }
}
