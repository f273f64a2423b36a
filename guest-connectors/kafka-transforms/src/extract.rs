//! Whole-value reshaping: `ExtractField` (a value becomes one of its
//! fields, nested with `field.syntax.version=V2`), `HoistField` (a value
//! wrapped in a one-field struct or map) and `SetSchemaMetadata` (a new
//! schema name and version).

use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{Check, Def, Default, Kind, REPLACE_NULL_WITH_DEFAULT, Settings};
use crate::data::Data;
use crate::path::{FieldPath, VERSION_DOC, VERSIONS};
use crate::schema::{Schema, Type};
use crate::value::Value;
use crate::{
    KafkaTransform, Side, check_put, field_value, read, require_map, require_struct, write,
};

/// `org.apache.kafka.connect.transforms.ExtractField`.
pub struct ExtractField {
    side: Side,
    original: String,
    path: FieldPath,
    /// `replace.null.with.default`: read the field with `Struct.get` (a
    /// null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

impl KafkaTransform for ExtractField {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.ExtractField";
    const DOC: &'static str = "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. Any null values are passed through unmodified.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "field",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::Medium,
                doc: "Field name to extract.",
                check: Check::None,
            },
            REPLACE_NULL_WITH_DEFAULT,
            Def {
                name: "field.syntax.version",
                kind: Kind::Str,
                default: Default::Value("V1"),
                importance: Importance::High,
                doc: VERSION_DOC,
                check: Check::OneOfIgnoringCase(VERSIONS),
            },
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        let original = s.string("field").unwrap_or_default();
        let version = s
            .string("field.syntax.version")
            .unwrap_or_else(|| "V1".into());
        Ok(ExtractField {
            side,
            path: FieldPath::new(&original, &version)?,
            original,
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        const PURPOSE: &str = "field extraction";
        let data = read(&record, self.side)?;
        let out = match &data.schema {
            None => {
                let v = if data.value.is_null() {
                    Value::Null
                } else {
                    self.path
                        .value_from_map(&Value::Map(require_map(&data.value, PURPOSE)?.clone()))?
                };
                Data::schemaless(v)
            }
            Some(schema) => {
                if !data.value.is_null() {
                    require_struct(Some(schema), &data.value, PURPOSE)?;
                }
                let field = self
                    .path
                    .field_from(schema)
                    .ok_or_else(|| format!("Unknown field: {}", self.original))?;
                let v = if data.value.is_null() {
                    Value::Null
                } else {
                    self.path.value_from_struct(
                        schema,
                        &data.value,
                        self.replace_null_with_default,
                    )?
                };
                Data::with_schema(field.schema.clone(), v)
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

/// `org.apache.kafka.connect.transforms.HoistField`.
pub struct HoistField {
    side: Side,
    field: String,
}

impl KafkaTransform for HoistField {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.HoistField";
    const DOC: &'static str = "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data.";

    fn definition() -> Vec<Def> {
        vec![Def {
            name: "field",
            kind: Kind::Str,
            default: Default::Required,
            importance: Importance::Medium,
            doc: "Field name for the single field that will be created in the resulting Struct or Map.",
            check: Check::None,
        }]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        Ok(HoistField {
            side,
            field: s.string("field").unwrap_or_default(),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        let data = read(&record, self.side)?;
        let out = match data.schema {
            None => Data::schemaless(Value::Map(vec![(
                Value::Str(self.field.clone()),
                data.value,
            )])),
            Some(schema) => {
                check_put(&self.field, &schema, &data.value)?;
                let mut wrapped = Schema::of(Type::Struct);
                wrapped.push_field(&self.field, schema)?;
                Data::with_schema(
                    wrapped,
                    Value::Struct(vec![(self.field.clone(), data.value)]),
                )
            }
        };
        write(record, self.side, &out).map(Some)
    }
}

/// `org.apache.kafka.connect.transforms.SetSchemaMetadata`.
pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    /// `replace.null.with.default`: copy a struct's fields with
    /// `Struct.get` (a null takes its default) rather than `getWithoutDefault`.
    replace_null_with_default: bool,
}

impl KafkaTransform for SetSchemaMetadata {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.SetSchemaMetadata";
    const DOC: &'static str =
        "Set the schema name, version or both on the record's key or value schema.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "schema.name",
                kind: Kind::Str,
                default: Default::Null,
                importance: Importance::High,
                doc: "Schema name to set.",
                check: Check::None,
            },
            Def {
                name: "schema.version",
                kind: Kind::Int,
                default: Default::Null,
                importance: Importance::High,
                doc: "Schema version to set.",
                check: Check::None,
            },
            REPLACE_NULL_WITH_DEFAULT,
        ]
    }

    fn configure(side: Side, s: &Settings) -> Result<Self, String> {
        let (name, version) = (s.string("schema.name"), s.int("schema.version"));
        if name.is_none() && version.is_none() {
            return Err("Neither schema name nor version configured".into());
        }
        Ok(SetSchemaMetadata {
            side,
            name,
            version,
            replace_null_with_default: s.boolean(REPLACE_NULL_WITH_DEFAULT.name),
        })
    }

    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        let data = read(&record, self.side)?;
        let Some(mut schema) = data.schema.clone() else {
            if data.value.is_null() {
                return Ok(Some(record));
            }
            return Err("Schema required for [updating schema metadata]".into());
        };
        if let Some(n) = &self.name {
            schema.name = Some(n.clone());
        }
        if let Some(v) = self.version {
            schema.version = Some(v);
        }
        // `updateSchemaIn`: a struct is copied field by field into one of
        // the new schema; any other value is kept as it is.
        let value = match &data.value {
            Value::Struct(members) => Value::Struct(
                schema
                    .fields
                    .iter()
                    .map(|f| {
                        let v = field_value(members, f, self.replace_null_with_default);
                        (f.name.clone(), v.clone())
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        let out = Data {
            schema: Some(schema),
            value,
            form: data.form,
        };
        write(record, self.side, &out).map(Some)
    }
}
