//! Sink side: Connect schemas in JsonConverter's JSON form, and values of
//! a record (JsonConverter's payload) as database values.

use crate::decimal::{Decimal, base64_decode};
use crate::types::{Cell, ConnectType, DATE_NAME, DECIMAL_NAME, TIME_NAME, TIMESTAMP_NAME};
use serde_json::Value as Json;

/// A Connect schema as JsonConverter writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The physical type (`int32`, `struct`, …).
    pub physical: String,
    pub optional: bool,
    /// The logical type or struct name.
    pub name: Option<String>,
    pub parameters: serde_json::Map<String, Json>,
    pub default: Option<Json>,
    /// Struct fields, in order.
    pub fields: Vec<(String, Schema)>,
}

impl Schema {
    /// Parses a JsonConverter schema.
    pub fn parse(text: &str) -> Result<Schema, String> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| format!("schema is not JSON: {e}"))?;
        Schema::from_json(&json)
    }

    fn from_json(json: &Json) -> Result<Schema, String> {
        let physical = json
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("schema has no type: {json}"))?
            .to_string();
        let mut fields = Vec::new();
        if let Some(list) = json.get("fields").and_then(Json::as_array) {
            for f in list {
                let name = f
                    .get("field")
                    .and_then(Json::as_str)
                    .ok_or_else(|| format!("struct field has no name: {f}"))?;
                fields.push((name.to_string(), Schema::from_json(f)?));
            }
        }
        Ok(Schema {
            physical,
            optional: json
                .get("optional")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            name: json.get("name").and_then(Json::as_str).map(str::to_string),
            parameters: json
                .get("parameters")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
            default: json.get("default").filter(|d| !d.is_null()).cloned(),
            fields,
        })
    }

    /// A primitive schema (for StringConverter and ByteArrayConverter keys).
    pub fn primitive(physical: &str) -> Schema {
        Schema {
            physical: physical.into(),
            optional: true,
            name: None,
            parameters: Default::default(),
            default: None,
            fields: Vec::new(),
        }
    }

    pub fn is_struct(&self) -> bool {
        self.physical == "struct"
    }

    /// The column type of a field of this schema; `Err` for nested types,
    /// which Confluent refuses too.
    pub fn connect_type(&self) -> Result<ConnectType, String> {
        Ok(match (self.name.as_deref(), self.physical.as_str()) {
            (Some(DECIMAL_NAME), _) => {
                let scale = self
                    .parameters
                    .get("scale")
                    .and_then(|s| match s {
                        Json::String(s) => s.parse().ok(),
                        Json::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                        _ => None,
                    })
                    .ok_or("Decimal schema has no scale parameter")?;
                let precision = self
                    .parameters
                    .get("connect.decimal.precision")
                    .and_then(Json::as_str)
                    .and_then(|p| p.parse().ok());
                ConnectType::Decimal { scale, precision }
            }
            (Some(DATE_NAME), _) => ConnectType::Date,
            (Some(TIME_NAME), _) => ConnectType::Time,
            (Some(TIMESTAMP_NAME), _) => ConnectType::Timestamp,
            (_, "boolean") => ConnectType::Boolean,
            (_, "int8") => ConnectType::Int8,
            (_, "int16") => ConnectType::Int16,
            (_, "int32") => ConnectType::Int32,
            (_, "int64") => ConnectType::Int64,
            // JsonConverter's names, and Connect's own (which it refuses,
            // but nothing is lost by reading them).
            (_, "float" | "float32") => ConnectType::Float32,
            (_, "double" | "float64") => ConnectType::Float64,
            (_, "string") => ConnectType::String,
            (_, "bytes") => ConnectType::Bytes,
            (_, other) => {
                return Err(format!(
                    "Unsupported source data type: {}",
                    other.to_uppercase()
                ));
            }
        })
    }
}

fn float_of(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        // Jackson writes non-finite numbers as strings.
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// The decimal a Decimal field holds: base64 of the unscaled bytes
/// (`decimal.format=BASE64`, the default) or a JSON number (`NUMERIC`).
pub fn decimal_text(json: &Json, scale: i32) -> Option<String> {
    match json {
        Json::String(s) => {
            let bytes = base64_decode(s)?;
            Some(Decimal::from_unscaled_bytes(&bytes, scale).to_plain_string())
        }
        Json::Number(n) => Some(
            Decimal::parse(&n.to_string())?
                .rescale(scale)?
                .to_plain_string(),
        ),
        _ => None,
    }
}

/// A field value as a database value; `Err` says what does not fit.
pub fn json_to_cell(json: &Json, ty: ConnectType) -> Result<Cell, String> {
    if json.is_null() {
        return Ok(Cell::Null);
    }
    let bad = || format!("value {json} does not match schema type {ty:?}");
    let int = || json.as_i64().ok_or_else(bad);
    let ranged = |lo: i64, hi: i64| {
        let v = int()?;
        if (lo..=hi).contains(&v) {
            Ok(Cell::Int(v))
        } else {
            Err(bad())
        }
    };
    match ty {
        ConnectType::Boolean => json.as_bool().map(Cell::Bool).ok_or_else(bad),
        ConnectType::Int8 => ranged(i64::from(i8::MIN), i64::from(i8::MAX)),
        ConnectType::Int16 => ranged(i64::from(i16::MIN), i64::from(i16::MAX)),
        ConnectType::Int32 => ranged(i64::from(i32::MIN), i64::from(i32::MAX)),
        ConnectType::Int64 => int().map(Cell::Int),
        ConnectType::Float32 => float_of(json).map(|f| Cell::F32(f as f32)).ok_or_else(bad),
        ConnectType::Float64 => float_of(json).map(Cell::F64).ok_or_else(bad),
        ConnectType::String => json.as_str().map(|s| Cell::Text(s.into())).ok_or_else(bad),
        ConnectType::Bytes => json
            .as_str()
            .and_then(base64_decode)
            .map(Cell::Bytes)
            .ok_or_else(bad),
        ConnectType::Decimal { scale, .. } => {
            decimal_text(json, scale).map(Cell::Decimal).ok_or_else(bad)
        }
        ConnectType::Date => {
            let d = int()?;
            i32::try_from(d).map(Cell::Date).map_err(|_| bad())
        }
        ConnectType::Time => int()?.checked_mul(1000).map(Cell::Time).ok_or_else(bad),
        ConnectType::Timestamp => int()?
            .checked_mul(1000)
            .map(Cell::Timestamp)
            .ok_or_else(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemas() {
        let s = Schema::parse(
            "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},\
             {\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\",\
             \"version\":1,\"parameters\":{\"scale\":\"2\"},\"field\":\"amount\"},\
             {\"type\":\"string\",\"optional\":true,\"default\":\"x\",\"field\":\"s\"}],\"optional\":false,\"name\":\"t\"}",
        )
        .unwrap();
        assert!(s.is_struct());
        assert_eq!(s.fields.len(), 3);
        assert_eq!(s.fields[0].1.connect_type(), Ok(ConnectType::Int32));
        assert!(!s.fields[0].1.optional);
        assert_eq!(
            s.fields[1].1.connect_type(),
            Ok(ConnectType::Decimal {
                scale: 2,
                precision: None
            })
        );
        assert_eq!(s.fields[2].1.default, Some(Json::String("x".into())));
        assert!(Schema::primitive("array").connect_type().is_err());
        assert!(Schema::parse("{}").is_err());
    }

    #[test]
    fn converts_values() {
        let j = |t: &str, ty| json_to_cell(&serde_json::from_str(t).unwrap(), ty);
        assert_eq!(j("null", ConnectType::Int32), Ok(Cell::Null));
        assert_eq!(j("5", ConnectType::Int8), Ok(Cell::Int(5)));
        assert!(j("500", ConnectType::Int8).is_err());
        assert!(j("\"x\"", ConnectType::Int32).is_err());
        assert_eq!(
            j("\"NaN\"", ConnectType::Float64).map(|c| matches!(c, Cell::F64(f) if f.is_nan())),
            Ok(true)
        );
        assert_eq!(
            j("\"aGVsbG8=\"", ConnectType::Bytes),
            Ok(Cell::Bytes(b"hello".to_vec()))
        );
        let dec = ConnectType::Decimal {
            scale: 2,
            precision: None,
        };
        assert_eq!(j("\"BNI=\"", dec), Ok(Cell::Decimal("12.34".into())));
        assert_eq!(j("\"/w==\"", dec), Ok(Cell::Decimal("-0.01".into())));
        assert_eq!(j("12.3", dec), Ok(Cell::Decimal("12.30".into())));
        assert_eq!(j("19000", ConnectType::Date), Ok(Cell::Date(19000)));
        assert_eq!(j("1500", ConnectType::Time), Ok(Cell::Time(1_500_000)));
        assert_eq!(j("-1", ConnectType::Timestamp), Ok(Cell::Timestamp(-1000)));
        assert_eq!(j("true", ConnectType::Boolean), Ok(Cell::Bool(true)));
    }
}
