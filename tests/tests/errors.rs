//! Record errors as Kafka Connect handles them (KIP-298), on a real broker:
//! `errors.tolerance=all` keeps a sink running through records that fail to
//! convert or transform, logs them in Kafka's words, sends each to the dead
//! letter queue as it was consumed with Kafka's `__connect.errors.*`
//! headers, and commits past them only once the dead letter queue has them;
//! the default (`none`) fails the task with Kafka's trace.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, plugin_dir, plugin_path, polyglot_dir, start_worker,
    worker_props_with_plugins,
};

/// A record to produce: key, value, headers.
type Record<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Writes records to partition 0 of `topic`.
fn produce(bootstrap: &str, topic: &str, records: &[Record<'_>]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for (key, value, headers) in records {
        let mut hs = OwnedHeaders::new();
        for (k, v) in headers.iter() {
            hs = hs.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        producer
            .send(
                BaseRecord::to(topic)
                    .partition(0)
                    .key(*key)
                    .payload(*value)
                    .headers(hs),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// A record read back: key, value and headers as text.
#[derive(Debug)]
struct Read {
    key: String,
    value: String,
    headers: BTreeMap<String, String>,
}

/// Every record of `topic` partition 0, waiting until there are `n`.
async fn read(bootstrap: &str, topic: &str, n: usize, worker: &WorkerProcess) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "errors-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut out = Vec::new();
    while out.len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{topic} has {} of {n} records after 90 s; worker log:\n{}",
            out.len(),
            worker.log()
        );
        let Some(Ok(msg)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
        let headers = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_string(), text(h.value)))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Read {
            key: text(msg.key()),
            value: text(msg.payload()),
            headers,
        });
    }
    out
}

/// The lines of `path` once it has `n` (empty lines dropped).
async fn lines(path: &Path, n: usize, worker: &WorkerProcess) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} has {} of {n} lines; worker log:\n{}",
            path.display(),
            lines.len(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A worker with the file sink, the misbehaving sink and source and the
/// JavaScript MaskField transform only (loading every polyglot plugin would take most
/// of a minute).
async fn worker(broker: &Broker, dir: &Path) -> (WorkerProcess, Rest) {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for from in [
        plugin_dir().join("file-sink.wasm"),
        plugin_path("misbehaving-sink"),
        plugin_path("misbehaving-source"),
        polyglot_dir().join("js-mask-field.wasm"),
    ] {
        std::fs::copy(&from, plugins.join(from.file_name().unwrap()))
            .unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    let port = free_port();
    let props = worker_props_with_plugins(broker.bootstrap(), port, &plugins, "");
    start_worker(dir, &props, port).await
}

/// A FileStreamSink reading JSON without schemas from `topic` into `file`.
fn sink(topic: &str, file: &Path, extra: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "topics": topic,
        "file": file.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    with(&mut config, extra);
    config
}

/// `errors.tolerance=all` with errors logged and a dead letter queue
/// `dlq` (one replica, Kafka's context headers).
fn tolerant(dlq: &str) -> Vec<(&str, &str)> {
    vec![
        ("errors.tolerance", "all"),
        ("errors.log.enable", "true"),
        ("errors.deadletterqueue.topic.name", dlq),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
    ]
}

/// Creates connector `name` and returns the trace its task fails with.
async fn failed_trace(rest: &Rest, name: &str, config: &Value) -> String {
    let r = rest.create(name, config).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let status = rest
        .wait_for(
            &format!("/connectors/{name}/status"),
            "a failed task",
            |r| r.body["tasks"][0]["state"] == "FAILED",
        )
        .await;
    status.body["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Sets each of `extra` in `config`.
fn with(config: &mut Value, extra: &[(&str, &str)]) {
    for (k, v) in extra {
        config[*k] = json!(v);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tolerated_errors_go_to_the_dead_letter_queue_with_kafkas_headers_and_the_task_runs_on() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let (w, rest) = worker(&broker, &dir_path).await;

    // Refused at validation, in Kafka's words.
    let out = dir_path.join("out.txt");
    let r = rest
        .create(
            "bad-errors",
            &sink(
                "in",
                &out,
                &[
                    ("errors.tolerance", "some"),
                    ("errors.deadletterqueue.topic.name", "in"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains(
            "Invalid value some for configuration errors.tolerance: String must be one of: none, all"
        ),
        "{message}"
    );
    assert!(
        message.contains("The DLQ topic 'in' may not be included in the list of topics ('topics=[in]') consumed by the connector"),
        "{message}"
    );

    // Offsets 1 and 3 are not JSON; offset 4's field is a number, which
    // the mask's text replacement cannot replace (the transform refuses
    // that record alone, inside a batch of good ones).
    produce(
        broker.bootstrap(),
        "in",
        &[
            ("k0", r#"{"n":"zero"}"#, &[]),
            ("k1", "not json", &[("origin", "test")]),
            ("k2", r#"{"n":"two"}"#, &[]),
            ("k3", "{bad", &[]),
            ("k4", r#"{"n":4}"#, &[]),
            ("k5", r#"{"n":"five"}"#, &[]),
        ],
    );
    let r = rest
        .create(
            "tolerant",
            &sink(
                "in",
                &out,
                &[
                    tolerant("dlq").as_slice(),
                    &[
                        ("errors.log.include.messages", "true"),
                        ("transforms", "mask"),
                        ("transforms.mask.type", "io.wasmconnect.js.MaskField$Value"),
                        ("transforms.mask.fields", "n"),
                        ("transforms.mask.replacement", "xx"),
                    ],
                ]
                .concat(),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // The good records, masked, in order.
    let written = lines(&out, 3, &w).await;
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(
        written.iter().all(|l| l.contains("xx")),
        "every written record is masked: {written:?}"
    );

    // The bad ones, as consumed, with Kafka's headers.
    let dlq = read(broker.bootstrap(), "dlq", 3, &w).await;
    let summary: Vec<(&str, &str, &str, &str)> = dlq
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.value.as_str(),
                r.headers["__connect.errors.offset"].as_str(),
                r.headers["__connect.errors.stage"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("k1", "not json", "1", "VALUE_CONVERTER"),
            ("k3", "{bad", "3", "VALUE_CONVERTER"),
            ("k4", r#"{"n":4}"#, "4", "TRANSFORMATION"),
        ]
    );
    let first = &dlq[0].headers;
    assert_eq!(first["origin"], "test", "the record's own headers are kept");
    for (key, value) in [
        ("__connect.errors.topic", "in"),
        ("__connect.errors.partition", "0"),
        ("__connect.errors.connector.name", "tolerant"),
        ("__connect.errors.task.id", "0"),
        (
            "__connect.errors.class.name",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        (
            "__connect.errors.exception.class.name",
            "org.apache.kafka.connect.errors.DataException",
        ),
    ] {
        assert_eq!(first[key], value, "{key} in {first:?}");
    }
    assert!(
        first["__connect.errors.exception.message"].contains("in-0 offset 1"),
        "{first:?}"
    );
    assert_eq!(
        dlq[2].headers["__connect.errors.class.name"],
        "io.wasmconnect.js.MaskField$Value"
    );
    assert!(
        dlq[2].headers["__connect.errors.exception.message"].contains("Unable to convert xx"),
        "{:?}",
        dlq[2].headers
    );

    // Still running, with Kafka's error metrics; offsets committed past
    // the skipped records.
    let status = rest
        .wait_for(
            "/connectors/tolerant/status",
            "the task's error counts",
            |r| r.body["tasks"][0]["errors"]["deadletterqueue-produce-requests"] == 3,
        )
        .await;
    assert_eq!(status.body["tasks"][0]["state"], "RUNNING");
    assert_eq!(
        status.body["tasks"][0]["errors"],
        json!({
            "total-record-errors": 3,
            "total-records-skipped": 3,
            "total-errors-logged": 3,
            "deadletterqueue-produce-requests": 3,
            "deadletterqueue-produce-failures": 0,
        })
    );
    rest.wait_for(
        "/connectors/tolerant/offsets",
        "offsets past every record",
        |r| r.body["offsets"][0]["offset"]["kafka_offset"] == 6,
    )
    .await;
    let log = w.log();
    assert!(
        log.contains("Error encountered in task tolerant-0. Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='in', partition=0, offset=1, timestamp="),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tolerance_the_first_bad_record_fails_the_task_in_kafkas_words() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let (w, rest) = worker(&broker, &dir_path).await;
    produce(
        broker.bootstrap(),
        "strict",
        &[
            ("k0", r#""zero""#, &[]),
            ("k1", "not json", &[]),
            ("k2", r#""two""#, &[]),
        ],
    );
    let out = dir_path.join("strict.txt");
    let trace = failed_trace(&rest, "strict", &sink("strict", &out, &[])).await;
    assert!(
        trace.starts_with(
            "Tolerance exceeded in error handler. Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter'."
        ),
        "{trace}"
    );
    assert!(
        trace.contains("converting the value of the record at strict-0 offset 1 failed"),
        "{trace}"
    );
    // Nothing after the bad record was written, and nothing is skipped
    // silently: no error is logged (errors.log.enable is off).
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(!written.contains("two"), "{written}");
    assert!(
        !w.log().contains("Error encountered in task"),
        "{}",
        w.log()
    );
}

/// The misbehaving sink reporting values starting with `bad` as errant
/// (Kafka's `ErrantRecordReporter`), writing the rest to `out`.
fn reporting_sink(topic: &str, out: &Path, extra: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "io.wasmconnect.testing.MisbehavingSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "mode": "report-errant",
        "output": out.display().to_string(),
    });
    with(&mut config, extra);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_a_sink_reports_as_errant_go_through_the_error_handling() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let (w, rest) = worker(&broker, &dir_path).await;
    let records: &[Record<'_>] = &[
        ("k0", "ok0", &[]),
        ("k1", "bad1", &[("origin", "test")]),
        ("k2", "ok2", &[]),
        ("k3", "bad3", &[]),
    ];
    produce(broker.bootstrap(), "put-in", records);
    produce(broker.bootstrap(), "put-strict", records);

    let out = dir_path.join("errant.txt");
    let r = rest
        .create(
            "errant",
            &reporting_sink("put-in", &out, &tolerant("errant-dlq")),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(lines(&out, 2, &w).await, ["ok0", "ok2"]);
    let dlq = read(broker.bootstrap(), "errant-dlq", 2, &w).await;
    let summary: Vec<(&str, &str, &str, &str, &str)> = dlq
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.value.as_str(),
                r.headers["__connect.errors.offset"].as_str(),
                r.headers["__connect.errors.stage"].as_str(),
                r.headers["__connect.errors.exception.message"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("k1", "bad1", "1", "TASK_PUT", "cannot write bad1"),
            ("k3", "bad3", "3", "TASK_PUT", "cannot write bad3"),
        ]
    );
    assert_eq!(dlq[0].headers["origin"], "test", "{:?}", dlq[0].headers);
    rest.wait_for(
        "/connectors/errant/offsets",
        "offsets past every record",
        |r| r.body["offsets"][0]["offset"]["kafka_offset"] == 4,
    )
    .await;
    assert!(
        w.log()
            .contains("Error encountered in task errant-0. Executing stage 'TASK_PUT'"),
        "{}",
        w.log()
    );

    // Without tolerance, the first report fails the task once put returns.
    let strict_out = dir_path.join("errant-strict.txt");
    let config = reporting_sink("put-strict", &strict_out, &[]);
    let trace = failed_trace(&rest, "errant-strict", &config).await;
    assert!(
        trace.starts_with("Tolerance exceeded in error handler. Executing stage 'TASK_PUT'"),
        "{trace}"
    );
    assert!(trace.contains("cannot write bad1"), "{trace}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tolerant_source_sends_what_it_cannot_convert_to_its_dead_letter_queue() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let (w, rest) = worker(&broker, &dir_path).await;
    // Positions 2 and 4 hold invalid JSON, which the JSON converter
    // refuses to write.
    let mut config = json!({
        "connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector",
        "tasks.max": "1",
        "mode": "invalid-json",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    with(&mut config, &tolerant("src-dlq"));
    let r = rest.create("dlq-source", &config).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let written: Vec<String> = read(broker.bootstrap(), "misbehaving", 2, &w)
        .await
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(written, [r#"{"n":0}"#, r#"{"n":2}"#]);
    let dlq = read(broker.bootstrap(), "src-dlq", 2, &w).await;
    let summary: Vec<(&str, &str, &str)> = dlq
        .iter()
        .map(|r| {
            (
                r.value.as_str(),
                r.headers["__connect.errors.source.offset"].as_str(),
                r.headers["__connect.errors.stage"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (r#"{"n":"#, r#"{"position":2}"#, "VALUE_CONVERTER"),
            (r#"{"n":"#, r#"{"position":4}"#, "VALUE_CONVERTER"),
        ]
    );
    for (key, value) in [
        ("__connect.errors.topic", "misbehaving"),
        (
            "__connect.errors.source.partition",
            r#"{"source":"misbehaving"}"#,
        ),
        ("__connect.errors.connector.name", "dlq-source"),
        ("__connect.errors.task.id", "0"),
        (
            "__connect.errors.class.name",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
    ] {
        assert_eq!(dlq[0].headers[key], value, "{key} in {:?}", dlq[0].headers);
    }
    // The offsets move past the skipped records once the queue holds them.
    rest.wait_for(
        "/connectors/dlq-source/offsets",
        "offsets past every record",
        |r| r.body["offsets"][0]["offset"]["position"] == 4,
    )
    .await;
}
