//! The Go kit's three roles in one pipeline, through one worker process
//! and a real broker: the RateSource example (`go-rate-source`) publishes
//! events; the SqlSink example (`go-sql-sink`, world `sink-with-database`)
//! keeps an SQLite table of each user's latest event, and the FileSink
//! example (`go-file-sink`, the `files` import) appends every event to a
//! file, both with the JsonFieldTransform example (`go-json-transform`) in
//! their chains renaming, dropping and setting fields. All four are built
//! by `guest-connectors/go/build.sh` into `build/polyglot`.
//!
//! Checked: the table's rows and the file's lines exactly (values, and the
//! topic offsets they came from), then, after the source is reconfigured
//! to generate more, that it resumed after the last event Kafka
//! acknowledged (its stored offset read back through the kit's offsets
//! import): the topic, and so the file, holds each event exactly once.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use wasmconnect_tests::databases::sqlite3;
use wasmconnect_tests::{
    Broker, free_port, polyglot_plugins, start_worker, topic_values, wait_for_contents,
    worker_props_with_plugins,
};

const COMPONENTS: [&str; 4] = [
    "go-rate-source",
    "go-json-transform",
    "go-sql-sink",
    "go-file-sink",
];
const USERS: u64 = 5;

fn source(iterations: u64) -> Value {
    json!({"connector.class": "GoRateSource", "topic": "events", "rate": "0",
           "iterations": iterations.to_string(), "users": USERS.to_string(),
           "batch.size": "7", "tasks.max": "1"})
}

/// Event `seq` as the transform leaves it.
fn edited(seq: u64) -> String {
    let user = format!("user-{}", seq % USERS);
    format!(r#"{{"task":0,"sequence":{seq},"name":"{user}","source":"go"}}"#)
}

/// The transform both sinks apply.
fn with_transform(mut config: Value) -> Value {
    let fields = json!({"transforms": "fields",
                        "transforms.fields.type": "JsonFieldTransform",
                        "transforms.fields.rename": "seq:sequence,user:name",
                        "transforms.fields.drop": "amount,ts",
                        "transforms.fields.set": "source:go"});
    for (k, v) in fields.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

/// The file's lines once `iterations` events went through, by offset.
fn expected_lines(iterations: u64) -> BTreeMap<String, String> {
    (0..iterations)
        .map(|seq| (format!("{seq:03}"), edited(seq)))
        .collect()
}

/// The file's lines (`<offset>: <value>`) by offset.
fn lines(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let (offset, value) = line.split_once(": ").unwrap();
            (
                format!("{:03}", offset.parse::<u64>().unwrap()),
                value.to_string(),
            )
        })
        .collect()
}

/// The rows the table holds once `iterations` events went through: each
/// user's last event, edited, and the offset it had in the topic (one
/// partition, event n at offset n).
fn expected(iterations: u64) -> BTreeMap<String, String> {
    (iterations - USERS..iterations)
        .map(|seq| {
            let user = format!("user-{}", seq % USERS);
            let value = format!(r#"{{"task":0,"sequence":{seq},"name":"{user}","source":"go"}}"#);
            (user, format!("{value}\tevents\t0\t{seq}"))
        })
        .collect()
}

/// The table's rows by key (empty until the sink created it). The sink
/// may be writing: `.timeout` waits for its transaction rather than fail.
fn rows(db: &Path) -> BTreeMap<String, String> {
    if !db.exists() {
        return BTreeMap::new();
    }
    let out = sqlite3(
        db,
        ".timeout 5000\nSELECT name FROM sqlite_master WHERE type = 'table' AND name = 'latest';",
    );
    if out.is_empty() {
        return BTreeMap::new();
    }
    sqlite3(
        db,
        ".timeout 5000\nSELECT record_key, record_value, kafka_topic, kafka_partition, \
         kafka_offset FROM latest ORDER BY record_key;",
    )
    .lines()
    .map(|line| {
        let (key, rest) = line.split_once('\t').unwrap();
        (key.to_string(), rest.to_string())
    })
    .collect()
}

#[tokio::test]
async fn go_source_feeds_go_sinks_through_a_go_transform() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = std::fs::canonicalize(dir.path()).unwrap();
    let db = dir_path.join("latest.db");
    let file = dir_path.join("all.txt");
    let port = free_port();
    let props = worker_props_with_plugins(
        broker.bootstrap(),
        port,
        &polyglot_plugins(&dir_path, &COMPONENTS),
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\n",
    );
    let (worker, rest) = start_worker(&dir_path, &props, port).await;

    let r = rest.create("gen", &source(20)).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = rest
        .create(
            "latest",
            &with_transform(json!({"connector.class": "GoSqlSink", "topics": "events",
                    "connection.url": format!("jdbc:sqlite:{}", db.display()),
                    "table": "latest"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = rest
        .create(
            "all",
            &with_transform(json!({"connector.class": "GoFileSink", "topics": "events",
                    "file": file, "format": "{offset}: {value}"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    for name in ["gen", "latest", "all"] {
        rest.wait_running(name, 1).await;
    }
    wait_for_contents(
        "the table",
        &expected(20),
        async || rows(&db),
        || worker.log(),
    )
    .await;
    wait_for_contents(
        "the file",
        &expected_lines(20),
        async || lines(&file),
        || worker.log(),
    )
    .await;

    // A new configuration restarts the source task, which resumes after
    // the last event Kafka acknowledged: events 20 to 29 at offsets 20 to
    // 29 (a task that started over would put event 29 at offset 49).
    let r = rest
        .call("PUT", "/connectors/gen/config", Some(source(30)))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    wait_for_contents(
        "the table",
        &expected(30),
        async || rows(&db),
        || worker.log(),
    )
    .await;
    wait_for_contents(
        "the file",
        &expected_lines(30),
        async || lines(&file),
        || worker.log(),
    )
    .await;
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written.lines().count(),
        30,
        "one line per event:\n{written}"
    );
    let seqs: Vec<u64> = topic_values(broker.bootstrap(), "events")
        .iter()
        .map(|v| {
            serde_json::from_str::<Value>(v).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        seqs,
        (0..30).collect::<Vec<_>>(),
        "each event once, in order"
    );
}
