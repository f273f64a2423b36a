//! Uploaded plugins shared through Kafka, so a component uploaded to any
//! worker runs on all of them without a shared filesystem.
//!
//! A compacted topic holds each component as content-addressed chunks,
//! `plugin-chunk-<sha256>-<n>` (at most [`CHUNK_BYTES`] each, below
//! Kafka's default 1 MB message limit), then a manifest
//! `plugin-<sha256>` = `{"chunks":N,"size":S}` written last, so a reader
//! that sees the manifest has every chunk before it. Readers reassemble the
//! bytes and check their hash before handing them on. A tombstone on the
//! manifest removes the plugin (and its chunks are tombstoned after it).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::topic_log::{TopicLog, TopicSpec};
use crate::store::RecordLog;

/// The largest chunk written.
pub const CHUNK_BYTES: usize = 512 * 1024;

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginEvent {
    /// A complete component, its hash checked.
    Published { sha256: String, bytes: Vec<u8> },
    /// A component was withdrawn.
    Removed { sha256: String },
}

/// The plugin topic and the chunks of components not yet complete.
pub struct PluginLog {
    log: Box<dyn RecordLog>,
    chunks: BTreeMap<String, BTreeMap<u32, Vec<u8>>>,
}

impl PluginLog {
    /// Opens (creating when missing) the topic; nothing is read yet.
    pub async fn open(
        bootstrap: &str,
        settings: &[(String, String)],
        spec: &TopicSpec,
        client_id: &str,
    ) -> Result<PluginLog, String> {
        let log = TopicLog::open(bootstrap, settings, spec, client_id).await?;
        Ok(PluginLog::over(Box::new(log)))
    }

    /// The log over any record log (an in-memory one in tests).
    pub fn over(log: Box<dyn RecordLog>) -> PluginLog {
        PluginLog {
            log,
            chunks: BTreeMap::new(),
        }
    }

    /// Publishes a component; returns its sha256.
    pub async fn publish(&self, bytes: &[u8]) -> Result<String, String> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let chunks = bytes.chunks(CHUNK_BYTES).collect::<Vec<_>>();
        for (n, chunk) in chunks.iter().enumerate() {
            self.log
                .send(format!("plugin-chunk-{sha256}-{n}").as_bytes(), Some(chunk))
                .await?;
        }
        let manifest = json!({ "chunks": chunks.len(), "size": bytes.len() }).to_string();
        self.log
            .send(
                format!("plugin-{sha256}").as_bytes(),
                Some(manifest.as_bytes()),
            )
            .await?;
        Ok(sha256)
    }

    /// Withdraws a component.
    pub async fn remove(&self, sha256: &str, chunks: u32) -> Result<(), String> {
        self.log
            .send(format!("plugin-{sha256}").as_bytes(), None)
            .await?;
        for n in 0..chunks {
            self.log
                .send(format!("plugin-chunk-{sha256}-{n}").as_bytes(), None)
                .await?;
        }
        Ok(())
    }

    /// Reads what was published or removed since the last read.
    pub async fn refresh(&mut self) -> Result<Vec<PluginEvent>, String> {
        let mut events = Vec::new();
        for mut record in self.log.read_to_end().await? {
            // Chunks move on into the assembly; the key stays borrowed.
            let value = record.value.take();
            let Some(key) = record.text_key() else {
                continue;
            };
            if let Some(rest) = key.strip_prefix("plugin-chunk-") {
                let Some((sha, n)) = rest
                    .rsplit_once('-')
                    .and_then(|(s, n)| Some((s, n.parse().ok()?)))
                else {
                    continue;
                };
                match value {
                    Some(bytes) => {
                        self.chunks
                            .entry(sha.to_string())
                            .or_default()
                            .insert(n, bytes);
                    }
                    None => {
                        if let Some(c) = self.chunks.get_mut(sha) {
                            c.remove(&n);
                        }
                    }
                }
            } else if let Some(sha) = key.strip_prefix("plugin-") {
                match value {
                    None => {
                        self.chunks.remove(sha);
                        events.push(PluginEvent::Removed {
                            sha256: sha.to_string(),
                        });
                    }
                    Some(manifest) => match self.assemble(sha, &manifest) {
                        Ok(bytes) => events.push(PluginEvent::Published {
                            sha256: sha.to_string(),
                            bytes,
                        }),
                        Err(e) => tracing::warn!(plugin = sha, "skipping a shared plugin: {e}"),
                    },
                }
            }
        }
        Ok(events)
    }

    /// The component a manifest describes, from its chunks, hash checked.
    fn assemble(&mut self, sha256: &str, manifest: &[u8]) -> Result<Vec<u8>, String> {
        let manifest: Value =
            serde_json::from_slice(manifest).map_err(|e| format!("manifest is not JSON: {e}"))?;
        let count = manifest
            .get("chunks")
            .and_then(Value::as_u64)
            .ok_or("manifest has no chunk count")?;
        let chunks = self.chunks.remove(sha256).unwrap_or_default();
        let mut bytes = Vec::new();
        for n in 0..count {
            let chunk = chunks
                .get(&(n as u32))
                .ok_or_else(|| format!("chunk {n} of {count} is missing"))?;
            bytes.extend_from_slice(chunk);
        }
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(format!("the chunks hash to {actual}"));
        }
        Ok(bytes)
    }
}
