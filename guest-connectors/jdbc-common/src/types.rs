//! Plain mirrors of the `wasmconnect:database/sql` values and columns (so
//! this crate builds and tests natively, without the bindings) and the
//! Kafka Connect types both connectors speak, with their JsonConverter
//! schema form.

/// A database value (the WIT `value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    F32(f32),
    F64(f64),
    /// Exact decimal text.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01T00:00, no zone (read as UTC).
    Timestamp(i64),
    /// Microseconds since the Unix epoch.
    TimestampTz(i64),
}

/// How a column's values arrive (the WIT `value-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Int,
    Float32,
    Float64,
    Decimal,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    /// Undecoded (arrays, ranges, …): raw driver bytes.
    Other,
}

/// A result column (the WIT `column`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    pub kind: Kind,
    pub nullable: Option<bool>,
    pub precision: Option<u32>,
    pub scale: Option<i32>,
    pub auto_increment: bool,
}

/// A Kafka Connect type of a flat struct field, logical types included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    String,
    Bytes,
    /// `org.apache.kafka.connect.data.Decimal`; `precision` is Confluent's
    /// `connect.decimal.precision` parameter when known.
    Decimal {
        scale: i32,
        precision: Option<u32>,
    },
    /// `org.apache.kafka.connect.data.Date`: int32 days.
    Date,
    /// `org.apache.kafka.connect.data.Time`: int32 milliseconds of the day.
    Time,
    /// `org.apache.kafka.connect.data.Timestamp`: int64 epoch milliseconds.
    Timestamp,
}

pub const DECIMAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
pub const DATE_NAME: &str = "org.apache.kafka.connect.data.Date";
pub const TIME_NAME: &str = "org.apache.kafka.connect.data.Time";
pub const TIMESTAMP_NAME: &str = "org.apache.kafka.connect.data.Timestamp";

impl ConnectType {
    /// The physical Connect type name.
    pub fn physical(self) -> &'static str {
        match self {
            ConnectType::Boolean => "boolean",
            ConnectType::Int8 => "int8",
            ConnectType::Int16 => "int16",
            ConnectType::Int32 | ConnectType::Date | ConnectType::Time => "int32",
            ConnectType::Int64 | ConnectType::Timestamp => "int64",
            ConnectType::Float32 => "float32",
            ConnectType::Float64 => "float64",
            ConnectType::String => "string",
            ConnectType::Bytes | ConnectType::Decimal { .. } => "bytes",
        }
    }

    /// The type's name in a JsonConverter schema, which calls FLOAT32 and
    /// FLOAT64 `float` and `double`.
    pub fn json_type(self) -> &'static str {
        match self {
            ConnectType::Float32 => "float",
            ConnectType::Float64 => "double",
            other => other.physical(),
        }
    }

    /// The schema of a field, as JsonConverter writes it: `type`,
    /// `optional`, then `name`, `version` and `parameters` for logical
    /// types, then `field`.
    pub fn field_schema_json(self, field: &str, optional: bool) -> String {
        let mut out = format!(
            "{{\"type\":\"{}\",\"optional\":{optional}",
            self.json_type()
        );
        let logical = match self {
            ConnectType::Decimal { .. } => Some(DECIMAL_NAME),
            ConnectType::Date => Some(DATE_NAME),
            ConnectType::Time => Some(TIME_NAME),
            ConnectType::Timestamp => Some(TIMESTAMP_NAME),
            _ => None,
        };
        if let Some(name) = logical {
            out.push_str(&format!(",\"name\":\"{name}\",\"version\":1"));
        }
        if let ConnectType::Decimal { scale, precision } = self {
            out.push_str(&format!(",\"parameters\":{{\"scale\":\"{scale}\""));
            if let Some(p) = precision {
                out.push_str(&format!(",\"connect.decimal.precision\":\"{p}\""));
            }
            out.push('}');
        }
        out.push_str(",\"field\":");
        out.push_str(&json_string(field));
        out.push('}');
        out
    }
}

/// A field of a flat struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: ConnectType,
    pub optional: bool,
}

/// The struct schema of a record value as JsonConverter writes it; `name`
/// is the table in table mode and absent in query mode.
pub fn struct_schema_json(fields: &[Field], name: Option<&str>) -> String {
    let mut out = String::from("{\"type\":\"struct\",\"fields\":[");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&f.ty.field_schema_json(&f.name, f.optional));
    }
    out.push_str("],\"optional\":false");
    if let Some(name) = name {
        out.push_str(",\"name\":");
        out.push_str(&json_string(name));
    }
    out.push('}');
    out
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floating_point_fields_carry_json_converter_names() {
        assert_eq!(
            ConnectType::Float64.field_schema_json("x", true),
            r#"{"type":"double","optional":true,"field":"x"}"#
        );
        assert_eq!(ConnectType::Float32.json_type(), "float");
        assert_eq!(ConnectType::Float32.physical(), "float32");
    }

    #[test]
    fn schema_json_matches_json_converter() {
        let fields = [
            Field {
                name: "id".into(),
                ty: ConnectType::Int32,
                optional: false,
            },
            Field {
                name: "amount".into(),
                ty: ConnectType::Decimal {
                    scale: 2,
                    precision: Some(10),
                },
                optional: true,
            },
            Field {
                name: "d".into(),
                ty: ConnectType::Date,
                optional: true,
            },
        ];
        assert_eq!(
            struct_schema_json(&fields, Some("users")),
            "{\"type\":\"struct\",\"fields\":[\
             {\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},\
             {\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\",\
             \"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},\"field\":\"amount\"},\
             {\"type\":\"int32\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1,\"field\":\"d\"}\
             ],\"optional\":false,\"name\":\"users\"}"
        );
        assert_eq!(
            struct_schema_json(&[], None),
            "{\"type\":\"struct\",\"fields\":[],\"optional\":false}"
        );
    }
}
