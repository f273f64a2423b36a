//! The Python kit's database wrapper end to end, without Kafka: the
//! SqlSink example (`guest-connectors/python/examples/sql-sink`, world
//! `sink-with-database`, built into `build/polyglot` by
//! `guest-connectors/python/build.sh`) runs as a sink task through the
//! worker's `wasmconnect:database/sql` host against a real PostgreSQL and
//! an SQLite file, under a worker's grant policy
//! (`sandbox.allowed.hosts=127.0.0.1`, `sandbox.allowed.dirs` a temporary
//! directory).
//!
//! Checked: the rows each database holds afterwards, exactly (unicode, text,
//! binary and null values, timestamps, two partitions), that a redelivered
//! batch leaves one row per record, that a batch failing on its second row
//! leaves none, that a connection the server dropped is replaced on the
//! worker's retry, and that the worker refuses a database the policy does
//! not allow when the task starts, and one the configuration does not name
//! when the guest asks for it.

use std::path::PathBuf;

use wasmconnect::bindings::types::{
    JsonPayload, PartitionOffset, Payload, SinkRecord, TimestampType, TopicPartition,
};
use wasmconnect::{InstanceSpec, Plugin, Sandbox, SinkTaskInstance, World};
use wasmconnect_tests::databases::{Postgres, sqlite3};
use wasmconnect_tests::{config, polyglot_dir, wait_until, worker_sandbox};

const TOPIC: &str = "orders";

/// The SqlSink component, loaded into `sandbox`.
async fn sql_sink(sandbox: &Sandbox) -> Plugin {
    // The tests run in parallel, each with a sandbox of its own policy;
    // one load at a time lets the first compile the component (about 10 s
    // of CPU) and the others read the artifact it cached, instead of all
    // compiling it at once.
    static LOADING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let path = polyglot_dir().join("python-sql-sink.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `bash guest-connectors/python/build.sh build/polyglot`",
        path.display()
    );
    let loading = LOADING.lock().await;
    let plugin = Plugin::load_file(sandbox, &path)
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    drop(loading);
    assert_eq!(plugin.info().name, "io.wasmconnect.python.SqlSinkConnector");
    assert_eq!(plugin.info().world, World::Sink);
    plugin
}

/// The connector configuration for `url` and `table`.
fn sink_config(url: &str, credentials: Option<(&str, &str)>, table: &str) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("name", "sql"),
        ("topics", TOPIC),
        ("connection.url", url),
        ("table", table),
    ];
    if let Some((user, password)) = credentials {
        pairs.push(("connection.user", user));
        pairs.push(("connection.password", password));
    }
    config(&pairs)
}

fn record(partition: i32, offset: i64, value: Option<Payload>, ms: Option<i64>) -> SinkRecord {
    SinkRecord {
        topic: TOPIC.into(),
        partition,
        offset,
        key: None,
        value,
        headers: vec![],
        timestamp: ms,
        timestamp_type: if ms.is_some() {
            TimestampType::CreateTime
        } else {
            TimestampType::NoTimestamp
        },
    }
}

fn json(document: &str) -> Option<Payload> {
    Some(Payload::Json(JsonPayload {
        document: document.into(),
        schema: None,
    }))
}

/// 2023-11-14 22:13:20.123 UTC, in milliseconds.
const T0: i64 = 1_700_000_000_123;

/// The first batch: a JSON object with unicode, text, binary, a tombstone
/// and a second partition.
fn first_batch() -> Vec<SinkRecord> {
    vec![
        record(0, 0, json(r#"{"name": "Zoë ☃ 東京 😀", "n": 1}"#), Some(T0)),
        record(0, 1, Some(Payload::Text("plain text".into())), None),
        record(0, 2, Some(Payload::Binary(vec![0xff, 0x00])), Some(T0 + 1)),
        record(0, 3, None, Some(T0 + 2)),
        record(1, 7, json(r#"[1, null, "ü"]"#), Some(T0 + 3)),
    ]
}

/// Redelivered offsets 0 and 1 (as after a restart before the offsets
/// were committed) and one new record.
fn second_batch() -> Vec<SinkRecord> {
    let mut batch: Vec<SinkRecord> = first_batch().into_iter().take(2).collect();
    batch.push(record(0, 4, json(r#""new""#), Some(T0 + 4)));
    batch
}

/// What the table holds after both batches, one row a line as the
/// database helpers print it (the timestamp as UTC wall clock with
/// microseconds).
const EXPECTED: &str = "\
orders\t0\t0\t2023-11-14 22:13:20.123000\t{\"name\":\"Zoë ☃ 東京 😀\",\"n\":1}
orders\t0\t1\tNULL\t\"plain text\"
orders\t0\t2\t2023-11-14 22:13:20.124000\t\"/wA=\"
orders\t0\t3\t2023-11-14 22:13:20.125000\tNULL
orders\t0\t4\t2023-11-14 22:13:20.127000\t\"new\"
orders\t1\t7\t2023-11-14 22:13:20.126000\t[1,null,\"ü\"]";

const PG_ROWS: &str = "SELECT kafka_topic, kafka_partition, kafka_offset, \
     to_char(kafka_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), value \
     FROM orders ORDER BY 1, 2, 3";
/// SQLite keeps timestamps as the text the host wrote.
const SQLITE_ROWS: &str = "SELECT kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, \
     value FROM orders ORDER BY 1, 2, 3";

/// Runs a task over both batches the way the worker does (start, open,
/// put, pre-commit, put, close, stop).
async fn run_both_batches(plugin: &Plugin, cfg: &[(String, String)]) {
    let mut task = SinkTaskInstance::new(plugin, InstanceSpec::new("sql", Some(0), cfg.to_vec()))
        .await
        .expect("the worker grants the configured database");
    task.start(cfg).await.unwrap();
    let partitions = [0, 1].map(|partition| TopicPartition {
        topic: TOPIC.into(),
        partition,
    });
    task.open(&partitions).await.unwrap();
    task.put(&first_batch()).await.unwrap();
    let current = vec![PartitionOffset {
        topic: TOPIC.into(),
        partition: 0,
        offset: 4,
    }];
    assert_eq!(task.pre_commit(&current).await.unwrap(), current);
    task.put(&second_batch()).await.unwrap();
    task.close(&partitions).await.unwrap();
    task.stop().await.unwrap();
}

/// A table whose `value` may not be NULL, for a batch that fails midway.
const STRICT_TABLE: &str = "CREATE TABLE strict_orders (kafka_topic VARCHAR(255) NOT NULL, \
     kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL, \
     kafka_timestamp TIMESTAMP, value TEXT NOT NULL, \
     PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset))";

/// Puts a good record and a tombstone into `strict_orders`; returns why
/// the put failed.
async fn put_failing_on_the_second_row(plugin: &Plugin, cfg: &[(String, String)]) -> String {
    let mut task = SinkTaskInstance::new(plugin, InstanceSpec::new("sql", Some(0), cfg.to_vec()))
        .await
        .unwrap();
    task.start(cfg).await.unwrap();
    let batch = [
        record(0, 0, Some(Payload::Text("kept?".into())), Some(T0)),
        record(0, 1, None, Some(T0)),
    ];
    let err = task.put(&batch).await.expect_err("a NULL value is refused");
    assert!(!err.is_retriable(), "{err}");
    task.stop().await.unwrap();
    err.to_string()
}

#[tokio::test]
async fn sql_sink_upserts_every_record_into_postgres_once() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = worker_sandbox(dir.path());
    let plugin = sql_sink(&sandbox).await;
    let credentials = Some((pg.user(), pg.password()));

    run_both_batches(&plugin, &sink_config(&pg.url(), credentials, "orders")).await;
    assert_eq!(pg.psql(PG_ROWS), EXPECTED);
    assert_eq!(
        pg.psql(
            "SELECT data_type FROM information_schema.columns \
                 WHERE table_name = 'orders' AND column_name = 'kafka_timestamp'"
        ),
        "timestamp with time zone"
    );

    // The batch is one transaction: the first row is rolled back with the
    // second, and the error carries PostgreSQL's message and SQLSTATE.
    pg.psql(STRICT_TABLE);
    let err = put_failing_on_the_second_row(
        &plugin,
        &sink_config(&pg.url(), credentials, "strict_orders"),
    )
    .await;
    assert!(
        err.starts_with(
            "put failed: null value in column \"value\" of relation \"strict_orders\" \
             violates not-null constraint"
        ) && err.ends_with("(SQLSTATE 23502)"),
        "{err}"
    );
    assert_eq!(pg.psql("SELECT count(*) FROM strict_orders"), "0");
}

#[tokio::test]
async fn a_connection_the_server_dropped_is_replaced_on_the_retry() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = worker_sandbox(dir.path());
    let plugin = sql_sink(&sandbox).await;
    let cfg = sink_config(&pg.url(), Some((pg.user(), pg.password())), "orders");
    let mut task = SinkTaskInstance::new(&plugin, InstanceSpec::new("sql", Some(0), cfg.clone()))
        .await
        .unwrap();
    task.start(&cfg).await.unwrap();
    task.put(&first_batch()).await.unwrap();

    // Terminate the task's session and wait until the server has let it
    // go, so the next call finds the connection closed.
    let others = "FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()";
    assert_eq!(
        pg.psql(&format!("SELECT pg_terminate_backend(pid) {others}")),
        "t"
    );
    wait_until(
        std::time::Duration::from_secs(10),
        "the terminated session to end",
        || pg.psql(&format!("SELECT count(*) {others}")) == "0",
    )
    .await;
    let err = task
        .put(&second_batch())
        .await
        .expect_err("the connection is gone");
    assert!(err.is_retriable(), "a lost connection is retriable: {err}");
    // The worker retries the same batch; the kit opens a new connection.
    task.put(&second_batch()).await.unwrap();
    task.stop().await.unwrap();
    assert_eq!(pg.psql(PG_ROWS), EXPECTED);
}

#[tokio::test]
async fn sql_sink_upserts_every_record_into_sqlite_once() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().canonicalize().unwrap();
    let sandbox = worker_sandbox(&allowed);
    let plugin = sql_sink(&sandbox).await;
    let file = allowed.join("sink.db");
    let url = format!("jdbc:sqlite:{}", file.display());

    run_both_batches(&plugin, &sink_config(&url, None, "orders")).await;
    assert_eq!(sqlite3(&file, SQLITE_ROWS), EXPECTED);

    sqlite3(&file, STRICT_TABLE);
    let err =
        put_failing_on_the_second_row(&plugin, &sink_config(&url, None, "strict_orders")).await;
    assert_eq!(
        err,
        "put failed: NOT NULL constraint failed: strict_orders.value"
    );
    assert_eq!(sqlite3(&file, "SELECT count(*) FROM strict_orders"), "0");
}

#[tokio::test]
async fn databases_the_worker_does_not_allow_are_refused_when_the_task_starts() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().canonicalize().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    let sandbox = worker_sandbox(&allowed);
    let plugin = sql_sink(&sandbox).await;

    // Nothing listens there; the grant is refused before any connection.
    let url = "jdbc:postgresql://127.0.0.2:5432/wasmconnect";
    let cfg = sink_config(url, Some(("u", "p")), "orders");
    let err = SinkTaskInstance::new(&plugin, InstanceSpec::new("sql", Some(0), cfg))
        .await
        .err()
        .expect("127.0.0.2 is not in sandbox.allowed.hosts");
    assert_eq!(
        err.to_string(),
        format!(
            "could not start the plugin instance: configuration connection.url names {url}, \
             which this worker does not allow: 127.0.0.2:5432 is not in sandbox.allowed.hosts"
        )
    );

    let file = outside.join("elsewhere.db");
    let cfg = sink_config(&format!("jdbc:sqlite:{}", file.display()), None, "orders");
    let err = SinkTaskInstance::new(&plugin, InstanceSpec::new("sql", Some(0), cfg))
        .await
        .err()
        .expect("the file is outside sandbox.allowed.dirs");
    assert_eq!(
        err.to_string(),
        format!(
            "could not start the plugin instance: configuration connection.url names {} is \
             outside the directories this worker allows ({}); sandbox.allowed.dirs can allow it",
            file.display(),
            allowed.display()
        )
    );
    assert!(!file.exists());
}

#[tokio::test]
async fn a_database_the_configuration_does_not_name_is_not_granted() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().canonicalize().unwrap();
    let sandbox = worker_sandbox(&allowed);
    let plugin = sql_sink(&sandbox).await;
    let granted: PathBuf = allowed.join("granted.db");
    let other: PathBuf = allowed.join("other.db");
    // The instance is granted what its configuration names; the guest is
    // then started with another URL (the worker never does this), so it
    // asks the host for a database it was not granted, though one the
    // policy would allow.
    let spec_cfg = sink_config(
        &format!("jdbc:sqlite:{}", granted.display()),
        None,
        "orders",
    );
    let other_url = format!("jdbc:sqlite:{}", other.display());
    let mut task = SinkTaskInstance::new(&plugin, InstanceSpec::new("sql", Some(0), spec_cfg))
        .await
        .unwrap();
    task.start(&sink_config(&other_url, None, "orders"))
        .await
        .unwrap();
    let err = task.put(&first_batch()).await.expect_err("not granted");
    assert!(!err.is_retriable(), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "put failed: database not granted: {other_url} is not the value of any url \
             setting of this connector"
        )
    );
    task.stop().await.unwrap();
    assert!(!other.exists() && !granted.exists());
}
