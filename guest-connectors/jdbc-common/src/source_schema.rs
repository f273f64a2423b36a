//! Source side: the Connect type of a result column (Confluent's
//! `addFieldToSchema` over what pgjdbc, Connector/J and sqlite-jdbc report,
//! §3.6 of the research notes) and a row value as JsonConverter writes it.

use crate::decimal::{Decimal, base64_encode};
use crate::dialect::Dialect;
use crate::time;
use crate::types::{Cell, ColumnInfo, ConnectType, Kind, json_string};

/// `numeric.mapping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericMapping {
    None,
    PrecisionOnly,
    BestFit,
    BestFitEagerDouble,
}

impl NumericMapping {
    /// Parses the configuration value (case-insensitive, as Confluent).
    pub fn parse(text: &str) -> Option<NumericMapping> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Some(NumericMapping::None),
            "precision_only" => Some(NumericMapping::PrecisionOnly),
            "best_fit" => Some(NumericMapping::BestFit),
            "best_fit_eager_double" => Some(NumericMapping::BestFitEagerDouble),
            _ => None,
        }
    }
}

/// The JDBC type a driver would report, reduced to what the mapping needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jdbc {
    Boolean,
    TinyInt {
        unsigned: bool,
    },
    SmallInt {
        unsigned: bool,
    },
    Integer {
        unsigned: bool,
    },
    BigInt,
    Real,
    Double,
    Numeric,
    Decimal,
    Char,
    Binary,
    Date,
    /// MySQL `YEAR` (Connector/J reports DATE).
    Year,
    Time,
    Timestamp,
    Unsupported,
}

/// Lowercase type name without its `(…)` arguments, and whether it says `unsigned`.
fn normalize(type_name: &str) -> (String, bool) {
    let lower = type_name.trim().to_ascii_lowercase();
    let unsigned = lower.contains("unsigned");
    let mut base = String::new();
    let mut depth = 0;
    for c in lower.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => base.push(c),
            _ => {}
        }
    }
    let base = base
        .replace("unsigned", "")
        .replace("zerofill", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (base, unsigned)
}

/// `(p)` or `(p,s)` of a declared type, for databases that report only the name.
fn declared_precision_scale(type_name: &str) -> (Option<u32>, Option<i32>) {
    let Some(inner) = type_name
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
    else {
        return (None, None);
    };
    let mut parts = inner.split(',').map(str::trim);
    let p = parts.next().and_then(|p| p.parse().ok());
    let s = parts.next().and_then(|s| s.parse().ok());
    (p, s)
}

/// By how the values arrive, for type names we do not know (Confluent
/// skips what its driver calls OTHER; we keep what the host decodes).
fn by_kind(kind: Kind) -> Jdbc {
    match kind {
        Kind::Boolean => Jdbc::Boolean,
        Kind::Int => Jdbc::BigInt,
        Kind::Float32 => Jdbc::Real,
        Kind::Float64 => Jdbc::Double,
        Kind::Decimal => Jdbc::Decimal,
        Kind::Text => Jdbc::Char,
        Kind::Bytes => Jdbc::Binary,
        Kind::Date => Jdbc::Date,
        Kind::Time => Jdbc::Time,
        Kind::Timestamp | Kind::TimestampTz => Jdbc::Timestamp,
        Kind::Null | Kind::Other => Jdbc::Unsupported,
    }
}

fn jdbc_type(dialect: Dialect, col: &ColumnInfo) -> Jdbc {
    let (name, unsigned) = normalize(&col.type_name);
    let name = name.as_str();
    match dialect {
        Dialect::Postgres => match name {
            // pgjdbc reports bool as BIT(1), which the PG dialect maps to boolean.
            "bool" | "boolean" => Jdbc::Boolean,
            // bit(n) arrives in PostgreSQL's binary form; only a decoded boolean is usable.
            "bit" | "varbit" | "bit varying" if col.kind == Kind::Boolean => Jdbc::Boolean,
            "int2" | "smallint" | "smallserial" => Jdbc::SmallInt { unsigned: false },
            "int4" | "integer" | "int" | "serial" => Jdbc::Integer { unsigned: false },
            "int8" | "bigint" | "bigserial" | "oid" => Jdbc::BigInt,
            "float4" | "real" => Jdbc::Real,
            "float8" | "double precision" => Jdbc::Double,
            "numeric" | "decimal" => Jdbc::Numeric,
            "char" | "bpchar" | "character" | "varchar" | "character varying" | "text" | "name"
            | "citext" | "json" | "jsonb" | "uuid" | "xml" => Jdbc::Char,
            "bytea" => Jdbc::Binary,
            "date" => Jdbc::Date,
            "time" | "timetz" | "time without time zone" | "time with time zone" => Jdbc::Time,
            "timestamp"
            | "timestamptz"
            | "timestamp without time zone"
            | "timestamp with time zone" => Jdbc::Timestamp,
            _ if col.kind == Kind::Other => Jdbc::Unsupported,
            _ => by_kind(col.kind),
        },
        Dialect::MySql => match name {
            "tinyint" | "bool" | "boolean" => Jdbc::TinyInt { unsigned },
            "bit" if col.precision.unwrap_or(1) <= 1 => Jdbc::TinyInt { unsigned: false },
            "bit" => Jdbc::Binary,
            "smallint" => Jdbc::SmallInt { unsigned },
            "mediumint" | "int" | "integer" => Jdbc::Integer { unsigned },
            "bigint" => Jdbc::BigInt,
            "float" => Jdbc::Real,
            "double" | "double precision" | "real" => Jdbc::Double,
            // Connector/J reports DECIMAL for both: numeric.mapping does not apply.
            "decimal" | "numeric" | "dec" | "fixed" => Jdbc::Decimal,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" | "json" => Jdbc::Char,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                Jdbc::Binary
            }
            "date" => Jdbc::Date,
            "year" => Jdbc::Year,
            "time" => Jdbc::Time,
            "datetime" | "timestamp" => Jdbc::Timestamp,
            _ if col.kind == Kind::Other => Jdbc::Unsupported,
            _ => by_kind(col.kind),
        },
        Dialect::Sqlite => match name {
            "" => by_kind(col.kind),
            "boolean" | "bool" => Jdbc::Boolean,
            "tinyint" => Jdbc::TinyInt { unsigned: false },
            "smallint" | "int2" => Jdbc::SmallInt { unsigned: false },
            // SQLite integers are 64-bit: sqlite-jdbc's INTEGER → int32 would truncate rowids.
            "int" | "integer" | "mediumint" | "bigint" | "int8" | "unsigned big int" => {
                Jdbc::BigInt
            }
            // SQLite REAL is 8 bytes: float64 rather than sqlite-jdbc's REAL → float32.
            "real" | "float" | "double" | "double precision" => Jdbc::Double,
            "decimal" => Jdbc::Decimal,
            "numeric" => Jdbc::Numeric,
            "date" => Jdbc::Date,
            "datetime" | "timestamp" => Jdbc::Timestamp,
            "time" => Jdbc::Time,
            n if n.contains("int") => Jdbc::BigInt,
            n if n.contains("char") || n.contains("clob") || n.contains("text") => Jdbc::Char,
            n if n.contains("blob") || n.contains("binary") => Jdbc::Binary,
            n if n.contains("real") || n.contains("floa") || n.contains("doub") => Jdbc::Double,
            _ => by_kind(col.kind),
        },
    }
}

/// Int type by decimal precision (Confluent's precision_only/best_fit).
fn int_by_precision(precision: u32) -> ConnectType {
    match precision {
        0..=2 => ConnectType::Int8,
        3..=4 => ConnectType::Int16,
        5..=9 => ConnectType::Int32,
        _ => ConnectType::Int64,
    }
}

/// The Connect type of a column, or `None` for a column Confluent skips
/// (arrays, geometry, types the host does not decode).
pub fn connect_type(
    dialect: Dialect,
    col: &ColumnInfo,
    mapping: NumericMapping,
) -> Option<ConnectType> {
    let (declared_p, declared_s) = declared_precision_scale(&col.type_name);
    let precision = col.precision.or(declared_p);
    let scale = col.scale.or(declared_s);
    // Confluent's decimalScale: an unset scale, or PostgreSQL's unconstrained
    // NUMERIC (precision 0, scale 0), becomes 127.
    let decimal = || {
        let unconstrained = precision.unwrap_or(0) == 0;
        let scale = match scale {
            Some(s) if !unconstrained => s,
            Some(s) if dialect != Dialect::Postgres => s,
            _ => 127,
        };
        ConnectType::Decimal {
            scale,
            precision: Some(precision.unwrap_or(0)),
        }
    };
    Some(match jdbc_type(dialect, col) {
        Jdbc::Boolean => ConnectType::Boolean,
        Jdbc::TinyInt { unsigned: false } => ConnectType::Int8,
        Jdbc::TinyInt { unsigned: true } | Jdbc::SmallInt { unsigned: false } => ConnectType::Int16,
        Jdbc::SmallInt { unsigned: true } | Jdbc::Integer { unsigned: false } => ConnectType::Int32,
        Jdbc::Integer { unsigned: true } | Jdbc::BigInt => ConnectType::Int64,
        Jdbc::Real => ConnectType::Float32,
        Jdbc::Double => ConnectType::Float64,
        Jdbc::Decimal => decimal(),
        Jdbc::Numeric => {
            let p = precision.unwrap_or(0);
            let s = scale.unwrap_or(0);
            // An unconstrained NUMERIC (precision 0) stays Decimal: Confluent
            // would make it int8 under precision_only/best_fit and truncate values.
            if p == 0 {
                return Some(decimal());
            }
            match mapping {
                NumericMapping::None => decimal(),
                NumericMapping::PrecisionOnly if s == 0 && p <= 18 => int_by_precision(p),
                NumericMapping::PrecisionOnly => decimal(),
                NumericMapping::BestFit | NumericMapping::BestFitEagerDouble
                    if p <= 18 && (-84..=0).contains(&s) =>
                {
                    int_by_precision(p)
                }
                NumericMapping::BestFit if p <= 18 && s > 0 => ConnectType::Float64,
                NumericMapping::BestFitEagerDouble if s > 0 => ConnectType::Float64,
                _ => decimal(),
            }
        }
        Jdbc::Char => ConnectType::String,
        Jdbc::Binary => ConnectType::Bytes,
        Jdbc::Date | Jdbc::Year => ConnectType::Date,
        Jdbc::Time => ConnectType::Time,
        Jdbc::Timestamp => ConnectType::Timestamp,
        Jdbc::Unsupported => return None,
    })
}

/// Whether the column is optional in the Connect schema: unknown
/// nullability counts as optional, as in Confluent.
pub fn is_optional(col: &ColumnInfo) -> bool {
    col.nullable != Some(false)
}

/// A timestamp-ish cell as microseconds since the epoch (UTC wall clock for
/// zone-less values). Integers are milliseconds (sqlite-jdbc's convention),
/// floats Julian days (SQLite's `julianday`).
pub fn cell_micros(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Timestamp(us) | Cell::TimestampTz(us) => Some(*us),
        Cell::Date(d) => i64::from(*d).checked_mul(time::micros_per_day()),
        Cell::Int(ms) => ms.checked_mul(1000),
        Cell::F64(jd) => time::julian_day_to_micros(*jd),
        Cell::Text(t) => time::parse_timestamp(t),
        _ => None,
    }
}

/// An integer cell (for offsets and int fields): integers, booleans,
/// integral decimals and text, bit strings as big-endian bytes.
pub fn cell_i64(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(v) => Some(*v),
        Cell::Bool(b) => Some(i64::from(*b)),
        Cell::Decimal(t) | Cell::Text(t) => Decimal::parse(t)?.to_i64(),
        Cell::F32(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
        Cell::F64(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
        Cell::Bytes(b) if b.len() <= 8 => {
            Some(b.iter().fold(0i64, |acc, &x| (acc << 8) | i64::from(x)))
        }
        _ => None,
    }
}

fn float_json(v: f64, text: String) -> String {
    // Jackson quotes non-finite numbers (QUOTE_NON_NUMERIC_NUMBERS).
    if v.is_nan() {
        "\"NaN\"".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "\"Infinity\"".into()
        } else {
            "\"-Infinity\"".into()
        }
    } else {
        text
    }
}

fn decimal_of(cell: &Cell) -> Option<Decimal> {
    match cell {
        Cell::Decimal(t) | Cell::Text(t) => Decimal::parse(t),
        Cell::Int(v) => Decimal::parse(&v.to_string()),
        Cell::F64(v) if v.is_finite() => Decimal::parse(&v.to_string()),
        Cell::F32(v) if v.is_finite() => Decimal::parse(&v.to_string()),
        _ => None,
    }
}

fn float_of(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::F64(v) => Some(*v),
        // Widened as JDBC's getDouble on a REAL does.
        Cell::F32(v) => Some(f64::from(*v)),
        Cell::Int(v) => Some(*v as f64),
        Cell::Decimal(t) | Cell::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

/// Text of a value bound for a string field; `type_name` tells PostgreSQL's
/// binary uuid and jsonb apart.
fn string_of(cell: &Cell, type_name: &str) -> Option<String> {
    Some(match cell {
        Cell::Text(t) | Cell::Decimal(t) => t.clone(),
        Cell::Bytes(b) => {
            let ty = type_name.to_ascii_lowercase();
            if ty == "uuid" && b.len() == 16 {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            } else if ty == "jsonb" && b.first() == Some(&1) {
                // jsonb's binary form: a version byte, then the text.
                String::from_utf8_lossy(&b[1..]).into_owned()
            } else {
                String::from_utf8_lossy(b).into_owned()
            }
        }
        Cell::Bool(v) => v.to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::F32(v) => v.to_string(),
        Cell::F64(v) => v.to_string(),
        Cell::Date(d) => time::format_date(i64::from(*d)),
        Cell::Time(us) => time::format_time(*us),
        Cell::Timestamp(us) | Cell::TimestampTz(us) => time::format_timestamp(*us),
        Cell::Null => return None,
    })
}

/// A value as the JSON JsonConverter writes for `ty`; `Err` says why the
/// value does not fit (the caller names the column).
pub fn cell_to_json(cell: &Cell, ty: ConnectType, type_name: &str) -> Result<String, String> {
    if *cell == Cell::Null {
        return Ok("null".into());
    }
    let bad = || format!("value {cell:?} of type {type_name} does not fit Connect type {ty:?}");
    let int_in = |lo: i64, hi: i64| -> Result<String, String> {
        let v = cell_i64(cell).ok_or_else(bad)?;
        if (lo..=hi).contains(&v) {
            Ok(v.to_string())
        } else {
            Err(bad())
        }
    };
    match ty {
        ConnectType::Boolean => match cell {
            Cell::Bool(b) => Ok(b.to_string()),
            other => cell_i64(other)
                .map(|v| (v != 0).to_string())
                .ok_or_else(bad),
        },
        ConnectType::Int8 => int_in(i64::from(i8::MIN), i64::from(i8::MAX)),
        ConnectType::Int16 => int_in(i64::from(i16::MIN), i64::from(i16::MAX)),
        ConnectType::Int32 => int_in(i64::from(i32::MIN), i64::from(i32::MAX)),
        ConnectType::Int64 => int_in(i64::MIN, i64::MAX),
        ConnectType::Float32 => {
            let v = match cell {
                Cell::F32(v) => *v,
                other => float_of(other).ok_or_else(bad)? as f32,
            };
            Ok(float_json(f64::from(v), v.to_string()))
        }
        ConnectType::Float64 => {
            let v = float_of(cell).ok_or_else(bad)?;
            Ok(float_json(v, format!("{v:?}")))
        }
        ConnectType::Decimal { scale, .. } => {
            let d = decimal_of(cell)
                .and_then(|d| d.rescale(scale))
                .ok_or_else(bad)?;
            Ok(json_string(&base64_encode(&d.to_unscaled_bytes())))
        }
        ConnectType::String => Ok(json_string(&string_of(cell, type_name).ok_or_else(bad)?)),
        ConnectType::Bytes => match cell {
            Cell::Bytes(b) => Ok(json_string(&base64_encode(b))),
            Cell::Text(t) => Ok(json_string(&base64_encode(t.as_bytes()))),
            _ => Err(bad()),
        },
        ConnectType::Date => {
            let days = match cell {
                Cell::Date(d) => i64::from(*d),
                // MySQL YEAR: the first of January of that year.
                Cell::Int(y) if type_name.eq_ignore_ascii_case("year") => {
                    time::days_from_civil(*y, 1, 1)
                }
                Cell::Text(t) => time::parse_date(t.trim())
                    .or_else(|| time::parse_timestamp(t).map(time::micros_to_days))
                    .ok_or_else(bad)?,
                other => time::micros_to_days(cell_micros(other).ok_or_else(bad)?),
            };
            i32::try_from(days)
                .map(|d| d.to_string())
                .map_err(|_| bad())
        }
        ConnectType::Time => {
            let micros = match cell {
                Cell::Time(us) => *us,
                Cell::Text(t) if !t.contains('-') => time::parse_time(t.trim()).ok_or_else(bad)?,
                other => cell_micros(other)
                    .ok_or_else(bad)?
                    .rem_euclid(time::micros_per_day()),
            };
            Ok(micros.div_euclid(1000).to_string())
        }
        ConnectType::Timestamp => {
            let micros = cell_micros(cell).ok_or_else(bad)?;
            Ok(time::micros_to_millis(micros).to_string())
        }
    }
}

#[cfg(test)]
#[path = "source_schema_tests.rs"]
mod tests;
