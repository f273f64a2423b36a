//! A [`RecordLog`] in memory, for herders driven without a broker (Kafka
//! Connect's `Memory*BackingStore`s serve the same purpose).
//!
//! A [`MemoryTopic`] is the shared "topic"; every worker of a test cluster
//! opens its own [`MemoryLog`] on it with [`MemoryTopic::open`], and reads
//! from the beginning at its own pace, as readers of a Kafka topic do. Keys
//! are spread over partitions by a stable hash, so one key always lands in
//! one partition and its records keep their order.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{LogRecord, RecordLog};

/// The records of one in-memory topic, per partition.
#[derive(Clone)]
pub struct MemoryTopic {
    partitions: Arc<Mutex<Vec<Vec<LogRecord>>>>,
}

impl MemoryTopic {
    /// An empty topic of `partitions` partitions (at least one).
    pub fn new(partitions: i32) -> MemoryTopic {
        let count = usize::try_from(partitions.max(1)).unwrap_or(1);
        MemoryTopic {
            partitions: Arc::new(Mutex::new(vec![Vec::new(); count])),
        }
    }

    /// A new reader (and writer) of the topic, positioned at its beginning.
    pub fn open(&self) -> MemoryLog {
        let count = self.partitions.lock().map(|p| p.len()).unwrap_or(1);
        MemoryLog {
            topic: self.clone(),
            next: Mutex::new(vec![0; count]),
        }
    }

    /// Every record written so far, in partition then offset order.
    pub fn records(&self) -> Vec<LogRecord> {
        self.partitions
            .lock()
            .map(|p| p.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }
}

/// One reader's view of a [`MemoryTopic`].
pub struct MemoryLog {
    topic: MemoryTopic,
    /// The next offset to read, per partition.
    next: Mutex<Vec<usize>>,
}

fn poisoned<T>(_: T) -> String {
    "in-memory log lock poisoned".to_string()
}

#[async_trait]
impl RecordLog for MemoryLog {
    fn partitions(&self) -> i32 {
        self.next
            .lock()
            .map(|n| i32::try_from(n.len()).unwrap_or(i32::MAX))
            .unwrap_or(1)
    }

    async fn read_to_end(&self) -> Result<Vec<LogRecord>, String> {
        let partitions = self.topic.partitions.lock().map_err(poisoned)?;
        let mut next = self.next.lock().map_err(poisoned)?;
        let mut read = Vec::new();
        for (records, next) in partitions.iter().zip(next.iter_mut()) {
            read.extend(records[*next..].iter().cloned());
            *next = records.len();
        }
        Ok(read)
    }

    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(i32, i64), String> {
        let mut partitions = self.topic.partitions.lock().map_err(poisoned)?;
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        // `partitions` is never empty (`MemoryTopic::new` makes at least one).
        let index = (hasher.finish() % partitions.len() as u64) as usize;
        let records = &mut partitions[index];
        let partition = i32::try_from(index).map_err(|e| e.to_string())?;
        let offset = i64::try_from(records.len()).map_err(|e| e.to_string())?;
        records.push(LogRecord {
            partition,
            offset,
            key: Some(key.to_vec()),
            value: value.map(<[u8]>::to_vec),
        });
        Ok((partition, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_reader_reads_everything_once_in_key_order() {
        let topic = MemoryTopic::new(3);
        let (a, b) = (topic.open(), topic.open());
        a.send(b"k1", Some(b"1")).await.unwrap();
        b.send(b"k1", Some(b"2")).await.unwrap();
        b.send(b"k2", None).await.unwrap();
        let read = a.read_to_end().await.unwrap();
        assert_eq!(read.len(), 3);
        let k1: Vec<_> = read
            .iter()
            .filter(|r| r.text_key() == Some("k1"))
            .map(|r| r.value.clone())
            .collect();
        assert_eq!(k1, vec![Some(b"1".to_vec()), Some(b"2".to_vec())]);
        assert!(a.read_to_end().await.unwrap().is_empty());
        assert_eq!(b.read_to_end().await.unwrap().len(), 3);
        assert_eq!(topic.records().len(), 3);
    }
}
