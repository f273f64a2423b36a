//! The datagen source and the null sink (the benchmark's plugins): exact
//! content, resuming from a committed offset, pacing, verification, and
//! the pair end to end through a worker and a real broker; plus the
//! benchmark command itself, run small (a smoke run, nothing timed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmconnect::bindings::types::{Payload, SinkRecord, TimestampType};
use wasmconnect::host::offsets::MemoryOffsets;
use wasmconnect::{GuestError, InstanceSpec, SinkTaskInstance, SourceTaskInstance};
use wasmconnect_tests::{Broker, config, free_port, load, plugin_dir, start_worker, worker_props};

fn value_bytes(p: &Option<Payload>) -> &[u8] {
    match p {
        Some(Payload::Binary(b)) => b,
        other => panic!("expected a binary value, got {other:?}"),
    }
}

#[tokio::test]
async fn datagen_emits_verifiable_records_and_resumes_after_the_committed_one() {
    let plugin = load("datagen").await;
    let cfg = config(&[
        ("topic", "gen"),
        ("record.bytes", "64"),
        ("key.cardinality", "7"),
        ("iterations", "2500"),
        ("batch.size", "1000"),
        ("task.index", "3"),
    ]);
    let offsets = Arc::new(MemoryOffsets::default());
    let spec = InstanceSpec {
        offsets: Some(offsets.clone()),
        ..InstanceSpec::new("gen", Some(0), cfg.clone())
    };
    let mut task = SourceTaskInstance::new(&plugin, spec.clone())
        .await
        .unwrap();
    task.start(&cfg).await.unwrap();
    let mut records = Vec::new();
    for _ in 0..3 {
        records.extend(task.poll().await.unwrap());
    }
    assert_eq!(records.len(), 2500, "iterations bounds the task");
    assert!(
        task.poll().await.unwrap().is_empty(),
        "nothing after the end"
    );
    for (seq, r) in records.iter().enumerate() {
        let v = value_bytes(&r.value);
        assert_eq!(v.len(), 64);
        assert_eq!(datagen_core::check_value(v), Ok((3, seq as u64)));
        assert_eq!(r.key, Some(Payload::Text(format!("key-{}", seq % 7))));
        assert_eq!(r.source_partition, r#"{"task":3}"#);
        assert_eq!(r.source_offset, format!(r#"{{"seq":{seq}}}"#));
        assert_eq!(r.topic, "gen");
    }
    task.stop().await.unwrap();

    offsets
        .put("gen", r#"{"task":3}"#, r#"{"seq":1999}"#)
        .unwrap();
    let mut resumed = SourceTaskInstance::new(&plugin, spec).await.unwrap();
    resumed.start(&cfg).await.unwrap();
    let again = resumed.poll().await.unwrap();
    assert_eq!(again.len(), 500);
    assert_eq!(
        datagen_core::check_value(value_bytes(&again[0].value)),
        Ok((3, 2000))
    );
}

#[tokio::test]
async fn datagen_paces_itself_to_its_rate() {
    let plugin = load("datagen").await;
    let cfg = config(&[("topic", "gen"), ("rate", "200")]);
    let spec = InstanceSpec {
        offsets: Some(Arc::new(MemoryOffsets::default())),
        ..InstanceSpec::new("paced", Some(0), cfg.clone())
    };
    let mut task = SourceTaskInstance::new(&plugin, spec).await.unwrap();
    task.start(&cfg).await.unwrap();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(500) {
        n += task.poll().await.unwrap().len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    // 200 a second, plus the first one due at once.
    let expected = 200.0 * elapsed;
    assert!(
        (n as f64) <= expected + 2.0 && (n as f64) >= expected * 0.8,
        "{n} records in {elapsed:.2} s at 200/s"
    );
}

fn record(offset: i64, value: Vec<u8>) -> SinkRecord {
    SinkRecord {
        topic: "gen".into(),
        partition: 0,
        offset,
        key: None,
        value: Some(Payload::Binary(value)),
        headers: vec![],
        timestamp: None,
        timestamp_type: TimestampType::NoTimestamp,
    }
}

#[tokio::test]
async fn null_sink_accepts_intact_records_and_fails_on_a_corrupt_one() {
    let plugin = load("null-sink").await;
    let cfg = config(&[("topics", "gen")]);
    let mut task = SinkTaskInstance::new(&plugin, InstanceSpec::new("null", Some(0), cfg.clone()))
        .await
        .unwrap();
    task.start(&cfg).await.unwrap();
    let shape = datagen_core::Shape {
        record_bytes: 100,
        key_cardinality: 10,
    };
    let good: Vec<SinkRecord> = (0..100)
        .map(|seq| record(seq, datagen_core::value(&shape, 0, seq as u64)))
        .collect();
    task.put(&good).await.unwrap();
    let mut bad = datagen_core::value(&shape, 0, 100);
    bad[50] ^= 1;
    let err = task.put(&[record(100, bad)]).await.unwrap_err();
    match err {
        GuestError::Fatal { message, .. } => assert_eq!(
            message,
            "gen-0 offset 100: record 100 of task 0 is corrupt at filler byte 38"
        ),
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagen_to_null_sink_through_a_worker_arrives_complete() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        "value.converter=ByteArrayConverter\n",
    );
    let (worker, rest) = start_worker(dir.path(), &props, port).await;
    for (name, config) in [
        (
            "gen",
            json!({"connector.class": "Datagen", "topic": "gen", "iterations": "20000", "tasks.max": "2", "record.bytes": "200"}),
        ),
        (
            "null",
            json!({"connector.class": "NullSink", "topics": "gen", "report.every": "40000"}),
        ),
    ] {
        let r = rest.create(name, &config).await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    // The sink logs its tally after 40,000 records: both tasks' sequences,
    // whole.
    let deadline = Instant::now() + Duration::from_secs(90);
    let wanted = "null sink: 40000 records; task 0: 20000 contiguous, 0 duplicates, 0 missing; task 1: 20000 contiguous, 0 duplicates, 0 missing";
    while !worker.log().contains(wanted) {
        assert!(
            Instant::now() < deadline,
            "no complete tally in the log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Source tasks with the same producer settings share one producer (a
/// producer of its own per task is several librdkafka threads each), and
/// each task still hears of its own records: every task's offset reaches
/// its last record, through one producer carrying eight tasks' records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_tasks_share_a_producer_and_each_stores_its_own_offsets() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        "value.converter=ByteArrayConverter\noffset.flush.interval.ms=200\n",
    );
    let (worker, rest) = start_worker(dir.path(), &props, port).await;
    let idle = worker.threads();
    const ITERATIONS: u64 = 3000;
    for name in ["share-a", "share-b"] {
        let config = json!({"connector.class": "Datagen", "topic": name, "tasks.max": "4",
            "iterations": ITERATIONS.to_string(), "batch.size": "100"});
        let r = rest.create(name, &config).await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    for name in ["share-a", "share-b"] {
        let path = format!("/connectors/{name}/offsets");
        let r = rest
            .wait_for(&path, "every task's last record stored", |r| {
                let mut seqs: Vec<(u64, u64)> = r.body["offsets"]
                    .as_array()
                    .map(|offsets| {
                        offsets
                            .iter()
                            .filter_map(|o| {
                                Some((
                                    o["partition"]["task"].as_u64()?,
                                    o["offset"]["seq"].as_u64()?,
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                seqs.sort_unstable();
                seqs == (0..4).map(|t| (t, ITERATIONS - 1)).collect::<Vec<_>>()
            })
            .await;
        assert_eq!(r.status, 200);
    }
    // Eight producers of their own would add about forty threads (each
    // runs librdkafka's main thread, one per broker and its internal ones,
    // and a polling thread); one shared producer adds a handful.
    let grown = worker.threads().saturating_sub(idle);
    println!("8 source tasks: {grown} more threads than idle ({idle})");
    assert!(
        grown < 16,
        "{grown} more threads with 8 source tasks running ({idle} idle): {:?}",
        worker.thread_names()
    );
}

/// The small form of `wasmconnect bench` CI runs: every suite, Kafka
/// Connect beside us included; the figures are not judged, only that each
/// row is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_runs_and_prints_every_row() {
    let broker = Broker::start();
    let kafka_sh = wasmconnect_tests::repo_root().join("scripts/kafka.sh");
    let scripts = wasmconnect_tests::repo_root().join("scripts");
    let out = tokio::process::Command::new(wasmconnect_tests::worker_bin())
        .args([
            "bench",
            "--bootstrap",
            broker.bootstrap(),
            "--plugin-dir",
            plugin_dir().to_str().unwrap(),
            "--records-100",
            "5000",
            "--records-1k",
            "1000",
            "--repeats",
            "1",
            "--tasks",
            "1,3",
            "--polyglot-dir",
            wasmconnect_tests::polyglot_dir().to_str().unwrap(),
            "--records-polyglot",
            "2000",
            "--records-compare",
            "3000",
            "--records-jdbc",
            "2000",
            "--records-sinks",
            "20000",
            "--scripts-dir",
            scripts.to_str().unwrap(),
            "--kafka-sh",
            kafka_sh.to_str().unwrap(),
        ])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "100-byte records, 5000 per run",
        "1024-byte records, 1000 per run",
        "| raw rdkafka producer (baseline)",
        "| datagen (wasm) -> Kafka, source task",
        "| datagen (native) -> Kafka, same loop",
        "| raw rdkafka consumer (baseline)",
        "| Kafka -> null sink (wasm), sink task",
        "sandbox tax (wasm vs native through the same loop):",
        "| task start from a precompiled artifact",
        "| worker time to ready",
        "| worker RSS, idle",
        "| worker RSS, 1 running tasks",
        "| worker RSS, 3 running tasks",
        "Connectors by language, 2000 records per run",
        "| Rust       | datagen ",
        "| C          | c-csv-source ",
        "| Go         | go-rate-source ",
        "| Zig        | zig-filter ",
        "| JavaScript | js-mask-field ",
        "| Rust       | file-sink ",
        "| Python     | python-json-lines-sink ",
        "JDBC connectors and PostgreSQL ",
        "| PostgreSQL COPY TO STDOUT ",
        "| SELECT -> JSON -> rdkafka, plain client (baseline) ",
        "| PostgreSQL -> JdbcSourceConnector -> Kafka ",
        "| PostgreSQL COPY FROM STDIN ",
        "| pipelined INSERTs, plain client (baseline) ",
        "| Kafka -> JdbcSinkConnector -> PostgreSQL ",
        "Sinks over outbound HTTP (20000 records",
        "| _bulk requests to OpenSearch, plain client (baseline) ",
        "| Kafka -> ElasticsearchSinkConnector -> OpenSearch ",
        "| object PUTs to s3s-fs, plain client (baseline) ",
        "| Kafka -> S3SinkConnector -> s3s-fs ",
        "| WebHDFS CREATE + RENAME, plain client (baseline) ",
        "| Kafka -> HdfsSinkConnector -> HDFS ",
        "against Kafka Connect (standalone workers on the same broker, 3000 records a flow",
        "| start to REST ready ",
        "| start to first record ",
        "| RSS, idle ",
        "| datagen / VerifiableSource: creation to first record ",
        "| datagen / VerifiableSource: records/s per task ",
        "| datagen / VerifiableSource: CPU s per million records ",
        "| null sink / VerifiableSink: records/s per task ",
        "| FileStreamSource: records/s per task ",
        "| FileStreamSink: records/s per task ",
        "| FileStreamSink: CPU s per million records ",
        "| RSS, 3 running source tasks ",
        "| threads, 3 running source tasks ",
    ] {
        assert!(stdout.contains(row), "no {row:?} in:\n{stdout}");
    }
}
