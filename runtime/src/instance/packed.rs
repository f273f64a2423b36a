//! Contract 0.2.0's packed batches (`wit/connector.wit`, interface
//! `batches`) to and from the worker's records.
//!
//! The worker's data path works on the records of `types` (shared by both
//! contract versions). A 0.2.0 plugin gets them packed: [`pack_sink`] and
//! [`pack_transform`] copy every key, value and header of a batch into one
//! buffer, so lowering the batch into the guest takes a handful of
//! allocations instead of two or more per record. What a 0.2.0 plugin
//! returns is checked as it is unpacked ([`unpack_source`],
//! [`unpack_transform`]): a span outside the buffer, text that is not
//! UTF-8 or a topic index out of range is refused with the record's
//! position, never trusted.

use crate::bindings::record_transform::Outcome;
use crate::bindings::types::{
    Header, JsonPayload, Payload, SinkRecord, SourceRecord, TransformRecord,
};
use crate::bindings::v0_2::batches::{
    HeaderRange, PackedHeader, PackedPayload, PackedSinkRecord, PackedTransformRecord, PayloadKind,
    SinkBatch, SourceBatch, Span, TransformBatch,
};
use crate::bindings::v0_2::record_transform::{Applied, Outcome as PackedOutcome};

/// The largest batch buffer the contract can address (spans are `u32`).
const MAX_DATA: usize = u32::MAX as usize;

/// Builds one batch's buffer, topic table and header table.
#[derive(Default)]
struct Packer {
    data: Vec<u8>,
    topics: Vec<String>,
    headers: Vec<PackedHeader>,
}

impl Packer {
    fn span(&mut self, bytes: &[u8]) -> Result<Span, String> {
        let offset = self.data.len();
        if offset + bytes.len() > MAX_DATA {
            return Err(format!(
                "the batch holds more than {MAX_DATA} bytes, more than a packed batch can address"
            ));
        }
        self.data.extend_from_slice(bytes);
        // Both fit: checked against MAX_DATA (u32::MAX) above.
        Ok(Span {
            offset: offset as u32,
            len: bytes.len() as u32,
        })
    }

    /// The topic's index; batches hold few topics, mostly one, so a scan
    /// from the most recent is cheapest.
    fn topic(&mut self, topic: &str) -> u32 {
        let index = match self.topics.iter().rposition(|t| t == topic) {
            Some(i) => i,
            None => {
                self.topics.push(topic.to_string());
                self.topics.len() - 1
            }
        };
        index as u32
    }

    fn payload(&mut self, payload: &Option<Payload>) -> Result<Option<PackedPayload>, String> {
        let Some(payload) = payload else {
            return Ok(None);
        };
        Ok(Some(match payload {
            Payload::Binary(b) => PackedPayload {
                kind: PayloadKind::Binary,
                bytes: self.span(b)?,
                schema: None,
            },
            Payload::Text(t) => PackedPayload {
                kind: PayloadKind::Text,
                bytes: self.span(t.as_bytes())?,
                schema: None,
            },
            Payload::Json(j) => PackedPayload {
                kind: PayloadKind::Json,
                bytes: self.span(j.document.as_bytes())?,
                schema: match &j.schema {
                    Some(s) => Some(self.span(s.as_bytes())?),
                    None => None,
                },
            },
        }))
    }

    fn headers(&mut self, headers: &[Header]) -> Result<HeaderRange, String> {
        let start = self.headers.len() as u32;
        for h in headers {
            let key = self.span(h.key.as_bytes())?;
            let value = match &h.value {
                Some(v) => Some(self.span(v)?),
                None => None,
            };
            self.headers.push(PackedHeader { key, value });
        }
        Ok(HeaderRange {
            start,
            count: headers.len() as u32,
        })
    }
}

/// Reads one batch's buffer, topic table and header table, refusing
/// anything that points outside them.
struct Unpacker<'a> {
    data: &'a [u8],
    topics: &'a [String],
    headers: &'a [PackedHeader],
}

impl<'a> Unpacker<'a> {
    fn bytes(&self, span: Span) -> Result<&'a [u8], String> {
        let (start, len) = (span.offset as usize, span.len as usize);
        self.data.get(start..start + len).ok_or_else(|| {
            format!(
                "span {start}..{} lies outside the batch's {} bytes of data",
                start + len,
                self.data.len()
            )
        })
    }

    fn text(&self, span: Span, what: &str) -> Result<String, String> {
        let bytes = self.bytes(span)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("{what} is not UTF-8 ({e})"))
    }

    fn topic(&self, index: u32) -> Result<String, String> {
        self.topics.get(index as usize).cloned().ok_or_else(|| {
            format!(
                "topic index {index}, but the batch has {} topics",
                self.topics.len()
            )
        })
    }

    fn payload(
        &self,
        payload: Option<PackedPayload>,
        what: &str,
    ) -> Result<Option<Payload>, String> {
        let Some(p) = payload else {
            return Ok(None);
        };
        Ok(Some(match p.kind {
            PayloadKind::Binary => Payload::Binary(self.bytes(p.bytes)?.to_vec()),
            PayloadKind::Text => Payload::Text(self.text(p.bytes, what)?),
            PayloadKind::Json => Payload::Json(JsonPayload {
                document: self.text(p.bytes, what)?,
                schema: match p.schema {
                    Some(s) => Some(self.text(s, &format!("the schema of the {what}"))?),
                    None => None,
                },
            }),
        }))
    }

    fn headers(&self, range: HeaderRange) -> Result<Vec<Header>, String> {
        let (start, count) = (range.start as usize, range.count as usize);
        let packed = self.headers.get(start..start + count).ok_or_else(|| {
            format!(
                "headers {start}..{}, but the batch has {} headers",
                start + count,
                self.headers.len()
            )
        })?;
        packed
            .iter()
            .map(|h| {
                Ok(Header {
                    key: self.text(h.key, "a header key")?,
                    value: match h.value {
                        Some(v) => Some(self.bytes(v)?.to_vec()),
                        None => None,
                    },
                })
            })
            .collect()
    }
}

/// Packs the records `sink-task.put` delivers.
pub(crate) fn pack_sink(records: &[SinkRecord]) -> Result<SinkBatch, String> {
    let mut p = Packer::default();
    let mut packed = Vec::with_capacity(records.len());
    for r in records {
        packed.push(PackedSinkRecord {
            topic: p.topic(&r.topic),
            partition: r.partition,
            offset: r.offset,
            key: p.payload(&r.key)?,
            value: p.payload(&r.value)?,
            headers: p.headers(&r.headers)?,
            timestamp: r.timestamp,
            timestamp_type: r.timestamp_type,
        });
    }
    Ok(SinkBatch {
        data: p.data,
        topics: p.topics,
        headers: p.headers,
        records: packed,
    })
}

/// Unpacks what `source-task.poll` returned.
pub(crate) fn unpack_source(batch: SourceBatch) -> Result<Vec<SourceRecord>, String> {
    let u = Unpacker {
        data: &batch.data,
        topics: &batch.topics,
        headers: &batch.headers,
    };
    batch
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let record = || -> Result<SourceRecord, String> {
                Ok(SourceRecord {
                    source_partition: u.text(r.source_partition, "the source partition")?,
                    source_offset: u.text(r.source_offset, "the source offset")?,
                    topic: u.topic(r.topic)?,
                    partition: r.partition,
                    key: u.payload(r.key, "key")?,
                    value: u.payload(r.value, "value")?,
                    headers: u.headers(r.headers)?,
                    timestamp: r.timestamp,
                    ack_token: r.ack_token,
                })
            };
            record().map_err(|e| format!("record {i} of the batch: {e}"))
        })
        .collect()
}

/// Packs the records a transform reads.
pub(crate) fn pack_transform(records: &[TransformRecord]) -> Result<TransformBatch, String> {
    let mut p = Packer::default();
    let mut packed = Vec::with_capacity(records.len());
    for r in records {
        packed.push(PackedTransformRecord {
            topic: p.topic(&r.topic),
            partition: r.partition,
            key: p.payload(&r.key)?,
            value: p.payload(&r.value)?,
            headers: p.headers(&r.headers)?,
            timestamp: r.timestamp,
        });
    }
    Ok(TransformBatch {
        data: p.data,
        topics: p.topics,
        headers: p.headers,
        records: packed,
    })
}

/// Unpacks the records of a transform batch.
fn unpack_transform(batch: &TransformBatch) -> Result<Vec<TransformRecord>, String> {
    let u = Unpacker {
        data: &batch.data,
        topics: &batch.topics,
        headers: &batch.headers,
    };
    batch
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let record = || -> Result<TransformRecord, String> {
                Ok(TransformRecord {
                    topic: u.topic(r.topic)?,
                    partition: r.partition,
                    key: u.payload(r.key, "key")?,
                    value: u.payload(r.value, "value")?,
                    headers: u.headers(r.headers)?,
                    timestamp: r.timestamp,
                })
            };
            record().map_err(|e| format!("replacement {i}: {e}"))
        })
        .collect()
}

/// What `record-transform.apply` answered, as one outcome per record with
/// its replacement in place.
pub(crate) fn unpack_applied(applied: Applied) -> Result<Vec<Outcome>, String> {
    let mut replacements: Vec<Option<TransformRecord>> = unpack_transform(&applied.replacements)?
        .into_iter()
        .map(Some)
        .collect();
    applied
        .outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| match o {
            PackedOutcome::Keep => Ok(Outcome::Keep),
            PackedOutcome::Drop => Ok(Outcome::Drop),
            PackedOutcome::Replace(n) => match replacements.get_mut(n as usize) {
                Some(slot) => slot.take().map(Outcome::Replace).ok_or_else(|| {
                    format!("outcomes {i} and another both replace with replacement {n}")
                }),
                None => Err(format!(
                    "outcome {i} replaces with replacement {n}, but there are {}",
                    replacements.len()
                )),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::TimestampType;

    fn full_sink_record() -> SinkRecord {
        SinkRecord {
            topic: "orders".into(),
            partition: 2,
            offset: 41,
            key: Some(Payload::Text("k-é".into())),
            value: Some(Payload::Json(JsonPayload {
                document: r#"{"a":1}"#.into(),
                schema: Some(r#"{"type":"struct"}"#.into()),
            })),
            headers: vec![
                Header {
                    key: "h1".into(),
                    value: Some(vec![0, 255]),
                },
                Header {
                    key: "h2".into(),
                    value: None,
                },
            ],
            timestamp: Some(1_700_000_000_000),
            timestamp_type: TimestampType::CreateTime,
        }
    }

    #[test]
    fn a_sink_batch_holds_every_part_of_every_record_in_one_buffer() {
        let records = vec![
            full_sink_record(),
            SinkRecord::bare("orders", 0, 7),
            SinkRecord {
                value: Some(Payload::Binary(vec![1, 2, 3])),
                ..SinkRecord::bare("refunds", 1, 9)
            },
        ];
        let batch = pack_sink(&records).unwrap();
        assert_eq!(batch.topics, ["orders", "refunds"]);
        assert_eq!(batch.headers.len(), 2);
        assert_eq!(batch.records[1].topic, 0);
        assert_eq!(batch.records[2].topic, 1);
        // Read back through the same checks a guest-made batch gets.
        let u = Unpacker {
            data: &batch.data,
            topics: &batch.topics,
            headers: &batch.headers,
        };
        let first = &batch.records[0];
        assert_eq!(u.payload(first.key, "key").unwrap(), records[0].key.clone());
        assert_eq!(
            u.payload(first.value, "value").unwrap(),
            records[0].value.clone()
        );
        assert_eq!(u.headers(first.headers).unwrap(), records[0].headers);
        assert_eq!(
            u.payload(batch.records[2].value, "value").unwrap(),
            records[2].value.clone()
        );
        assert_eq!(batch.records[1].key, None);
        assert_eq!(batch.records[1].headers, HeaderRange { start: 2, count: 0 });
    }

    #[test]
    fn transform_batches_round_trip_and_outcomes_take_their_replacements() {
        let records = vec![TransformRecord {
            topic: "t".into(),
            partition: Some(0),
            key: None,
            value: Some(Payload::Text("v".into())),
            headers: vec![Header {
                key: "h".into(),
                value: Some(b"x".to_vec()),
            }],
            timestamp: None,
        }];
        let replacements = pack_transform(&records).unwrap();
        assert_eq!(unpack_transform(&replacements).unwrap(), records);
        let outcomes = unpack_applied(Applied {
            outcomes: vec![
                PackedOutcome::Drop,
                PackedOutcome::Replace(0),
                PackedOutcome::Keep,
            ],
            replacements,
        })
        .unwrap();
        assert_eq!(
            outcomes,
            [
                Outcome::Drop,
                Outcome::Replace(records[0].clone()),
                Outcome::Keep
            ]
        );
    }

    fn source_batch(record: crate::bindings::v0_2::batches::PackedSourceRecord) -> SourceBatch {
        SourceBatch {
            data: br#"{"f":"a"}{"p":1}hello"#.to_vec(),
            topics: vec!["t".into()],
            headers: Vec::new(),
            records: vec![record],
        }
    }

    fn good_source_record() -> crate::bindings::v0_2::batches::PackedSourceRecord {
        crate::bindings::v0_2::batches::PackedSourceRecord {
            source_partition: Span { offset: 0, len: 9 },
            source_offset: Span { offset: 9, len: 7 },
            topic: 0,
            partition: None,
            key: None,
            value: Some(PackedPayload {
                kind: PayloadKind::Text,
                bytes: Span { offset: 16, len: 5 },
                schema: None,
            }),
            headers: HeaderRange { start: 0, count: 0 },
            timestamp: None,
            ack_token: Some(3),
        }
    }

    #[test]
    fn a_source_batch_unpacks_into_records() {
        let records = unpack_source(source_batch(good_source_record())).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].source_partition, r#"{"f":"a"}"#);
        assert_eq!(records[0].source_offset, r#"{"p":1}"#);
        assert_eq!(records[0].value, Some(Payload::Text("hello".into())));
        assert_eq!(records[0].ack_token, Some(3));
    }

    #[test]
    fn a_source_batch_pointing_outside_itself_is_refused_naming_the_record() {
        let mut outside = good_source_record();
        outside.value = Some(PackedPayload {
            kind: PayloadKind::Binary,
            bytes: Span {
                offset: 16,
                len: 100,
            },
            schema: None,
        });
        let e = unpack_source(source_batch(outside)).unwrap_err();
        assert_eq!(
            e,
            "record 0 of the batch: span 16..116 lies outside the batch's 21 bytes of data"
        );

        let mut bad_topic = good_source_record();
        bad_topic.topic = 4;
        let e = unpack_source(source_batch(bad_topic)).unwrap_err();
        assert!(
            e.contains("topic index 4, but the batch has 1 topics"),
            "{e}"
        );

        let mut bad_headers = good_source_record();
        bad_headers.headers = HeaderRange { start: 0, count: 1 };
        let e = unpack_source(source_batch(bad_headers)).unwrap_err();
        assert!(
            e.contains("headers 0..1, but the batch has 0 headers"),
            "{e}"
        );

        let mut not_text = source_batch(good_source_record());
        not_text.data[16] = 0xff;
        let e = unpack_source(not_text).unwrap_err();
        assert!(e.contains("value is not UTF-8"), "{e}");
    }

    #[test]
    fn replacements_must_exist_and_be_used_once() {
        let none = pack_transform(&[]).unwrap();
        let e = unpack_applied(Applied {
            outcomes: vec![PackedOutcome::Replace(0)],
            replacements: none,
        })
        .unwrap_err();
        assert_eq!(e, "outcome 0 replaces with replacement 0, but there are 0");
        let one = pack_transform(&[TransformRecord {
            topic: "t".into(),
            partition: None,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
        }])
        .unwrap();
        let e = unpack_applied(Applied {
            outcomes: vec![PackedOutcome::Replace(0), PackedOutcome::Replace(0)],
            replacements: one,
        })
        .unwrap_err();
        assert!(e.contains("both replace with replacement 0"), "{e}");
    }
}
