//! Between the SDK's database types and jdbc-common's plain mirrors.

use jdbc_common::{Cell, ColumnInfo, Kind};
use wasmconnect_sdk::db::{Column, Value, ValueKind};

pub fn cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Boolean(b) => Cell::Bool(b),
        Value::Int(i) => Cell::Int(i),
        Value::Float32(f) => Cell::F32(f),
        Value::Float64(f) => Cell::F64(f),
        Value::Decimal(t) => Cell::Decimal(t),
        Value::Text(t) => Cell::Text(t),
        Value::Bytes(b) => Cell::Bytes(b),
        Value::Date(d) => Cell::Date(d),
        Value::Time(t) => Cell::Time(t),
        Value::Timestamp(t) => Cell::Timestamp(t),
        Value::TimestampTz(t) => Cell::TimestampTz(t),
    }
}

fn kind(k: ValueKind) -> Kind {
    match k {
        ValueKind::Null => Kind::Null,
        ValueKind::Boolean => Kind::Boolean,
        ValueKind::Int => Kind::Int,
        ValueKind::Float32 => Kind::Float32,
        ValueKind::Float64 => Kind::Float64,
        ValueKind::Decimal => Kind::Decimal,
        ValueKind::Text => Kind::Text,
        ValueKind::Bytes => Kind::Bytes,
        ValueKind::Date => Kind::Date,
        ValueKind::Time => Kind::Time,
        ValueKind::Timestamp => Kind::Timestamp,
        ValueKind::TimestampTz => Kind::TimestampTz,
        ValueKind::Other => Kind::Other,
    }
}

pub fn column(c: &Column) -> ColumnInfo {
    ColumnInfo {
        name: c.name.clone(),
        type_name: c.type_name.clone(),
        kind: kind(c.kind),
        nullable: c.nullable,
        precision: c.precision,
        scale: c.scale,
        auto_increment: c.auto_increment,
    }
}
