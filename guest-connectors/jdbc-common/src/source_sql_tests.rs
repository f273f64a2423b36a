//! Tests of the source SQL, offsets, filters and task division.

use super::*;

fn users() -> Source {
    Source::Table(TableId {
        schema: Some("public".into()),
        name: "users".into(),
    })
}

#[test]
fn sql_per_mode_postgres() {
    let ts = vec!["updated".to_string()];
    let (sql, params) = build_query(Dialect::Postgres, &users(), Mode::Bulk, None, &[], "");
    assert_eq!(sql, "SELECT * FROM \"public\".\"users\"");
    assert!(params.is_empty());
    let (sql, params) = build_query(
        Dialect::Postgres,
        &users(),
        Mode::Incrementing,
        Some("id"),
        &[],
        "",
    );
    assert_eq!(
        sql,
        "SELECT * FROM \"public\".\"users\" WHERE \"public\".\"users\".\"id\" > $1 \
         ORDER BY \"public\".\"users\".\"id\" ASC"
    );
    assert_eq!(params, vec![Param::Incrementing]);
    let (sql, params) = build_query(
        Dialect::Postgres,
        &users(),
        Mode::Timestamp,
        None,
        &ts,
        "LIMIT 10",
    );
    assert_eq!(
        sql,
        "SELECT * FROM \"public\".\"users\" WHERE \"public\".\"users\".\"updated\" > $1 AND \
         \"public\".\"users\".\"updated\" < $2 ORDER BY \"public\".\"users\".\"updated\" ASC LIMIT 10"
    );
    assert_eq!(params, vec![Param::Begin, Param::End]);
}

#[test]
fn sql_per_mode_mysql_sqlite_and_query() {
    let ts = vec!["a".to_string(), "b".to_string()];
    let t = Source::Table(TableId {
        schema: Some("db".into()),
        name: "t".into(),
    });
    let (sql, params) = build_query(
        Dialect::MySql,
        &t,
        Mode::TimestampIncrementing,
        Some("id"),
        &ts,
        "",
    );
    let c = "COALESCE(`db`.`t`.`a`,`db`.`t`.`b`)";
    assert_eq!(
        sql,
        format!(
            "SELECT * FROM `db`.`t` WHERE {c} < ? AND (({c} = ? AND `db`.`t`.`id` > ?) OR {c} > ?) \
             ORDER BY {c},`db`.`t`.`id` ASC"
        )
    );
    assert_eq!(
        params,
        vec![Param::End, Param::Begin, Param::Incrementing, Param::Begin]
    );
    let q = Source::Query("SELECT * FROM x".into());
    let (sql, _) = build_query(Dialect::Sqlite, &q, Mode::Incrementing, Some("id"), &[], "");
    assert_eq!(sql, "SELECT * FROM x WHERE \"id\" > ? ORDER BY \"id\" ASC");
    let lite = Source::Table(TableId {
        schema: None,
        name: "t".into(),
    });
    let (sql, _) = build_query(
        Dialect::Sqlite,
        &lite,
        Mode::Incrementing,
        Some("id"),
        &[],
        "",
    );
    assert_eq!(
        sql,
        "SELECT * FROM \"t\" WHERE \"t\".\"id\" > ? ORDER BY \"t\".\"id\" ASC"
    );
}

#[test]
fn partitions_and_offsets() {
    assert_eq!(
        partition_json(&users(), Mode::Incrementing),
        "{\"protocol\":\"1\",\"table\":\"public.users\"}"
    );
    assert_eq!(
        partition_json(&users(), Mode::Bulk),
        "{\"table\":\"users\"}"
    );
    assert_eq!(
        partition_json(&Source::Query("q".into()), Mode::Timestamp),
        "{\"query\":\"query\"}"
    );
    let o = Offset {
        timestamp_micros: Some(1_700_000_000_123_456),
        incrementing: Some(42),
    };
    let json = o.to_json(Mode::TimestampIncrementing);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["timestamp"], 1_700_000_000_123i64);
    assert_eq!(v["timestamp_nanos"], 123_456_000);
    assert_eq!(v["incrementing"], 42);
    assert_eq!(Offset::from_json(&json).unwrap(), o);
    assert_eq!(o.to_json(Mode::Incrementing), "{\"incrementing\":42}");
    assert_eq!(o.to_json(Mode::Bulk), "{}");
    let before_epoch = Offset {
        timestamp_micros: Some(-1),
        incrementing: None,
    };
    assert_eq!(
        Offset::from_json(&before_epoch.to_json(Mode::Timestamp)).unwrap(),
        before_epoch
    );
    assert_eq!(
        Offset::from_json("{\"timestamp\":5}")
            .unwrap()
            .timestamp_micros,
        Some(5000)
    );
    assert!(Offset::from_json("{\"incrementing\":\"x\"}").is_err());
}

#[test]
fn filters_and_groups() {
    let t = TableId {
        schema: Some("public".into()),
        name: "users".into(),
    };
    let d = Dialect::Postgres;
    assert!(TableFilter::Whitelist(vec!["users".into()]).selects(d, &t));
    assert!(TableFilter::Whitelist(vec!["public.users".into()]).selects(d, &t));
    assert!(TableFilter::Whitelist(vec!["\"public\".\"users\"".into()]).selects(d, &t));
    assert!(!TableFilter::Blacklist(vec!["users".into()]).selects(d, &t));
    let include = vec![whole_match_regex("public\\.u.*").unwrap()];
    assert!(
        TableFilter::Patterns {
            include: include.clone(),
            exclude: vec![]
        }
        .selects(d, &t)
    );
    let partial = vec![whole_match_regex("u.*").unwrap()];
    assert!(
        !TableFilter::Patterns {
            include: partial,
            exclude: vec![]
        }
        .selects(d, &t)
    );
    let exclude = vec![whole_match_regex(".*users").unwrap()];
    assert!(!TableFilter::Patterns { include, exclude }.selects(d, &t));
    assert_eq!(
        group_partitions(&[1, 2, 3, 4, 5], 3),
        vec![vec![1, 2], vec![3, 4], vec![5]]
    );
    assert_eq!(group_partitions(&[1, 2], 2), vec![vec![1], vec![2]]);
    assert!(valid_topic_prefix("db-"));
    assert!(!valid_topic_prefix("db/"));
    assert_eq!(split_list(" a, b ,,c"), vec!["a", "b", "c"]);
}
