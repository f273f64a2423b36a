//! Field-level transforms of a struct or map: `InsertField` (record
//! metadata and a static value as fields), `ReplaceField` (include,
//! exclude, rename), `MaskField` (type-appropriate zero or a replacement)
//! and `ValueToKey` (a key built from value fields).

use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{
    Check, Def, Default, Kind, REPLACE_NULL_WITH_DEFAULT, Setting, Settings, invalid, show,
};
use crate::data::Data;
use crate::schema::{self, Schema, Type};
use crate::strings::{java_split, parse_number_like};
use crate::value::{Value, java_class};
use crate::{
    KafkaTransform, Side, check_put, field_value, read, require_map, require_struct, write,
};

/// A field to insert, `name?` (optional, the default) or `name!` (required).
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<String>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(n) = spec.strip_suffix('?') {
            Spec {
                name: n.into(),
                optional: true,
            }
        } else if let Some(n) = spec.strip_suffix('!') {
            Spec {
                name: n.into(),
                optional: false,
            }
        } else {
            Spec {
                name: spec,
                optional: true,
            }
        })
    }
}

/// `org.apache.kafka.connect.transforms.InsertField`.
pub struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: Option<String>,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

fn string_key(name: &'static str, doc: &'static str) -> Def {
    Def {
        name,
        kind: Kind::Str,
        default: Default::Null,
        importance: Importance::Medium,
        doc,
        check: Check::None,
    }
}

fn refuse_offset_field(name: &str, value: &Setting) -> Result<(), String> {
    match value {
        Setting::Null => Ok(()),
        other => Err(invalid(
            name,
            &show(other),
            "offset.field is not supported by this worker: transforms do not see the record's Kafka offset",
        )),
    }
}

impl KafkaTransform for InsertField {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.InsertField";
    const DOC: &'static str =
        "Insert field(s) using attributes from the record metadata or a configured static value.";

    fn definition() -> Vec<Def> {
        vec![
            string_key(
                "topic.field",
                "Field name for Kafka topic. Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).",
            ),
            string_key(
                "partition.field",
                "Field name for Kafka partition. Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).",
            ),
            Def {
                check: Check::Custom(refuse_offset_field),
                ..string_key(
                    "offset.field",
                    "Field name for Kafka offset - only applicable to sink connectors.<br/>Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).",
                )
            },
            string_key(
                "timestamp.field",
                "Field name for record timestamp. Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).",
            ),
            string_key(
                "static.field",
                "Field name for static data field. Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).",
            ),
            string_key(
                "static.value",
                "Static field value, if field name configured.",
            ),
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        let t = InsertField {
            side,
            topic: Spec::parse(s.string("topic.field")),
            partition: Spec::parse(s.string("partition.field")),
            timestamp: Spec::parse(s.string("timestamp.field")),
            static_field: Spec::parse(s.string("static.field")),
            static_value: s.string("static.value"),
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        };
        if t.topic.is_none()
            && t.partition.is_none()
            && t.timestamp.is_none()
            && t.static_field.is_none()
        {
            return Err("No field insertion configured".into());
        }
        if let (Some(f), None) = (&t.static_field, &t.static_value) {
            return Err(invalid(
                "static.value",
                "null",
                &format!("No value specified for static field: {}", f.name),
            ));
        }
        Ok(t)
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "field insertion";
        let data = read(&record, self.side)?;
        if data.value.is_null() {
            return Ok(Some(record));
        }
        let mut inserts: Vec<(&Spec, Value, Schema)> = Vec::new();
        if let Some(f) = &self.topic {
            inserts.push((
                f,
                Value::Str(record.topic.clone()),
                Schema::of(Type::String),
            ));
        }
        if let Some(f) = &self.partition {
            inserts.push((
                f,
                record.partition.map_or(Value::Null, Value::I32),
                Schema::of(Type::Int32),
            ));
        }
        if let Some(f) = &self.timestamp {
            let mut ts = Schema::of(Type::Int64).named(schema::TIMESTAMP);
            ts.version = Some(1);
            inserts.push((f, record.timestamp.map_or(Value::Null, Value::I64), ts));
        }
        if let (Some(f), Some(v)) = (&self.static_field, &self.static_value) {
            inserts.push((f, Value::Str(v.clone()), Schema::of(Type::String)));
        }
        let out = match &data.schema {
            None => {
                let mut map = require_map(&data.value, PURPOSE)?.clone();
                for (spec, v, _) in inserts {
                    // Kafka skips a null partition or timestamp rather than inserting null.
                    if !v.is_null() {
                        Value::map_put(&mut map, &spec.name, v);
                    }
                }
                Data::schemaless(Value::Map(map))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut updated = Schema::struct_like(schema);
                let mut values = Vec::with_capacity(schema.fields.len() + inserts.len());
                for f in &schema.fields {
                    updated.push_field(&f.name, f.schema.clone())?;
                    let v = field_value(members, f, self.replace_null_with_default);
                    values.push((f.name.clone(), v.clone()));
                }
                for (spec, v, s) in inserts {
                    updated.push_field(&spec.name, s.optional(spec.optional))?;
                    values.push((spec.name.clone(), v));
                }
                Data::with_schema(updated, Value::Struct(values))
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

/// `org.apache.kafka.connect.transforms.ReplaceField`.
pub struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: Vec<(String, String)>,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

fn parse_renames(name: &str, mappings: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for m in mappings {
        let parts = java_split(m, ':');
        if parts.len() != 2 {
            return Err(invalid(
                name,
                &format!("[{}]", mappings.join(", ")),
                &format!("Invalid rename mapping: {m}"),
            ));
        }
        out.retain(|(from, _)| *from != parts[0]);
        out.push((parts[0].clone(), parts[1].clone()));
    }
    Ok(out)
}

fn check_renames(name: &str, value: &Setting) -> Result<(), String> {
    match value {
        Setting::List(l) => parse_renames(name, l).map(|_| ()),
        _ => Ok(()),
    }
}

impl ReplaceField {
    fn keep(&self, field: &str) -> bool {
        !self.exclude.iter().any(|f| f == field)
            && (self.include.is_empty() || self.include.iter().any(|f| f == field))
    }

    fn renamed<'a>(&'a self, field: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(from, _)| from == field)
            .map_or(field, |(_, to)| to)
    }

    fn reverse_renamed<'a>(&'a self, field: &'a str) -> &'a str {
        // `invert` keeps the last mapping onto a name, as HashMap.put does.
        self.renames
            .iter()
            .rev()
            .find(|(_, to)| to == field)
            .map_or(field, |(from, _)| from)
    }
}

impl KafkaTransform for ReplaceField {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.ReplaceField";
    const DOC: &'static str = "Filter or rename fields.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "exclude",
                kind: Kind::List,
                default: Default::Value(""),
                importance: Importance::Medium,
                doc: "Fields to exclude. This takes precedence over the fields to include.",
                check: Check::NonDuplicateList {
                    empty_allowed: true,
                },
            },
            Def {
                name: "include",
                kind: Kind::List,
                default: Default::Value(""),
                importance: Importance::Medium,
                doc: "Fields to include. If specified, only these fields will be used.",
                check: Check::NonDuplicateList {
                    empty_allowed: true,
                },
            },
            Def {
                name: "renames",
                kind: Kind::List,
                default: Default::Value(""),
                importance: Importance::Medium,
                doc: "Field rename mappings.",
                check: Check::Custom(check_renames),
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        Ok(ReplaceField {
            side,
            exclude: s.list("exclude"),
            include: s.list("include"),
            renames: parse_renames("renames", &s.list("renames"))?,
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "field replacement";
        let data = read(&record, self.side)?;
        if data.value.is_null() {
            return Ok(Some(record));
        }
        let out = match &data.schema {
            None => {
                let mut map = Vec::new();
                for (k, v) in require_map(&data.value, PURPOSE)? {
                    let Value::Str(name) = k else { continue };
                    if self.keep(name) {
                        Value::map_put(&mut map, self.renamed(name), v.clone());
                    }
                }
                Data::schemaless(Value::Map(map))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut updated = Schema::struct_like(schema);
                for f in &schema.fields {
                    if self.keep(&f.name) {
                        updated.push_field(self.renamed(&f.name), f.schema.clone())?;
                    }
                }
                let values = updated
                    .fields
                    .iter()
                    .map(|f| {
                        // Kafka reads the field by its original name; one
                        // the struct lacks reads as null.
                        let v = schema
                            .field(self.reverse_renamed(&f.name))
                            .map_or(&Value::Null, |orig| {
                                field_value(members, orig, self.replace_null_with_default)
                            });
                        (f.name.clone(), v.clone())
                    })
                    .collect();
                Data::with_schema(updated, Value::Struct(values))
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

/// `org.apache.kafka.connect.transforms.MaskField`.
pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

fn masked(
    schema: Option<&Schema>,
    value: &Value,
    replacement: Option<&str>,
) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let class = java_class(schema, value);
    let decimal_scale = || {
        schema
            .and_then(|s| s.parameters.as_ref())
            .and_then(|p| p.iter().find(|(k, _)| k == "scale"))
            .map_or(0, |(_, v)| v.parse::<i32>().unwrap_or(0))
    };
    if let Some(r) = replacement {
        let out_of_range = || format!("Unable to convert {r} (class java.lang.String) to number");
        let not_number = || format!("Unable to convert {r} (class java.lang.String) to a number");
        return Ok(match class {
            "java.lang.Byte" | "java.lang.Short" | "java.lang.Integer" | "java.lang.Long" => {
                let n = parse_number_like(r).ok_or_else(not_number)?;
                // Values.convertTo* narrow a long as a Java cast does.
                let l = n.as_long();
                match value {
                    Value::I8(_) => Value::I8(l as i8),
                    Value::I16(_) => Value::I16(l as i16),
                    Value::I32(_) => Value::I32(l as i32),
                    _ => Value::I64(l),
                }
            }
            "java.lang.Float" => {
                Value::F32(parse_number_like(r).ok_or_else(not_number)?.as_double() as f32)
            }
            "java.lang.Double" => {
                Value::F64(parse_number_like(r).ok_or_else(not_number)?.as_double())
            }
            "java.lang.String" => Value::Str(r.to_string()),
            "java.math.BigDecimal" => {
                let n = parse_number_like(r).ok_or_else(out_of_range)?;
                n.to_decimal_bytes(decimal_scale())?
            }
            _ => {
                return Err(format!(
                    "Cannot mask value of type class {class} with custom replacement."
                ));
            }
        });
    }
    Ok(match (class, value) {
        ("java.lang.Boolean", _) => Value::Bool(false),
        ("java.lang.Byte", _) => Value::I8(0),
        ("java.lang.Short", _) => Value::I16(0),
        ("java.lang.Integer", _) => Value::I32(0),
        ("java.lang.Long", _) => Value::I64(0),
        ("java.lang.Float", _) => Value::F32(0.0),
        ("java.lang.Double", _) => Value::F64(0.0),
        ("java.lang.String", _) => Value::Str(String::new()),
        ("java.math.BigDecimal", _) => {
            if decimal_scale() != 0 {
                return Err(
                    "BigDecimal has mismatching scale value for given Decimal schema".into(),
                );
            }
            Value::Bytes(vec![0])
        }
        ("java.util.Date", Value::I32(_)) => Value::I32(0),
        ("java.util.Date", Value::I64(_)) => Value::I64(0),
        ("java.util.Date", _) => Value::Date(0),
        (_, Value::Array(_)) => Value::Array(Vec::new()),
        (_, Value::Map(_)) => Value::Map(Vec::new()),
        _ => return Err(format!("Cannot mask value of type: class {class}")),
    })
}

impl KafkaTransform for MaskField {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.MaskField";
    const DOC: &'static str = "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on).";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "fields",
                kind: Kind::List,
                default: Default::Required,
                importance: Importance::High,
                doc: "Names of fields to mask.",
                check: Check::NonDuplicateList {
                    empty_allowed: false,
                },
            },
            Def {
                name: "replacement",
                kind: Kind::Str,
                default: Default::Null,
                importance: Importance::Low,
                doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
                check: Check::NonEmptyString,
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        Ok(MaskField {
            side,
            fields: s.list("fields"),
            replacement: s.string("replacement"),
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "mask fields";
        let data = read(&record, self.side)?;
        let r = self.replacement.as_deref();
        let out = match &data.schema {
            None => {
                let mut map = require_map(&data.value, PURPOSE)?.clone();
                for f in &self.fields {
                    let v = masked(None, data.value.get(f).unwrap_or(&Value::Null), r)?;
                    Value::map_put(&mut map, f, v);
                }
                Data::schemaless(Value::Map(map))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut values = Vec::with_capacity(members.len());
                for f in &schema.fields {
                    let v = field_value(members, f, self.replace_null_with_default);
                    let v = if self.fields.contains(&f.name) {
                        masked(Some(&f.schema), v, r)?
                    } else {
                        v.clone()
                    };
                    values.push((f.name.clone(), v));
                }
                Data::with_schema(schema.clone(), Value::Struct(values))
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

/// `org.apache.kafka.connect.transforms.ValueToKey`.
pub struct ValueToKey {
    fields: Vec<String>,
    /// `replace.null.with.default`: read struct fields with `Struct.get`
    /// (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

impl KafkaTransform for ValueToKey {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.ValueToKey";
    const DOC: &'static str =
        "Replace the record key with a new key formed from a subset of fields in the record value.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "fields",
                kind: Kind::List,
                default: Default::Required,
                importance: Importance::High,
                doc: "Field names on the record value to extract as the record key.",
                check: Check::NonDuplicateList {
                    empty_allowed: false,
                },
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(_side: Side, s: &Settings) -> Result<Self, String> {
        Ok(ValueToKey {
            fields: s.list("fields"),
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "copying fields from value to key";
        let data = read(&record, Side::Value)?;
        let key = match &data.schema {
            None => {
                require_map(&data.value, PURPOSE)?;
                let mut map = Vec::new();
                for f in &self.fields {
                    Value::map_put(
                        &mut map,
                        f,
                        data.value.get(f).cloned().unwrap_or(Value::Null),
                    );
                }
                Data::schemaless(Value::Map(map))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut key_schema = Schema::of(Type::Struct);
                let mut values = Vec::new();
                for f in &self.fields {
                    let field = schema
                        .field(f)
                        .ok_or_else(|| format!("Field does not exist: {f}"))?;
                    key_schema.push_field(f, field.schema.clone())?;
                    let v = field_value(members, field, self.replace_null_with_default).clone();
                    check_put(f, &field.schema, &v)?;
                    values.push((f.clone(), v));
                }
                Data::with_schema(key_schema, Value::Struct(values))
            }
        };
        write(record, Side::Key, &key).map(Some)
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
