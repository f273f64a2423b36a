//! Tests of the column → Connect type mapping and value rendering.

use super::*;

fn col(type_name: &str, kind: Kind, precision: Option<u32>, scale: Option<i32>) -> ColumnInfo {
    ColumnInfo {
        name: "c".into(),
        type_name: type_name.into(),
        kind,
        nullable: Some(true),
        precision,
        scale,
        auto_increment: false,
    }
}

fn ty(
    d: Dialect,
    type_name: &str,
    kind: Kind,
    p: Option<u32>,
    s: Option<i32>,
    m: NumericMapping,
) -> Option<ConnectType> {
    connect_type(d, &col(type_name, kind, p, s), m)
}

#[test]
fn postgres_types() {
    use ConnectType::*;
    let pg = |t: &str, k| ty(Dialect::Postgres, t, k, None, None, NumericMapping::None);
    assert_eq!(pg("bool", Kind::Boolean), Some(Boolean));
    assert_eq!(pg("int2", Kind::Int), Some(Int16));
    assert_eq!(pg("INT4", Kind::Int), Some(Int32));
    assert_eq!(pg("int8", Kind::Int), Some(Int64));
    assert_eq!(pg("float4", Kind::Float32), Some(Float32));
    assert_eq!(pg("float8", Kind::Float64), Some(Float64));
    assert_eq!(pg("text", Kind::Text), Some(String));
    assert_eq!(pg("jsonb", Kind::Other), Some(String));
    assert_eq!(pg("bytea", Kind::Bytes), Some(Bytes));
    assert_eq!(pg("timestamptz", Kind::TimestampTz), Some(Timestamp));
    assert_eq!(pg("timetz", Kind::Time), Some(Time));
    assert_eq!(pg("date", Kind::Date), Some(Date));
    assert_eq!(pg("_int4", Kind::Other), None);
    assert_eq!(
        pg("numeric", Kind::Decimal),
        Some(Decimal {
            scale: 127,
            precision: Some(0)
        })
    );
}

#[test]
fn numeric_mapping() {
    use ConnectType::*;
    let n = |p, s, m| {
        ty(
            Dialect::Postgres,
            "numeric",
            Kind::Decimal,
            Some(p),
            Some(s),
            m,
        )
    };
    assert_eq!(
        n(10, 2, NumericMapping::None),
        Some(Decimal {
            scale: 2,
            precision: Some(10)
        })
    );
    assert_eq!(n(5, 0, NumericMapping::PrecisionOnly), Some(Int32));
    assert_eq!(n(2, 0, NumericMapping::PrecisionOnly), Some(Int8));
    assert_eq!(n(4, 0, NumericMapping::BestFit), Some(Int16));
    assert_eq!(n(18, 0, NumericMapping::BestFit), Some(Int64));
    assert_eq!(
        n(19, 0, NumericMapping::BestFit),
        Some(Decimal {
            scale: 0,
            precision: Some(19)
        })
    );
    assert_eq!(
        n(10, 2, NumericMapping::PrecisionOnly),
        Some(Decimal {
            scale: 2,
            precision: Some(10)
        })
    );
    assert_eq!(n(10, 2, NumericMapping::BestFit), Some(Float64));
    assert_eq!(
        n(30, 2, NumericMapping::BestFit),
        Some(Decimal {
            scale: 2,
            precision: Some(30)
        })
    );
    assert_eq!(n(30, 2, NumericMapping::BestFitEagerDouble), Some(Float64));
    // MySQL DECIMAL is always Decimal.
    assert_eq!(
        ty(
            Dialect::MySql,
            "DECIMAL",
            Kind::Decimal,
            Some(5),
            Some(0),
            NumericMapping::BestFit
        ),
        Some(Decimal {
            scale: 0,
            precision: Some(5)
        })
    );
    assert_eq!(
        NumericMapping::parse("BEST_FIT"),
        Some(NumericMapping::BestFit)
    );
    assert_eq!(NumericMapping::parse("nope"), None);
}

#[test]
fn mysql_and_sqlite_types() {
    use ConnectType::*;
    let my = |t: &str, k| ty(Dialect::MySql, t, k, None, None, NumericMapping::None);
    assert_eq!(my("TINYINT", Kind::Int), Some(Int8));
    assert_eq!(my("TINYINT UNSIGNED", Kind::Int), Some(Int16));
    assert_eq!(my("INT UNSIGNED", Kind::Int), Some(Int64));
    assert_eq!(my("FLOAT", Kind::Float32), Some(Float32));
    assert_eq!(my("DATETIME", Kind::Timestamp), Some(Timestamp));
    assert_eq!(my("YEAR", Kind::Int), Some(Date));
    assert_eq!(my("LONGBLOB", Kind::Bytes), Some(Bytes));
    assert_eq!(my("GEOMETRY", Kind::Other), None);
    let lite = |t: &str, k| ty(Dialect::Sqlite, t, k, None, None, NumericMapping::None);
    assert_eq!(lite("INTEGER", Kind::Int), Some(Int64));
    assert_eq!(lite("VARCHAR(20)", Kind::Text), Some(String));
    assert_eq!(lite("REAL", Kind::Float64), Some(Float64));
    assert_eq!(
        lite("DECIMAL(10,2)", Kind::Float64),
        Some(Decimal {
            scale: 2,
            precision: Some(10)
        })
    );
    assert_eq!(lite("", Kind::Int), Some(Int64));
    assert_eq!(lite("DATETIME", Kind::Text), Some(Timestamp));
}

#[test]
fn values_as_json() {
    use ConnectType::*;
    let j = |c: Cell, t| cell_to_json(&c, t, "x");
    assert_eq!(j(Cell::Null, Int32).unwrap(), "null");
    assert_eq!(j(Cell::Int(7), Int32).unwrap(), "7");
    assert!(j(Cell::Int(1 << 40), Int32).is_err());
    assert_eq!(j(Cell::Bool(true), Boolean).unwrap(), "true");
    assert_eq!(j(Cell::F32(1.1), Float32).unwrap(), "1.1");
    assert_eq!(j(Cell::F64(f64::NAN), Float64).unwrap(), "\"NaN\"");
    assert_eq!(
        j(
            Cell::Decimal("12.34".into()),
            Decimal {
                scale: 2,
                precision: Some(10)
            }
        )
        .unwrap(),
        "\"BNI=\""
    );
    assert_eq!(
        j(
            Cell::Decimal("12.3".into()),
            Decimal {
                scale: 2,
                precision: None
            }
        )
        .unwrap(),
        "\"BM4=\""
    );
    assert_eq!(
        j(Cell::Bytes(b"hello".to_vec()), Bytes).unwrap(),
        "\"aGVsbG8=\""
    );
    assert_eq!(j(Cell::Text("é\"".into()), String).unwrap(), "\"é\\\"\"");
    assert_eq!(j(Cell::Date(19_000), Date).unwrap(), "19000");
    assert_eq!(j(Cell::Time(3_600_000_123), Time).unwrap(), "3600000");
    assert_eq!(j(Cell::Timestamp(-1), Timestamp).unwrap(), "-1");
    assert_eq!(
        j(Cell::TimestampTz(1_700_000_000_123_456), Timestamp).unwrap(),
        "1700000000123"
    );
    assert_eq!(
        j(Cell::Text("1970-01-01 00:00:01.5".into()), Timestamp).unwrap(),
        "1500"
    );
    assert_eq!(j(Cell::Text("1970-01-02".into()), Date).unwrap(), "1");
    assert_eq!(
        cell_to_json(&Cell::Int(2000), Date, "YEAR").unwrap(),
        "10957"
    );
    let uuid = Cell::Bytes((0u8..16).collect());
    assert_eq!(
        cell_to_json(&uuid, String, "uuid").unwrap(),
        "\"00010203-0405-0607-0809-0a0b0c0d0e0f\""
    );
    let mut jsonb = vec![1u8];
    jsonb.extend_from_slice(b"{\"a\":1}");
    assert_eq!(
        cell_to_json(&Cell::Bytes(jsonb), String, "jsonb").unwrap(),
        "\"{\\\"a\\\":1}\""
    );
}
