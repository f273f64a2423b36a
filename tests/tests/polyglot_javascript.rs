//! The JavaScript kit's three roles in one worker process and a real
//! broker: the SqlPollSource example (`js-sql-source`, world
//! `source-with-database`) reads an SQLite table, its rows go to Kafka,
//! and the WebhookSink example (`js-webhook-sink`, world `sink-with-http`)
//! POSTs them, through the MaskField example (`js-mask-field`) in the
//! sink's transform chain, to an HTTP endpoint of the test's own on
//! loopback. Checked: the exact bodies and headers the endpoint gets, the
//! topic's exact contents, and that a restarted worker's source resumes
//! after the last row Kafka acknowledged (rows inserted while it was down
//! arrive once, nothing arrives twice).
//!
//! The components are built by `bash guest-connectors/javascript/build.sh
//! build/polyglot` (scripts/build-plugins.sh).

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::databases::sqlite3;
use wasmconnect_tests::receiver::{Received, Receiver};
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, polyglot_plugins, topic_values,
    worker_props_with_plugins,
};

const COMPONENTS: [&str; 3] = ["js-sql-source", "js-webhook-sink", "js-mask-field"];
const BATCH_SIZE: usize = 2;

/// Starts a standalone worker in `dir` running both connectors, and waits
/// until both report RUNNING.
async fn start(dir: &Path, worker: &str, db: &Path, hook: &str, port: u16) -> WorkerProcess {
    let source = format!(
        "name=orders-db\nconnector.class=SqlPollSource\nconnection.url=jdbc:sqlite:{}\n\
         table=orders\nincrementing.column.name=id\ntopic=orders\npoll.interval.ms=100\n",
        db.display()
    );
    let sink = format!(
        "name=orders-hook\nconnector.class=JsWebhookSink\ntopics=orders\nwebhook.url={hook}\n\
         webhook.headers=X-Env:e2e,Authorization:Bearer s3cret\nbatch.size={BATCH_SIZE}\n\
         transforms=mask\ntransforms.mask.type=JsMaskField\ntransforms.mask.fields=card\n\
         transforms.mask.replacement=****\n"
    );
    let worker = WorkerProcess::start(
        dir,
        worker,
        &[("source.properties", &source), ("sink.properties", &sink)],
    );
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    for name in ["orders-db", "orders-hook"] {
        rest.wait_for(&format!("/connectors/{name}/status"), "RUNNING", |r| {
            r.body["connector"]["state"] == "RUNNING" && r.body["tasks"][0]["state"] == "RUNNING"
        })
        .await;
    }
    worker
}

/// What the endpoint received: every record of every POST, in order.
/// Checks each request's headers and batch size on the way.
fn posted(got: &[Received]) -> Vec<Value> {
    let mut records = Vec::new();
    for request in got {
        assert_eq!(request.line, "POST /hook?from=kafka HTTP/1.1");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("x-env"), Some("e2e"));
        assert_eq!(request.header("authorization"), Some("Bearer s3cret"));
        let body: Vec<Value> = serde_json::from_slice(&request.body)
            .unwrap_or_else(|e| panic!("not a JSON array ({e}): {:?}", request.body));
        assert!(
            !body.is_empty() && body.len() <= BATCH_SIZE,
            "{} records in one POST",
            body.len()
        );
        let first = &body[0];
        assert_eq!(
            request.header("x-batch-id"),
            Some(format!("orders-0-{}", first["offset"]).as_str())
        );
        records.extend(body);
    }
    records
}

/// Waits until the endpoint has `count` records; returns them.
async fn wait_for_posts(endpoint: &Receiver, count: usize, worker: &WorkerProcess) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let records = posted(&endpoint.received());
        if records.len() >= count {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {count} records posted; worker log:\n{}",
            records.len(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The record the endpoint should get for row `id` at Kafka offset
/// `offset`, its card masked; the timestamp is the producer's.
fn expected(id: i64, offset: i64, customer: &str, amount: Value) -> Value {
    json!({"topic": "orders", "partition": 0, "offset": offset, "key": id.to_string(),
           "value": {"id": id, "customer": customer, "card": "****", "amount": amount}})
}

/// The posted records without their (producer-stamped) timestamps, which
/// must be numbers.
fn without_timestamps(records: Vec<Value>) -> Vec<Value> {
    records
        .into_iter()
        .map(|mut r| {
            let ts = r
                .as_object_mut()
                .and_then(|o| o.remove("timestamp"))
                .unwrap_or_default();
            assert!(ts.as_i64().is_some_and(|t| t > 0), "timestamp {ts} of {r}");
            r
        })
        .collect()
}

#[tokio::test]
async fn sql_rows_reach_a_webhook_masked_and_resume_after_a_restart() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    sqlite3(
        &db,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, \
         card TEXT, amount REAL NOT NULL);\n\
         INSERT INTO orders VALUES (1, 'Zoë ☃', '4111-1111', 12.5), \
         (2, 'bob', '5500-0000', 3.25), (3, 'carol \"c\"', '3400-0000', 100.0);",
    );
    let endpoint = Receiver::start(None).await;
    let hook = endpoint.url("/hook?from=kafka");
    let port = free_port();
    let worker_props = worker_props_with_plugins(
        broker.bootstrap(),
        port,
        &polyglot_plugins(dir.path(), &COMPONENTS),
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\nsandbox.allowed.hosts=127.0.0.1\n",
    );

    let mut worker = start(dir.path(), &worker_props, &db, &hook, port).await;
    // JavaScript has one number type: a REAL of 100.0 is the number 100,
    // which JSON writes as an integer.
    let first = [
        expected(1, 0, "Zoë ☃", json!(12.5)),
        expected(2, 1, "bob", json!(3.25)),
        expected(3, 2, "carol \"c\"", json!(100)),
    ];
    let records = wait_for_posts(&endpoint, 3, &worker).await;
    assert_eq!(without_timestamps(records), first);

    // Rows written while the worker is down; the restarted source asks
    // for ids above the last one Kafka acknowledged (3).
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
    sqlite3(
        &db,
        "INSERT INTO orders VALUES (4, 'dave', NULL, 7.0), (5, 'erin', '6011-0000', 0.5);",
    );
    let worker = start(dir.path(), &worker_props, &db, &hook, port).await;
    let mut all = first.to_vec();
    all.push(
        json!({"topic": "orders", "partition": 0, "offset": 3, "key": "4",
                    "value": {"id": 4, "customer": "dave", "card": null, "amount": 7}}),
    );
    all.push(expected(5, 4, "erin", json!(0.5)));
    let records = wait_for_posts(&endpoint, 5, &worker).await;
    assert_eq!(without_timestamps(records), all);

    // Kafka holds every row once, unmasked (the mask is the sink's).
    let values: Vec<Value> = topic_values(broker.bootstrap(), "orders")
        .iter()
        .map(|v| serde_json::from_str(v).unwrap())
        .collect();
    assert_eq!(
        values,
        vec![
            json!({"id": 1, "customer": "Zoë ☃", "card": "4111-1111", "amount": 12.5}),
            json!({"id": 2, "customer": "bob", "card": "5500-0000", "amount": 3.25}),
            json!({"id": 3, "customer": "carol \"c\"", "card": "3400-0000", "amount": 100}),
            json!({"id": 4, "customer": "dave", "card": null, "amount": 7}),
            json!({"id": 5, "customer": "erin", "card": "6011-0000", "amount": 0.5}),
        ]
    );
}
