//! Our `JdbcSinkConnector` against a reference implementation: Debezium's
//! JDBC sink (`io.debezium.connector.jdbc.JdbcSinkConnector`, from Maven
//! Central, installed by `scripts/kafka.sh`), running inside the real Kafka
//! Connect. Both read the same topic of JsonConverter records with schemas
//! (every primitive type the sink maps, Connect's Decimal, Date and
//! Timestamp logical types, NULLs, unicode, a key updated later in the
//! topic) and upsert it on the key field into tables they create in one
//! PostgreSQL database; the two tables must then hold the same values.
//!
//! The tables' DDL is each connector's own (column types may differ), so
//! the rows are compared through normalising selects: decimals as text,
//! timestamps formatted in UTC, bytes as hex.
//!
//! What it found: JsonConverter names FLOAT32 and FLOAT64 `float` and
//! `double` in its schemas, which our sink refused as unsupported types
//! (and our source wrote Connect's `float32`/`float64` instead); both now
//! follow JsonConverter. The values agree. (The column types differ and are
//! not compared: see `column_types`.)

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{Value, json};
use wasmconnect_tests::databases::Postgres;
use wasmconnect_tests::{Broker, Rest, WorkerProcess, free_port, repo_root, worker_props};

const TOPIC: &str = "reference-input";

/// The directory `scripts/kafka.sh reference-plugins` installs Debezium's
/// JDBC sink into, for Kafka Connect's `plugin.path`.
fn reference_plugins() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/kafka.sh"))
        .arg("reference-plugins")
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/kafka.sh");
    assert!(
        out.status.success(),
        "scripts/kafka.sh reference-plugins failed (install with `bash scripts/setup.sh`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Standard base64 with padding, as JsonConverter writes bytes and
/// decimals.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A Connect Decimal's payload: the unscaled value as the shortest
/// big-endian two's complement, base64-encoded.
fn decimal(unscaled: i128) -> String {
    let bytes = unscaled.to_be_bytes();
    let mut start = 0;
    // A leading byte may go while the next one's top bit still carries
    // the sign.
    while start < bytes.len() - 1
        && ((bytes[start] == 0x00 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    base64(&bytes[start..])
}

/// The value schema: one field of each type, all optional but the key.
fn schema() -> Value {
    let field = |name: &str, kind: &str, optional: bool| json!({"field": name, "type": kind, "optional": optional});
    let logical = |name: &str, kind: &str, logical: &str| json!({"field": name, "type": kind, "optional": true, "name": logical, "version": 1});
    let mut amount = logical("amount", "bytes", "org.apache.kafka.connect.data.Decimal");
    amount["parameters"] = json!({"scale": "2"});
    json!({
        "type": "struct",
        "name": "reference.Row",
        "optional": false,
        "fields": [
            field("id", "int32", false),
            field("big", "int64", true),
            field("name", "string", true),
            field("active", "boolean", true),
            field("score", "double", true),
            amount,
            logical("born", "int32", "org.apache.kafka.connect.data.Date"),
            logical("seen", "int64", "org.apache.kafka.connect.data.Timestamp"),
            field("data", "bytes", true),
        ],
    })
}

/// One row's values, in schema order, as the payload's JSON.
struct Row {
    id: i32,
    big: Option<i64>,
    name: Option<&'static str>,
    active: Option<bool>,
    score: Option<f64>,
    /// Unscaled, scale 2.
    amount: Option<i128>,
    /// Days since 1970-01-01.
    born: Option<i32>,
    /// Milliseconds since the epoch, UTC.
    seen: Option<i64>,
    data: Option<&'static [u8]>,
}

impl Row {
    fn envelope(&self) -> String {
        json!({
            "schema": schema(),
            "payload": {
                "id": self.id,
                "big": self.big,
                "name": self.name,
                "active": self.active,
                "score": self.score,
                "amount": self.amount.map(decimal),
                "born": self.born,
                "seen": self.seen,
                "data": self.data.map(base64),
            },
        })
        .to_string()
    }

    fn key(&self) -> String {
        json!({"schema": {"type": "int32", "optional": false}, "payload": self.id}).to_string()
    }
}

const fn empty(id: i32) -> Row {
    Row {
        id,
        big: None,
        name: None,
        active: None,
        score: None,
        amount: None,
        born: None,
        seen: None,
        data: None,
    }
}

/// The topic, in order. Key 1 is written again later (an update through
/// the upsert), and the last record (id 99) tells a reader that a sink
/// has written everything before it: both sinks write a partition in
/// order.
fn records() -> Vec<Row> {
    vec![
        Row {
            big: Some(1_234_567_890_123),
            name: Some("Zoë ☃ 東京 😀"),
            active: Some(true),
            score: Some(1.5),
            amount: Some(123_456_789_012),
            born: Some(7363), // 1990-02-28
            seen: Some(1_700_000_000_123),
            data: Some(&[0x00, 0xff, 0x10]),
            ..empty(1)
        },
        empty(2),
        Row {
            big: Some(i64::MIN),
            name: Some(""),
            active: Some(false),
            score: Some(-2.25),
            amount: Some(-5),
            born: Some(-1),     // 1969-12-31
            seen: Some(-1_500), // 1969-12-31 23:59:58.500
            data: Some(&[]),
            ..empty(3)
        },
        Row {
            big: Some(i64::MAX),
            name: Some("quote ' and \\ backslash, tab\tand newline\nend"),
            active: Some(true),
            score: Some(0.1),
            amount: Some(0),
            born: Some(19_782), // 2024-02-29
            seen: Some(1_709_164_800_000),
            data: Some(&[0xde, 0xad, 0xbe, 0xef]),
            ..empty(i32::MAX)
        },
        // Key 1 again: every column changes, two of them to NULL.
        Row {
            big: Some(-7),
            name: Some("updated ✓"),
            active: None,
            score: Some(1e-300),
            amount: Some(99_999),
            born: Some(0),
            seen: None,
            data: None,
            ..empty(1)
        },
        Row {
            name: Some("last"),
            ..empty(99)
        },
    ]
}

/// What both tables must hold, one line per row as [`rows`] prints it.
const EXPECTED: &str = "\
1\t-7\tupdated ✓\tNULL\t1e-300\t999.99\t1970-01-01\tNULL\tNULL
2\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL
3\t-9223372036854775808\t\tf\t-2.25\t-0.05\t1969-12-31\t1969-12-31 23:59:58.500\t
99\tNULL\tlast\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL
2147483647\t9223372036854775807\tquote ' and \\ backslash, tab\tand newline\nend\tt\t0.1\t0.00\t2024-02-29\t2024-02-29 00:00:00.000\tdeadbeef";

/// `table`'s rows, normalised so that the two connectors' column types do
/// not matter: text as it is, booleans as t/f, numbers and dates as
/// PostgreSQL prints them, timestamps in UTC to the millisecond, bytes as
/// hex. psql prints NULL as `NULL` and separates cells by tabs.
fn rows(pg: &Postgres, table: &str) -> String {
    pg.psql(&format!(
        "SET TIME ZONE 'UTC';
         SELECT id, big, name, CASE WHEN active THEN 't' WHEN NOT active THEN 'f' END,
           score, amount::text, born, to_char(seen, 'YYYY-MM-DD HH24:MI:SS.MS'),
           encode(data, 'hex')
         FROM {table} ORDER BY id"
    ))
}

/// `table`'s rows, or "" while it does not exist yet.
fn rows_if_created(pg: &Postgres, table: &str) -> String {
    let exists = pg.psql(&format!("SELECT to_regclass('{table}') IS NOT NULL"));
    if exists == "t" {
        rows(pg, table)
    } else {
        String::new()
    }
}

/// Each column's type, for the failure message and the notes above.
fn column_types(pg: &Postgres, table: &str) -> String {
    pg.psql(&format!(
        "SELECT column_name || ' ' || data_type || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '') \
         FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
    ))
}

fn produce(bootstrap: &str) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    for row in records() {
        let (key, value) = (row.key(), row.envelope());
        producer
            .send(
                BaseRecord::to(TOPIC)
                    .key(key.as_str())
                    .payload(value.as_str()),
            )
            .expect("send");
        // Polled as it goes, so the delivery queue never fills.
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

/// Kafka Connect's worker: JsonConverter with schemas (its default), REST
/// on `port`, Debezium's sink on the plugin path.
fn kafka_connect_props(bootstrap: &str, port: u16, plugins: &std::path::Path) -> String {
    format!(
        "bootstrap.servers={bootstrap}\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         offset.storage.file.filename=connect.offsets\noffset.flush.interval.ms=200\n\
         listeners=http://127.0.0.1:{port}\nplugin.path={}\n",
        plugins.display()
    )
}

/// Polls until `table` holds the last record's row, then returns all its
/// rows; fails with the connector's status and the worker's log when that
/// takes longer than `timeout`.
async fn wait_for_last(
    pg: &Postgres,
    table: &str,
    rest: &Rest,
    connector: &str,
    worker: &WorkerProcess,
    timeout: Duration,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let now = rows_if_created(pg, table);
        if now.lines().any(|l| l.starts_with("99\t")) {
            return now;
        }
        if Instant::now() >= deadline {
            let status = rest
                .call("GET", &format!("/connectors/{connector}/status"), None)
                .await;
            panic!(
                "{table} did not receive the last record within {timeout:?}\nrows:\n{now}\n\
                 status: {status:?}\nlog:\n{}",
                worker.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_jdbc_sink_writes_the_same_rows_as_debeziums() {
    let plugins = reference_plugins();
    let broker = Broker::start();
    let pg = Postgres::start();
    produce(broker.bootstrap());
    let dir = tempfile::tempdir().unwrap();

    // Debezium's sink in Kafka Connect (standalone), into ref_copy.
    let theirs_dir = dir.path().join("kafka-connect");
    std::fs::create_dir_all(&theirs_dir).unwrap();
    let theirs_port = free_port();
    let theirs = WorkerProcess::kafka_connect(
        &theirs_dir,
        false,
        &kafka_connect_props(broker.bootstrap(), theirs_port, &plugins),
        &[],
    );
    let theirs_rest = Rest::new(theirs_port);

    // Ours in our worker, into our_copy. Started while Kafka Connect scans
    // its plugins, which takes it several seconds.
    let ours_dir = dir.path().join("wasmconnect");
    std::fs::create_dir_all(&ours_dir).unwrap();
    let ours_port = free_port();
    let ours = WorkerProcess::start(
        &ours_dir,
        &worker_props(
            broker.bootstrap(),
            ours_port,
            "key.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\n\
             sandbox.allowed.hosts=127.0.0.1\n",
        ),
        &[],
    );
    let ours_rest = Rest::new(ours_port);

    ours_rest.wait_ready(&ours).await;
    let r = ours_rest
        .create(
            "our-sink",
            &json!({
                "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                "topics": TOPIC,
                "connection.url": pg.url(),
                "connection.user": pg.user(),
                "connection.password": pg.password(),
                "insert.mode": "upsert",
                "pk.mode": "record_value",
                "pk.fields": "id",
                "auto.create": "true",
                "table.name.format": "our_copy",
                "tasks.max": "1",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "our sink: {r:?}");

    theirs_rest.wait_ready(&theirs).await;
    // Debezium's names for the same settings (its JdbcSinkConnectorConfig
    // and the shared SinkConnectorConfig): upsert keyed on the value's id,
    // the table created from the first record's schema
    // (schema.evolution=basic), and the table named by
    // collection.name.format (table.name.format is its deprecated alias).
    let r = theirs_rest
        .create(
            "ref-sink",
            &json!({
                "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
                "topics": TOPIC,
                "connection.url": pg.url(),
                "connection.username": pg.user(),
                "connection.password": pg.password(),
                "insert.mode": "upsert",
                "primary.key.mode": "record_value",
                "primary.key.fields": "id",
                "schema.evolution": "basic",
                "collection.name.format": "ref_copy",
                "tasks.max": "1",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "Debezium's sink: {r:?}");

    let timeout = Duration::from_secs(120);
    let ours_rows = wait_for_last(&pg, "our_copy", &ours_rest, "our-sink", &ours, timeout).await;
    let theirs_rows =
        wait_for_last(&pg, "ref_copy", &theirs_rest, "ref-sink", &theirs, timeout).await;

    let types = format!(
        "our_copy's columns:\n{}\nref_copy's columns:\n{}",
        column_types(&pg, "our_copy"),
        column_types(&pg, "ref_copy")
    );
    assert_eq!(
        theirs_rows, EXPECTED,
        "Debezium's table is not what the records say\n{types}"
    );
    assert_eq!(
        ours_rows, theirs_rows,
        "our table differs from Debezium's\n{types}"
    );
}
