//! Host-level tests of the bundled `file-source` and `file-sink` components:
//! every export, with real files in a temporary directory.

use std::sync::Arc;

use wasmconnect::bindings::config_def::{ConfigType, ResourceKind};
use wasmconnect::bindings::types::{
    JsonPayload, PartitionOffset, Payload, SinkRecord, TimestampType,
};
use wasmconnect::host::offsets::MemoryOffsets;
use wasmconnect::{ConnectorInstance, InstanceSpec, SinkTaskInstance, SourceTaskInstance, World};
use wasmconnect_tests::{config, load};

#[tokio::test]
async fn metadata_and_config_definitions_mirror_kafkas_file_connectors() {
    let source = load("file-source").await;
    let info = source.info();
    assert_eq!(
        info.name,
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    );
    assert_eq!(
        info.aliases,
        ["FileStreamSource", "FileStreamSourceConnector"]
    );
    assert_eq!(info.world, World::Source);
    assert_eq!(
        info.task_class,
        "org.apache.kafka.connect.file.FileStreamSourceTask"
    );
    assert_eq!(info.sha256.len(), 64);
    let keys: Vec<_> = source
        .config_definition()
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                k.type_,
                k.required,
                k.default_value.as_deref(),
                k.resource,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (
                "file",
                ConfigType::String,
                false,
                None,
                Some(ResourceKind::ReadFile)
            ),
            ("topic", ConfigType::String, true, None, None),
            ("batch.size", ConfigType::Int, false, Some("2000"), None),
        ]
    );

    let sink = load("file-sink").await;
    assert_eq!(
        sink.info().name,
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    assert_eq!(sink.info().world, World::Sink);
    let keys: Vec<_> = sink
        .config_definition()
        .iter()
        .map(|k| (k.name.as_str(), k.resource))
        .collect();
    assert_eq!(keys, [("file", Some(ResourceKind::WriteFile))]);
}

#[tokio::test]
async fn validate_reports_a_missing_file_and_accepts_a_complete_config() {
    for (plugin, other) in [
        ("file-source", ("topic", "t")),
        ("file-sink", ("topics", "t")),
    ] {
        let p = load(plugin).await;
        let values = p.validate(&config(&[other])).await.unwrap();
        assert_eq!(values.len(), 1, "{plugin}: {values:?}");
        assert_eq!(values[0].name, "file");
        assert_eq!(values[0].errors.len(), 1);
        assert!(
            values[0].errors[0].starts_with("Missing required configuration \"file\""),
            "{plugin}: {:?}",
            values[0].errors
        );
        let ok = p
            .validate(&config(&[other, ("file", "/tmp/x")]))
            .await
            .unwrap();
        assert!(ok.is_empty(), "{plugin}: {ok:?}");
    }
    let bad_batch = load("file-source")
        .await
        .validate(&config(&[
            ("file", "f"),
            ("topic", "t"),
            ("batch.size", "0"),
        ]))
        .await
        .unwrap();
    assert_eq!(bad_batch[0].name, "batch.size");
    assert_eq!(
        bad_batch[0].errors,
        ["Invalid value 0 for configuration batch.size: Value must be at least 1"]
    );
}

#[tokio::test]
async fn task_configs_one_for_the_source_and_tasks_max_for_the_sink() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.txt");
    let file = file.to_str().unwrap();

    let source_cfg = config(&[("name", "src"), ("file", file), ("topic", "t")]);
    let mut source = ConnectorInstance::new(
        &load("file-source").await,
        InstanceSpec::new("src", None, source_cfg.clone()),
    )
    .await
    .unwrap();
    source.start(&source_cfg).await.unwrap();
    assert_eq!(
        source.task_configs(5).await.unwrap(),
        vec![source_cfg.clone()]
    );
    source.stop().await.unwrap();

    let sink_cfg = config(&[("name", "snk"), ("file", file), ("topics", "t")]);
    let mut sink = ConnectorInstance::new(
        &load("file-sink").await,
        InstanceSpec::new("snk", None, sink_cfg.clone()),
    )
    .await
    .unwrap();
    sink.start(&sink_cfg).await.unwrap();
    let tasks = sink.task_configs(3).await.unwrap();
    assert_eq!(tasks.len(), 3);
    assert!(tasks.iter().all(|t| *t == sink_cfg));
    // A call before start is refused by the plugin, not a trap.
    let mut fresh = ConnectorInstance::new(
        &load("file-sink").await,
        InstanceSpec::new("snk", None, sink_cfg.clone()),
    )
    .await
    .unwrap();
    let err = fresh.task_configs(1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "task-configs failed: task-configs called before start"
    );
}

fn text_of(p: &Option<Payload>) -> &str {
    match p {
        Some(Payload::Text(t)) => t,
        other => panic!("expected a text value, got {other:?}"),
    }
}

#[tokio::test]
async fn source_reads_lines_with_byte_offsets_and_resumes_from_the_committed_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.txt");
    // LF, CRLF and lone CR terminators, an empty line, non-ASCII text, and a
    // trailing partial line that must be held back.
    std::fs::write(
        &path,
        "alpha\nβ-ünïcødé 日本\n\ndelta\r\nepsilon\rzeta\npart",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let cfg = config(&[("file", file), ("topic", "lines"), ("batch.size", "4")]);
    let plugin = load("file-source").await;
    let offsets = Arc::new(MemoryOffsets::default());
    let spec = InstanceSpec {
        offsets: Some(offsets.clone()),
        ..InstanceSpec::new("src", Some(0), cfg.clone())
    };

    let mut task = SourceTaskInstance::new(&plugin, spec.clone())
        .await
        .unwrap();
    task.start(&cfg).await.unwrap();
    let first = task.poll().await.unwrap();
    assert_eq!(first.len(), 4, "batch.size bounds a poll");
    let second = task.poll().await.unwrap();
    let records: Vec<_> = first.iter().chain(&second).collect();
    let lines: Vec<&str> = records.iter().map(|r| text_of(&r.value)).collect();
    assert_eq!(
        lines,
        ["alpha", "β-ünïcødé 日本", "", "delta", "epsilon", "zeta"]
    );
    let positions: Vec<String> = records.iter().map(|r| r.source_offset.clone()).collect();
    let expected_ends = [6, 6 + "β-ünïcødé 日本\n".len(), 0, 0, 0, 0];
    assert_eq!(positions[0], r#"{"position":6}"#);
    assert_eq!(
        positions[1],
        format!(r#"{{"position":{}}}"#, expected_ends[1])
    );
    let last_position = std::fs::read(&path).unwrap().len() - "part".len();
    assert_eq!(positions[5], format!(r#"{{"position":{last_position}}}"#));
    assert!(
        records
            .iter()
            .all(|r| r.source_partition == format!(r#"{{"filename":"{file}"}}"#))
    );
    assert!(
        records
            .iter()
            .all(|r| r.topic == "lines" && r.timestamp.is_some())
    );
    task.commit().await.unwrap();
    task.stop().await.unwrap();

    // Commit the last offset the way the worker will, append, and restart:
    // the new task continues after "zeta", completing the held-back line.
    offsets
        .put(
            "src",
            &records[5].source_partition,
            &records[5].source_offset,
        )
        .unwrap();
    wasmconnect_tests::append(&path, "ial\nomega\n");
    let mut resumed = SourceTaskInstance::new(&plugin, spec).await.unwrap();
    resumed.start(&cfg).await.unwrap();
    let again = resumed.poll().await.unwrap();
    let lines: Vec<&str> = again.iter().map(|r| text_of(&r.value)).collect();
    assert_eq!(lines, ["partial", "omega"]);
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(again[1].source_offset, format!(r#"{{"position":{size}}}"#));
}

fn sink_record(offset: i64, value: Option<Payload>) -> SinkRecord {
    SinkRecord {
        topic: "t".into(),
        partition: 0,
        offset,
        key: None,
        value,
        headers: vec![],
        timestamp: None,
        timestamp_type: TimestampType::NoTimestamp,
    }
}

fn json(document: &str, schema: Option<&str>) -> Option<Payload> {
    Some(Payload::Json(JsonPayload {
        document: document.into(),
        schema: schema.map(str::to_string),
    }))
}

#[tokio::test]
async fn sink_writes_one_line_per_value_like_javas_println_and_flushes_on_pre_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    let cfg = config(&[("file", path.to_str().unwrap()), ("topics", "t")]);
    let mut task = SinkTaskInstance::new(
        &load("file-sink").await,
        InstanceSpec::new("snk", Some(0), cfg.clone()),
    )
    .await
    .unwrap();
    task.start(&cfg).await.unwrap();
    task.open(&[wasmconnect::bindings::types::TopicPartition {
        topic: "t".into(),
        partition: 0,
    }])
    .await
    .unwrap();
    let records = vec![
        sink_record(0, Some(Payload::Text("plain text ü".into()))),
        sink_record(
            1,
            json(
                r#""a json string""#,
                Some(r#"{"type":"string","optional":false}"#),
            ),
        ),
        sink_record(2, json(r#"{"some_key":0}"#, None)),
        sink_record(
            3,
            json(
                r#"{"a":1,"b":null}"#,
                Some(r#"{"type":"struct","fields":[]}"#),
            ),
        ),
        sink_record(4, json("[1,true,null]", None)),
        sink_record(5, None),
        sink_record(6, Some(Payload::Binary(b"raw bytes".to_vec()))),
    ];
    task.put(&records).await.unwrap();
    let current = vec![PartitionOffset {
        topic: "t".into(),
        partition: 0,
        offset: 7,
    }];
    assert_eq!(task.pre_commit(&current).await.unwrap(), current);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "plain text ü\na json string\n{some_key=0}\nStruct{a=1}\n[1, true, null]\nnull\nraw bytes\n"
    );
    task.stop().await.unwrap();

    // A second task appends rather than truncates.
    let mut again = SinkTaskInstance::new(
        &load("file-sink").await,
        InstanceSpec::new("snk", Some(1), cfg.clone()),
    )
    .await
    .unwrap();
    again.start(&cfg).await.unwrap();
    again
        .put(&[sink_record(7, Some(Payload::Text("more".into())))])
        .await
        .unwrap();
    again.pre_commit(&[]).await.unwrap();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("raw bytes\nmore\n")
    );
}
