//! The contract's packed batches (interface `batches` of
//! `wasmconnect:connector@0.2.0`) to and from the records connector code
//! works with.
//!
//! A batch crosses the boundary as one byte buffer plus fixed-size entries
//! pointing into it, which costs the host a few allocations in this
//! instance per batch instead of several per record. Connectors never see
//! it: the export macros unpack what `put` and `apply` receive and pack
//! what `poll` and `apply` return.

#![allow(dead_code)] // Each world uses only some of these.

use crate::world::wasmconnect::connector::batches::{
    HeaderRange, PackedHeader, PackedPayload, PayloadKind, Span,
};
use crate::{Header, JsonPayload, Payload, TaskError, fatal};

/// Builds one batch's buffer, topic table and header table.
#[derive(Default)]
pub(crate) struct Packer {
    pub(crate) data: Vec<u8>,
    pub(crate) topics: Vec<String>,
    pub(crate) headers: Vec<PackedHeader>,
}

impl Packer {
    fn span(&mut self, bytes: &[u8]) -> Span {
        let offset = self.data.len();
        self.data.extend_from_slice(bytes);
        // A wasm32 instance cannot hold more than 4 GiB, so both fit.
        Span {
            offset: offset as u32,
            len: bytes.len() as u32,
        }
    }

    /// The topic's index; batches hold few topics, mostly one.
    pub(crate) fn topic(&mut self, topic: String) -> u32 {
        let index = match self.topics.iter().rposition(|t| *t == topic) {
            Some(i) => i,
            None => {
                self.topics.push(topic);
                self.topics.len() - 1
            }
        };
        index as u32
    }

    pub(crate) fn text(&mut self, text: &str) -> Span {
        self.span(text.as_bytes())
    }

    pub(crate) fn payload(&mut self, payload: Option<Payload>) -> Option<PackedPayload> {
        Some(match payload? {
            Payload::Binary(b) => PackedPayload {
                kind: PayloadKind::Binary,
                bytes: self.span(&b),
                schema: None,
            },
            Payload::Text(t) => PackedPayload {
                kind: PayloadKind::Text,
                bytes: self.span(t.as_bytes()),
                schema: None,
            },
            Payload::Json(j) => PackedPayload {
                kind: PayloadKind::Json,
                bytes: self.span(j.document.as_bytes()),
                schema: j.schema.map(|s| self.span(s.as_bytes())),
            },
        })
    }

    pub(crate) fn headers(&mut self, headers: Vec<Header>) -> HeaderRange {
        let start = self.headers.len() as u32;
        let count = headers.len() as u32;
        for h in headers {
            let key = self.span(h.key.as_bytes());
            let value = h.value.map(|v| self.span(&v));
            self.headers.push(PackedHeader { key, value });
        }
        HeaderRange { start, count }
    }
}

/// Reads one batch's buffer, topic table and header table. The host packs
/// correctly; a batch that is not is refused rather than trusted.
pub(crate) struct Unpacker<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) topics: &'a [String],
    pub(crate) headers: &'a [PackedHeader],
}

fn malformed(what: &str) -> TaskError {
    fatal(format!("the host sent a malformed batch: {what}"))
}

impl<'a> Unpacker<'a> {
    fn bytes(&self, span: Span) -> Result<&'a [u8], TaskError> {
        let (start, len) = (span.offset as usize, span.len as usize);
        self.data
            .get(start..start.saturating_add(len))
            .ok_or_else(|| malformed("a span lies outside the data"))
    }

    fn text(&self, span: Span) -> Result<String, TaskError> {
        String::from_utf8(self.bytes(span)?.to_vec()).map_err(|_| malformed("text is not UTF-8"))
    }

    pub(crate) fn topic(&self, index: u32) -> Result<String, TaskError> {
        self.topics
            .get(index as usize)
            .cloned()
            .ok_or_else(|| malformed("a topic index is out of range"))
    }

    pub(crate) fn payload(
        &self,
        payload: Option<PackedPayload>,
    ) -> Result<Option<Payload>, TaskError> {
        let Some(p) = payload else {
            return Ok(None);
        };
        Ok(Some(match p.kind {
            PayloadKind::Binary => Payload::Binary(self.bytes(p.bytes)?.to_vec()),
            PayloadKind::Text => Payload::Text(self.text(p.bytes)?),
            PayloadKind::Json => Payload::Json(JsonPayload {
                document: self.text(p.bytes)?,
                schema: p.schema.map(|s| self.text(s)).transpose()?,
            }),
        }))
    }

    pub(crate) fn headers(&self, range: HeaderRange) -> Result<Vec<Header>, TaskError> {
        let (start, count) = (range.start as usize, range.count as usize);
        let packed = self
            .headers
            .get(start..start.saturating_add(count))
            .ok_or_else(|| malformed("a header range is out of range"))?;
        packed
            .iter()
            .map(|h| {
                Ok(Header {
                    key: self.text(h.key)?,
                    value: h
                        .value
                        .map(|v| self.bytes(v).map(<[u8]>::to_vec))
                        .transpose()?,
                })
            })
            .collect()
    }
}

/// Packs what `poll` returns.
#[cfg(feature = "source")]
pub fn pack_source(
    records: Vec<crate::SourceRecord>,
) -> crate::world::wasmconnect::connector::batches::SourceBatch {
    use crate::world::wasmconnect::connector::batches::{PackedSourceRecord, SourceBatch};
    let mut p = Packer::default();
    let mut packed = Vec::with_capacity(records.len());
    for r in records {
        packed.push(PackedSourceRecord {
            source_partition: p.text(&r.source_partition),
            source_offset: p.text(&r.source_offset),
            topic: p.topic(r.topic),
            partition: r.partition,
            key: p.payload(r.key),
            value: p.payload(r.value),
            headers: p.headers(r.headers),
            timestamp: r.timestamp,
            ack_token: r.ack_token,
        });
    }
    SourceBatch {
        data: p.data,
        topics: p.topics,
        headers: p.headers,
        records: packed,
    }
}

/// Unpacks what `put` receives.
#[cfg(all(feature = "sink", not(feature = "source")))]
pub fn unpack_sink(
    batch: crate::world::wasmconnect::connector::batches::SinkBatch,
) -> Result<Vec<crate::SinkRecord>, TaskError> {
    let u = Unpacker {
        data: &batch.data,
        topics: &batch.topics,
        headers: &batch.headers,
    };
    batch
        .records
        .iter()
        .map(|r| {
            Ok(crate::SinkRecord {
                topic: u.topic(r.topic)?,
                partition: r.partition,
                offset: r.offset,
                key: u.payload(r.key)?,
                value: u.payload(r.value)?,
                headers: u.headers(r.headers)?,
                timestamp: r.timestamp,
                timestamp_type: r.timestamp_type,
            })
        })
        .collect()
}

/// Unpacks what `apply` receives.
#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
pub fn unpack_transform(
    batch: crate::world::wasmconnect::connector::batches::TransformBatch,
) -> Result<Vec<crate::TransformRecord>, TaskError> {
    let u = Unpacker {
        data: &batch.data,
        topics: &batch.topics,
        headers: &batch.headers,
    };
    batch
        .records
        .iter()
        .map(|r| {
            Ok(crate::TransformRecord {
                topic: u.topic(r.topic)?,
                partition: r.partition,
                key: u.payload(r.key)?,
                value: u.payload(r.value)?,
                headers: u.headers(r.headers)?,
                timestamp: r.timestamp,
            })
        })
        .collect()
}

/// Packs what `apply` returns: replacements go into a batch of their own
/// that the outcomes point into.
#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
pub fn pack_applied(
    outcomes: Vec<crate::Outcome>,
) -> crate::world::exports::wasmconnect::connector::record_transform::Applied {
    use crate::world::exports::wasmconnect::connector::record_transform::{
        Applied, Outcome as Packed,
    };
    use crate::world::wasmconnect::connector::batches::{PackedTransformRecord, TransformBatch};
    let mut p = Packer::default();
    let mut replacements = Vec::new();
    let outcomes = outcomes
        .into_iter()
        .map(|o| match o {
            crate::Outcome::Keep => Packed::Keep,
            crate::Outcome::Drop => Packed::Drop,
            crate::Outcome::Replace(r) => {
                replacements.push(PackedTransformRecord {
                    topic: p.topic(r.topic),
                    partition: r.partition,
                    key: p.payload(r.key),
                    value: p.payload(r.value),
                    headers: p.headers(r.headers),
                    timestamp: r.timestamp,
                });
                Packed::Replace(replacements.len() as u32 - 1)
            }
        })
        .collect();
    Applied {
        outcomes,
        replacements: TransformBatch {
            data: p.data,
            topics: p.topics,
            headers: p.headers,
            records: replacements,
        },
    }
}
