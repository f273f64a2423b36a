//! The standalone worker end to end: property files in, a file through a
//! real broker and out into another file; crashes, graceful stops and bad
//! inputs.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use wasmconnect_tests::{
    Broker, WorkerProcess, append, free_port, line_count, topic_values, wait_for_lines,
};

const LINES: usize = 100_000;

/// `LINES` lines with non-ASCII text and an empty line among them.
fn input_text(lines: usize, tag: &str) -> String {
    (0..lines)
        .map(|i| match i {
            7 => "\n".to_string(),
            i if i % 1000 == 3 => format!("{tag} {i} ünïcødé — 日本語 ✓\n"),
            i => format!("{tag} line {i}\n"),
        })
        .collect()
}

/// The harness's worker settings with `converter` for keys and values
/// (schemas on or off) and offsets flushed every `flush_ms`.
fn worker_props(bootstrap: &str, converter: &str, schemas: bool, flush_ms: u64) -> String {
    wasmconnect_tests::worker_props(
        bootstrap,
        free_port(),
        &format!(
            "key.converter={converter}\nvalue.converter={converter}\n\
             key.converter.schemas.enable={schemas}\nvalue.converter.schemas.enable={schemas}\n\
             offset.flush.interval.ms={flush_ms}\n"
        ),
    )
}

const SOURCE: &str = "name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=test.txt\ntopic=connect-test\n";
const SINK: &str = "name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=test.sink.txt\ntopics=connect-test\n";

fn connectors() -> [(&'static str, &'static str); 2] {
    [
        ("connect-file-source.properties", SOURCE),
        ("connect-file-sink.properties", SINK),
    ]
}

fn high_watermark(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap()
        .1
}

fn round_trip(converter: &str, schemas: bool, first_value: &str) {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let input = input_text(LINES, "rt");
    std::fs::write(dir.path().join("test.txt"), &input).unwrap();
    let mut worker = WorkerProcess::start(
        dir.path(),
        &worker_props(broker.bootstrap(), converter, schemas, 1000),
        &connectors(),
    );
    let output = dir.path().join("test.sink.txt");
    wait_for_lines(&output, LINES, Duration::from_secs(180), &worker);
    assert_eq!(
        worker.terminate(Duration::from_secs(30)),
        Some(0),
        "{}",
        worker.log()
    );
    assert!(
        std::fs::read_to_string(&output).unwrap() == input,
        "output differs from input"
    );
    let values = topic_values(broker.bootstrap(), "connect-test");
    assert_eq!(values.len(), LINES);
    assert_eq!(values[0], first_value);
}

#[test]
fn a_file_goes_through_kafka_byte_identical_with_json_schemas() {
    round_trip(
        "org.apache.kafka.connect.json.JsonConverter",
        true,
        r#"{"schema":{"type":"string","optional":false},"payload":"rt line 0"}"#,
    );
}

#[test]
fn a_file_goes_through_kafka_byte_identical_with_the_string_converter() {
    round_trip(
        "org.apache.kafka.connect.storage.StringConverter",
        false,
        "rt line 0",
    );
}

/// On a three-node cluster (topics replicated three times), one broker
/// killed while a file streams through: the producer and the sink's group
/// fail over to the others and every line arrives.
#[test]
fn a_broker_killed_mid_stream_on_a_three_node_cluster_loses_nothing() {
    let broker = Broker::cluster(3);
    let dir = tempfile::tempdir().unwrap();
    let first = input_text(LINES / 2, "ha");
    std::fs::write(dir.path().join("test.txt"), &first).unwrap();
    let worker = WorkerProcess::start(
        dir.path(),
        &worker_props(
            broker.bootstrap(),
            "org.apache.kafka.connect.storage.StringConverter",
            false,
            200,
        ),
        &connectors(),
    );
    let output = dir.path().join("test.sink.txt");
    wait_for_lines(&output, LINES / 10, Duration::from_secs(120), &worker);
    broker.kill_node(1);
    let second = input_text(LINES / 2, "after");
    append(&dir.path().join("test.txt"), &second);
    let input = first + &second;
    let want = counts(&input);
    // Duplicates are allowed (at-least-once), so the line count alone does
    // not say everything arrived: wait until every line has.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let written = std::fs::read_to_string(&output).unwrap_or_default();
        let got = counts(&written);
        let missing = want
            .iter()
            .filter(|(line, n)| got.get(*line).copied().unwrap_or(0) < **n)
            .count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} distinct lines never arrived after a broker died; worker log:\n{}",
            worker.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Line → how often it appears.
fn counts(text: &str) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for line in text.split_inclusive('\n') {
        *m.entry(line).or_default() += 1;
    }
    m
}

/// The `position` stored for the source in the offsets file.
fn stored_position(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("connect.offsets")).unwrap_or_default();
    if text.trim().is_empty() {
        return 0;
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["offsets"][0]["offset"]["position"].as_u64().unwrap_or(0)
}

#[test]
fn kill_9_mid_stream_loses_nothing_and_the_source_resumes_from_its_offset() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let input = input_text(LINES, "k9");
    // The file grows while the worker runs, as a tailed file does: 30% of it
    // is there at first, the rest is appended after the crash.
    let first_part = input
        .split_inclusive('\n')
        .take(LINES * 3 / 10)
        .collect::<String>();
    std::fs::write(dir.path().join("test.txt"), &first_part).unwrap();
    let props = worker_props(broker.bootstrap(), "StringConverter", false, 300);
    let output = dir.path().join("test.sink.txt");

    let mut worker = WorkerProcess::start(dir.path(), &props, &connectors());
    wait_for_lines(&output, LINES / 5, Duration::from_secs(120), &worker);
    // The kill must find an offset stored (the source flushes every 300 ms;
    // on a loaded machine the sink can write a fifth of the lines first).
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored_position(dir.path()) == 0 {
        assert!(
            Instant::now() < deadline,
            "no offset was flushed in 30 s:\n{}",
            worker.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    worker.kill9();
    let sent_before_kill = high_watermark(broker.bootstrap(), "connect-test");
    let position = stored_position(dir.path()) as usize;
    let lines_committed = input.as_bytes()[..position]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    let written_before_kill = line_count(&output);
    assert!(position > 0, "no offset was flushed before the kill");
    append(&dir.path().join("test.txt"), &input[first_part.len()..]);

    let mut restarted = WorkerProcess::start(dir.path(), &props, &connectors());
    let sent_total = LINES as i64 + sent_before_kill - lines_committed as i64;
    // Everything the resumed source sends, and every line, reaches the sink.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while high_watermark(broker.bootstrap(), "connect-test") < sent_total {
        assert!(
            std::time::Instant::now() < deadline,
            "source stalled; log:\n{}",
            restarted.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Wait for every line, not a line count: re-delivered duplicates count
    // towards the length too.
    let want = counts(&input);
    let missing_lines = || {
        let out = std::fs::read_to_string(&output).unwrap_or_default();
        let got = counts(&out);
        want.iter()
            .filter(|(l, n)| got.get(*l).copied().unwrap_or(0) < **n)
            .map(|(l, _)| l.to_string())
            .take(5)
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while !missing_lines().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "lines lost: {:?}; log:\n{}",
            missing_lines(),
            restarted.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(restarted.terminate(Duration::from_secs(30)), Some(0));

    // The source resumed from its stored offset: it re-sent only the lines
    // after it, not the whole file.
    assert_eq!(
        high_watermark(broker.bootstrap(), "connect-test"),
        sent_total
    );
    assert!(missing_lines().is_empty(), "lines lost after the stop");
    let duplicates = line_count(&output) - LINES;
    println!(
        "kill -9 after {written_before_kill} lines written, {sent_before_kill} sent, {lines_committed} committed; \
         source re-sent {} lines; sink duplicates: {duplicates}",
        sent_before_kill - lines_committed as i64
    );
}

#[test]
fn a_graceful_stop_flushes_so_a_restart_duplicates_nothing() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let input = input_text(LINES, "gs");
    std::fs::write(dir.path().join("test.txt"), &input).unwrap();
    // A long flush interval: only the graceful stop can have flushed.
    let props = worker_props(broker.bootstrap(), "StringConverter", false, 600_000);
    let output = dir.path().join("test.sink.txt");

    let mut worker = WorkerProcess::start(dir.path(), &props, &connectors());
    wait_for_lines(&output, LINES / 4, Duration::from_secs(120), &worker);
    assert_eq!(
        worker.terminate(Duration::from_secs(30)),
        Some(0),
        "{}",
        worker.log()
    );
    assert!(
        line_count(&output) < LINES,
        "the stop came too late to be mid-stream"
    );

    let extra = input_text(1000, "after-restart");
    append(&dir.path().join("test.txt"), &extra);
    let mut restarted = WorkerProcess::start(dir.path(), &props, &connectors());
    wait_for_lines(&output, LINES + 1000, Duration::from_secs(180), &restarted);
    assert_eq!(restarted.terminate(Duration::from_secs(30)), Some(0));
    assert!(
        std::fs::read_to_string(&output).unwrap() == input.clone() + &extra,
        "duplicates or gaps after a graceful restart"
    );
    assert_eq!(
        high_watermark(broker.bootstrap(), "connect-test"),
        (LINES + 1000) as i64
    );
}

#[test]
fn bad_inputs_are_refused_by_name_and_good_connectors_keep_running() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();

    // A malformed worker file: exit 2, naming file and line.
    let mut w = WorkerProcess::start(
        dir.path(),
        "key.converter=StringConverter\nbad=\\u12G4\n",
        &[],
    );
    assert_eq!(w.wait_exit(Duration::from_secs(30)), Some(2));
    assert!(w.log().contains("worker.properties:2:"), "{}", w.log());

    // An unreachable broker: exit 2, naming the address.
    let props = worker_props("127.0.0.1:1", "StringConverter", false, 1000);
    let mut w = WorkerProcess::start(dir.path(), &props, &[]);
    assert_eq!(w.wait_exit(Duration::from_secs(60)), Some(2));
    assert!(
        w.log().contains("cannot reach Kafka at 127.0.0.1:1"),
        "{}",
        w.log()
    );

    // An unknown class and a source without `file`, beside good connectors.
    std::fs::write(dir.path().join("test.txt"), "still\nflowing\n").unwrap();
    let props = worker_props(broker.bootstrap(), "StringConverter", false, 1000);
    let unknown = "name=mystery\nconnector.class=NoSuchConnector\ntopic=t\n";
    let no_file = "name=no-file\nconnector.class=FileStreamSource\ntopic=t\n";
    let malformed = "name=broken\nfile=\\uZZZZ\n";
    let mut w = WorkerProcess::start(
        dir.path(),
        &props,
        &[
            ("unknown.properties", unknown),
            ("no-file.properties", no_file),
            ("malformed.properties", malformed),
            connectors()[0],
            connectors()[1],
        ],
    );
    let output = dir.path().join("test.sink.txt");
    wait_for_lines(&output, 2, Duration::from_secs(60), &w);
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "still\nflowing\n"
    );
    let log = w.log();
    assert!(log.contains("Failed to find any class that implements Connector and which name matches NoSuchConnector"), "{log}");
    assert!(
        log.contains("Missing required configuration \\\"file\\\"")
            || log.contains("Missing required configuration \"file\""),
        "{log}"
    );
    assert!(log.contains("malformed.properties:2:"), "{log}");
    assert_eq!(w.terminate(Duration::from_secs(30)), Some(0));
}
