//! Tests of the sink's column selection, DML and DDL per dialect.

use super::*;

fn value_schema() -> Schema {
    Schema::parse(
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"},\
         {\"type\":\"string\",\"optional\":true,\"field\":\"name\"},\
         {\"type\":\"int32\",\"optional\":true,\"default\":7,\"field\":\"n\"}],\"optional\":false}",
    )
    .unwrap()
}

fn no_casts() -> HashMap<String, String> {
    HashMap::new()
}

#[test]
fn upsert_per_dialect() {
    let t = |d: Dialect| d.quote("t");
    assert_eq!(
        insert_sql(
            Dialect::Postgres,
            &t(Dialect::Postgres),
            &["id"],
            &["name", "n"],
            &no_casts(),
            true
        ),
        "INSERT INTO \"t\" (\"id\",\"name\",\"n\") VALUES ($1,$2,$3) ON CONFLICT (\"id\") DO UPDATE SET \
         \"name\"=EXCLUDED.\"name\",\"n\"=EXCLUDED.\"n\""
    );
    assert_eq!(
        insert_sql(
            Dialect::MySql,
            &t(Dialect::MySql),
            &["id"],
            &["name"],
            &no_casts(),
            true
        ),
        "INSERT INTO `t` (`id`,`name`) VALUES (?,?) ON DUPLICATE KEY UPDATE `name`=VALUES(`name`)"
    );
    assert_eq!(
        insert_sql(
            Dialect::Sqlite,
            &t(Dialect::Sqlite),
            &["id"],
            &["name"],
            &no_casts(),
            true
        ),
        "INSERT INTO \"t\" (\"id\",\"name\") VALUES (?,?) ON CONFLICT (\"id\") DO UPDATE SET \"name\"=excluded.\"name\""
    );
    assert_eq!(
        insert_sql(Dialect::Postgres, "\"t\"", &["id"], &[], &no_casts(), true),
        "INSERT INTO \"t\" (\"id\") VALUES ($1) ON CONFLICT (\"id\") DO NOTHING"
    );
    assert_eq!(
        insert_sql(Dialect::MySql, "`t`", &["id"], &[], &no_casts(), true),
        "INSERT INTO `t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id`=VALUES(`id`)"
    );
    let casts: HashMap<String, String> = [("doc".to_string(), "jsonb".to_string())].into();
    assert_eq!(
        insert_sql(Dialect::Postgres, "\"t\"", &[], &["doc"], &casts, false),
        "INSERT INTO \"t\" (\"doc\") VALUES ($1::jsonb)"
    );
}

#[test]
fn update_and_delete() {
    assert_eq!(
        update_sql(
            Dialect::Postgres,
            "\"t\"",
            &["id"],
            &["name", "n"],
            &no_casts()
        )
        .unwrap(),
        "UPDATE \"t\" SET \"name\" = $1, \"n\" = $2 WHERE \"id\" = $3"
    );
    assert_eq!(
        update_sql(Dialect::MySql, "`t`", &["id"], &[], &no_casts()),
        None
    );
    assert_eq!(
        delete_sql(Dialect::MySql, "`t`", &["a", "b"], &no_casts()),
        "DELETE FROM `t` WHERE `a` = ? AND `b` = ?"
    );
}

#[test]
fn pk_modes() {
    let v = value_schema();
    let m = fields_metadata(
        "t",
        PkMode::RecordValue,
        &["id".into()],
        &[],
        None,
        Some(&v),
    )
    .unwrap();
    assert_eq!(m.keys.len(), 1);
    assert_eq!(
        m.non_keys
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["name", "n"]
    );
    let m = fields_metadata("t", PkMode::Kafka, &[], &["name".into()], None, Some(&v)).unwrap();
    assert_eq!(
        m.keys.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        KAFKA_PK_DEFAULTS
    );
    assert_eq!(m.non_keys.len(), 1);
    assert!(fields_metadata("t", PkMode::Kafka, &["a".into()], &[], None, Some(&v)).is_err());
    let key = Schema::primitive("int64");
    let m = fields_metadata(
        "t",
        PkMode::RecordKey,
        &["k".into()],
        &[],
        Some(&key),
        Some(&v),
    )
    .unwrap();
    assert_eq!(m.keys[0].source, FieldSource::Key);
    let err = fields_metadata("t", PkMode::RecordKey, &[], &[], Some(&key), Some(&v)).unwrap_err();
    assert!(err.contains("Need exactly one PK column"), "{err}");
    let err = fields_metadata("t", PkMode::RecordKey, &[], &[], None, Some(&v)).unwrap_err();
    assert!(err.contains("record key schema is missing"), "{err}");
    let err =
        fields_metadata("t", PkMode::RecordValue, &["x".into()], &[], None, Some(&v)).unwrap_err();
    assert!(err.contains("does not contain field: x"), "{err}");
    let m = fields_metadata("t", PkMode::None, &[], &[], None, Some(&v)).unwrap();
    assert!(m.keys.is_empty() && m.non_keys.len() == 3);
}

#[test]
fn ddl_per_dialect() {
    let v = value_schema();
    let m = fields_metadata(
        "t",
        PkMode::RecordValue,
        &["id".into()],
        &[],
        None,
        Some(&v),
    )
    .unwrap();
    assert_eq!(
        create_table_sql(Dialect::Postgres, "\"t\"", &m),
        "CREATE TABLE \"t\" (\n\"id\" BIGINT NOT NULL,\n\"name\" TEXT NULL,\n\"n\" INT DEFAULT 7 NULL,\nPRIMARY KEY(\"id\"))"
    );
    let k = fields_metadata("t", PkMode::Kafka, &[], &[], None, Some(&v)).unwrap();
    let mysql = create_table_sql(Dialect::MySql, "`t`", &k);
    assert!(
        mysql.contains("`__connect_topic` VARCHAR(256) NOT NULL"),
        "{mysql}"
    );
    assert!(mysql.contains("`name` TEXT NULL"), "{mysql}");
    assert!(
        mysql.ends_with("PRIMARY KEY(`__connect_topic`,`__connect_partition`,`__connect_offset`))")
    );
    let added: Vec<&SinkField> = m.non_keys.iter().collect();
    assert_eq!(
        alter_table_sql(Dialect::Sqlite, "\"t\"", &added),
        vec![
            "ALTER TABLE \"t\" ADD \"name\" TEXT NULL".to_string(),
            "ALTER TABLE \"t\" ADD \"n\" INTEGER DEFAULT 7 NULL".to_string()
        ]
    );
    assert_eq!(
        alter_table_sql(Dialect::Postgres, "\"t\"", &added),
        vec![
            "ALTER TABLE \"t\" \nADD \"name\" TEXT NULL,\nADD \"n\" INT DEFAULT 7 NULL".to_string()
        ]
    );
    use ConnectType::*;
    assert_eq!(
        sql_type(
            Dialect::MySql,
            Decimal {
                scale: 2,
                precision: None
            },
            false
        ),
        "DECIMAL(65,2)"
    );
    assert_eq!(sql_type(Dialect::MySql, Timestamp, false), "DATETIME(3)");
    assert_eq!(
        sql_type(Dialect::Postgres, Float64, false),
        "DOUBLE PRECISION"
    );
    assert_eq!(sql_type(Dialect::Sqlite, Date, false), "NUMERIC");
    assert_eq!(
        default_literal(Dialect::Postgres, Boolean, &Json::Bool(true)).unwrap(),
        "TRUE"
    );
    assert_eq!(
        default_literal(Dialect::MySql, String, &Json::String("it's".into())).unwrap(),
        "'it''s'"
    );
    assert_eq!(
        default_literal(Dialect::MySql, Date, &Json::from(1)).unwrap(),
        "'1970-01-02'"
    );
}
