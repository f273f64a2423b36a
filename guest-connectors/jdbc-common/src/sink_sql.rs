//! Sink side: which columns a record writes (Confluent's `FieldsMetadata`
//! per `pk.mode`), and the DML and DDL each dialect gets.

use crate::connect::Schema;
use crate::decimal::Decimal;
use crate::dialect::Dialect;
use crate::types::ConnectType;
use serde_json::Value as Json;
use std::collections::HashMap;

/// `insert.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    Insert,
    Upsert,
    Update,
}

impl InsertMode {
    pub fn parse(text: &str) -> Option<InsertMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "insert" => Some(InsertMode::Insert),
            "upsert" => Some(InsertMode::Upsert),
            "update" => Some(InsertMode::Update),
            _ => None,
        }
    }
}

/// `pk.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    None,
    Kafka,
    RecordKey,
    RecordValue,
}

impl PkMode {
    pub fn parse(text: &str) -> Option<PkMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" => Some(PkMode::None),
            "kafka" => Some(PkMode::Kafka),
            "record_key" => Some(PkMode::RecordKey),
            "record_value" => Some(PkMode::RecordValue),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PkMode::None => "none",
            PkMode::Kafka => "kafka",
            PkMode::RecordKey => "record_key",
            PkMode::RecordValue => "record_value",
        }
    }
}

/// The default column names of `pk.mode=kafka`.
pub const KAFKA_PK_DEFAULTS: [&str; 3] =
    ["__connect_topic", "__connect_partition", "__connect_offset"];

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    Topic,
    Partition,
    Offset,
    /// The whole (primitive) key.
    Key,
    KeyField(String),
    ValueField(String),
}

/// A column a record writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkField {
    pub name: String,
    pub ty: ConnectType,
    pub optional: bool,
    pub default: Option<Json>,
    pub source: FieldSource,
}

/// The key and non-key columns of records of one key and value schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldsMetadata {
    pub keys: Vec<SinkField>,
    pub non_keys: Vec<SinkField>,
}

fn field(name: &str, schema: &Schema, source: FieldSource) -> Result<SinkField, String> {
    Ok(SinkField {
        name: name.into(),
        ty: schema
            .connect_type()
            .map_err(|e| format!("{e} (field {name})"))?,
        optional: schema.optional,
        default: schema.default.clone(),
        source,
    })
}

/// Confluent's `FieldsMetadata.extract`.
pub fn fields_metadata(
    table: &str,
    pk_mode: PkMode,
    pk_fields: &[String],
    whitelist: &[String],
    key: Option<&Schema>,
    value: Option<&Schema>,
) -> Result<FieldsMetadata, String> {
    if let Some(v) = value
        && !v.is_struct()
    {
        return Err(format!(
            "Value schema must be of type Struct, but is of type: {}",
            v.physical
        ));
    }
    let mode = pk_mode.name();
    let mut keys = Vec::new();
    match pk_mode {
        PkMode::None => {}
        PkMode::Kafka => {
            let names: Vec<&str> = match pk_fields.len() {
                0 => KAFKA_PK_DEFAULTS.to_vec(),
                3 => pk_fields.iter().map(String::as_str).collect(),
                _ => {
                    return Err(format!(
                        "PK mode for table '{table}' is KAFKA so there should either be no field names \
                         defined for defaults {} to be applicable, or exactly 3, defined fields are: {}",
                        KAFKA_PK_DEFAULTS.join(","),
                        pk_fields.join(",")
                    ));
                }
            };
            let types = [
                (ConnectType::String, FieldSource::Topic),
                (ConnectType::Int32, FieldSource::Partition),
                (ConnectType::Int64, FieldSource::Offset),
            ];
            for (name, (ty, source)) in names.into_iter().zip(types) {
                keys.push(SinkField {
                    name: name.into(),
                    ty,
                    optional: false,
                    default: None,
                    source,
                });
            }
        }
        PkMode::RecordKey => {
            let key = key.ok_or_else(|| {
                format!("PK mode for table '{table}' is {mode}, but record key schema is missing")
            })?;
            if key.is_struct() {
                let selected: Vec<&(String, Schema)> = if pk_fields.is_empty() {
                    key.fields.iter().collect()
                } else {
                    pk_fields
                        .iter()
                        .map(|name| {
                            key.fields.iter().find(|(n, _)| n == name).ok_or_else(|| {
                                format!(
                                    "PK mode for table '{table}' is {mode} with configured PK fields {}, \
                                     but record key schema does not contain field: {name}",
                                    pk_fields.join(",")
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?
                };
                for (name, schema) in selected {
                    keys.push(field(name, schema, FieldSource::KeyField(name.clone()))?);
                }
            } else {
                let [name] = pk_fields else {
                    return Err(format!(
                        "Need exactly one PK column defined since the key schema for records is a \
                         primitive type, defined columns are: {}",
                        pk_fields.join(",")
                    ));
                };
                keys.push(field(name, key, FieldSource::Key)?);
            }
        }
        PkMode::RecordValue => {
            let value = value.ok_or_else(|| {
                format!("PK mode for table '{table}' is {mode}, but record value schema is missing")
            })?;
            let names: Vec<&String> = if pk_fields.is_empty() {
                value.fields.iter().map(|(n, _)| n).collect()
            } else {
                pk_fields.iter().collect()
            };
            for name in names {
                let (_, schema) = value.fields.iter().find(|(n, _)| n == name).ok_or_else(
                    || {
                        format!(
                            "PK mode for table '{table}' is {mode} with configured PK fields {}, \
                         but record value schema does not contain field: {name}",
                            pk_fields.join(",")
                        )
                    },
                )?;
                keys.push(field(name, schema, FieldSource::ValueField(name.clone()))?);
            }
        }
    }
    let mut non_keys = Vec::new();
    if let Some(value) = value {
        for (name, schema) in &value.fields {
            if keys.iter().any(|k| &k.name == name) {
                continue;
            }
            if !whitelist.is_empty() && !whitelist.contains(name) {
                continue;
            }
            non_keys.push(field(name, schema, FieldSource::ValueField(name.clone()))?);
        }
    }
    Ok(FieldsMetadata { keys, non_keys })
}

/// Placeholder `n` with the cast PostgreSQL needs for a column of type
/// json, jsonb or uuid (Confluent's `valueTypeCast`); `casts` maps column
/// names to their database type names.
fn value(d: Dialect, n: usize, column: &str, casts: &HashMap<String, String>) -> String {
    let mut out = d.placeholder(n);
    if d == Dialect::Postgres
        && let Some(t) = casts.get(column)
    {
        let t = t.to_ascii_lowercase();
        if matches!(t.as_str(), "json" | "jsonb" | "uuid") {
            out.push_str("::");
            out.push_str(&t);
        }
    }
    out
}

fn column_list(d: Dialect, cols: &[&str]) -> String {
    cols.iter()
        .map(|c| d.quote(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// `INSERT`, or the dialect's upsert when `upsert`; parameters bind keys
/// then non-keys. An upsert without non-key columns does nothing on conflict.
pub fn insert_sql(
    d: Dialect,
    table: &str,
    keys: &[&str],
    non_keys: &[&str],
    casts: &HashMap<String, String>,
    upsert: bool,
) -> String {
    let all: Vec<&str> = keys.iter().chain(non_keys).copied().collect();
    let values: Vec<String> = all
        .iter()
        .enumerate()
        .map(|(i, c)| value(d, i + 1, c, casts))
        .collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        column_list(d, &all),
        values.join(",")
    );
    if !upsert {
        return sql;
    }
    match d {
        Dialect::Postgres | Dialect::Sqlite => {
            let excluded = if d == Dialect::Postgres {
                "EXCLUDED"
            } else {
                "excluded"
            };
            sql.push_str(&format!(" ON CONFLICT ({}) DO ", column_list(d, keys)));
            if non_keys.is_empty() {
                sql.push_str("NOTHING");
            } else {
                let sets: Vec<String> = non_keys
                    .iter()
                    .map(|c| format!("{q}={excluded}.{q}", q = d.quote(c)))
                    .collect();
                sql.push_str(&format!("UPDATE SET {}", sets.join(",")));
            }
        }
        Dialect::MySql => {
            let updated = if non_keys.is_empty() { keys } else { non_keys };
            let sets: Vec<String> = updated
                .iter()
                .map(|c| format!("{q}=VALUES({q})", q = d.quote(c)))
                .collect();
            sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", sets.join(",")));
        }
    }
    sql
}

/// `UPDATE … SET non-keys WHERE keys`; parameters bind non-keys then keys.
/// `None` when there is nothing to set.
pub fn update_sql(
    d: Dialect,
    table: &str,
    keys: &[&str],
    non_keys: &[&str],
    casts: &HashMap<String, String>,
) -> Option<String> {
    if non_keys.is_empty() {
        return None;
    }
    let mut n = 0;
    let mut next = |c: &str| {
        n += 1;
        format!("{} = {}", d.quote(c), value(d, n, c, casts))
    };
    let sets: Vec<String> = non_keys.iter().map(|c| next(c)).collect();
    let wheres: Vec<String> = keys.iter().map(|c| next(c)).collect();
    let mut sql = format!("UPDATE {table} SET {}", sets.join(", "));
    if !wheres.is_empty() {
        sql.push_str(&format!(" WHERE {}", wheres.join(" AND ")));
    }
    Some(sql)
}

/// `DELETE … WHERE keys`.
pub fn delete_sql(
    d: Dialect,
    table: &str,
    keys: &[&str],
    casts: &HashMap<String, String>,
) -> String {
    let wheres: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = {}", d.quote(c), value(d, i + 1, c, casts)))
        .collect();
    format!("DELETE FROM {table} WHERE {}", wheres.join(" AND "))
}

/// The column type Confluent's dialects create for a Connect type.
pub fn sql_type(d: Dialect, ty: ConnectType, is_key: bool) -> String {
    use ConnectType::*;
    match d {
        Dialect::Postgres => match ty {
            Int8 | Int16 => "SMALLINT".into(),
            Int32 => "INT".into(),
            Int64 => "BIGINT".into(),
            Float32 => "REAL".into(),
            Float64 => "DOUBLE PRECISION".into(),
            Boolean => "BOOLEAN".into(),
            String => "TEXT".into(),
            Bytes => "BYTEA".into(),
            Decimal { .. } => "DECIMAL".into(),
            Date => "DATE".into(),
            Time => "TIME".into(),
            Timestamp => "TIMESTAMP".into(),
        },
        Dialect::MySql => match ty {
            Int8 | Boolean => "TINYINT".into(),
            Int16 => "SMALLINT".into(),
            Int32 => "INT".into(),
            Int64 => "BIGINT".into(),
            Float32 => "FLOAT".into(),
            Float64 => "DOUBLE".into(),
            // MySQL cannot index TEXT without a length.
            String if is_key => "VARCHAR(256)".into(),
            String => "TEXT".into(),
            Bytes if is_key => "VARBINARY(1024)".into(),
            Bytes => "BLOB".into(),
            Decimal { scale, .. } => format!("DECIMAL(65,{scale})"),
            Date => "DATE".into(),
            Time => "TIME(3)".into(),
            Timestamp => "DATETIME(3)".into(),
        },
        Dialect::Sqlite => match ty {
            Int8 | Int16 | Int32 | Int64 | Boolean => "INTEGER".into(),
            Float32 | Float64 => "REAL".into(),
            String => "TEXT".into(),
            Bytes => "BLOB".into(),
            Decimal { .. } | Date | Time | Timestamp => "NUMERIC".into(),
        },
    }
}

fn sql_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A default value as an SQL literal; `None` for a default we cannot
/// write (bytes), which then is left out.
pub fn default_literal(d: Dialect, ty: ConnectType, json: &Json) -> Option<String> {
    use crate::time;
    Some(match ty {
        ConnectType::Boolean => {
            let b = json.as_bool()?;
            match d {
                Dialect::Postgres => if b { "TRUE" } else { "FALSE" }.into(),
                _ => if b { "1" } else { "0" }.into(),
            }
        }
        ConnectType::Int8 | ConnectType::Int16 | ConnectType::Int32 | ConnectType::Int64 => {
            json.as_i64()?.to_string()
        }
        ConnectType::Float32 | ConnectType::Float64 => {
            let f = json.as_f64()?;
            f.is_finite().then(|| f.to_string())?
        }
        ConnectType::String => sql_quote(json.as_str()?),
        ConnectType::Bytes => return None,
        ConnectType::Decimal { scale, .. } => {
            let text = crate::connect::decimal_text(json, scale)?;
            Decimal::parse(&text)?.to_plain_string()
        }
        ConnectType::Date => sql_quote(&time::format_date(json.as_i64()?)),
        ConnectType::Time => sql_quote(&time::format_time(json.as_i64()?.checked_mul(1000)?)),
        ConnectType::Timestamp => {
            sql_quote(&time::format_timestamp(json.as_i64()?.checked_mul(1000)?))
        }
    })
}

/// `"c" TYPE [DEFAULT x] NULL|NOT NULL` (Confluent's `writeColumnSpec`).
fn column_spec(d: Dialect, f: &SinkField, is_key: bool) -> String {
    let mut spec = format!("{} {}", d.quote(&f.name), sql_type(d, f.ty, is_key));
    if let Some(lit) = f.default.as_ref().and_then(|v| default_literal(d, f.ty, v)) {
        spec.push_str(" DEFAULT ");
        spec.push_str(&lit);
    }
    spec.push_str(if f.optional { " NULL" } else { " NOT NULL" });
    spec
}

/// `CREATE TABLE` with the key columns first and the primary key they make.
pub fn create_table_sql(d: Dialect, table: &str, fields: &FieldsMetadata) -> String {
    let mut lines: Vec<String> = fields
        .keys
        .iter()
        .map(|f| column_spec(d, f, true))
        .collect();
    lines.extend(fields.non_keys.iter().map(|f| column_spec(d, f, false)));
    if !fields.keys.is_empty() {
        let keys: Vec<&str> = fields.keys.iter().map(|f| f.name.as_str()).collect();
        lines.push(format!("PRIMARY KEY({})", column_list(d, &keys)));
    }
    format!("CREATE TABLE {table} (\n{})", lines.join(",\n"))
}

/// `ALTER TABLE … ADD` for missing columns: one statement (SQLite: one per
/// column, all it accepts).
pub fn alter_table_sql(d: Dialect, table: &str, added: &[&SinkField]) -> Vec<String> {
    let specs: Vec<String> = added
        .iter()
        .map(|f| format!("ADD {}", column_spec(d, f, false)))
        .collect();
    match d {
        Dialect::Sqlite => specs
            .iter()
            .map(|s| format!("ALTER TABLE {table} {s}"))
            .collect(),
        _ if specs.is_empty() => Vec::new(),
        _ => vec![format!("ALTER TABLE {table} \n{}", specs.join(",\n"))],
    }
}

#[cfg(test)]
#[path = "sink_sql_tests.rs"]
mod tests;
