//! # kafka-transforms: Kafka Connect's built-in Single Message Transforms
//!
//! The logic of `org.apache.kafka.connect.transforms.*` (Kafka 4.3.1):
//! same class names, configuration keys, validation messages, outputs and
//! exception messages. Records arrive as the SDK's `TransformRecord`; a
//! transform [`decode`](data::decode)s the key or value it works on into
//! Connect data (schema + value, [`schema`], [`value`]), changes it as
//! Kafka's Java does, and [`encode`](data::encode)s it back.
//!
//! Each transform implements [`KafkaTransform`]; [`Smt`] turns one into a
//! plugin for one class, and each crate under `classes/` exports one class
//! with [`export_class!`]. Everything here runs on the host:
//! `cargo test --target x86_64-unknown-linux-gnu -p kafka-transforms`.

pub mod config;
pub mod data;
pub mod json;
pub mod literal;
pub mod plugin;
pub mod schema;
pub mod strings;
pub mod value;

mod cast;
mod dates;
mod extract;
mod fields;
mod flatten;
mod headers;
mod path;
mod routers;
mod timestamps;

pub use cast::Cast;
pub use extract::{ExtractField, HoistField, SetSchemaMetadata};
pub use fields::{InsertField, MaskField, ReplaceField, ValueToKey};
pub use flatten::Flatten;
pub use headers::{DropHeaders, Filter, HeaderFrom, InsertHeader};
pub use plugin::{KafkaTransform, KeyVariant, NoVariant, Side, Smt, ValueVariant, Variant};
pub use routers::{RegexRouter, TimestampRouter};
pub use timestamps::TimestampConverter;

use wasmconnect_sdk::{Payload, TransformRecord};

use crate::data::Data;
use crate::schema::{Field, Schema};
use crate::value::{Value, java_class};

/// The key or value a variant works on.
pub(crate) fn operating(record: &TransformRecord, side: Side) -> Option<&Payload> {
    match side {
        Side::Key => record.key.as_ref(),
        Side::Value => record.value.as_ref(),
    }
}

/// Decodes the operating key or value.
pub(crate) fn read(record: &TransformRecord, side: Side) -> Result<Data, String> {
    data::decode(operating(record, side))
}

/// Replaces the operating key or value with `data`.
pub(crate) fn write(
    mut record: TransformRecord,
    side: Side,
    data: &Data,
) -> Result<TransformRecord, String> {
    let payload = data::encode(data)?;
    match side {
        Side::Key => record.key = payload,
        Side::Value => record.value = payload,
    }
    Ok(record)
}

/// `Requirements.requireStruct`: the struct's members, or Kafka's message.
pub(crate) fn require_struct<'a>(
    schema: Option<&Schema>,
    value: &'a Value,
    purpose: &str,
) -> Result<&'a Vec<(String, Value)>, String> {
    match value {
        Value::Struct(members) => Ok(members),
        other => Err(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(schema, other)
        )),
    }
}

/// `Requirements.requireMap`: the map's entries, or Kafka's message.
pub(crate) fn require_map<'a>(
    value: &'a Value,
    purpose: &str,
) -> Result<&'a Vec<(Value, Value)>, String> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(None, other)
        )),
    }
}

/// `Struct.put`'s check of one value against its field's schema.
pub(crate) fn check_put(field: &str, schema: &Schema, value: &Value) -> Result<(), String> {
    if value.is_null() && !schema.optional && schema.default.is_none() {
        return Err(format!(
            "Invalid value: null used for required field: \"{field}\", schema type: {}",
            schema.ty.java_name()
        ));
    }
    Ok(())
}

/// The value of struct field `field`, as Kafka's transforms read it:
/// `Struct.get` when `with_default` (a null takes the field schema's
/// default), `Struct.getWithoutDefault` otherwise (a null stays null).
/// Decoding keeps a null field null, so this is the one place a default
/// replaces it, as in Kafka, where only `get` substitutes.
pub(crate) fn field_value<'a>(
    members: &'a [(String, Value)],
    field: &'a Field,
    with_default: bool,
) -> &'a Value {
    let v = member(members, &field.name);
    match (&field.schema.default, with_default) {
        (Some(d), true) if v.is_null() => d,
        _ => v,
    }
}

/// The value of struct member `name` (null when absent).
pub(crate) fn member<'a>(members: &'a [(String, Value)], name: &str) -> &'a Value {
    members
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null)
}

#[cfg(test)]
mod null_default_tests;

#[cfg(test)]
pub(crate) mod testing {
    //! Builders for records and payloads in the transforms' tests.
    use wasmconnect_sdk::{Header, JsonPayload, Payload, TransformRecord};

    /// The header text a literal becomes: `Values.parseString`, then
    /// `Values.convertToString`, as InsertHeader's `value.literal` does.
    pub fn header(text: &str) -> Option<String> {
        let (s, v) = crate::literal::parse_string(text);
        crate::strings::convert_to_string(s.as_ref(), &v)
    }

    pub fn json(doc: &str, schema: Option<&str>) -> Option<Payload> {
        Some(Payload::Json(JsonPayload {
            document: doc.to_string(),
            schema: schema.map(str::to_string),
        }))
    }

    pub fn record(key: Option<Payload>, value: Option<Payload>) -> TransformRecord {
        TransformRecord {
            topic: "orders".into(),
            partition: Some(3),
            key,
            value,
            headers: vec![Header::new("h", "v")],
            timestamp: Some(1_700_000_000_123),
        }
    }

    /// `(document, schema)` of a JSON payload, `("text:…")` of text.
    pub fn shown(p: &Option<Payload>) -> (String, Option<String>) {
        match p {
            None => ("<null>".into(), None),
            Some(Payload::Json(j)) => (j.document.clone(), j.schema.clone()),
            Some(Payload::Text(t)) => (format!("text:{t}"), None),
            Some(Payload::Binary(b)) => (format!("binary:{b:?}"), None),
        }
    }

    pub fn cfg(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
