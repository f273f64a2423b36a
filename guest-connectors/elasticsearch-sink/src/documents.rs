//! From a sink record to what Elasticsearch stores: the index a topic
//! writes to, the document id, the document itself, and the index mapping
//! a Connect schema implies (Confluent's `Mapping`). Pure functions.

use serde_json::{Map, Value as Json, json};
use wasmconnect_sdk::Payload;

/// The index for `topic`, as Confluent names it: lowercase, at most 255
/// bytes, without a leading `-`, `_` or `+`, and not `.` or `..`.
pub fn index_name(topic: &str) -> String {
    let mut name = topic.to_lowercase();
    while name.starts_with(['-', '_', '+']) {
        name.remove(0);
    }
    if name == "." || name == ".." {
        name = name.replace('.', "dot");
    }
    let mut end = name.len().min(255);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    name
}

/// The id a record's document gets when keys are ignored: retried and
/// replayed records overwrite themselves instead of adding copies.
pub fn generated_id(topic: &str, partition: i32, offset: i64) -> String {
    format!("{topic}+{partition}+{offset}")
}

/// The document id a record key gives: a string, or a number or boolean
/// written as text. `Err` says why the key cannot be an id.
pub fn key_id(key: Option<&Payload>) -> Result<String, String> {
    match key {
        None => Err("Key is used as document id and can not be null.".into()),
        Some(Payload::Text(t)) => Ok(t.clone()),
        Some(Payload::Binary(b)) => String::from_utf8(b.clone())
            .map_err(|_| "Key is used as document id and is not UTF-8 text.".to_string()),
        Some(Payload::Json(j)) => match serde_json::from_str::<Json>(&j.document) {
            Ok(Json::String(s)) => Ok(s),
            Ok(Json::Number(n)) => Ok(n.to_string()),
            Ok(Json::Bool(b)) => Ok(b.to_string()),
            Ok(Json::Null) => Err("Key is used as document id and can not be null.".into()),
            Ok(_) => Err(
                "Key is used as document id and must be a string, number or boolean, not a struct, map or array (set key.ignore=true to use topic+partition+offset)"
                    .into(),
            ),
            Err(e) => Err(format!("Key is not valid JSON: {e}")),
        },
    }
}

/// The document a record value gives, as one line of JSON (a `_bulk` body
/// is one JSON document a line), and its Connect schema when it has one
/// and schemas are not ignored. Text and bytes values must hold a JSON
/// object, as in Confluent's connector; `Err` says why the value cannot
/// be a document.
pub fn document(value: &Payload, ignore_schema: bool) -> Result<(String, Option<Json>), String> {
    let (text, schema) = match value {
        Payload::Text(t) => (t.as_str(), None),
        Payload::Binary(b) => (
            std::str::from_utf8(b).map_err(|_| "The value is not UTF-8 JSON text".to_string())?,
            None,
        ),
        Payload::Json(j) => (j.document.as_str(), j.schema.as_deref()),
    };
    let doc: Json =
        serde_json::from_str(text).map_err(|e| format!("The value is not a JSON document: {e}"))?;
    if !doc.is_object() {
        return Err(format!(
            "The value must be a JSON object (a Struct or a map) to be a document, not {}",
            kind(&doc)
        ));
    }
    let schema = match schema {
        Some(s) if !ignore_schema => Some(
            serde_json::from_str(s).map_err(|e| format!("The value schema is not JSON: {e}"))?,
        ),
        _ => None,
    };
    Ok((doc.to_string(), schema))
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The mapping a Struct schema implies, as `PUT /<index>/_mapping` takes
/// it; `None` for a schema that is not a Struct.
pub fn mapping(schema: &Json) -> Option<Json> {
    (schema.get("type")?.as_str()? == "struct").then(|| field_mapping(schema))
}

fn field_mapping(schema: &Json) -> Json {
    match schema.get("name").and_then(Json::as_str) {
        Some(
            "org.apache.kafka.connect.data.Date"
            | "org.apache.kafka.connect.data.Time"
            | "org.apache.kafka.connect.data.Timestamp",
        ) => return json!({"type": "date"}),
        Some("org.apache.kafka.connect.data.Decimal") => return json!({"type": "double"}),
        _ => {}
    }
    let ty = schema.get("type").and_then(Json::as_str).unwrap_or("");
    match ty {
        "int8" => json!({"type": "byte"}),
        "int16" => json!({"type": "short"}),
        "int32" => json!({"type": "integer"}),
        "int64" => json!({"type": "long"}),
        "float32" => json!({"type": "float"}),
        "float64" => json!({"type": "double"}),
        "boolean" => json!({"type": "boolean"}),
        "bytes" => json!({"type": "binary"}),
        "string" => json!({
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}
        }),
        "array" => schema
            .get("items")
            .map_or(json!({"type": "object"}), field_mapping),
        "struct" => {
            let mut properties = Map::new();
            for field in schema
                .get("fields")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = field.get("field").and_then(Json::as_str) {
                    properties.insert(name.to_string(), field_mapping(field));
                }
            }
            json!({"properties": properties})
        }
        // Maps keep the keys the data brings.
        _ => json!({"type": "object"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmconnect_sdk::JsonPayload;

    fn json(doc: &str, schema: Option<&str>) -> Payload {
        Payload::Json(JsonPayload {
            document: doc.into(),
            schema: schema.map(str::to_string),
        })
    }

    #[test]
    fn index_names_follow_confluent() {
        assert_eq!(index_name("Orders"), "orders");
        assert_eq!(index_name("_-private"), "private");
        assert_eq!(index_name(".."), "dotdot");
        assert_eq!(index_name(&"é".repeat(200)).len(), 254);
    }

    #[test]
    fn keys_become_ids_or_say_why_not() {
        assert_eq!(key_id(Some(&Payload::Text("k1".into()))), Ok("k1".into()));
        assert_eq!(key_id(Some(&json("42", None))), Ok("42".into()));
        assert_eq!(key_id(Some(&json("\"a b\"", None))), Ok("a b".into()));
        assert!(key_id(None).unwrap_err().contains("can not be null"));
        assert!(
            key_id(Some(&json("{\"id\":1}", None)))
                .unwrap_err()
                .contains("key.ignore=true")
        );
        assert_eq!(generated_id("t", 0, 7), "t+0+7");
    }

    #[test]
    fn documents_are_one_line_objects() {
        let (doc, schema) = document(&Payload::Text("{\n \"a\": 1\n}".into()), false).unwrap();
        assert_eq!((doc.as_str(), schema), ("{\"a\":1}", None));
        let s = r#"{"type":"struct","fields":[{"field":"a","type":"int32"}]}"#;
        let (_, schema) = document(&json("{\"a\":1}", Some(s)), false).unwrap();
        assert!(schema.is_some());
        let (_, ignored) = document(&json("{\"a\":1}", Some(s)), true).unwrap();
        assert!(ignored.is_none());
        assert_eq!(
            document(&Payload::Text("[1]".into()), true).unwrap_err(),
            "The value must be a JSON object (a Struct or a map) to be a document, not an array"
        );
        assert!(
            document(&Payload::Text("{oops".into()), true)
                .unwrap_err()
                .starts_with("The value is not a JSON document")
        );
    }

    #[test]
    fn mappings_follow_the_schema() {
        let schema: Json = serde_json::from_str(
            r#"{"type":"struct","fields":[
            {"field":"id","type":"int64"},
            {"field":"name","type":"string","optional":true},
            {"field":"at","type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},
            {"field":"tags","type":"array","items":{"type":"string"}},
            {"field":"inner","type":"struct","fields":[{"field":"ok","type":"boolean"}]}
        ]}"#,
        )
        .unwrap();
        let m = mapping(&schema).unwrap();
        assert_eq!(m["properties"]["id"], json!({"type": "long"}));
        assert_eq!(m["properties"]["name"]["type"], "text");
        assert_eq!(m["properties"]["at"], json!({"type": "date"}));
        assert_eq!(m["properties"]["tags"]["type"], "text");
        assert_eq!(
            m["properties"]["inner"]["properties"]["ok"],
            json!({"type": "boolean"})
        );
        assert_eq!(mapping(&json!({"type": "string"})), None);
    }
}
