//! `HdfsSinkConnector` against a real HDFS (Hadoop's MiniDFSCluster with
//! WebHDFS, `scripts/hdfs.sh`): records in Kafka become files named and cut
//! as Confluent's connector does, read back byte for byte over WebHDFS,
//! through a kill -9 of the worker (no record lost, none in two files) and
//! a 20 s outage of the cluster; text files under a field partitioner; a
//! datanode the configuration does not list refused; and the conformance
//! kit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{Value, json};
use wasmconnect_tests::hdfs::Hdfs;
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, wait_for_contents, wait_until, worker_props,
};

fn produce(bootstrap: &str, topic: &str, values: &[String]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    for v in values {
        producer
            .send(
                BaseRecord::<(), str>::to(topic)
                    .partition(0)
                    .payload(v.as_str()),
            )
            .expect("queue the record");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

fn event(i: i64) -> Value {
    json!({"id": i, "name": format!("event {i} ☃"), "region": if i % 3 == 0 { "eu" } else { "us" }})
}

fn events(ids: std::ops::Range<i64>) -> Vec<String> {
    ids.map(|i| event(i).to_string()).collect()
}

/// The files `flush.size=100` cuts from offsets `0..end` of `events`.
fn expected(end: i64) -> BTreeMap<String, Vec<u8>> {
    (0..end / 100)
        .map(|n| {
            let start = n * 100;
            let path = format!(
                "/topics/events/partition=0/events+0+{start:010}+{:010}.json",
                start + 99
            );
            let body: String = (start..start + 100)
                .map(|i| format!("{}\n", event(i)))
                .collect();
            (path, body.into_bytes())
        })
        .collect()
}

fn props(bootstrap: &str, port: u16) -> String {
    worker_props(
        bootstrap,
        port,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\nsandbox.allowed.hosts=127.0.0.1\n",
    )
}

fn sink_config(hdfs: &Hdfs, topic: &str) -> Value {
    json!({
        "connector.class": "io.confluent.connect.hdfs.HdfsSinkConnector",
        "topics": topic,
        "hdfs.url": hdfs.namenode_url(),
        "webhdfs.datanode.urls": hdfs.datanode_url(),
        "webhdfs.user.name": "connect",
        "flush.size": "100",
        "format.class": "io.confluent.connect.hdfs.json.JsonFormat",
        "hdfs.max.retries": "12",
        "retry.backoff.ms": "500",
        "tasks.max": "1",
    })
}

async fn wait_files(
    hdfs: &Hdfs,
    dir: &str,
    want: &BTreeMap<String, Vec<u8>>,
    worker: &WorkerProcess,
) {
    wait_for_contents(
        "HDFS",
        want,
        async || hdfs.files(dir).await,
        || worker.log(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_become_files_exactly_once_through_a_kill_and_an_outage() {
    let broker = Broker::start();
    let hdfs = Hdfs::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker_props = props(broker.bootstrap(), port);
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;

    produce(broker.bootstrap(), "events", &events(0..250));
    let r = rest.create("to-hdfs", &sink_config(&hdfs, "events")).await;
    assert_eq!(r.status, 201, "{r:?}");
    wait_files(&hdfs, "/topics", &expected(200), &worker).await;
    // Files in progress live under logs.dir and are gone once renamed.
    assert!(hdfs.files("/logs").await.is_empty());

    // kill -9 while records stream in.
    produce(broker.bootstrap(), "events", &events(250..1200));
    let deadline = Instant::now() + Duration::from_secs(60);
    while hdfs.files("/topics").await.len() <= 2 {
        assert!(Instant::now() < deadline, "no new file\n{}", worker.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.kill9();
    let mut worker = WorkerProcess::start(dir.path(), &worker_props, &[]);
    rest.wait_ready(&worker).await;
    wait_files(&hdfs, "/topics", &expected(1200), &worker).await;

    // A 20 s outage of the cluster.
    hdfs.kill();
    produce(broker.bootstrap(), "events", &events(1200..1300));
    let outage = Instant::now();
    wait_until(Duration::from_secs(60), "the task to retry", || {
        worker.log().contains("Writing to HDFS at ")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(outage.elapsed())).await;
    let status = rest.call("GET", "/connectors/to-hdfs/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{:?}",
        status.body
    );
    hdfs.start_again();
    wait_files(&hdfs, "/topics", &expected(1300), &worker).await;
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_files_by_field_and_a_datanode_not_listed() {
    let broker = Broker::start();
    let hdfs = Hdfs::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker = WorkerProcess::start(dir.path(), &props(broker.bootstrap(), port), &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    produce(broker.bootstrap(), "events", &events(0..6));

    let mut config = sink_config(&hdfs, "events");
    config["flush.size"] = json!("6");
    config["format.class"] = json!("io.confluent.connect.hdfs.string.StringFormat");
    config["partitioner.class"] =
        json!("io.confluent.connect.storage.partitioner.FieldPartitioner");
    config["partition.field.name"] = json!("region");
    config["topics.dir"] = json!("data");
    let r = rest.create("by-region", &config).await;
    assert_eq!(r.status, 201, "{r:?}");
    // Both regions' files rotate together after six records: each named by
    // its own first and last offsets.
    let text = |ids: &[i64]| -> Vec<u8> {
        ids.iter()
            .map(|i| format!("{}\n", event(*i)))
            .collect::<String>()
            .into_bytes()
    };
    let want: BTreeMap<String, Vec<u8>> = [
        (
            "/data/events/region=eu/events+0+0000000000+0000000003.txt".to_string(),
            text(&[0, 3]),
        ),
        (
            "/data/events/region=us/events+0+0000000001+0000000005.txt".to_string(),
            text(&[1, 2, 4, 5]),
        ),
    ]
    .into_iter()
    .collect();
    wait_files(&hdfs, "/data", &want, &worker).await;

    // Without the datanode listed, the worker would refuse the upload:
    // the task fails naming the key to add.
    let mut unlisted = sink_config(&hdfs, "events");
    unlisted["webhdfs.datanode.urls"] = json!("");
    unlisted["topics.dir"] = json!("elsewhere");
    unlisted["flush.size"] = json!("1");
    let r = rest.create("unlisted", &unlisted).await;
    assert_eq!(r.status, 201, "{r:?}");
    let failed = rest
        .wait_for("/connectors/unlisted/status", "the task to fail", |r| {
            r.body["tasks"][0]["state"] == "FAILED"
        })
        .await;
    let trace = failed.body["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default();
    assert!(
        trace.contains("which webhdfs.datanode.urls does not list"),
        "{trace}"
    );
    assert!(hdfs.files("/elsewhere").await.is_empty());
}

#[tokio::test]
async fn the_sink_passes_the_conformance_kit() {
    let hdfs = Hdfs::start();
    let dir = tempfile::tempdir().unwrap();
    wasmconnect_tests::conformance_kit(
        dir.path(),
        "hdfs-sink",
        &[
            "topics=kit".into(),
            format!("hdfs.url={}", hdfs.namenode_url()),
            format!("webhdfs.datanode.urls={}", hdfs.datanode_url()),
            "flush.size=1".into(),
        ],
        &[r#"{"a":1}"#.into(), r#"{"a":2}"#.into()],
        "PASS put: ",
    );
    assert_eq!(hdfs.files("/topics").await.len(), 2, "{}", hdfs.log());
}
