//! A record's key or value as Connect data: [`decode`] turns a payload into
//! a schema and value the way Kafka's converters hand them to a transform
//! (text is an optional STRING, binary optional BYTES, JSON with a schema
//! schema-ful, JSON without one schemaless) and [`encode`] turns the
//! result back into a payload of the same form where it still fits.

use wasmconnect_sdk::{JsonPayload, Payload};

use crate::json;
use crate::schema::{Schema, Type};
use crate::value::{self, Value};

/// The payload form data came in, so a string stays text and bytes stay binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    Text,
    Binary,
}

/// A key or value: its schema (`None`: schemaless) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    pub schema: Option<Schema>,
    pub value: Value,
    pub form: Form,
}

impl Data {
    /// Schemaless data.
    pub fn schemaless(value: Value) -> Data {
        Data {
            schema: None,
            value,
            form: Form::Json,
        }
    }

    /// Data with a schema.
    pub fn with_schema(schema: Schema, value: Value) -> Data {
        Data {
            schema: Some(schema),
            value,
            form: Form::Json,
        }
    }
}

/// Reads a payload (`None`, a null key or value, is schemaless null).
pub fn decode(payload: Option<&Payload>) -> Result<Data, String> {
    Ok(match payload {
        None => Data::schemaless(Value::Null),
        Some(Payload::Text(t)) => Data {
            schema: Some(Schema::optional_string()),
            value: Value::Str(t.clone()),
            form: Form::Text,
        },
        Some(Payload::Binary(b)) => Data {
            schema: Some(Schema::of(Type::Bytes).optional(true)),
            value: Value::Bytes(b.clone()),
            form: Form::Binary,
        },
        Some(Payload::Json(JsonPayload { document, schema })) => {
            let doc = json::parse(document)
                .map_err(|e| format!("The record's JSON document is not valid JSON: {e}"))?;
            match schema {
                None => Data::schemaless(value::from_json_schemaless(&doc)),
                Some(s) => {
                    let s = json::parse(s)
                        .map_err(|e| format!("The record's schema is not valid JSON: {e}"))?;
                    let schema = Schema::from_json(&s)?;
                    // A null value with a schema reaches Kafka's transforms
                    // as just that (a source connector may emit it), even
                    // under a required schema: each transform then treats
                    // null as Kafka's does (most pass the record through).
                    // Only a required schema's default replaces it, as
                    // JsonConverter would (an optional one keeps the null,
                    // see `value::from_json`).
                    let value = match (&doc, &schema.default) {
                        (json::Json::Null, None) => Value::Null,
                        _ => value::from_json(&schema, &doc)?,
                    };
                    Data::with_schema(schema, value)
                }
            }
        }
    })
}

/// Writes data back as a payload.
pub fn encode(data: &Data) -> Result<Option<Payload>, String> {
    match (&data.schema, &data.value) {
        (None, Value::Null) => Ok(None),
        (Some(_), Value::Null) if data.form != Form::Json => Ok(None),
        (Some(s), Value::Str(t))
            if data.form == Form::Text && s.ty == Type::String && s.name.is_none() =>
        {
            Ok(Some(Payload::Text(t.clone())))
        }
        (Some(s), Value::Bytes(b))
            if data.form == Form::Binary && s.ty == Type::Bytes && s.name.is_none() =>
        {
            Ok(Some(Payload::Binary(b.clone())))
        }
        (None, v) => Ok(Some(Payload::Json(JsonPayload {
            document: value::to_json_schemaless(v)?.to_text(),
            schema: None,
        }))),
        (Some(s), v) => Ok(Some(Payload::Json(JsonPayload {
            document: value::to_json(s, v)?.to_text(),
            schema: Some(s.to_json()?.to_text()),
        }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_text_and_json_round_trips() {
        let d = decode(Some(&Payload::Text("hi".into()))).unwrap();
        assert_eq!(d.schema, Some(Schema::optional_string()));
        assert_eq!(
            format!("{:?}", encode(&d).unwrap()),
            format!("{:?}", Some(Payload::Text("hi".into())))
        );
        let p = Payload::Json(JsonPayload {
            document: r#"{"a":1}"#.into(),
            schema: Some(r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"a"}],"optional":false}"#.into()),
        });
        let back = encode(&decode(Some(&p)).unwrap()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{:?}", Some(p)));
        assert!(encode(&decode(None).unwrap()).unwrap().is_none());
    }

    #[test]
    fn a_null_value_keeps_its_schema() {
        let s = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"a"}],"optional":false}"#;
        let p = Payload::Json(JsonPayload {
            document: "null".into(),
            schema: Some(s.into()),
        });
        let d = decode(Some(&p)).unwrap();
        assert!(d.value.is_null());
        assert_eq!(d.schema.map(|s| s.ty), Some(Type::Struct));
    }
}
