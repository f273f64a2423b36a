//! Connect data values and their JsonConverter form. With a schema, a
//! document is read by [`from_json`] (JsonConverter's `convertToConnect`:
//! bytes are base64, a map with non-string keys is an array of pairs; a
//! null stays null where the schema is optional, even with a default,
//! see [`crate::field_value`]) and written by [`to_json`];
//! without one, [`from_json_schemaless`] / [`to_json_schemaless`] apply
//! (integers are INT64, other numbers FLOAT64, objects maps). Logical
//! types stay in their encoded form (Timestamp an INT64 of epoch
//! milliseconds, Decimal the unscaled bytes) and the schema's name says
//! what they are. [`java_class`] names the Java class Kafka would hold.

use base64::Engine;

use crate::json::{Json, java_double, java_float};
use crate::schema::{self, Schema, Type};

/// A Connect value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// A map; entries in document order.
    Map(Vec<(Value, Value)>),
    /// A struct's values, by field name in schema order.
    Struct(Vec<(String, Value)>),
    /// A `java.util.Date` (epoch milliseconds) without a schema: what
    /// TimestampConverter produces for schemaless data.
    Date(i64),
    /// A Decimal written as a JSON number (`decimal.format=NUMERIC`), kept as written.
    DecimalText(String),
}

impl Value {
    /// Whether this is a null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A map or struct member by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets a map member (`Map.put`: replaces in place or appends).
    pub fn map_put(entries: &mut Vec<(Value, Value)>, name: &str, value: Value) {
        match entries
            .iter_mut()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == name))
        {
            Some(slot) => slot.1 = value,
            None => entries.push((Value::Str(name.to_string()), value)),
        }
    }
}

/// The class `getClass().getName()` gives for this value in Kafka
/// (`schema` tells logical types apart).
pub fn java_class(schema: Option<&Schema>, value: &Value) -> &'static str {
    if let Some(s) = schema {
        if s.is(schema::DECIMAL) {
            return "java.math.BigDecimal";
        }
        if s.is(schema::DATE) || s.is(schema::TIME) || s.is(schema::TIMESTAMP) {
            return "java.util.Date";
        }
    }
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::I8(_) => "java.lang.Byte",
        Value::I16(_) => "java.lang.Short",
        Value::I32(_) => "java.lang.Integer",
        Value::I64(_) => "java.lang.Long",
        Value::F32(_) => "java.lang.Float",
        Value::F64(_) => "java.lang.Double",
        Value::Str(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
        Value::Date(_) => "java.util.Date",
        Value::DecimalText(_) => "java.math.BigDecimal",
    }
}

/// The Connect type a schemaless value has (`ConnectSchema.schemaType`).
pub fn inferred_type(value: &Value) -> Option<Type> {
    Some(match value {
        Value::Bool(_) => Type::Boolean,
        Value::I8(_) => Type::Int8,
        Value::I16(_) => Type::Int16,
        Value::I32(_) => Type::Int32,
        Value::I64(_) => Type::Int64,
        Value::F32(_) => Type::Float32,
        Value::F64(_) => Type::Float64,
        Value::Str(_) => Type::String,
        Value::Bytes(_) => Type::Bytes,
        Value::Array(_) => Type::Array,
        Value::Map(_) => Type::Map,
        Value::Struct(_) => Type::Struct,
        Value::Null | Value::Date(_) | Value::DecimalText(_) => return None,
    })
}

fn num<T: std::str::FromStr>(json: &Json, ty: Type) -> Result<T, String> {
    let text = match json {
        Json::Num(n) => n,
        _ => {
            return Err(format!(
                "Invalid JSON for {} value: {}",
                ty.java_name(),
                json.to_text()
            ));
        }
    };
    if let Ok(v) = text.parse::<T>() {
        return Ok(v);
    }
    // Jackson's intValue()/longValue() of a fractional literal truncates.
    let truncated = text
        .parse::<f64>()
        .map(|f| f.trunc() as i64)
        .map_err(|e| e.to_string())?;
    truncated
        .to_string()
        .parse::<T>()
        .map_err(|_| format!("Invalid JSON for {} value: {text}", ty.java_name()))
}

/// Reads a document under `schema` (JsonConverter `convertToConnect`).
pub fn from_json(schema: &Schema, json: &Json) -> Result<Value, String> {
    if *json == Json::Null {
        // The document is Connect data a converter already produced: a null
        // it holds is the value (JsonConverter with
        // `replace.null.with.default=false`, or a source connector's own
        // null), so it stays null and the transform decides, as Kafka's
        // `Struct.get` / `getWithoutDefault` do, whether the default
        // replaces it. Only a required schema cannot hold a null: there the
        // default is what JsonConverter would have read.
        if schema.optional {
            return Ok(Value::Null);
        }
        if let Some(d) = &schema.default {
            return Ok((**d).clone());
        }
        return Err(format!(
            "Invalid null value for required {} field",
            schema.ty.java_name()
        ));
    }
    Ok(match schema.ty {
        Type::Boolean => match json {
            Json::Bool(b) => Value::Bool(*b),
            _ => {
                return Err(format!(
                    "Invalid JSON for BOOLEAN value: {}",
                    json.to_text()
                ));
            }
        },
        Type::Int8 => Value::I8(num::<i64>(json, Type::Int8)? as i8),
        Type::Int16 => Value::I16(num::<i64>(json, Type::Int16)? as i16),
        Type::Int32 => Value::I32(num::<i64>(json, Type::Int32)? as i32),
        Type::Int64 => Value::I64(num::<i64>(json, Type::Int64)?),
        Type::Float32 => Value::F32(num::<f32>(json, Type::Float32)?),
        Type::Float64 => Value::F64(num::<f64>(json, Type::Float64)?),
        Type::String => match json {
            Json::Str(s) => Value::Str(s.clone()),
            other => Value::Str(other.to_text()),
        },
        Type::Bytes => match json {
            Json::Str(s) => Value::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("Invalid bytes field: {e}"))?,
            ),
            Json::Num(n) if schema.is(schema::DECIMAL) => Value::DecimalText(n.clone()),
            _ => return Err("Invalid bytes field".into()),
        },
        Type::Array => {
            let Json::Arr(items) = json else {
                return Err("Array value's schema does not match the value".into());
            };
            let item_schema = schema
                .value
                .as_deref()
                .ok_or("Array schema did not specify the element type")?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(from_json(item_schema, item)?);
            }
            Value::Array(out)
        }
        Type::Map => {
            let (ks, vs) = match (&schema.key, &schema.value) {
                (Some(k), Some(v)) => (k.as_ref(), v.as_ref()),
                _ => return Err("Map schema did not specify the key and value types".into()),
            };
            let mut out = Vec::new();
            match json {
                Json::Obj(members) if ks.ty == Type::String => {
                    for (k, v) in members {
                        out.push((Value::Str(k.clone()), from_json(vs, v)?));
                    }
                }
                Json::Arr(pairs) => {
                    for pair in pairs {
                        match pair {
                            Json::Arr(kv) if kv.len() == 2 => {
                                out.push((from_json(ks, &kv[0])?, from_json(vs, &kv[1])?))
                            }
                            _ => return Err("Found invalid map entry instead of array tuple".into()),
                        }
                    }
                }
                _ => return Err("Maps with non-string fields should be encoded as JSON array of tuples, but found an object".into()),
            }
            Value::Map(out)
        }
        Type::Struct => {
            let Json::Obj(_) = json else {
                return Err(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    node_type(json)
                ));
            };
            let mut out = Vec::with_capacity(schema.fields.len());
            for f in &schema.fields {
                let v = json.get(&f.name).unwrap_or(&Json::Null);
                out.push((f.name.clone(), from_json(&f.schema, v)?));
            }
            Value::Struct(out)
        }
    })
}

fn node_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "NULL",
        Json::Bool(_) => "BOOLEAN",
        Json::Num(_) => "NUMBER",
        Json::Str(_) => "STRING",
        Json::Arr(_) => "ARRAY",
        Json::Obj(_) => "OBJECT",
    }
}

/// Reads a schemaless document (JsonConverter with `schemas.enable=false`).
pub fn from_json_schemaless(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Num(n) => {
            let integral = !n.contains(['.', 'e', 'E']);
            match (integral, n.parse::<i64>()) {
                (true, Ok(v)) => Value::I64(v),
                (true, Err(_)) => Value::I64(n.parse::<i128>().map(|v| v as i64).unwrap_or(0)),
                (false, _) => Value::F64(n.parse().unwrap_or(0.0)),
            }
        }
        Json::Str(s) => Value::Str(s.clone()),
        Json::Arr(items) => Value::Array(items.iter().map(from_json_schemaless).collect()),
        Json::Obj(members) => Value::Map(
            members
                .iter()
                .map(|(k, v)| (Value::Str(k.clone()), from_json_schemaless(v)))
                .collect(),
        ),
    }
}

fn type_mismatch(schema: &Schema, value: &Value) -> String {
    format!(
        "Invalid type for {}: {}",
        schema.ty.java_name(),
        java_class(None, value)
    )
}

/// Writes `value` under `schema` (JsonConverter `convertToJson`).
pub fn to_json(schema: &Schema, value: &Value) -> Result<Json, String> {
    if value.is_null() {
        // A null stays null, so the next transform or the worker's
        // converter sees what this transform produced (a struct's fields
        // are written as JsonConverter writes them, `getWithoutDefault`).
        // A required schema cannot hold one; its default is written, as
        // JsonConverter does with `replace.null.with.default=true`.
        if schema.optional {
            return Ok(Json::Null);
        }
        if let Some(d) = &schema.default {
            return to_json(schema, d);
        }
        return Err(
            "Conversion error: null value for field that is required and has no default value"
                .into(),
        );
    }
    Ok(match (schema.ty, value) {
        (Type::Boolean, Value::Bool(b)) => Json::Bool(*b),
        (Type::Int8, Value::I8(v)) => Json::Num(v.to_string()),
        (Type::Int16, Value::I16(v)) => Json::Num(v.to_string()),
        (Type::Int32, Value::I32(v)) => Json::Num(v.to_string()),
        (Type::Int64, Value::I64(v)) => Json::Num(v.to_string()),
        (Type::Float32, Value::F32(v)) => Json::Num(java_float(*v)),
        (Type::Float64, Value::F64(v)) => Json::Num(java_double(*v)),
        (Type::String, Value::Str(s)) => Json::Str(s.clone()),
        (Type::Bytes, Value::Bytes(b)) => {
            Json::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (Type::Bytes, Value::DecimalText(t)) => Json::Num(t.clone()),
        (Type::Array, Value::Array(items)) => {
            let s = schema
                .value
                .as_deref()
                .ok_or("Array schema without element type")?;
            Json::Arr(
                items
                    .iter()
                    .map(|i| to_json(s, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map, Value::Map(entries)) => {
            let (ks, vs) = match (&schema.key, &schema.value) {
                (Some(k), Some(v)) => (k.as_ref(), v.as_ref()),
                _ => return Err("Map schema without key or value type".into()),
            };
            if ks.ty == Type::String {
                let mut members = Vec::new();
                for (k, v) in entries {
                    let Value::Str(k) = k else {
                        return Err(type_mismatch(ks, k));
                    };
                    members.push((k.clone(), to_json(vs, v)?));
                }
                Json::Obj(members)
            } else {
                let mut pairs = Vec::new();
                for (k, v) in entries {
                    pairs.push(Json::Arr(vec![to_json(ks, k)?, to_json(vs, v)?]));
                }
                Json::Arr(pairs)
            }
        }
        (Type::Struct, Value::Struct(values)) => {
            let mut members = Vec::new();
            for f in &schema.fields {
                let v = values
                    .iter()
                    .find(|(k, _)| *k == f.name)
                    .map(|(_, v)| v)
                    .unwrap_or(&Value::Null);
                members.push((f.name.clone(), to_json(&f.schema, v)?));
            }
            Json::Obj(members)
        }
        _ => return Err(type_mismatch(schema, value)),
    })
}

/// Writes a schemaless value (JsonConverter with no schema).
pub fn to_json_schemaless(value: &Value) -> Result<Json, String> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::I8(v) => Json::Num(v.to_string()),
        Value::I16(v) => Json::Num(v.to_string()),
        Value::I32(v) => Json::Num(v.to_string()),
        Value::I64(v) => Json::Num(v.to_string()),
        Value::F32(v) => Json::Num(java_float(*v)),
        Value::F64(v) => Json::Num(java_double(*v)),
        Value::Str(s) => Json::Str(s.clone()),
        Value::Bytes(b) => Json::Str(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::DecimalText(t) => Json::Num(t.clone()),
        Value::Array(items) => Json::Arr(
            items
                .iter()
                .map(to_json_schemaless)
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            if entries.iter().all(|(k, _)| matches!(k, Value::Str(_))) {
                let mut members = Vec::new();
                for (k, v) in entries {
                    if let Value::Str(k) = k {
                        members.push((k.clone(), to_json_schemaless(v)?));
                    }
                }
                Json::Obj(members)
            } else {
                let mut pairs = Vec::new();
                for (k, v) in entries {
                    pairs.push(Json::Arr(vec![
                        to_json_schemaless(k)?,
                        to_json_schemaless(v)?,
                    ]));
                }
                Json::Arr(pairs)
            }
        }
        Value::Struct(_) => {
            return Err("Conversion error: a Struct value needs a schema".into());
        }
        Value::Date(_) => {
            return Err(
                "Java class class java.util.Date does not have corresponding schema type.".into(),
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn schema(text: &str) -> Schema {
        Schema::from_json(&parse(text).unwrap()).unwrap()
    }

    #[test]
    fn reads_and_writes_with_a_schema() {
        let s = schema(
            r#"{"type":"struct","fields":[{"type":"int8","optional":false,"field":"a"},{"type":"bytes","optional":true,"field":"b"},{"type":"float","optional":true,"field":"f"},{"type":"string","optional":false,"default":"d","field":"s"}],"optional":false}"#,
        );
        let v = from_json(
            &s,
            &parse(r#"{"a":5,"b":"AQI=","f":1.1,"s":null}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(v.get("b"), Some(&Value::Bytes(vec![1, 2])));
        assert_eq!(v.get("s"), Some(&Value::Str("d".into())));
        assert_eq!(
            to_json(&s, &v).unwrap().to_text(),
            r#"{"a":5,"b":"AQI=","f":1.1,"s":"d"}"#
        );
        let e = from_json(&s, &parse(r#"{"b":null}"#).unwrap()).unwrap_err();
        assert_eq!(e, "Invalid null value for required INT8 field");
    }

    #[test]
    fn an_optional_null_keeps_its_null_despite_a_default() {
        // The transform, not the reader, decides whether the default
        // replaces it (`replace.null.with.default`); a required field
        // cannot hold null, so there the default is read and written.
        let s = schema(
            r#"{"type":"struct","fields":[{"type":"int32","optional":true,"default":7,"field":"o"},{"type":"int32","optional":false,"default":8,"field":"r"}],"optional":false}"#,
        );
        let v = from_json(&s, &parse(r#"{"o":null,"r":null}"#).unwrap()).unwrap();
        assert_eq!(v.get("o"), Some(&Value::Null));
        assert_eq!(v.get("r"), Some(&Value::I32(8)));
        assert_eq!(to_json(&s, &v).unwrap().to_text(), r#"{"o":null,"r":8}"#);
        let with_null_r = Value::Struct(vec![("o".into(), Value::Null), ("r".into(), Value::Null)]);
        assert_eq!(
            to_json(&s, &with_null_r).unwrap().to_text(),
            r#"{"o":null,"r":8}"#
        );
    }

    #[test]
    fn schemaless_numbers_are_long_or_double() {
        let v = from_json_schemaless(&parse(r#"{"i":1,"d":1.0,"n":null}"#).unwrap());
        assert_eq!(v.get("i"), Some(&Value::I64(1)));
        assert_eq!(v.get("d"), Some(&Value::F64(1.0)));
        assert_eq!(
            to_json_schemaless(&v).unwrap().to_text(),
            r#"{"i":1,"d":1.0,"n":null}"#
        );
        assert!(to_json_schemaless(&Value::Date(0)).is_err());
    }

    #[test]
    fn maps_with_non_string_keys_are_pairs() {
        let s = schema(
            r#"{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false}"#,
        );
        let v = from_json(&s, &parse(r#"[[1,"a"]]"#).unwrap()).unwrap();
        assert_eq!(v, Value::Map(vec![(Value::I32(1), Value::Str("a".into()))]));
        assert_eq!(to_json(&s, &v).unwrap().to_text(), r#"[[1,"a"]]"#);
    }
}
