//! Where a worker keeps source offsets: the offsets file of a standalone
//! worker, or the offsets topic shared by a distributed cluster. Source
//! tasks and the offsets API go through this one seam.

use std::sync::Arc;

use super::offset_file::OffsetFile;
use crate::distributed::offset_store::OffsetStore;
use crate::host::offsets::OffsetReader;

/// The worker's source offsets.
#[derive(Clone)]
pub enum SourceOffsets {
    /// `offset.storage.file.filename` (standalone).
    File(Arc<OffsetFile>),
    /// `offset.storage.topic` (distributed).
    Topic(Arc<OffsetStore>),
}

impl SourceOffsets {
    /// What a task's `offsets.read` import reads.
    pub fn reader(&self) -> Arc<dyn OffsetReader> {
        match self {
            SourceOffsets::File(f) => f.clone(),
            SourceOffsets::Topic(t) => t.clone(),
        }
    }

    /// Stores offsets of `connector` (`None`: reset the partition); returns
    /// once they are durable (fsynced, or acknowledged by Kafka).
    pub async fn apply(
        &self,
        connector: &str,
        updates: Vec<(String, Option<String>)>,
    ) -> Result<(), String> {
        match self {
            SourceOffsets::File(file) => {
                // The file is fsynced; keep that off the async worker threads.
                let (file, connector) = (file.clone(), connector.to_string());
                tokio::task::spawn_blocking(move || file.apply(&connector, &updates))
                    .await
                    .map_err(|e| format!("offset write did not finish: {e}"))?
            }
            SourceOffsets::Topic(topic) => topic.put(connector, &updates).await,
        }
    }

    /// Every stored (partition, offset) of `connector`; the topic is read to
    /// its end first, so writes of other workers are included.
    pub async fn offsets_of(&self, connector: &str) -> Result<Vec<(String, String)>, String> {
        match self {
            SourceOffsets::File(f) => Ok(f.offsets_of(connector)),
            SourceOffsets::Topic(t) => {
                t.refresh().await?;
                Ok(t.offsets_of(connector))
            }
        }
    }
}
