//! `ElasticsearchSinkConnector` against a real OpenSearch node (2.19, from
//! Maven Central jars; `scripts/opensearch.sh`): records in Kafka become
//! documents compared exactly, through tombstones (deletes), a kill -9 of
//! the worker, and a 20 s outage of the server. The connector reaches the
//! node only through the worker's outbound HTTP grant (`connection.url`
//! within `sandbox.allowed.hosts`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{Value, json};
use wasmconnect_tests::search::OpenSearch;
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, wait_for_contents, wait_until, worker_props,
};

const TOPIC: &str = "Orders";
const INDEX: &str = "orders";

/// The Connect schema of the values: what JsonConverter writes.
fn schema() -> Value {
    json!({"type": "struct", "name": "order", "optional": false, "fields": [
        {"field": "id", "type": "int64", "optional": false},
        {"field": "item", "type": "string", "optional": true},
        {"field": "price", "type": "float64", "optional": false},
        {"field": "at", "type": "int64", "optional": false,
         "name": "org.apache.kafka.connect.data.Timestamp", "version": 1},
    ]})
}

fn order(id: i64) -> Value {
    json!({"id": id, "item": format!("item {id} ☃"), "price": id as f64 * 1.25,
           "at": 1_700_000_000_000_i64 + id})
}

/// Writes (key, value) records to partition 0; `None` values are tombstones.
fn produce(bootstrap: &str, records: &[(String, Option<Value>)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    for (key, value) in records {
        let payload = value
            .as_ref()
            .map(|v| json!({"schema": schema(), "payload": v}).to_string());
        let mut record = BaseRecord::<String, String>::to(TOPIC)
            .partition(0)
            .key(key);
        if let Some(p) = &payload {
            record = record.payload(p);
        }
        producer.send(record).expect("queue the record");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

fn orders(ids: std::ops::Range<i64>) -> Vec<(String, Option<Value>)> {
    ids.map(|i| (format!("k{i}"), Some(order(i)))).collect()
}

/// The documents the index must hold: id `k<i>` → the order.
fn expected(ids: impl Iterator<Item = i64>) -> BTreeMap<String, Value> {
    ids.map(|i| (format!("k{i}"), order(i))).collect()
}

fn props(bootstrap: &str, port: u16) -> String {
    worker_props(
        bootstrap,
        port,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=true\nsandbox.allowed.hosts=127.0.0.1\n",
    )
}

fn sink_config(node: &OpenSearch) -> Value {
    json!({
        "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
        "topics": TOPIC,
        "connection.url": node.url(),
        "key.ignore": "false",
        "schema.ignore": "false",
        "behavior.on.null.values": "delete",
        "batch.size": "100",
        "linger.ms": "50",
        "max.retries": "12",
        "retry.backoff.ms": "500",
        "tasks.max": "1",
    })
}

async fn wait_documents(node: &OpenSearch, want: &BTreeMap<String, Value>, worker: &WorkerProcess) {
    wait_for_contents(
        "the index",
        want,
        async || node.documents(INDEX).await.unwrap_or_default(),
        || worker.log(),
    )
    .await;
}

async fn task_resources(rest: &Rest) -> Value {
    let r = rest.call("GET", "/connectors/to-search/status", None).await;
    r.body["tasks"][0]["resources"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_become_documents_through_deletes_a_kill_and_an_outage() {
    let broker = Broker::start();
    let node = OpenSearch::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker_props = props(broker.bootstrap(), port);
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;

    produce(broker.bootstrap(), &orders(0..200));
    let r = rest.create("to-search", &sink_config(&node)).await;
    assert_eq!(r.status, 201, "{r:?}");
    wait_documents(&node, &expected(0..200), &worker).await;

    // The index was created from the topic (lowercased) with the mapping
    // the record schema implies.
    let (status, mapping) = node.call("GET", &format!("/{INDEX}/_mapping"), None).await;
    assert_eq!(status, 200);
    let fields = &mapping[INDEX]["mappings"]["properties"];
    assert_eq!(fields["id"], json!({"type": "long"}), "{mapping}");
    assert_eq!(fields["price"], json!({"type": "double"}));
    assert_eq!(fields["at"], json!({"type": "date"}));
    assert_eq!(fields["item"]["type"], "text");

    // The task's usage counts its HTTP requests and bytes.
    let used = task_resources(&rest).await;
    assert!(used["http_requests"].as_u64().unwrap_or(0) >= 3, "{used}");
    assert!(
        used["http_bytes_sent"].as_u64().unwrap_or(0) > 200 * 60,
        "{used}"
    );
    assert!(
        used["http_bytes_received"].as_u64().unwrap_or(0) > 0,
        "{used}"
    );

    // Tombstones delete (behavior.on.null.values=delete); an update replaces.
    let mut changes: Vec<(String, Option<Value>)> =
        (0..10).map(|i| (format!("k{i}"), None)).collect();
    let mut updated = order(10);
    updated["item"] = json!("updated");
    changes.push(("k10".into(), Some(updated.clone())));
    produce(broker.bootstrap(), &changes);
    let mut want = expected(11..200);
    want.insert("k10".into(), updated);
    wait_documents(&node, &want, &worker).await;

    // kill -9 while records stream in: after the restart none is missing.
    produce(broker.bootstrap(), &orders(200..1200));
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.documents(INDEX).await.map_or(0, |d| d.len()) <= want.len() {
        assert!(
            Instant::now() < deadline,
            "no new document arrived\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill9();
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    rest.wait_ready(&worker).await;
    want.extend(expected(200..1200));
    wait_documents(&node, &want, &worker).await;

    // A 20 s outage: the task retries with doubling waits and carries on
    // when the server is back, losing nothing.
    node.kill();
    produce(broker.bootstrap(), &orders(1200..1300));
    let outage = Instant::now();
    wait_until(Duration::from_secs(60), "the task to retry", || {
        worker
            .log()
            .contains("Writing to Elasticsearch failed, retrying in")
    })
    .await;
    // The outage lasts 20 s whatever the retries do (a scenario, not a wait
    // for an event).
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(outage.elapsed())).await;
    let status = rest.call("GET", "/connectors/to-search/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{:?}",
        status.body
    );
    node.start_again();
    want.extend(expected(1200..1300));
    wait_documents(&node, &want, &worker).await;
    assert!(
        worker.log().contains("connection refused"),
        "the retries name the failure:\n{}",
        worker.log()
    );
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
}

/// Writes schemaless JSON values (no keys) to partition 0 of `topic`.
fn produce_values(bootstrap: &str, topic: &str, values: &[&str]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    for v in values {
        producer
            .send(BaseRecord::<(), str>::to(topic).partition(0).payload(*v))
            .expect("queue the record");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_ids_malformed_documents_and_the_dead_letter_queue() {
    let broker = Broker::start();
    let node = OpenSearch::start();
    // The index exists with a mapping the second record breaks.
    let (status, made) = node
        .call(
            "PUT",
            "/logs",
            Some(json!({"mappings": {"properties": {"n": {"type": "integer"}}}})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker_props = worker_props(
        broker.bootstrap(),
        port,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\nsandbox.allowed.hosts=127.0.0.1\n",
    );
    let worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    produce_values(
        broker.bootstrap(),
        "Logs",
        &[r#"{"n":1}"#, r#"{"n":"not a number"}"#, r#"{"n":3}"#],
    );
    let config = json!({
        "connector.class": "ElasticsearchSinkConnector",
        "topics": "Logs",
        "connection.url": node.url(),
        "key.ignore": "true",
        "schema.ignore": "true",
        "write.method": "upsert",
        "behavior.on.malformed.documents": "fail",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "logs-dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "tasks.max": "1",
    });
    let r = rest.create("logs", &config).await;
    assert_eq!(r.status, 201, "{r:?}");
    // Ids are topic+partition+offset; the malformed document went to the
    // dead letter queue as it was consumed, and the others were written.
    let want: BTreeMap<String, Value> =
        [("Logs+0+0", json!({"n": 1})), ("Logs+0+2", json!({"n": 3}))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.documents("logs").await.as_ref() != Some(&want) {
        assert!(
            Instant::now() < deadline,
            "documents: {:?}\n{}",
            node.documents("logs").await,
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_until(Duration::from_secs(30), "the dead letter queue", || {
        wasmconnect_tests::topic_values(broker.bootstrap(), "logs-dlq")
            == [r#"{"n":"not a number"}"#]
    })
    .await;
    let status = rest.call("GET", "/connectors/logs/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{:?}",
        status.body
    );
    assert!(
        worker.log().contains("mapper_parsing_exception"),
        "{}",
        worker.log()
    );

    // Upserts merge into the stored document: the same id again with
    // another field keeps the first.
    produce_values(broker.bootstrap(), "Logs", &[r#"{"m":4}"#]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.documents("logs").await.is_none_or(|d| d.len() < 3) {
        assert!(Instant::now() < deadline, "{}", worker.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        node.documents("logs").await.unwrap()["Logs+0+3"],
        json!({"m": 4})
    );
}

#[tokio::test]
async fn the_sink_passes_the_conformance_kit() {
    let node = OpenSearch::start();
    let dir = tempfile::tempdir().unwrap();
    wasmconnect_tests::conformance_kit(
        dir.path(),
        "elasticsearch-sink",
        &[
            format!("connection.url={}", node.url()),
            "topics=kit".into(),
            "key.ignore=true".into(),
            "schema.ignore=true".into(),
        ],
        &[r#"{"a":1}"#.into(), r#"{"a":2}"#.into()],
        "PASS put: ",
    );
    // The kit writes to the topic `conformance`, whatever `topics` says.
    assert_eq!(
        node.documents("conformance").await.map(|d| d.len()),
        Some(2)
    );
}
