//! Converters: between the payloads plugins see and the bytes in Kafka
//! (Kafka Connect's `key.converter` / `value.converter`).
//!
//! | converter | source payload → bytes | bytes → sink payload |
//! |---|---|---|
//! | `JsonConverter`, `schemas.enable=true` (default) | envelope `{"schema":…,"payload":…}` | `json` with the envelope's schema |
//! | `JsonConverter`, `schemas.enable=false` | the JSON value | `json` without schema |
//! | `StringConverter` | UTF-8 text | `text` |
//! | `ByteArrayConverter` | raw bytes | `binary` |
//!
//! A `text` payload is a Connect STRING (required), a `binary` payload a
//! Connect BYTES (required); a `json` payload carries its own schema.
//! Classes resolve by full name, simple name, or simple name without
//! `Converter`, as in Kafka.
//!
//! `JsonConverter`'s `replace.null.with.default` (default `true`) writes a
//! null whose schema has a default as that default, both ways (see
//! `defaults.rs`). Only documents whose schema text mentions `"default"` are
//! parsed for it; every other record passes through as before.

mod defaults;

use base64::Engine as _;
use serde::de::IgnoredAny;

use crate::bindings::types::{JsonPayload, Payload};

const STRING_SCHEMA: &str = r#"{"type":"string","optional":false}"#;
const BYTES_SCHEMA: &str = r#"{"type":"bytes","optional":false}"#;

/// A configured converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converter {
    /// `org.apache.kafka.connect.json.JsonConverter`.
    Json {
        /// `schemas.enable`.
        schemas: bool,
        /// `replace.null.with.default`.
        replace_null_with_default: bool,
    },
    /// `org.apache.kafka.connect.storage.StringConverter`.
    String,
    /// `org.apache.kafka.connect.converters.ByteArrayConverter`.
    ByteArray,
}

/// Full class names of the converters, as listed by the REST API.
pub const CONVERTER_CLASSES: [&str; 3] = [
    "org.apache.kafka.connect.json.JsonConverter",
    "org.apache.kafka.connect.storage.StringConverter",
    "org.apache.kafka.connect.converters.ByteArrayConverter",
];

impl Converter {
    /// The converter's Kafka class name.
    pub fn class(&self) -> &'static str {
        match self {
            Converter::Json { .. } => CONVERTER_CLASSES[0],
            Converter::String => CONVERTER_CLASSES[1],
            Converter::ByteArray => CONVERTER_CLASSES[2],
        }
    }

    /// `JsonConverter` with `schemas.enable` = `schemas` and Kafka's
    /// defaults otherwise.
    pub const fn json(schemas: bool) -> Converter {
        Converter::Json {
            schemas,
            replace_null_with_default: true,
        }
    }

    /// Builds the converter named `class` with its (prefix-stripped)
    /// settings, looked up through `setting`.
    pub fn from_class(
        class: &str,
        setting: impl Fn(&str) -> Option<String>,
    ) -> Result<Converter, String> {
        let simple = class.trim().rsplit('.').next().unwrap_or_default();
        let base = simple.strip_suffix("Converter").unwrap_or(simple);
        match base {
            "Json" => {
                let flag = |name: &str| {
                    match setting(name) {
                    None => Ok(true),
                    Some(v) => parse_bool(&v).ok_or_else(|| {
                        format!("Invalid value {v} for configuration {name}: Expected value to be either true or false")
                    }),
                }
                };
                Ok(Converter::Json {
                    schemas: flag("schemas.enable")?,
                    replace_null_with_default: flag("replace.null.with.default")?,
                })
            }
            "String" => Ok(Converter::String),
            "ByteArray" => Ok(Converter::ByteArray),
            _ => Err(format!(
                "Failed to find any class that implements Converter and which name matches {class}, available converters are: {}",
                CONVERTER_CLASSES.join(", ")
            )),
        }
    }

    /// Serialises a source payload (Kafka's `fromConnectData`); `None` is a
    /// null key or value.
    pub fn from_payload(&self, payload: Option<&Payload>) -> Result<Option<Vec<u8>>, String> {
        let Some(payload) = payload else {
            return Ok(None);
        };
        let bytes = match (self, payload) {
            (Converter::Json { schemas, .. }, Payload::Text(text)) => {
                envelope(*schemas, Some(STRING_SCHEMA), &json_string(text)).into_bytes()
            }
            (Converter::Json { schemas, .. }, Payload::Binary(bytes)) => {
                let b64 = json_string(&base64::engine::general_purpose::STANDARD.encode(bytes));
                envelope(*schemas, Some(BYTES_SCHEMA), &b64).into_bytes()
            }
            (
                Converter::Json {
                    schemas,
                    replace_null_with_default,
                },
                Payload::Json(json),
            ) => {
                check_json(&json.document, "value")?;
                if let Some(schema) = &json.schema {
                    check_json(schema, "schema")?;
                }
                // Kafka's convertToJson applies defaults from the record's
                // schema whether or not the envelope carries it, so this
                // does not depend on `schemas`.
                let filled = match &json.schema {
                    Some(schema) if *replace_null_with_default && mentions_default(schema) => {
                        defaults::fill(&json.document, schema)?
                    }
                    _ => None,
                };
                let document = filled.as_deref().unwrap_or(&json.document);
                envelope(*schemas, json.schema.as_deref(), document).into_bytes()
            }
            (Converter::String, Payload::Text(text)) => text.as_bytes().to_vec(),
            (Converter::String, Payload::Binary(bytes)) => {
                String::from_utf8_lossy(bytes).into_owned().into_bytes()
            }
            (Converter::String, Payload::Json(json)) => match serde_json::from_str::<
                serde_json::Value,
            >(&json.document)
            {
                Ok(serde_json::Value::String(s)) => s.into_bytes(),
                Ok(_) => json.document.clone().into_bytes(),
                Err(e) => return Err(format!("the record's JSON value is not valid JSON: {e}")),
            },
            (Converter::ByteArray, Payload::Binary(bytes)) => bytes.clone(),
            (Converter::ByteArray, Payload::Text(text)) => text.as_bytes().to_vec(),
            (Converter::ByteArray, Payload::Json(json)) => json.document.clone().into_bytes(),
        };
        Ok(Some(bytes))
    }

    /// As [`Converter::from_payload`], moving the bytes out of `payload`
    /// where the conversion is the identity (raw bytes, text as UTF-8).
    pub fn from_owned_payload(&self, payload: Option<Payload>) -> Result<Option<Vec<u8>>, String> {
        match (self, payload) {
            (_, None) => Ok(None),
            (Converter::ByteArray, Some(Payload::Binary(bytes))) => Ok(Some(bytes)),
            (Converter::ByteArray | Converter::String, Some(Payload::Text(text))) => {
                Ok(Some(text.into_bytes()))
            }
            (_, Some(other)) => self.from_payload(Some(&other)),
        }
    }

    /// Deserialises Kafka bytes for a sink (Kafka's `toConnectData`).
    pub fn to_payload(&self, bytes: Option<&[u8]>) -> Result<Option<Payload>, String> {
        let Some(bytes) = bytes else { return Ok(None) };
        match self {
            Converter::String => Ok(Some(Payload::Text(
                String::from_utf8_lossy(bytes).into_owned(),
            ))),
            Converter::ByteArray => Ok(Some(Payload::Binary(bytes.to_vec()))),
            Converter::Json { schemas: false, .. } => {
                let text = std::str::from_utf8(bytes).map_err(|e| deserialize_error(&e))?;
                serde_json::from_str::<IgnoredAny>(text).map_err(|e| deserialize_error(&e))?;
                Ok(Some(Payload::Json(JsonPayload {
                    document: text.to_string(),
                    schema: None,
                })))
            }
            Converter::Json {
                schemas: true,
                replace_null_with_default,
            } => {
                let value: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(|e| deserialize_error(&e))?;
                let serde_json::Value::Object(mut map) = value else {
                    return Err(ENVELOPE_REQUIRED.into());
                };
                if map.len() != 2 || !map.contains_key("schema") || !map.contains_key("payload") {
                    return Err(ENVELOPE_REQUIRED.into());
                }
                let payload = map.remove("payload").unwrap_or_default();
                let schema = map
                    .remove("schema")
                    .filter(|s| !s.is_null())
                    .map(|s| s.to_string());
                let mut document = payload.to_string();
                // Kafka's convertToConnect; the texts are serde_json's own.
                if let Some(schema) = &schema
                    && *replace_null_with_default
                    && mentions_default(schema)
                    && let Some(filled) =
                        defaults::fill(&document, schema).map_err(|e| deserialize_error(&e))?
                {
                    document = filled;
                }
                Ok(Some(Payload::Json(JsonPayload { document, schema })))
            }
        }
    }
}

const ENVELOPE_REQUIRED: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

fn deserialize_error(e: &dyn std::fmt::Display) -> String {
    format!("Converting byte[] to Kafka Connect data failed due to serialization error: {e}")
}

fn envelope(schemas: bool, schema: Option<&str>, payload: &str) -> String {
    if schemas {
        format!(
            "{{\"schema\":{},\"payload\":{payload}}}",
            schema.unwrap_or("null")
        )
    } else {
        payload.to_string()
    }
}

fn json_string(text: &str) -> String {
    // Serialising a &str cannot fail: it has no maps with non-string keys.
    serde_json::to_string(text).unwrap_or_default()
}

/// Whether a schema may carry a default: a cheap test that keeps ordinary
/// records off the walk. (A key spelt with escapes, `"d\u0065fault"`, is
/// missed; no Connect schema writer spells it so.)
fn mentions_default(schema: &str) -> bool {
    schema.contains("\"default\"")
}

fn check_json(text: &str, what: &str) -> Result<(), String> {
    serde_json::from_str::<IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| format!("the record's JSON {what} is not valid JSON: {e}"))
}

/// Java-style boolean parsing: `true`/`false`, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(class: &str, schemas: Option<&str>) -> Converter {
        Converter::from_class(class, |k| {
            (k == "schemas.enable")
                .then(|| schemas.map(str::to_string))
                .flatten()
        })
        .unwrap()
    }

    fn json(schemas: bool) -> Converter {
        Converter::json(schemas)
    }

    fn text(s: &str) -> Payload {
        Payload::Text(s.into())
    }

    #[test]
    fn classes_resolve_by_full_simple_and_short_name() {
        assert_eq!(
            conv("org.apache.kafka.connect.json.JsonConverter", None),
            json(true)
        );
        assert_eq!(conv("JsonConverter", Some("false")), json(false));
        assert_eq!(conv("Json", Some("TRUE")), json(true));
        assert_eq!(
            conv("org.apache.kafka.connect.storage.StringConverter", None),
            Converter::String
        );
        assert_eq!(conv("ByteArray", None), Converter::ByteArray);
        let err = Converter::from_class("com.example.AvroConverter", |_| None).unwrap_err();
        assert!(err.starts_with("Failed to find any class that implements Converter and which name matches com.example.AvroConverter"));
        let err = Converter::from_class("JsonConverter", |_| Some("yes".into())).unwrap_err();
        assert!(err.contains("schemas.enable"), "{err}");
    }

    #[test]
    fn json_with_schemas_writes_kafkas_exact_envelope() {
        let c = json(true);
        let out = c.from_payload(Some(&text("foo"))).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#
        );
        let out = c
            .from_payload(Some(&Payload::Binary(vec![1, 2, 255])))
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"AQL/"}"#
        );
        let json = Payload::Json(JsonPayload {
            document: r#"{"a":1}"#.into(),
            schema: None,
        });
        assert_eq!(
            c.from_payload(Some(&json)).unwrap().unwrap(),
            br#"{"schema":null,"payload":{"a":1}}"#
        );
        assert_eq!(c.from_payload(None).unwrap(), None);
        let bad = Payload::Json(JsonPayload {
            document: "{".into(),
            schema: None,
        });
        assert!(
            c.from_payload(Some(&bad))
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn json_without_schemas_and_string_and_bytes() {
        let c = json(false);
        assert_eq!(
            c.from_payload(Some(&text("foo"))).unwrap().unwrap(),
            br#""foo""#
        );
        assert_eq!(
            Converter::String
                .from_payload(Some(&text("foo ü")))
                .unwrap()
                .unwrap(),
            "foo ü".as_bytes()
        );
        let quoted = Payload::Json(JsonPayload {
            document: r#""s""#.into(),
            schema: None,
        });
        assert_eq!(
            Converter::String
                .from_payload(Some(&quoted))
                .unwrap()
                .unwrap(),
            b"s"
        );
        assert_eq!(
            Converter::ByteArray
                .from_payload(Some(&Payload::Binary(vec![0, 1])))
                .unwrap()
                .unwrap(),
            [0, 1]
        );
    }

    #[test]
    fn sink_side_decodes_each_format() {
        let c = json(true);
        let got = c
            .to_payload(Some(
                br#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#,
            ))
            .unwrap();
        assert_eq!(
            got,
            Some(Payload::Json(JsonPayload {
                document: r#""foo""#.into(),
                schema: Some(r#"{"optional":false,"type":"string"}"#.into()),
            }))
        );
        let err = c.to_payload(Some(br#"{"some_key":0}"#)).unwrap_err();
        assert!(err.starts_with(
            "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields"
        ));
        let plain = json(false);
        assert_eq!(
            plain.to_payload(Some(br#"{"some_key":0}"#)).unwrap(),
            Some(Payload::Json(JsonPayload {
                document: r#"{"some_key":0}"#.into(),
                schema: None
            }))
        );
        assert!(
            plain
                .to_payload(Some(br#"{"some_key:1}"#))
                .unwrap_err()
                .starts_with("Converting byte[] to Kafka Connect data failed")
        );
        assert_eq!(
            Converter::String.to_payload(Some(b"x")).unwrap(),
            Some(text("x"))
        );
        assert_eq!(Converter::ByteArray.to_payload(None).unwrap(), None);
    }

    /// A struct with a defaulted field, an optional field without default,
    /// and a nested array of defaulted elements.
    const SCHEMA: &str = r#"{"type":"struct","optional":true,"default":{"n":9,"s":null,"l":[]},"fields":[{"field":"n","type":"int32","optional":true,"default":5},{"field":"s","type":"string","optional":true},{"field":"l","type":"array","items":{"type":"double","optional":true,"default":1.0},"optional":true}]}"#;

    fn record(document: &str) -> Payload {
        Payload::Json(JsonPayload {
            document: document.into(),
            schema: Some(SCHEMA.into()),
        })
    }

    fn written(c: Converter, document: &str) -> String {
        let bytes = c.from_payload(Some(&record(document))).unwrap().unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn read(c: Converter, payload: &str) -> String {
        let bytes = format!(r#"{{"schema":{SCHEMA},"payload":{payload}}}"#);
        match c.to_payload(Some(bytes.as_bytes())).unwrap() {
            Some(Payload::Json(json)) => json.document,
            other => panic!("{other:?}"),
        }
    }

    fn keep_nulls(schemas: bool) -> Converter {
        Converter::Json {
            schemas,
            replace_null_with_default: false,
        }
    }

    #[test]
    fn replace_null_with_default_is_configured_like_schemas_enable() {
        let with = |v: &'static str| {
            Converter::from_class("JsonConverter", move |k| {
                (k == "replace.null.with.default").then(|| v.to_string())
            })
        };
        assert_eq!(with("FALSE"), Ok(keep_nulls(true)));
        assert_eq!(with(" true "), Ok(json(true)));
        assert_eq!(
            with("no"),
            Err("Invalid value no for configuration replace.null.with.default: Expected value to be either true or false".into())
        );
        assert_eq!(Converter::from_class("Json", |_| None), Ok(json(true)));
    }

    #[test]
    fn source_side_writes_defaults_for_nulls() {
        let body = r#"{"n":9,"s":"a","l":[1.0]}"#;
        assert_eq!(
            written(json(true), r#"{"n":null,"s":null,"l":[null, 2.5e0]}"#),
            format!(r#"{{"schema":{SCHEMA},"payload":{{"n":5,"s":null,"l":[1.0, 2.5e0]}}}}"#)
        );
        // A null value with a schema is no tombstone: Kafka writes the
        // schema's default, with or without the envelope.
        assert_eq!(
            written(json(true), "null"),
            format!(r#"{{"schema":{SCHEMA},"payload":{{"n":9,"s":null,"l":[]}}}}"#)
        );
        assert_eq!(written(json(false), "null"), r#"{"n":9,"s":null,"l":[]}"#);
        assert_eq!(written(json(false), r#"{"s":"a"}"#), r#"{"s":"a","n":5}"#);
        assert_eq!(written(json(false), body), body);
        // A record without value (no schema either) stays a tombstone.
        assert_eq!(json(true).from_payload(None).unwrap(), None);
        assert_eq!(json(true).from_owned_payload(None).unwrap(), None);
        let owned = json(false)
            .from_owned_payload(Some(record(r#"{"n":null}"#)))
            .unwrap()
            .unwrap();
        assert_eq!(owned, br#"{"n":5}"#);
    }

    #[test]
    fn source_side_keeps_nulls_when_disabled() {
        let doc = r#"{"n":null,"s":null,"l":[null]}"#;
        assert_eq!(
            written(keep_nulls(true), doc),
            format!(r#"{{"schema":{SCHEMA},"payload":{doc}}}"#)
        );
        assert_eq!(written(keep_nulls(false), "null"), "null");
    }

    #[test]
    fn sink_side_reads_defaults_for_nulls() {
        assert_eq!(
            read(json(true), r#"{"n":null,"s":null,"l":[null,2.5]}"#),
            r#"{"l":[1.0,2.5],"n":5,"s":null}"#
        );
        assert_eq!(read(json(true), "null"), r#"{"l":[],"n":9,"s":null}"#);
        assert_eq!(read(json(true), r#"{"l":null}"#), r#"{"l":null,"n":5}"#);
        assert_eq!(
            read(keep_nulls(true), r#"{"n":null,"l":[null]}"#),
            r#"{"l":[null],"n":null}"#
        );
        assert_eq!(read(keep_nulls(true), "null"), "null");
        // A tombstone stays one.
        assert_eq!(json(true).to_payload(None).unwrap(), None);
    }

    #[test]
    fn records_without_defaults_pass_through_untouched() {
        let schema =
            r#"{"type":"struct","fields":[{"field":"x","type":"double","optional":true}]}"#;
        let document = r#"{ "x" : null, "y": 1.50e2 }"#;
        let payload = Payload::Json(JsonPayload {
            document: document.into(),
            schema: Some(schema.into()),
        });
        assert_eq!(
            json(true).from_payload(Some(&payload)).unwrap().unwrap(),
            format!(r#"{{"schema":{schema},"payload":{document}}}"#).as_bytes()
        );
        assert_eq!(
            json(false).from_payload(Some(&payload)).unwrap().unwrap(),
            document.as_bytes()
        );
        // Schemaless JSON has no defaults.
        let plain = Payload::Json(JsonPayload {
            document: "null".into(),
            schema: None,
        });
        assert_eq!(
            json(false).from_payload(Some(&plain)).unwrap().unwrap(),
            b"null"
        );
        assert_eq!(
            json(false).to_payload(Some(b"null")).unwrap(),
            Some(Payload::Json(JsonPayload {
                document: "null".into(),
                schema: None
            }))
        );
    }

    #[test]
    fn malformed_records_are_refused_with_a_message() {
        let bad = Payload::Json(JsonPayload {
            document: r#"{"n":nul}"#.into(),
            schema: Some(SCHEMA.into()),
        });
        let err = json(true).from_payload(Some(&bad)).unwrap_err();
        assert!(
            err.starts_with("the record's JSON value is not valid JSON"),
            "{err}"
        );
        let bad_schema = Payload::Json(JsonPayload {
            document: "null".into(),
            schema: Some(r#"{"default":1"#.into()),
        });
        let err = json(true).from_payload(Some(&bad_schema)).unwrap_err();
        assert!(
            err.starts_with("the record's JSON schema is not valid JSON"),
            "{err}"
        );
        let err = json(true)
            .to_payload(Some(
                br#"{"schema":{"type":"int8","default":1},"payload":nul}"#,
            ))
            .unwrap_err();
        assert!(
            err.starts_with("Converting byte[] to Kafka Connect data failed"),
            "{err}"
        );
        // Defaults nested so that filling them would grow exponentially.
        let mut schema = r#"{"type":"string","default":"0123456789"}"#.to_string();
        for _ in 0..8 {
            let nulls = vec!["null"; 16].join(",");
            schema = format!(r#"{{"type":"array","items":{schema},"default":[{nulls}]}}"#);
        }
        let bytes = format!(r#"{{"schema":{schema},"payload":null}}"#);
        let err = json(true).to_payload(Some(bytes.as_bytes())).unwrap_err();
        assert!(err.contains("would add more than"), "{err}");
    }
}
