//! Telling redelivered records from new ones, for sink tasks that buffer.

use std::collections::HashMap;

use crate::{SinkRecord, TopicPartition};

/// The highest offset a task has taken per partition. After `put` fails
/// with a retriable error the worker delivers the same batch again; a
/// task that keeps what it took (buffered, or written out in part) skips
/// what it already has with [`Redelivery::first_time`]. When partitions
/// are opened or closed the consumer reads them again from the committed
/// offsets: [`Redelivery::forget`] them then.
#[derive(Debug, Default)]
pub struct Redelivery {
    taken: HashMap<(String, i32), i64>,
}

impl Redelivery {
    /// Whether `record` is new; remembers it.
    pub fn first_time(&mut self, record: &SinkRecord) -> bool {
        let at = (record.topic.clone(), record.partition);
        match self.taken.get(&at) {
            Some(&last) if record.offset <= last => false,
            _ => {
                self.taken.insert(at, record.offset);
                true
            }
        }
    }

    /// Forgets what was taken from `partitions`.
    pub fn forget(&mut self, partitions: &[TopicPartition]) {
        for p in partitions {
            self.taken.remove(&(p.topic.clone(), p.partition));
        }
    }
}
