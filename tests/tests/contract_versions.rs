//! Both contract versions side by side: components built against
//! `wasmconnect:connector@0.1.0` (kept in `tests/fixtures/contract-0.1.0`,
//! built before 0.2.0 existed) load and run unchanged, and give exactly the
//! records, files and outcomes their 0.2.0 builds (packed batches) give.
//! The conformance kit reports which version it ran.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wasmconnect::bindings::types::{
    Header, JsonPayload, PartitionOffset, Payload, SinkRecord, SourceRecord, TimestampType,
    TopicPartition, TransformRecord,
};
use wasmconnect::host::offsets::MemoryOffsets;
use wasmconnect::{
    Contract, InstanceSpec, Plugin, SinkTaskInstance, SourceTaskInstance, TransformInstance,
};
use wasmconnect_tests::{config, plugin_path, polyglot_dir, repo_root, sandbox, worker_bin};

fn fixture(name: &str) -> PathBuf {
    repo_root()
        .join("tests/fixtures/contract-0.1.0")
        .join(format!("{name}.wasm"))
}

async fn load(path: &Path) -> Plugin {
    Plugin::load_file(&sandbox(), path)
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
}

/// Every version's build of each role: (0.1.0, 0.2.0).
fn pairs() -> [(&'static str, PathBuf, PathBuf); 3] {
    [
        (
            "file-source",
            fixture("file-source"),
            plugin_path("file-source"),
        ),
        ("file-sink", fixture("file-sink"), plugin_path("file-sink")),
        (
            "zig-filter",
            fixture("zig-filter"),
            polyglot_dir().join("zig-filter.wasm"),
        ),
    ]
}

#[tokio::test]
async fn each_component_is_run_in_the_version_it_was_built_for() {
    for (name, old, new) in pairs() {
        let (old, new) = (load(&old).await, load(&new).await);
        assert_eq!(old.info().contract, Contract::V0_1, "{name}");
        assert_eq!(new.info().contract, Contract::V0_2, "{name}");
        assert_eq!(old.info().name, new.info().name, "{name}");
        assert_eq!(old.info().world, new.info().world, "{name}");
        assert_eq!(
            old.config_definition(),
            new.config_definition(),
            "{name}: the control plane is the same in both versions"
        );
    }
}

/// Everything a file source task polls from `input` until it has `lines`.
async fn poll_all(plugin: &Plugin, input: &Path, lines: usize) -> Vec<SourceRecord> {
    let cfg = config(&[
        ("file", input.to_str().unwrap()),
        ("topic", "lines"),
        ("batch.size", "3"),
    ]);
    let spec = InstanceSpec {
        offsets: Some(Arc::new(MemoryOffsets::default())),
        ..InstanceSpec::new("src", Some(0), cfg.clone())
    };
    let mut task = SourceTaskInstance::new(plugin, spec).await.unwrap();
    task.start(&cfg).await.unwrap();
    let mut records = Vec::new();
    for _ in 0..20 {
        records.extend(task.poll().await.unwrap());
        if records.len() >= lines {
            break;
        }
    }
    task.stop().await.unwrap();
    records
}

#[tokio::test]
async fn a_source_polls_the_same_records_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "alpha\nβ-ünïcødé 日本\n\ndelta\r\nepsilon\n").unwrap();
    let [(_, old, new), ..] = pairs();
    // The task stamps records with the wall clock: compare the rest.
    let unstamped = |records: Vec<SourceRecord>| -> Vec<SourceRecord> {
        records
            .into_iter()
            .map(|r| {
                assert!(r.timestamp.is_some(), "{r:?}");
                SourceRecord {
                    timestamp: None,
                    ..r
                }
            })
            .collect()
    };
    let old = unstamped(poll_all(&load(&old).await, &input, 5).await);
    let new = unstamped(poll_all(&load(&new).await, &input, 5).await);
    assert_eq!(old.len(), 5, "{old:?}");
    assert_eq!(old, new);
    assert_eq!(new[1].value, Some(Payload::Text("β-ünïcødé 日本".into())));
    assert_eq!(new[4].source_offset, r#"{"position":44}"#);
}

fn sink_records() -> Vec<SinkRecord> {
    let record = |offset: i64, value: Option<Payload>| SinkRecord {
        topic: if offset % 2 == 0 { "even" } else { "odd" }.into(),
        partition: 0,
        offset,
        key: Some(Payload::Binary(vec![0, offset as u8])),
        value,
        headers: vec![Header {
            key: "h".into(),
            value: (offset % 3 != 0).then(|| b"v".to_vec()),
        }],
        timestamp: Some(1_700_000_000_000 + offset),
        timestamp_type: TimestampType::CreateTime,
    };
    vec![
        record(0, Some(Payload::Text("plain text ü".into()))),
        record(
            1,
            Some(Payload::Json(JsonPayload {
                document: r#"{"a":1,"b":null}"#.into(),
                schema: Some(r#"{"type":"struct","fields":[]}"#.into()),
            })),
        ),
        record(2, None),
        record(3, Some(Payload::Binary(b"raw bytes".to_vec()))),
    ]
}

/// What a file sink task writes for `records`.
async fn write_all(plugin: &Plugin, output: &Path, records: &[SinkRecord]) -> String {
    let cfg = config(&[("file", output.to_str().unwrap()), ("topics", "even,odd")]);
    let mut task = SinkTaskInstance::new(plugin, InstanceSpec::new("snk", Some(0), cfg.clone()))
        .await
        .unwrap();
    task.start(&cfg).await.unwrap();
    let partitions = ["even", "odd"].map(|topic| TopicPartition {
        topic: topic.into(),
        partition: 0,
    });
    task.open(&partitions).await.unwrap();
    task.put(records).await.unwrap();
    let current: Vec<PartitionOffset> = partitions
        .iter()
        .map(|p| PartitionOffset {
            topic: p.topic.clone(),
            partition: 0,
            offset: records.len() as i64,
        })
        .collect();
    assert_eq!(task.pre_commit(&current).await.unwrap(), current);
    task.stop().await.unwrap();
    std::fs::read_to_string(output).unwrap()
}

#[tokio::test]
async fn a_sink_writes_the_same_file_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let [_, (_, old, new), _] = pairs();
    let records = sink_records();
    let old = write_all(&load(&old).await, &dir.path().join("old.txt"), &records).await;
    let new = write_all(&load(&new).await, &dir.path().join("new.txt"), &records).await;
    assert_eq!(old.lines().count(), 4, "{old}");
    assert_eq!(old, new);
}

#[tokio::test]
async fn a_transform_decides_the_same_in_both_versions() {
    let records: Vec<TransformRecord> = (0..8)
        .map(|i| TransformRecord {
            topic: "t".into(),
            partition: Some(i % 2),
            key: None,
            value: Some(Payload::Text(format!("record {i}"))),
            headers: Vec::new(),
            timestamp: Some(i64::from(i)),
        })
        .collect();
    let [_, _, (_, old, new)] = pairs();
    let mut outcomes = Vec::new();
    for path in [old, new] {
        let cfg = config(&[("pattern", "record [35]")]);
        let mut t = TransformInstance::new(
            &load(&path).await,
            InstanceSpec::new("t", Some(0), cfg.clone()),
        )
        .await
        .unwrap();
        t.configure(&cfg).await.unwrap();
        outcomes.push(t.apply(&records).await.unwrap());
    }
    assert_eq!(outcomes[0].len(), records.len());
    assert_eq!(outcomes[0], outcomes[1]);
}

#[test]
fn the_conformance_kit_runs_both_versions_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "one\ntwo\n").unwrap();
    let output = dir.path().join("out.txt");
    for (name, old, new) in pairs() {
        let settings: Vec<String> = match name {
            "file-source" => vec![format!("file={}", input.display()), "topic=t".into()],
            "file-sink" => vec![format!("file={}", output.display())],
            _ => vec!["pattern=record 3".into()],
        };
        for (path, version) in [(old, "0.1.0"), (new, "0.2.0")] {
            let mut command = Command::new(worker_bin());
            command.arg("plugin").arg("test").arg(&path);
            for s in &settings {
                command.arg("--config").arg(s);
            }
            let out = command.env("RUST_LOG", "warn").output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains(" 0 failed"),
                "{name} {version}:\n{stdout}"
            );
            assert!(
                stdout.contains(&format!(", contract {version} ")),
                "{name} {version}:\n{stdout}"
            );
        }
    }
}
