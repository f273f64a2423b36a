//! The seams between a herder and where its state lives, as Kafka Connect
//! draws them (`OffsetBackingStore`, `KafkaBasedLog`,
//! `Memory*BackingStore`).
//!
//! * [`RecordLog`]: a log of keyed records read from the beginning, the one
//!   thing the config, status, offset and plugin stores of distributed mode
//!   need (`crate::distributed::{config_store, status_store, offset_store,
//!   plugin_log}`). A Kafka topic implements it in production
//!   (`crate::distributed::topic_log::TopicLog`), [`memory::MemoryTopic`] in
//!   tests: each store is written once, and the same store code runs on a
//!   broker or in memory, so a herder can be driven without one.
//! * [`OffsetBackingStore`]: where source offsets are kept and what a source
//!   task's `offsets.read` import reads: the offsets file of a standalone
//!   worker (`crate::worker::offset_file::OffsetFile`), or the offsets topic
//!   of a cluster (`crate::distributed::offset_store::OffsetStore`, over any
//!   [`RecordLog`]).
//!
//! A standalone worker's connector configurations live in
//! `crate::worker::store::ConnectorStore`, on a file or in memory.
//!
//! This module depends on nothing above it but the offset reader the host
//! capability defines.

pub mod memory;

use async_trait::async_trait;

use crate::host::offsets::OffsetReader;

/// One record of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
}

impl LogRecord {
    /// The key as text (config, status and plugin records have text keys);
    /// `None` when there is none or it is not UTF-8.
    pub fn text_key(&self) -> Option<&str> {
        self.key
            .as_deref()
            .and_then(|k| std::str::from_utf8(k).ok())
    }
}

/// A log of keyed records, read from the beginning by each reader at its
/// own pace (Kafka Connect's `KafkaBasedLog`). Each value is one reader:
/// records it wrote come back to it on its next read, like everyone
/// else's.
#[async_trait]
pub trait RecordLog: Send + Sync {
    /// The number of partitions (the config log must have exactly one).
    fn partitions(&self) -> i32;

    /// The records written since this reader's previous read, up to the end
    /// as it is now, in offset order per partition.
    async fn read_to_end(&self) -> Result<Vec<LogRecord>, String>;

    /// Writes one record (`None`: a tombstone) and returns once it is
    /// durable, with where it landed (partition, offset).
    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(i32, i64), String>;
}

/// Where a worker keeps source offsets. Source tasks and the offsets API go
/// through this one seam, whatever the mode.
#[async_trait]
pub trait OffsetBackingStore: OffsetReader {
    /// Stores offsets of `connector` (`None`: reset the partition); returns
    /// once they are durable (fsynced, or acknowledged by Kafka).
    async fn apply(
        &self,
        connector: &str,
        updates: Vec<(String, Option<String>)>,
    ) -> Result<(), String>;

    /// Every stored (partition, offset) of `connector`, including what other
    /// workers wrote up to now.
    async fn offsets_of(&self, connector: &str) -> Result<Vec<(String, String)>, String>;

    /// `updates` as the records that store them in the offsets topic, for
    /// an exactly-once source task to write inside its own transaction;
    /// `None` when the offsets do not live in a Kafka topic (a standalone
    /// worker's file, memory).
    fn as_topic_records(
        &self,
        _connector: &str,
        _updates: &[(String, Option<String>)],
    ) -> Option<Result<Vec<TopicRecord>, String>> {
        None
    }

    /// Takes `updates` into the view without writing them: another writer
    /// (a task's transaction) already stored them.
    fn remember(
        &self,
        _connector: &str,
        _updates: &[(String, Option<String>)],
    ) -> Result<(), String> {
        Ok(())
    }
}

/// A record for a Kafka topic: topic, key, value (`None`: a tombstone).
pub type TopicRecord = (String, Vec<u8>, Option<Vec<u8>>);
