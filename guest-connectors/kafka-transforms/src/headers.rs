//! Record-level transforms without key/value variants or about headers:
//! `Filter` (drops every record; meant for use with a predicate),
//! `DropHeaders`, `InsertHeader` (a literal read as `Values.parseString`)
//! and `HeaderFrom` (fields copied or moved into headers). Header bytes
//! are what SimpleHeaderConverter writes: `Values.convertToString`.

use wasmconnect_sdk::{Header, Importance, TransformRecord};

use crate::config::{Check, Def, Default, Kind, REPLACE_NULL_WITH_DEFAULT, Settings};
use crate::data::Data;
use crate::schema::Schema;
use crate::strings::{convert_to_string, parse_string};
use crate::value::Value;
use crate::{KafkaTransform, Side, field_value, read, require_map, require_struct, write};

fn header(key: &str, schema: Option<&Schema>, value: &Value) -> Header {
    Header {
        key: key.to_string(),
        value: convert_to_string(schema, value).map(String::into_bytes),
    }
}

/// `org.apache.kafka.connect.transforms.Filter`.
pub struct Filter;

impl KafkaTransform for Filter {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.Filter";
    const DOC: &'static str = "Drops all records, filtering them from subsequent transformations in the chain. This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.";

    fn definition() -> Vec<Def> {
        Vec::new()
    }

    fn configure(_side: Side, _s: &Settings) -> Result<Self, String> {
        Ok(Filter)
    }

    fn apply(&self, _record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        Ok(None)
    }
}

/// `org.apache.kafka.connect.transforms.DropHeaders`.
pub struct DropHeaders {
    headers: Vec<String>,
}

impl KafkaTransform for DropHeaders {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.DropHeaders";
    const DOC: &'static str = "Removes one or more headers from each record.";

    fn definition() -> Vec<Def> {
        vec![Def {
            name: "headers",
            kind: Kind::List,
            default: Default::Required,
            importance: Importance::High,
            doc: "The name of the headers to be removed.",
            check: Check::NonDuplicateList {
                empty_allowed: false,
            },
        }]
    }

    fn configure(_side: Side, s: &Settings) -> Result<Self, String> {
        Ok(DropHeaders {
            headers: s.list("headers"),
        })
    }

    fn apply(&self, mut record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        record.headers.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}

/// `org.apache.kafka.connect.transforms.InsertHeader`.
pub struct InsertHeader {
    header: Header,
}

impl KafkaTransform for InsertHeader {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.InsertHeader";
    const DOC: &'static str = "Add a header to each record.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "header",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "The name of the header.",
                check: Check::NonNull,
            },
            Def {
                name: "value.literal",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "The literal value that is to be set as the header value on all records.",
                check: Check::NonNull,
            },
        ]
    }

    fn configure(_side: Side, s: &Settings) -> Result<Self, String> {
        let (schema, value) = parse_string(&s.string("value.literal").unwrap_or_default());
        Ok(InsertHeader {
            header: header(
                &s.string("header").unwrap_or_default(),
                schema.as_ref(),
                &value,
            ),
        })
    }

    fn apply(&self, mut record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        record.headers.push(self.header.clone());
        Ok(Some(record))
    }
}

/// `org.apache.kafka.connect.transforms.HeaderFrom`.
pub struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    moving: bool,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

impl KafkaTransform for HeaderFrom {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.HeaderFrom";
    const DOC: &'static str =
        "Moves or copies fields in the key/value of a record into that record's headers.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "fields",
                kind: Kind::List,
                default: Default::Required,
                importance: Importance::High,
                doc: "Field names in the record whose values are to be copied or moved to headers.",
                check: Check::NonEmptyList,
            },
            Def {
                name: "headers",
                kind: Kind::List,
                default: Default::Required,
                importance: Importance::High,
                doc: "Header names, in the same order as the field names listed in the fields configuration property.",
                check: Check::NonEmptyList,
            },
            Def {
                name: "operation",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).",
                check: Check::OneOf(&["move", "copy"]),
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        let (fields, headers) = (s.list("fields"), s.list("headers"));
        if fields.len() != headers.len() {
            return Err(
                "'fields' config must have the same number of elements as 'headers' config.".into(),
            );
        }
        Ok(HeaderFrom {
            side,
            fields,
            headers,
            moving: s.string("operation").as_deref() == Some("move"),
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, mut record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        let purpose = if self.moving {
            "header move"
        } else {
            "header copy"
        };
        let data = read(&record, self.side)?;
        let mut added = Vec::new();
        let out = match &data.schema {
            None => {
                let mut map = require_map(&data.value, purpose)?.clone();
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    added.push(header(h, None, data.value.get(f).unwrap_or(&Value::Null)));
                    if self.moving {
                        map.retain(|(k, _)| !matches!(k, Value::Str(s) if s == f));
                    }
                }
                Data::schemaless(Value::Map(map))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, purpose)?;
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    let field = schema.field(f).ok_or_else(|| "Cannot invoke \"org.apache.kafka.connect.data.Field.schema()\" because the return value of \"org.apache.kafka.connect.data.Schema.field(String)\" is null".to_string())?;
                    let v = field_value(members, field, self.replace_null_with_default);
                    added.push(header(h, Some(&field.schema), v));
                }
                if self.moving {
                    let mut updated = Schema::struct_like(schema);
                    let mut values = Vec::new();
                    for f in schema
                        .fields
                        .iter()
                        .filter(|f| !self.fields.contains(&f.name))
                    {
                        updated.push_field(&f.name, f.schema.clone())?;
                        let v = field_value(members, f, self.replace_null_with_default);
                        values.push((f.name.clone(), v.clone()));
                    }
                    Data::with_schema(updated, Value::Struct(values))
                } else {
                    data.clone()
                }
            }
        };
        record.headers.extend(added);
        if self.moving || data.schema.is_none() {
            record = write(record, self.side, &out)?;
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::testing::{cfg, record};

    fn inserted(literal: &str) -> Option<Vec<u8>> {
        let s = parse(
            &InsertHeader::definition(),
            &cfg(&[("header", "x"), ("value.literal", literal)]),
        )
        .unwrap();
        let r = InsertHeader::configure(Side::Value, &s)
            .unwrap()
            .apply(record(None, None))
            .unwrap()
            .unwrap();
        r.headers.into_iter().find(|h| h.key == "x").unwrap().value
    }

    #[test]
    fn insert_header_normalises_arrays_and_maps_as_kafka() {
        assert_eq!(inserted("[1, 2]").as_deref(), Some(&b"[1,2]"[..]));
        assert_eq!(
            inserted(r#"{ "k" : "v" }"#).as_deref(),
            Some(&br#"{"k":"v"}"#[..])
        );
        assert_eq!(inserted("[a, b]").as_deref(), Some(&b"[a, b]"[..]));
        assert_eq!(inserted("null"), None);
    }
}
