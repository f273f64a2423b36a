//! The records a source task returns and a transform reads and writes.
//!
//! Since contract 0.2.0 these cross the boundary packed (see `batch`), so
//! the generated bindings no longer define them; the SDK keeps them, with
//! the fields of the contract's `types.source-record` and
//! `types.transform-record`, so connector code builds them as before.

use crate::{Header, Payload};

/// A record produced by a source task (Kafka Connect's `SourceRecord`).
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// Where the record came from, as a JSON object
    /// (for example `{"filename":"/data/in.txt"}`).
    pub source_partition: String,
    /// How far into that source partition this record is, as a JSON object
    /// (for example `{"position":42}`); handed back through
    /// [`crate::read_offsets`] after a restart.
    pub source_offset: String,
    /// Destination topic.
    pub topic: String,
    /// Destination partition; `None` lets the producer's partitioner choose.
    pub partition: Option<i32>,
    /// Record key; `None` is a null key.
    pub key: Option<Payload>,
    /// Record value; `None` is a null value (a tombstone).
    pub value: Option<Payload>,
    /// Record headers.
    pub headers: Vec<Header>,
    /// Timestamp in milliseconds since the Unix epoch; `None` lets the
    /// producer stamp the record.
    pub timestamp: Option<i64>,
    /// A token to hear about this record's fate through
    /// [`crate::SourceTask::commit_records`]; `None` skips it.
    pub ack_token: Option<u64>,
}

/// A record as seen by a transform (Kafka Connect's `ConnectRecord`).
#[derive(Debug, Clone)]
pub struct TransformRecord {
    /// Topic.
    pub topic: String,
    /// Partition, when known.
    pub partition: Option<i32>,
    /// Key; `None` is a null key.
    pub key: Option<Payload>,
    /// Value; `None` is a null value.
    pub value: Option<Payload>,
    /// Headers.
    pub headers: Vec<Header>,
    /// Timestamp in milliseconds since the Unix epoch.
    pub timestamp: Option<i64>,
}
