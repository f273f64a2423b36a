//! `GET /metrics` end to end: Apache Kafka, a worker, and a FileStream
//! source → topic → FileStream sink pipeline moving a known number of
//! lines. The output is parsed with the Prometheus project's own Python
//! parser (`prometheus_client.parser`, installed by `scripts/setup.sh` from
//! `tests/requirements-tools.txt`), so a format slip fails here and not in
//! someone's Prometheus.
//!
//! Checked: the counts equal the records moved (source write, sink read and
//! send), the worker's connector and task counts, zero errors on the clean
//! pipeline; a second sink with `errors.tolerance=all`, a dead letter
//! queue and a JSON converter that refuses one line counts that record in
//! the task error metrics; a deleted connector's series leave the output.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wasmconnect_tests::{Broker, Rest, free_port, start_worker, test_tool, worker_props};

/// Lines the source reads: all JSON numbers but the last.
const LINES: usize = 300;

/// One sample as the parser read it (`None`: NaN).
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: Option<f64>,
}

/// Parses `text` with `prometheus_client.parser.text_string_to_metric_families`.
fn parse(text: &str) -> Vec<Sample> {
    const SCRIPT: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, None if math.isnan(s.value) else s.value])
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new(test_tool("python"))
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the Prometheus parser");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write the metrics to the parser");
    let out = child.wait_with_output().expect("parser output");
    assert!(
        out.status.success(),
        "the Prometheus parser refused the output:\n{}\n--- output ---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, BTreeMap<String, String>, Option<f64>)> =
        serde_json::from_slice(&out.stdout).expect("parser JSON");
    rows.into_iter()
        .map(|(name, labels, value)| Sample {
            name,
            labels,
            value,
        })
        .collect()
}

/// `GET /metrics`, checked for its content type, parsed.
async fn scrape(rest: &Rest) -> Vec<Sample> {
    let resp = rest.raw("GET", "/metrics").send().await.expect("scrape");
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.expect("metrics body");
    tokio::task::spawn_blocking(move || parse(&text))
        .await
        .expect("parser thread")
}

/// The value of `name` for `connector` (and `task`, when given); `None`
/// when there is no such series.
fn value(samples: &[Sample], name: &str, connector: &str, task: Option<&str>) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.get("connector").map(String::as_str) == Some(connector)
                && task.is_none_or(|t| s.labels.get("task").map(String::as_str) == Some(t))
        })
        .map(|s| s.value.unwrap_or(f64::NAN))
}

/// The value of a worker-level metric.
fn worker_value(samples: &[Sample], name: &str) -> f64 {
    samples
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.value)
        .unwrap_or_else(|| panic!("no {name}"))
}

const SOURCE_WRITE: &str = "kafka_connect_source_task_metrics_source_record_write_total";
const SINK_READ: &str = "kafka_connect_sink_task_metrics_sink_record_read_total";
const SINK_SEND: &str = "kafka_connect_sink_task_metrics_sink_record_send_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_a_file_pipeline_moves() {
    let broker = tokio::task::spawn_blocking(Broker::start)
        .await
        .expect("broker");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().canonicalize().unwrap();
    let port = free_port();
    let (mut worker, rest) =
        start_worker(&work, &worker_props(broker.bootstrap(), port, ""), port).await;

    let input = work.join("in.txt");
    let mut text: String = (1..LINES).map(|i| format!("{i}\n")).collect();
    text.push_str("not json\n");
    std::fs::write(&input, text).unwrap();
    let path = |name: &str| work.join(name).to_string_lossy().into_owned();
    for (name, config) in [
        (
            "src",
            json!({"connector.class": "FileStreamSource", "file": path("in.txt"), "topic": "metrics-test"}),
        ),
        (
            "snk",
            json!({"connector.class": "FileStreamSink", "file": path("out.txt"), "topics": "metrics-test"}),
        ),
        (
            "json-snk",
            json!({
                "connector.class": "FileStreamSink",
                "file": path("json.txt"),
                "topics": "metrics-test",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": "metrics-dlq",
                "errors.deadletterqueue.topic.replication.factor": "1"
            }),
        ),
    ] {
        let r = rest.create(name, &config).await;
        assert_eq!(r.status, 201, "{name}: {:?}", r.body);
    }

    // Scraped while the records move: every scrape parses, and no count
    // goes back or past what there is to move.
    let lines = LINES as f64;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let samples = loop {
        let samples = scrape(&rest).await;
        let now = [
            (SOURCE_WRITE, "src"),
            (SINK_READ, "snk"),
            (SINK_SEND, "snk"),
            (SINK_READ, "json-snk"),
            (SINK_SEND, "json-snk"),
        ]
        .map(|(name, c)| {
            (
                (name, c),
                value(&samples, name, c, Some("0")).unwrap_or(0.0),
            )
        });
        for (key, v) in now {
            assert!(v <= lines, "{key:?} = {v}, more than {LINES} lines");
            assert!(
                v >= last.get(&key).copied().unwrap_or(0.0),
                "{key:?} went back"
            );
            last.insert(key, v);
        }
        let done = now.iter().all(|((name, c), v)| {
            *v == if *c == "json-snk" && *name == SINK_SEND {
                lines - 1.0
            } else {
                lines
            }
        });
        if done {
            break samples;
        }
        assert!(
            Instant::now() < deadline,
            "the pipeline did not finish: {now:?}\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let v = |name: &str, c: &str| {
        value(&samples, name, c, Some("0")).unwrap_or_else(|| panic!("no {name} for {c}"))
    };
    // The clean pipeline.
    assert_eq!(
        v(
            "kafka_connect_source_task_metrics_source_record_poll_total",
            "src"
        ),
        lines
    );
    assert!(
        v(
            "kafka_connect_source_task_metrics_source_record_write_rate",
            "src"
        ) > 0.0
    );
    assert!(
        v(
            "kafka_connect_sink_task_metrics_sink_record_send_rate",
            "snk"
        ) > 0.0
    );
    assert!(v("kafka_connect_connector_task_metrics_batch_size_max", "src") >= 1.0);
    assert_eq!(
        v("kafka_connect_sink_task_metrics_partition_count", "snk"),
        1.0
    );
    for c in ["src", "snk"] {
        for name in [
            "kafka_connect_task_error_metrics_total_record_errors",
            "kafka_connect_task_error_metrics_total_records_skipped",
            "kafka_connect_task_error_metrics_deadletterqueue_produce_requests",
            "wasmconnect_task_guest_faults_total",
        ] {
            assert_eq!(v(name, c), 0.0, "{name} of {c}");
        }
        assert!(v("wasmconnect_task_guest_calls_total", c) > 0.0);
        assert!(v("wasmconnect_task_guest_memory_bytes", c) > 0.0);
    }
    let running = |c: &str, task: Option<&str>, name: &str| {
        samples.iter().any(|s| {
            s.name == name
                && s.labels.get("connector").map(String::as_str) == Some(c)
                && s.labels.get("task").map(String::as_str) == task
                && s.labels.get("status").map(String::as_str) == Some("running")
                && s.labels
                    .get("worker")
                    .is_some_and(|w| w.ends_with(&format!(":{port}")))
                && s.value == Some(1.0)
        })
    };
    for c in ["src", "snk", "json-snk"] {
        assert!(
            running(c, None, "kafka_connect_connector_metrics_status"),
            "{c}"
        );
        assert!(
            running(c, Some("0"), "kafka_connect_connector_task_metrics_status"),
            "{c}"
        );
    }
    assert_eq!(
        worker_value(
            &samples,
            "kafka_connect_connect_worker_metrics_connector_count"
        ),
        3.0
    );
    assert_eq!(
        worker_value(&samples, "kafka_connect_connect_worker_metrics_task_count"),
        3.0
    );
    assert_eq!(
        worker_value(
            &samples,
            "kafka_connect_connect_worker_metrics_connector_startup_success_total"
        ),
        3.0
    );
    assert_eq!(
        worker_value(
            &samples,
            "kafka_connect_connect_worker_metrics_task_startup_success_total"
        ),
        3.0
    );
    assert_eq!(
        worker_value(
            &samples,
            "kafka_connect_connect_worker_metrics_task_startup_failure_total"
        ),
        0.0
    );

    // The record the JSON converter refused: counted, skipped, and sent to
    // the dead letter queue.
    for (name, want) in [
        ("kafka_connect_task_error_metrics_total_record_errors", 1.0),
        (
            "kafka_connect_task_error_metrics_total_record_failures",
            1.0,
        ),
        (
            "kafka_connect_task_error_metrics_total_records_skipped",
            1.0,
        ),
        (
            "kafka_connect_task_error_metrics_deadletterqueue_produce_requests",
            1.0,
        ),
        (
            "kafka_connect_task_error_metrics_deadletterqueue_produce_failures",
            0.0,
        ),
    ] {
        assert_eq!(v(name, "json-snk"), want, "{name}");
    }
    assert!(
        v(
            "kafka_connect_task_error_metrics_last_error_timestamp",
            "json-snk"
        ) > 1.5e12
    );

    // Offsets get committed (the worker flushes every 200 ms).
    let commits = |s: &[Sample]| {
        (
            value(
                s,
                "kafka_connect_sink_task_metrics_offset_commit_completion_total",
                "snk",
                Some("0"),
            ),
            value(
                s,
                "kafka_connect_connector_task_metrics_offset_commit_success_percentage",
                "snk",
                Some("0"),
            ),
            value(
                s,
                "kafka_connect_connector_task_metrics_offset_commit_success_percentage",
                "src",
                Some("0"),
            ),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = commits(&scrape(&rest).await);
        if seen.0.is_some_and(|n| n >= 1.0) && seen.1 > Some(0.0) && seen.2 > Some(0.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no offset commit counted: {seen:?}\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A deleted connector leaves the output at once.
    let r = rest.call("DELETE", "/connectors/json-snk", None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let samples = scrape(&rest).await;
    let left: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.labels.get("connector").map(String::as_str) == Some("json-snk"))
        .collect();
    assert!(left.is_empty(), "series of a deleted connector: {left:?}");
    assert_eq!(
        worker_value(
            &samples,
            "kafka_connect_connect_worker_metrics_connector_count"
        ),
        2.0
    );
    assert_eq!(
        worker_value(&samples, "kafka_connect_connect_worker_metrics_task_count"),
        2.0
    );
    assert_eq!(value(&samples, SINK_SEND, "snk", Some("0")), Some(lines));

    assert!(worker.is_running(), "{}", worker.log());
}
