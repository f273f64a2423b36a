//! Constructors for records and payloads.

use crate::{Header, JsonPayload, Payload};

impl Payload {
    /// UTF-8 text.
    pub fn text(text: impl Into<String>) -> Self {
        Payload::Text(text.into())
    }

    /// A JSON document with an optional Connect schema.
    pub fn json(document: impl Into<String>, schema: Option<String>) -> Self {
        Payload::Json(JsonPayload {
            document: document.into(),
            schema,
        })
    }
}

impl Header {
    /// A header with a value.
    pub fn new(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Header {
            key: key.into(),
            value: Some(value.into()),
        }
    }
}

#[cfg(feature = "source")]
impl crate::SourceRecord {
    /// A record with a value and no key, headers or timestamp.
    pub fn new(
        source_partition: impl Into<String>,
        source_offset: impl Into<String>,
        topic: impl Into<String>,
        value: Option<Payload>,
    ) -> Self {
        crate::SourceRecord {
            source_partition: source_partition.into(),
            source_offset: source_offset.into(),
            topic: topic.into(),
            partition: None,
            key: None,
            value,
            headers: Vec::new(),
            timestamp: None,
            ack_token: None,
        }
    }
}
