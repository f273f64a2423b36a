//! Source offsets on the offsets topic (Kafka Connect's
//! `KafkaOffsetBackingStore`): key `["<connector>",{partition}]`, value the
//! offset object, a tombstone for a reset. The last record for a key wins.
//!
//! Records are partitioned by murmur2 of the key, as Kafka's clients do
//! (see [`TopicLog`]), so Kafka Connect and this worker find an offset in
//! the same partition.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::status_log::{offset_key, parse_offset_key};
use super::topic_log::{TopicLog, TopicSpec};
use crate::store::RecordLog;
use async_trait::async_trait;

use crate::host::offsets::{OffsetReader, canonical_object};
use crate::store::{OffsetBackingStore, TopicRecord};

/// The offsets topic and the latest offset of every source partition.
pub struct OffsetStore {
    log: Box<dyn RecordLog>,
    /// The topic's name when the log is one (exactly-once source tasks
    /// write their offsets to it in their own transactions).
    topic: Option<String>,
    /// connector → canonical partition → offset (canonical JSON).
    offsets: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// One reader at a time: two concurrent reads would split the records
    /// between them and could apply an older write after a newer one.
    reading: tokio::sync::Mutex<()>,
}

impl OffsetStore {
    /// Opens (creating when missing) the topic and reads it to the end.
    pub async fn open(
        bootstrap: &str,
        settings: &[(String, String)],
        spec: &TopicSpec,
        client_id: &str,
    ) -> Result<OffsetStore, String> {
        let log = TopicLog::open(bootstrap, settings, spec, client_id).await?;
        let mut store = OffsetStore::over(Box::new(log)).await?;
        store.topic = Some(spec.topic.clone());
        Ok(store)
    }

    /// The store over any log (an in-memory one in tests), read to the end.
    pub async fn over(log: Box<dyn RecordLog>) -> Result<OffsetStore, String> {
        let store = OffsetStore {
            log,
            topic: None,
            offsets: Mutex::new(BTreeMap::new()),
            reading: tokio::sync::Mutex::new(()),
        };
        store.refresh().await?;
        Ok(store)
    }

    /// Reads what was written since the last read.
    pub async fn refresh(&self) -> Result<(), String> {
        let _reading = self.reading.lock().await;
        let records = self.log.read_to_end().await?;
        let mut offsets = self
            .offsets
            .lock()
            .map_err(|_| "offset store lock poisoned")?;
        for r in records {
            let Some(key) = r.key.as_deref() else {
                continue;
            };
            let (connector, partition) = match parse_offset_key(key) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(offset = r.offset, "skipping an offsets record: {e}");
                    continue;
                }
            };
            let Ok(partition) = canonical_object(&partition) else {
                continue;
            };
            match r.value.as_deref().map(std::str::from_utf8) {
                Some(Ok(value)) => match canonical_object(value) {
                    Ok(value) => {
                        offsets
                            .entry(connector)
                            .or_default()
                            .insert(partition, value);
                    }
                    Err(e) => tracing::warn!(offset = r.offset, "skipping an offsets record: {e}"),
                },
                Some(Err(_)) => {
                    tracing::warn!(offset = r.offset, "skipping a non-UTF-8 offsets record")
                }
                None => {
                    if let Some(c) = offsets.get_mut(&connector) {
                        c.remove(&partition);
                    }
                }
            }
        }
        Ok(())
    }

    /// Stores offsets (`None`: reset) for `connector`, waiting for every
    /// acknowledgement, and keeps them in the view.
    pub async fn put(
        &self,
        connector: &str,
        offsets: &[(String, Option<String>)],
    ) -> Result<(), String> {
        for (partition, offset) in offsets {
            let key = offset_key(connector, partition)?;
            self.log
                .send(&key, offset.as_deref().map(str::as_bytes))
                .await?;
        }
        self.remember_all(connector, offsets)
    }

    /// Takes `offsets` into the view.
    fn remember_all(
        &self,
        connector: &str,
        offsets: &[(String, Option<String>)],
    ) -> Result<(), String> {
        let mut view = self
            .offsets
            .lock()
            .map_err(|_| "offset store lock poisoned")?;
        let entry = view.entry(connector.to_string()).or_default();
        for (partition, offset) in offsets {
            let partition = canonical_object(partition)?;
            match offset {
                Some(o) => {
                    entry.insert(partition, canonical_object(o)?);
                }
                None => {
                    entry.remove(&partition);
                }
            }
        }
        Ok(())
    }

    /// Every offset of `connector` (partition, offset) as of the last read.
    pub fn offsets_in_view(&self, connector: &str) -> Vec<(String, String)> {
        self.offsets
            .lock()
            .map(|o| {
                o.get(connector)
                    .map(|m| m.iter().map(|(p, v)| (p.clone(), v.clone())).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }
}

#[async_trait]
impl OffsetBackingStore for OffsetStore {
    async fn apply(
        &self,
        connector: &str,
        updates: Vec<(String, Option<String>)>,
    ) -> Result<(), String> {
        self.put(connector, &updates).await
    }

    /// Reads the log to its end first, so writes of other workers count.
    async fn offsets_of(&self, connector: &str) -> Result<Vec<(String, String)>, String> {
        self.refresh().await?;
        Ok(self.offsets_in_view(connector))
    }

    fn as_topic_records(
        &self,
        connector: &str,
        updates: &[(String, Option<String>)],
    ) -> Option<Result<Vec<TopicRecord>, String>> {
        let topic = self.topic.as_ref()?;
        Some(
            updates
                .iter()
                .map(|(partition, offset)| {
                    let key = offset_key(connector, partition)?;
                    Ok((topic.clone(), key, offset.clone().map(String::into_bytes)))
                })
                .collect(),
        )
    }

    fn remember(
        &self,
        connector: &str,
        updates: &[(String, Option<String>)],
    ) -> Result<(), String> {
        self.remember_all(connector, updates)
    }
}

impl OffsetReader for OffsetStore {
    fn read(&self, connector: &str, partitions: &[String]) -> Result<Vec<Option<String>>, String> {
        let offsets = self
            .offsets
            .lock()
            .map_err(|_| "offset store lock poisoned")?;
        let of = offsets.get(connector);
        partitions
            .iter()
            .map(|p| {
                let p = canonical_object(p)?;
                Ok(of.and_then(|m| m.get(&p).cloned()))
            })
            .collect()
    }
}
