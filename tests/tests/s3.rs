//! `S3SinkConnector` against a real S3-compatible server (s3s-fs, with
//! SigV4 authentication): records in Kafka become objects named and cut as
//! Confluent's connector does, compared byte for byte on disk, through a
//! kill -9 of the worker (no record lost, none in two objects) and a 20 s
//! outage of the server; a time-based partitioner and a multipart upload.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{Value, json};
use wasmconnect_tests::objects::S3Server;
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, wait_for_contents, wait_until, worker_props,
};

const BUCKET: &str = "kafka-data";

/// Writes values to partition 0 of `topic`, with timestamps when given.
fn produce(bootstrap: &str, topic: &str, values: &[(Vec<u8>, Option<i64>)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.max.bytes", "10000000")
        .create()
        .expect("producer");
    for (value, ts) in values {
        let mut record = BaseRecord::<(), [u8]>::to(topic)
            .partition(0)
            .payload(value.as_slice());
        if let Some(ts) = ts {
            record = record.timestamp(*ts);
        }
        producer.send(record).expect("queue the record");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

fn event(i: i64) -> Value {
    json!({"id": i, "name": format!("event {i} ☃"), "ok": i % 2 == 0})
}

fn events(ids: std::ops::Range<i64>) -> Vec<(Vec<u8>, Option<i64>)> {
    ids.map(|i| (event(i).to_string().into_bytes(), None))
        .collect()
}

/// The objects `flush.size=100` cuts from offsets `0..end` of `events`:
/// key → exact bytes.
fn expected(topic: &str, end: i64) -> BTreeMap<String, Vec<u8>> {
    (0..end / 100)
        .map(|n| {
            let start = n * 100;
            let key = format!("topics/{topic}/partition=0/{topic}+0+{start:010}.json");
            let body: String = (start..start + 100)
                .map(|i| format!("{}\n", event(i)))
                .collect();
            (key, body.into_bytes())
        })
        .collect()
}

fn props(bootstrap: &str, port: u16) -> String {
    worker_props(
        bootstrap,
        port,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\nsandbox.allowed.hosts=127.0.0.1\n\
         consumer.max.partition.fetch.bytes=10485760\n",
    )
}

fn sink_config(server: &S3Server, topic: &str) -> Value {
    json!({
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": topic,
        "s3.bucket.name": BUCKET,
        "s3.region": "us-east-1",
        "store.url": server.url(),
        "aws.access.key.id": S3Server::ACCESS_KEY,
        "aws.secret.access.key": S3Server::SECRET_KEY,
        "flush.size": "100",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "s3.part.retries": "12",
        "s3.retry.backoff.ms": "500",
        "tasks.max": "1",
    })
}

async fn wait_objects(server: &S3Server, want: &BTreeMap<String, Vec<u8>>, worker: &WorkerProcess) {
    wait_for_contents(
        "the bucket",
        want,
        async || server.objects(BUCKET),
        || {
            format!(
                "worker log:\n{}\nserver log:\n{}",
                worker.log(),
                server.log()
            )
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_become_objects_exactly_once_through_a_kill_and_an_outage() {
    let broker = Broker::start();
    let mut server = S3Server::start(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker_props = props(broker.bootstrap(), port);
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;

    // 250 records: two full objects; the last 50 wait for more.
    produce(broker.bootstrap(), "events", &events(0..250));
    let r = rest.create("to-s3", &sink_config(&server, "events")).await;
    assert_eq!(r.status, 201, "{r:?}");
    wait_objects(&server, &expected("events", 200), &worker).await;
    produce(broker.bootstrap(), "events", &events(250..300));
    wait_objects(&server, &expected("events", 300), &worker).await;

    // kill -9 while records stream in: the restarted task rewrites the
    // objects it had not committed under the same names.
    produce(broker.bootstrap(), "events", &events(300..1300));
    wait_until(Duration::from_secs(60), "a new object", || {
        server.objects(BUCKET).len() > 3
    })
    .await;
    worker.kill9();
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    rest.wait_ready(&worker).await;
    wait_objects(&server, &expected("events", 1300), &worker).await;

    // A 20 s outage of the store: retried with doubling waits, nothing lost.
    server.kill();
    produce(broker.bootstrap(), "events", &events(1300..1400));
    let outage = Instant::now();
    wait_until(Duration::from_secs(60), "the task to retry", || {
        worker.log().contains(") failed, retrying in")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(outage.elapsed())).await;
    let status = rest.call("GET", "/connectors/to-s3/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{:?}",
        status.body
    );
    server.start_again();
    wait_objects(&server, &expected("events", 1400), &worker).await;
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_directories_raw_bytes_and_a_multipart_upload() {
    let broker = Broker::start();
    let server = S3Server::start(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker_props = worker_props(
        broker.bootstrap(),
        port,
        "value.converter=org.apache.kafka.connect.converters.ByteArrayConverter\n\
         sandbox.allowed.hosts=127.0.0.1\nconsumer.max.partition.fetch.bytes=10485760\n",
    );
    let worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;

    // 2023-11-14T22:00Z and 23:00Z: three records in each hour, in
    // Record time; 60 KiB each, so an hour's object (over 5 MiB with 100
    // records) would go up in parts: here flush.size=90 makes 5.4 MB.
    let hour = 1_699_999_200_000_i64;
    let big = |i: u8| vec![i; 60 * 1024];
    let mut values: Vec<(Vec<u8>, Option<i64>)> = (0..90)
        .map(|i| (big(i), Some(hour + i64::from(i))))
        .collect();
    values.push((b"late".to_vec(), Some(hour + 3_600_000)));
    produce(broker.bootstrap(), "raw", &values);
    let mut config = sink_config(&server, "raw");
    config["flush.size"] = json!("90");
    config["format.class"] = json!("io.confluent.connect.s3.format.bytearray.ByteArrayFormat");
    config["format.bytearray.separator"] = json!("|");
    config["s3.part.size"] = json!("5242880");
    config["partitioner.class"] =
        json!("io.confluent.connect.storage.partitioner.HourlyPartitioner");
    config["locale"] = json!("en-US");
    config["timezone"] = json!("UTC");
    config["timestamp.extractor"] = json!("Record");
    let r = rest.create("raw-to-s3", &config).await;
    assert_eq!(r.status, 201, "{r:?}");

    let key = "topics/raw/year=2023/month=11/day=14/hour=22/raw+0+0000000000.bin";
    let mut want = Vec::new();
    for i in 0..90u8 {
        want.extend(big(i));
        want.push(b'|');
    }
    let mut expected = BTreeMap::new();
    expected.insert(key.to_string(), want);
    wait_objects(&server, &expected, &worker).await;
    assert!(
        expected[key].len() > 5 * 1024 * 1024,
        "the object went up in parts"
    );
    assert!(
        worker
            .log()
            .contains("S3 sink writing to bucket kafka-data"),
        "{}",
        worker.log()
    );
}

#[tokio::test]
async fn the_sink_passes_the_conformance_kit() {
    let server = S3Server::start(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    wasmconnect_tests::conformance_kit(
        dir.path(),
        "s3-sink",
        &[
            "topics=kit".into(),
            format!("s3.bucket.name={BUCKET}"),
            format!("store.url={}", server.url()),
            format!("aws.access.key.id={}", S3Server::ACCESS_KEY),
            format!("aws.secret.access.key={}", S3Server::SECRET_KEY),
            "flush.size=1".into(),
        ],
        &[r#"{"a":1}"#.into(), r#"{"a":2}"#.into()],
        "PASS put: ",
    );
    assert!(!server.objects(BUCKET).is_empty(), "{}", server.log());
}
