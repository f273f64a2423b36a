//! `Cast`: fields of a struct or map, or the whole key or value, cast to
//! another primitive type (numbers narrow as Java casts do, strings parse
//! as Java's `parseX`, bytes become base64 text).

use base64::Engine;
use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{
    Check, Def, Default, Kind, REPLACE_NULL_WITH_DEFAULT, Setting, Settings, invalid,
};
use crate::data::Data;
use crate::json::{java_double, java_float};
use crate::schema::{self, Schema, Type};
use crate::strings::{convert_to_string, java_split, parse_number_like};
use crate::value::{Value, inferred_type, java_class};
use crate::{KafkaTransform, Side, field_value, read, require_map, require_struct, write};

const INPUTS: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";
const OUTPUTS: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

/// `org.apache.kafka.connect.transforms.Cast`.
pub struct Cast {
    side: Side,
    casts: Vec<(Option<String>, Type)>,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

fn parse_spec(mappings: &[String]) -> Result<Vec<(Option<String>, Type)>, String> {
    let mut out: Vec<(Option<String>, Type)> = Vec::new();
    let mut whole = false;
    for m in mappings {
        let parts = java_split(m, ':');
        if parts.len() > 2 {
            return Err(invalid(
                "renames",
                &format!("[{}]", mappings.join(", ")),
                &format!("Invalid rename mapping: {m}"),
            ));
        }
        let (field, ty) = match parts.as_slice() {
            [t] => {
                whole = true;
                (None, t.trim())
            }
            [f, t] => (Some(f.trim().to_string()), t.trim()),
            _ => return Err(format!("Invalid type found in casting spec: {m}")),
        };
        let ty = Type::from_java_name(ty).ok_or_else(|| unknown_type(ty))?;
        if matches!(ty, Type::Bytes | Type::Array | Type::Map | Type::Struct) {
            return Err(format!(
                "Cast transformation does not support casting to {}; supported types are {OUTPUTS}",
                ty.java_name()
            ));
        }
        out.retain(|(f, _)| *f != field);
        out.push((field, ty));
    }
    if whole && mappings.len() > 1 {
        return Err("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec".into());
    }
    Ok(out)
}

/// Kafka's `new ConfigException("Invalid type found in casting spec: " + t, e)`
/// picks the (name, value) constructor, so the message wraps the
/// IllegalArgumentException `Schema.Type.valueOf` threw.
fn unknown_type(ty: &str) -> String {
    format!(
        "Invalid value java.lang.IllegalArgumentException: No enum constant org.apache.kafka.connect.data.Schema.Type.{} for configuration Invalid type found in casting spec: {ty}",
        ty.to_uppercase()
    )
}

fn check_spec(_name: &str, value: &Setting) -> Result<(), String> {
    match value {
        Setting::List(l) if l.is_empty() => Err("Must specify at least one field to cast.".into()),
        Setting::List(l) => parse_spec(l).map(|_| ()),
        _ => Err("Must specify at least one field to cast.".into()),
    }
}

fn out_of_range(v: &str) -> String {
    format!("Value ({v}) was out of range for requested data type")
}

/// `castValueToType`.
fn cast_value(schema: Option<&Schema>, value: &Value, target: Type) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let ty = match schema {
        Some(s) => s.ty,
        None => inferred_type(value).ok_or_else(|| format!("Cast transformation was passed a value of type class {} which is not supported by Connect's data API", java_class(None, value)))?,
    };
    if matches!(ty, Type::Array | Type::Map | Type::Struct) {
        return Err(format!(
            "Cast transformation does not support casting from {}; supported types are {INPUTS}",
            ty.java_name()
        ));
    }
    let logical = schema.and_then(|s| s.name.as_deref()).filter(|n| {
        [
            schema::DATE,
            schema::TIME,
            schema::TIMESTAMP,
            schema::DECIMAL,
        ]
        .contains(n)
    });
    if target == Type::String {
        if logical.is_some() {
            return Ok(Value::Str(
                convert_to_string(schema, value).unwrap_or_default(),
            ));
        }
        return Ok(Value::Str(match value {
            Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
            Value::F32(f) => java_float(*f),
            Value::F64(f) => java_double(*f),
            other => convert_to_string(None, other).unwrap_or_default(),
        }));
    }
    if logical == Some(schema::DECIMAL) || matches!(value, Value::DecimalText(_)) {
        return cast_decimal(schema, value, target);
    }
    // Numbers: as Java's Number.xValue(); booleans 1/0; strings parsed.
    let (int, float): (Option<i64>, Option<f64>) = match value {
        Value::I8(v) => (Some(i64::from(*v)), Some(f64::from(*v))),
        Value::I16(v) => (Some(i64::from(*v)), Some(f64::from(*v))),
        Value::I32(v) => (Some(i64::from(*v)), Some(f64::from(*v))),
        Value::I64(v) => (Some(*v), Some(*v as f64)),
        Value::F32(v) => (Some(*v as i64), Some(f64::from(*v))),
        Value::F64(v) => (Some(*v as i64), Some(*v)),
        Value::Bool(b) => (Some(i64::from(*b)), Some(if *b { 1.0 } else { 0.0 })),
        Value::Str(s) => {
            return Ok(match target {
                Type::Int8 => Value::I8(s.parse().map_err(|_| out_of_range(s))?),
                Type::Int16 => Value::I16(s.parse().map_err(|_| out_of_range(s))?),
                Type::Int32 => Value::I32(s.parse().map_err(|_| out_of_range(s))?),
                Type::Int64 => Value::I64(s.parse().map_err(|_| out_of_range(s))?),
                Type::Float32 => Value::F32(java_parse_float(s).ok_or_else(|| out_of_range(s))?),
                Type::Float64 => Value::F64(java_parse_double(s).ok_or_else(|| out_of_range(s))?),
                _ => Value::Bool(s.eq_ignore_ascii_case("true")),
            });
        }
        other => {
            return Err(format!(
                "Unexpected type in Cast transformation: class {}",
                java_class(schema, other)
            ));
        }
    };
    let (i, f) = (int.unwrap_or(0), float.unwrap_or(0.0));
    let float_int = matches!(value, Value::F32(_) | Value::F64(_));
    Ok(match target {
        // Float.byteValue() is (byte)(int)f in Java.
        Type::Int8 => Value::I8(if float_int { (f as i32) as i8 } else { i as i8 }),
        Type::Int16 => Value::I16(if float_int {
            (f as i32) as i16
        } else {
            i as i16
        }),
        Type::Int32 => Value::I32(if float_int { f as i32 } else { i as i32 }),
        Type::Int64 => Value::I64(i),
        Type::Float32 => Value::F32(if float_int { f as f32 } else { i as f32 }),
        Type::Float64 => Value::F64(if float_int { f } else { i as f64 }),
        _ => Value::Bool(i != 0),
    })
}

/// The text `Float.parseFloat` / `Double.parseDouble` take, without the
/// sign and `f`/`d` suffix, in a form Rust's parser reads the same way;
/// `None` where Java throws NumberFormatException. (Java's hexadecimal
/// floats, `0x1p3`, are refused here.)
fn java_float_text(text: &str) -> Option<String> {
    // Java trims what String.trim() trims before parsing.
    let t = text.trim_matches(|c: char| c <= ' ');
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    match rest {
        "NaN" => return Some("NaN".into()),
        "Infinity" => return Some(format!("{sign}inf")),
        _ => {}
    }
    let body = rest.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(rest);
    // Rust would also take "inf"/"nan" spellings Java refuses; Java's
    // decimal form is digits, one dot and an exponent.
    let ok = !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    ok.then(|| format!("{sign}{body}"))
}

fn java_parse_double(text: &str) -> Option<f64> {
    java_float_text(text)?.parse().ok()
}

fn java_parse_float(text: &str) -> Option<f32> {
    java_float_text(text)?.parse().ok()
}

/// Casts a Decimal (a `BigDecimal`, which is a `Number` in Java): to the
/// integer types as `intValue()`/`longValue()` (truncated, low bits kept),
/// to floats as `floatValue()`/`doubleValue()`, to boolean as
/// `longValue() != 0`.
fn cast_decimal(schema: Option<&Schema>, value: &Value, target: Type) -> Result<Value, String> {
    let text = match value {
        Value::DecimalText(t) => t.clone(),
        _ => convert_to_string(schema, value).unwrap_or_default(),
    };
    let n = parse_number_like(&text).ok_or_else(|| {
        format!(
            "Unexpected type in Cast transformation: class {}",
            java_class(schema, value)
        )
    })?;
    let long = n.as_long();
    Ok(match target {
        Type::Int8 => Value::I8(long as i32 as i8),
        Type::Int16 => Value::I16(long as i32 as i16),
        Type::Int32 => Value::I32(long as i32),
        Type::Int64 => Value::I64(long),
        Type::Float32 => Value::F32(n.as_float()),
        Type::Float64 => Value::F64(n.as_double()),
        _ => Value::Bool(long != 0),
    })
}

impl KafkaTransform for Cast {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.Cast";
    const DOC: &'static str = "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width. Cast from integers, floats, boolean and string to any other type, and cast binary to string (base64 encoded).";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "spec",
                kind: Kind::List,
                default: Default::Required,
                importance: Importance::High,
                doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
                check: Check::Custom(check_spec),
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        Ok(Cast {
            side,
            casts: parse_spec(&s.list("spec"))?,
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "cast types";
        let data = read(&record, self.side)?;
        if data.value.is_null() {
            return Ok(Some(record));
        }
        let whole = self
            .casts
            .iter()
            .find(|(f, _)| f.is_none())
            .map(|(_, t)| *t);
        let target = |name: &str| {
            self.casts
                .iter()
                .find(|(f, _)| f.as_deref() == Some(name))
                .map(|(_, t)| *t)
        };
        let out = match (&data.schema, whole) {
            (None, Some(t)) => Data::schemaless(cast_value(None, &data.value, t)?),
            (None, None) => {
                let mut map = require_map(&data.value, PURPOSE)?.clone();
                for (f, t) in &self.casts {
                    let Some(f) = f else { continue };
                    let v = cast_value(None, data.value.get(f).unwrap_or(&Value::Null), *t)?;
                    Value::map_put(&mut map, f, v);
                }
                Data::schemaless(Value::Map(map))
            }
            (Some(schema), Some(t)) => {
                let mut s = Schema {
                    name: schema.name.clone(),
                    version: schema.version,
                    doc: schema.doc.clone(),
                    parameters: schema.parameters.clone(),
                    optional: schema.optional,
                    ..Schema::of(t)
                };
                if let Some(d) = &schema.default {
                    s.default = Some(Box::new(cast_value(Some(schema), d, t)?));
                }
                Data::with_schema(s, cast_value(Some(schema), &data.value, t)?)
            }
            (Some(schema), None) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut updated = Schema::struct_like(schema);
                updated.optional = schema.optional;
                updated.default = schema.default.clone();
                let mut values = Vec::new();
                for f in &schema.fields {
                    let v = field_value(members, f, self.replace_null_with_default);
                    match target(&f.name) {
                        Some(t) => {
                            let mut fs = Schema::of(t).optional(f.schema.optional);
                            if let Some(d) = &f.schema.default {
                                fs.default = Some(Box::new(cast_value(Some(&f.schema), d, t)?));
                            }
                            updated.push_field(&f.name, fs)?;
                            values.push((f.name.clone(), cast_value(Some(&f.schema), v, t)?));
                        }
                        None => {
                            updated.push_field(&f.name, f.schema.clone())?;
                            values.push((f.name.clone(), v.clone()));
                        }
                    }
                }
                Data::with_schema(updated, Value::Struct(values))
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::testing::{cfg, json, record, shown};

    fn cast(spec: &str) -> Cast {
        Cast::configure(
            Side::Value,
            &parse(&Cast::definition(), &cfg(&[("spec", spec)])).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn casts_fields_and_whole_values() {
        let r = cast("a:int8,b:string")
            .apply(record(None, json(r#"{"a":300,"b":1.5}"#, None)))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value).0, r#"{"a":44,"b":"1.5"}"#);
        let s = r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"a"}],"optional":false}"#;
        let r = cast("a:int32")
            .apply(record(None, json(r#"{"a":"42"}"#, Some(s))))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value), (r#"{"a":42}"#.into(), Some(r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"a"}],"optional":false}"#.into())));
        let e = cast("a:int32")
            .apply(record(None, json(r#"{"a":"x"}"#, Some(s))))
            .unwrap_err();
        assert_eq!(e, "Value (x) was out of range for requested data type");
        assert_eq!(
            parse(&Cast::definition(), &cfg(&[("spec", "id:notatype")])).unwrap_err(),
            "Invalid value java.lang.IllegalArgumentException: No enum constant org.apache.kafka.connect.data.Schema.Type.NOTATYPE for configuration Invalid type found in casting spec: notatype"
        );
        assert_eq!(
            parse(&Cast::definition(), &cfg(&[("spec", "a:bytes")])).unwrap_err(),
            "Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
        );
    }

    #[test]
    fn decimals_cast_as_big_decimal_numbers() {
        let d = r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"d"}"#;
        let s = format!(r#"{{"type":"struct","fields":[{d}],"optional":false}}"#);
        // 0x04D2 = 1234, scale 2: 12.34
        for (spec, out) in [
            ("d:int32", r#"{"d":12}"#),
            ("d:float64", r#"{"d":12.34}"#),
            ("d:boolean", r#"{"d":true}"#),
            ("d:string", r#"{"d":"12.34"}"#),
        ] {
            let r = cast(spec)
                .apply(record(None, json(r#"{"d":"BNI="}"#, Some(&s))))
                .unwrap()
                .unwrap();
            assert_eq!(shown(&r.value).0, out, "{spec}");
        }
    }

    #[test]
    fn strings_parse_as_java_parses_floats() {
        assert_eq!(java_parse_double(" 1.5 "), Some(1.5));
        assert_eq!(java_parse_double("2f"), Some(2.0));
        assert_eq!(java_parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(java_parse_double("NaN").is_some_and(f64::is_nan));
        for refused in ["inf", "nan", "infinity", "", "1,5", "e5", "."] {
            assert_eq!(java_parse_double(refused), None, "{refused}");
        }
        let e = cast("a:float32")
            .apply(record(None, json(r#"{"a":"inf"}"#, None)))
            .unwrap_err();
        assert_eq!(e, "Value (inf) was out of range for requested data type");
    }

    #[test]
    fn a_null_value_with_a_required_schema_passes_through() {
        let s = r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"a"}],"optional":false}"#;
        let r = cast("a:int32")
            .apply(record(None, json("null", Some(s))))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value), ("null".into(), Some(s.into())));
    }
}
