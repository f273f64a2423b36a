//! Kafka Connect schemas (`ConnectSchema`) read from and written to
//! JsonConverter's schema JSON (`{"type":"struct","fields":[…],"optional":false,…}`),
//! member for member in the order JsonConverter writes them. Call
//! [`Schema::from_json`] / [`Schema::to_json`]; the constructors
//! ([`Schema::of`], [`Schema::optional_string`], …) mirror `SchemaBuilder`.

use crate::json::Json;
use crate::value::{self, Value};

/// `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl Type {
    /// The enum constant's name, as Kafka's messages print it (`INT32`).
    pub fn java_name(self) -> &'static str {
        match self {
            Type::Int8 => "INT8",
            Type::Int16 => "INT16",
            Type::Int32 => "INT32",
            Type::Int64 => "INT64",
            Type::Float32 => "FLOAT32",
            Type::Float64 => "FLOAT64",
            Type::Boolean => "BOOLEAN",
            Type::String => "STRING",
            Type::Bytes => "BYTES",
            Type::Array => "ARRAY",
            Type::Map => "MAP",
            Type::Struct => "STRUCT",
        }
    }

    /// `Schema.Type.valueOf(name.toUpperCase())`.
    pub fn from_java_name(name: &str) -> Option<Type> {
        let all = [
            Type::Int8,
            Type::Int16,
            Type::Int32,
            Type::Int64,
            Type::Float32,
            Type::Float64,
            Type::Boolean,
            Type::String,
            Type::Bytes,
            Type::Array,
            Type::Map,
            Type::Struct,
        ];
        let upper = name.to_uppercase();
        all.into_iter().find(|t| t.java_name() == upper)
    }

    /// The name in JsonConverter's schema JSON (`float` for FLOAT32).
    fn json_name(self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array => "array",
            Type::Map => "map",
            Type::Struct => "struct",
        }
    }
}

/// Logical type names (`org.apache.kafka.connect.data.*`).
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
}

/// A Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Box<Value>>,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    pub parameters: Option<Vec<(String, String)>>,
    pub fields: Vec<Field>,
    pub key: Option<Box<Schema>>,
    pub value: Option<Box<Schema>>,
}

impl Schema {
    /// A required schema of `ty` with nothing else set (`SchemaBuilder.type(ty)`).
    pub fn of(ty: Type) -> Schema {
        Schema {
            ty,
            optional: false,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: None,
            fields: Vec::new(),
            key: None,
            value: None,
        }
    }

    /// `Schema.OPTIONAL_STRING_SCHEMA`: what StringConverter gives a text payload.
    pub fn optional_string() -> Schema {
        Schema::of(Type::String).optional(true)
    }

    /// Sets optionality.
    pub fn optional(mut self, optional: bool) -> Schema {
        self.optional = optional;
        self
    }

    /// Sets the name.
    pub fn named(mut self, name: &str) -> Schema {
        self.name = Some(name.to_string());
        self
    }

    /// An empty struct schema carrying `source`'s name, version, doc and
    /// parameters (`SchemaUtil.copySchemaBasics(source, SchemaBuilder.struct())`).
    pub fn struct_like(source: &Schema) -> Schema {
        Schema {
            name: source.name.clone(),
            version: source.version,
            doc: source.doc.clone(),
            parameters: source.parameters.clone(),
            ..Schema::of(Type::Struct)
        }
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Appends a field, refusing a duplicate as `SchemaBuilder.field` does.
    pub fn push_field(&mut self, name: &str, schema: Schema) -> Result<(), String> {
        if self.field(name).is_some() {
            return Err(format!(
                "Cannot create field because of field name duplication {name}"
            ));
        }
        self.fields.push(Field {
            name: name.to_string(),
            schema,
        });
        Ok(())
    }

    /// Whether this is the logical type `logical`.
    pub fn is(&self, logical: &str) -> bool {
        self.name.as_deref() == Some(logical)
    }

    /// Reads JsonConverter's schema JSON (`asConnectSchema`).
    pub fn from_json(json: &Json) -> Result<Schema, String> {
        let Json::Obj(_) = json else {
            return Err("Schema must be a JSON object".into());
        };
        let type_name = json
            .get("type")
            .and_then(Json::as_str)
            .ok_or("Schema must contain 'type' field")?;
        let ty = match type_name {
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "int32" => Type::Int32,
            "int64" => Type::Int64,
            "float" => Type::Float32,
            "double" => Type::Float64,
            "boolean" => Type::Boolean,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "array" => Type::Array,
            "map" => Type::Map,
            "struct" => Type::Struct,
            other => return Err(format!("Unknown schema type: {other}")),
        };
        let mut schema = Schema::of(ty);
        match ty {
            Type::Struct => {
                let Some(Json::Arr(fields)) = json.get("fields") else {
                    return Err("Struct schema's \"fields\" argument is not an array.".into());
                };
                for f in fields {
                    let name = f
                        .get("field")
                        .and_then(Json::as_str)
                        .ok_or("Struct schema's field name not specified properly")?;
                    let field_schema = Schema::from_json(f)?;
                    schema.push_field(name, field_schema)?;
                }
            }
            Type::Array => {
                let items = json
                    .get("items")
                    .ok_or("Array schema did not specify the element type")?;
                schema.value = Some(Box::new(Schema::from_json(items)?));
            }
            Type::Map => {
                let keys = json
                    .get("keys")
                    .ok_or("Map schema did not specify the key type")?;
                let values = json
                    .get("values")
                    .ok_or("Map schema did not specify the value type")?;
                schema.key = Some(Box::new(Schema::from_json(keys)?));
                schema.value = Some(Box::new(Schema::from_json(values)?));
            }
            _ => {}
        }
        if let Some(Json::Bool(b)) = json.get("optional") {
            schema.optional = *b;
        }
        schema.name = json.get("name").and_then(Json::as_str).map(str::to_string);
        if let Some(Json::Num(v)) = json.get("version") {
            schema.version = Some(v.parse().map_err(|_| "Invalid schema version")?);
        }
        schema.doc = json.get("doc").and_then(Json::as_str).map(str::to_string);
        if let Some(Json::Obj(params)) = json.get("parameters") {
            let mut out = Vec::new();
            for (k, v) in params {
                let text = match v {
                    Json::Str(s) => s.clone(),
                    other => other.to_text(),
                };
                out.push((k.clone(), text));
            }
            schema.parameters = Some(out);
        }
        if let Some(default) = json.get("default").filter(|d| **d != Json::Null) {
            let value = value::from_json(&schema, default)?;
            schema.default = Some(Box::new(value));
        }
        Ok(schema)
    }

    /// Writes JsonConverter's schema JSON (`asJsonSchema`).
    pub fn to_json(&self) -> Result<Json, String> {
        let mut m: Vec<(String, Json)> =
            vec![("type".into(), Json::Str(self.ty.json_name().into()))];
        match self.ty {
            Type::Array => {
                if let Some(items) = &self.value {
                    m.push(("items".into(), items.to_json()?));
                }
            }
            Type::Map => {
                if let (Some(k), Some(v)) = (&self.key, &self.value) {
                    m.push(("keys".into(), k.to_json()?));
                    m.push(("values".into(), v.to_json()?));
                }
            }
            Type::Struct => {
                let mut fields = Vec::new();
                for f in &self.fields {
                    let mut j = f.schema.to_json()?;
                    if let Json::Obj(members) = &mut j {
                        members.push(("field".into(), Json::Str(f.name.clone())));
                    }
                    fields.push(j);
                }
                m.push(("fields".into(), Json::Arr(fields)));
            }
            _ => {}
        }
        m.push(("optional".into(), Json::Bool(self.optional)));
        if let Some(n) = &self.name {
            m.push(("name".into(), Json::Str(n.clone())));
        }
        if let Some(v) = self.version {
            m.push(("version".into(), Json::Num(v.to_string())));
        }
        if let Some(d) = &self.doc {
            m.push(("doc".into(), Json::Str(d.clone())));
        }
        if let Some(p) = &self.parameters {
            let params = p
                .iter()
                .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
                .collect();
            m.push(("parameters".into(), Json::Obj(params)));
        }
        if let Some(d) = &self.default {
            m.push(("default".into(), value::to_json(self, d)?));
        }
        Ok(Json::Obj(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn round_trips_json_converter_schemas() {
        let text = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"default":7,"field":"a"},{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"b"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"double","optional":false},"optional":false,"field":"c"}],"optional":false,"name":"x","version":2,"doc":"d","parameters":{"p":"q"}}"#;
        let s = Schema::from_json(&parse(text).unwrap()).unwrap();
        assert_eq!(s.fields.len(), 3);
        assert_eq!(
            s.field("a").unwrap().schema.default.as_deref(),
            Some(&Value::I32(7))
        );
        assert_eq!(s.to_json().unwrap().to_text(), text);
    }

    #[test]
    fn refuses_broken_schemas() {
        let e = Schema::from_json(&parse(r#"{"type":"nope"}"#).unwrap()).unwrap_err();
        assert_eq!(e, "Unknown schema type: nope");
        assert!(Schema::from_json(&parse(r#"{"optional":true}"#).unwrap()).is_err());
    }
}
