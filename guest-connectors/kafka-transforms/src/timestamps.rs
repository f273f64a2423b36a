//! `TimestampConverter`: a field or the whole value converted between
//! `string` (a SimpleDateFormat pattern, UTC), `unix` (epoch seconds,
//! milliseconds, microseconds or nanoseconds) and Connect's `Date`,
//! `Time` and `Timestamp` logical types.

use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{Check, Def, Default, Kind, REPLACE_NULL_WITH_DEFAULT, Settings};
use crate::data::Data;
use crate::dates::Pattern;
use crate::schema::{self, Schema, Type};
use crate::value::{Value, java_class};
use crate::{KafkaTransform, Side, field_value, read, require_map, require_struct, write};

const DAY: i64 = 86_400_000;

/// `org.apache.kafka.connect.transforms.TimestampConverter`.
pub struct TimestampConverter {
    side: Side,
    field: String,
    target: String,
    format: Option<Pattern>,
    precision: String,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

fn logical(name: &str, ty: Type, optional: bool) -> Schema {
    let mut s = Schema::of(ty).named(name).optional(optional);
    s.version = Some(1);
    s
}

impl TimestampConverter {
    fn type_schema(&self, optional: bool) -> Schema {
        match self.target.as_str() {
            "string" => Schema::of(Type::String).optional(optional),
            "unix" => Schema::of(Type::Int64).optional(optional),
            "Date" => logical(schema::DATE, Type::Int32, optional),
            "Time" => logical(schema::TIME, Type::Int32, optional),
            _ => logical(schema::TIMESTAMP, Type::Int64, optional),
        }
    }

    /// `toRaw`: epoch milliseconds of `value` read as `source`.
    fn to_raw(&self, source: &str, schema: Option<&Schema>, value: &Value) -> Result<i64, String> {
        let found = || format!("class {}", java_class(schema, value));
        match (source, value) {
            ("string", Value::Str(s)) => {
                let p = self.format.as_ref().ok_or("TimestampConverter requires format option to be specified when using string timestamps")?;
                p.parse(s).ok_or_else(|| {
                    format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        p.text()
                    )
                })
            }
            ("string", _) => Err(format!(
                "Expected string timestamp to be a String, but found {}",
                found()
            )),
            ("unix", Value::I64(v)) => Ok(match self.precision.as_str() {
                "seconds" => v.saturating_mul(1000),
                "microseconds" => v / 1000,
                "nanoseconds" => v / 1_000_000,
                _ => *v,
            }),
            ("unix", _) => Err(format!(
                "Expected Unix timestamp to be a Long, but found {}",
                found()
            )),
            ("Date", Value::I32(d)) if schema.is_some() => Ok(i64::from(*d) * DAY),
            ("Time", Value::I32(t)) if schema.is_some() => Ok(i64::from(*t)),
            ("Timestamp", Value::I64(t)) if schema.is_some() => Ok(*t),
            (_, Value::Date(t)) => Ok(*t),
            (kind, _) => Err(format!(
                "Expected {kind} to be a java.util.Date, but found {}",
                found()
            )),
        }
    }

    /// `toType`: the target representation; schemaless logical values are `java.util.Date`s.
    fn to_type(&self, millis: i64, with_schema: bool) -> Value {
        let logical = |v: Value, ms: i64| if with_schema { v } else { Value::Date(ms) };
        match self.target.as_str() {
            "string" => Value::Str(
                self.format
                    .as_ref()
                    .map(|p| p.format(millis))
                    .unwrap_or_default(),
            ),
            "unix" => Value::I64(match self.precision.as_str() {
                // `TimeUnit.MILLISECONDS.toSeconds` truncates toward zero.
                "seconds" => millis / 1000,
                "microseconds" => millis.saturating_mul(1000),
                "nanoseconds" => millis.saturating_mul(1_000_000),
                _ => millis,
            }),
            "Date" => {
                let day = millis.div_euclid(DAY);
                logical(Value::I32(day as i32), day * DAY)
            }
            "Time" => {
                let t = millis.rem_euclid(DAY);
                logical(Value::I32(t as i32), t)
            }
            _ => logical(Value::I64(millis), millis),
        }
    }

    fn source_of(schema: &Schema) -> Result<&'static str, String> {
        Ok(match (schema.name.as_deref(), schema.ty) {
            (Some(schema::TIMESTAMP), _) => "Timestamp",
            (Some(schema::DATE), _) => "Date",
            (Some(schema::TIME), _) => "Time",
            (_, Type::String) => "string",
            (_, Type::Int64) => "unix",
            _ => {
                return Err(format!(
                    "Schema Schema{{{}}} does not correspond to a known timestamp type format",
                    schema.ty.java_name()
                ));
            }
        })
    }

    fn convert(&self, schema: Option<&Schema>, value: &Value) -> Result<Value, String> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let source = match schema {
            Some(s) => Self::source_of(s)?,
            None => match value {
                Value::Date(_) => "Timestamp",
                Value::I64(_) => "unix",
                Value::Str(_) => "string",
                other => {
                    return Err(format!(
                        "TimestampConverter does not support class {} objects as timestamps",
                        java_class(None, other)
                    ));
                }
            },
        };
        let raw = self.to_raw(source, schema, value)?;
        Ok(self.to_type(raw, schema.is_some()))
    }
}

impl KafkaTransform for TimestampConverter {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.TimestampConverter";
    const DOC: &'static str = "Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types.Applies to individual fields or to the entire value.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "field",
                kind: Kind::Str,
                default: Default::Value(""),
                importance: Importance::High,
                doc: "The field containing the timestamp, or empty if the entire value is a timestamp",
                check: Check::None,
            },
            Def {
                name: "target.type",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
                check: Check::OneOf(&["string", "unix", "Date", "Time", "Timestamp"]),
            },
            Def {
                name: "format",
                kind: Kind::Str,
                default: Default::Value(""),
                importance: Importance::Medium,
                doc: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.",
                check: Check::None,
            },
            Def {
                name: "unix.precision",
                kind: Kind::Str,
                default: Default::Value("milliseconds"),
                importance: Importance::Low,
                doc: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.",
                check: Check::OneOf(&["nanoseconds", "microseconds", "milliseconds", "seconds"]),
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        let target = s.string("target.type").unwrap_or_default();
        let pattern = s.string("format").unwrap_or_default();
        if target == "string" && pattern.trim().is_empty() {
            return Err("TimestampConverter requires format option to be specified when using string timestamps".into());
        }
        let format = if pattern.trim().is_empty() {
            None
        } else {
            Some(Pattern::compile(&pattern).map_err(|_| format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}"))?)
        };
        Ok(TimestampConverter {
            side,
            field: s.string("field").unwrap_or_default(),
            target,
            format,
            precision: s.string("unix.precision").unwrap_or_default(),
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "converting timestamp formats";
        let data = read(&record, self.side)?;
        let out = match &data.schema {
            None if data.value.is_null() || self.field.is_empty() => {
                Data::schemaless(self.convert(None, &data.value)?)
            }
            None => {
                let mut map = require_map(&data.value, PURPOSE)?.clone();
                let v = self.convert(None, data.value.get(&self.field).unwrap_or(&Value::Null))?;
                Value::map_put(&mut map, &self.field, v);
                Data::schemaless(Value::Map(map))
            }
            Some(schema) if self.field.is_empty() => Data::with_schema(
                self.type_schema(schema.optional),
                self.convert(Some(schema), &data.value)?,
            ),
            Some(schema) => {
                let mut updated = Schema::struct_like(schema);
                updated.optional = schema.optional;
                for f in &schema.fields {
                    let fs = if f.name == self.field {
                        self.type_schema(f.schema.optional)
                    } else {
                        f.schema.clone()
                    };
                    updated.push_field(&f.name, fs)?;
                }
                if data.value.is_null() {
                    Data::with_schema(updated, Value::Null)
                } else {
                    let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                    let mut values = Vec::new();
                    for f in &schema.fields {
                        let v = field_value(members, f, self.replace_null_with_default);
                        let v = if f.name == self.field {
                            self.convert(Some(&f.schema), v)?
                        } else {
                            v.clone()
                        };
                        values.push((f.name.clone(), v));
                    }
                    Data::with_schema(updated, Value::Struct(values))
                }
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

    fn conv(pairs: &[(&str, &str)]) -> TimestampConverter {
        TimestampConverter::configure(
            Side::Value,
            &parse(&TimestampConverter::definition(), &cfg(pairs)).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn converts_fields_between_representations() {
        let t = conv(&[
            ("field", "ts"),
            ("target.type", "string"),
            ("format", "yyyy-MM-dd"),
        ]);
        let r = t
            .apply(record(None, json(r#"{"ts":1700000000123}"#, None)))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value).0, r#"{"ts":"2023-11-14"}"#);
        let t = conv(&[
            ("field", "ts"),
            ("target.type", "Timestamp"),
            ("format", "yyyy-MM-dd"),
        ]);
        let s = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"ts"}],"optional":false}"#;
        let r = t
            .apply(record(None, json(r#"{"ts":"2023-11-14"}"#, Some(s))))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value).0, r#"{"ts":1699920000000}"#);
        let e = t
            .apply(record(None, json(r#"{"ts":"x"}"#, Some(s))))
            .unwrap_err();
        assert_eq!(
            e,
            "Could not parse timestamp: value (x) does not match pattern (yyyy-MM-dd)"
        );
        let t = conv(&[("target.type", "unix"), ("unix.precision", "seconds")]);
        let s = r#"{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1}"#;
        let r = t
            .apply(record(None, json("1700000000123", Some(s))))
            .unwrap()
            .unwrap();
        assert_eq!(
            shown(&r.value),
            (
                "1700000000".into(),
                Some(r#"{"type":"int64","optional":false}"#.into())
            )
        );
    }
}
