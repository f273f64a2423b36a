//! `Flatten`: nested structs (with a schema) or maps (without) become
//! top-level fields named by joining the path with `delimiter`; arrays
//! and other values are kept as they are, and a field under an optional
//! parent becomes optional.

use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{Check, Def, Default, Kind, Settings};
use crate::data::Data;
use crate::schema::{Schema, Type};
use crate::value::{Value, java_class};
use crate::{KafkaTransform, Side, read, require_map, require_struct, write};

/// `org.apache.kafka.connect.transforms.Flatten`.
pub struct Flatten {
    side: Side,
    delimiter: String,
}

impl Flatten {
    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn schemaless(
        &self,
        entries: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> Result<(), String> {
        for (k, v) in entries {
            let key = match k {
                Value::Str(s) => s.clone(),
                other => crate::strings::convert_to_string(None, other).unwrap_or_default(),
            };
            let name = self.name(prefix, &key);
            match v {
                Value::Map(inner) => self.schemaless(inner, &name, out)?,
                Value::Struct(_) => {
                    return Err(format!(
                        "Flatten transformation does not support class {} for record without schemas (for field {name}).",
                        java_class(None, v)
                    ));
                }
                other => Value::map_put(out, &name, other.clone()),
            }
        }
        Ok(())
    }

    fn schema(
        &self,
        schema: &Schema,
        prefix: &str,
        out: &mut Schema,
        optional: bool,
        parent_default: Option<&Value>,
    ) -> Result<(), String> {
        for f in &schema.fields {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.optional;
            let default = f.schema.default.as_deref().or_else(|| {
                parent_default
                    .and_then(|d| d.get(&f.name))
                    .filter(|v| !v.is_null())
            });
            match f.schema.ty {
                Type::Struct => self.schema(&f.schema, &name, out, field_optional, default)?,
                Type::Map => {
                    return Err(format!(
                        "Flatten transformation does not support MAP for record with schemas (for field {name})."
                    ));
                }
                _ => {
                    let mut s = f.schema.clone();
                    s.optional = s.optional || field_optional;
                    s.default = default.map(|d| Box::new(d.clone()));
                    out.push_field(&name, s)?;
                }
            }
        }
        Ok(())
    }

    fn values(
        &self,
        schema: &Schema,
        members: &[(String, Value)],
        prefix: &str,
        out: &mut Vec<(String, Value)>,
    ) {
        for f in &schema.fields {
            let name = self.name(prefix, &f.name);
            // Flatten reads every field with `Struct.get`: a null takes its default.
            let v = crate::field_value(members, f, true);
            match (f.schema.ty, v) {
                (Type::Struct, Value::Struct(inner)) => self.values(&f.schema, inner, &name, out),
                (Type::Struct, _) => {}
                _ => out.push((name, v.clone())),
            }
        }
    }
}

impl KafkaTransform for Flatten {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.Flatten";
    const DOC: &'static str = "Flatten a nested data structure, generating names for each field by concatenating the field names at each level with a configurable delimiter character.";

    fn definition() -> Vec<Def> {
        vec![Def {
            name: "delimiter",
            kind: Kind::Str,
            default: Default::Value("."),
            importance: Importance::Medium,
            doc: "Delimiter to insert between field names from the input record when generating field names for the output record",
            check: Check::None,
        }]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        Ok(Flatten {
            side,
            delimiter: s.string("delimiter").unwrap_or_default(),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "flattening";
        let data = read(&record, self.side)?;
        if data.value.is_null() {
            return Ok(Some(record));
        }
        let out = match &data.schema {
            None => {
                let mut out = Vec::new();
                self.schemaless(require_map(&data.value, PURPOSE)?, "", &mut out)?;
                Data::schemaless(Value::Map(out))
            }
            Some(schema) => {
                let members = require_struct(Some(schema), &data.value, PURPOSE)?;
                let mut updated = Schema::struct_like(schema);
                updated.optional = schema.optional;
                self.schema(
                    schema,
                    "",
                    &mut updated,
                    schema.optional,
                    schema.default.as_deref(),
                )?;
                let mut values = Vec::new();
                self.values(schema, members, "", &mut values);
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

    #[test]
    fn flattens_maps_and_structs() {
        let t = Flatten::configure(
            Side::Value,
            &parse(&Flatten::definition(), &cfg(&[])).unwrap(),
        )
        .unwrap();
        let r = t
            .apply(record(
                None,
                json(r#"{"a":{"b":1,"c":[1]},"d":null}"#, None),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value).0, r#"{"a.b":1,"a.c":[1],"d":null}"#);
        let schema = r#"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":false,"field":"b"}],"optional":true,"field":"a"}],"optional":false,"name":"n"}"#;
        let r = t
            .apply(record(None, json(r#"{"a":{"b":2}}"#, Some(schema))))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value), (r#"{"a.b":2}"#.into(), Some(r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"a.b"}],"optional":false,"name":"n"}"#.into())));
    }
}
