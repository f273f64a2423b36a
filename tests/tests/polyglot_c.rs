//! The C connector kit's examples end to end, through one worker process
//! and a real broker: the CsvSource reads a CSV file into a topic, and the
//! CsvSink writes the topic back out as CSV with the Redact transform in
//! its chain (all three built with `guest-connectors/c/build.sh` into
//! `build/polyglot`). Checked: the exact output file (header, RFC 4180
//! quoting, masked card numbers, an empty cell for a missing field), a
//! record the sink cannot write reported as errant and skipped under
//! `errors.tolerance=all`, and the source resuming after a restart without
//! repeating a row.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmconnect_tests::{
    Broker, WorkerProcess, append, free_port, polyglot_dir, start_worker, worker_props_with_plugins,
};

/// Polls until `path` holds exactly `expected`, failing with what it holds
/// and the worker's log.
async fn wait_for_file(path: &Path, expected: &str, worker: &WorkerProcess) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text == expected {
            return;
        }
        assert!(
            text.len() <= expected.len() && Instant::now() < deadline,
            "{} holds\n{text:?}\nexpected\n{expected:?}\nworker log:\n{}",
            path.display(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Input row `i`: a 16-digit card, a note with a comma and quotes on every
/// third row, no note at all on every fifth.
fn input_row(i: usize) -> String {
    let card = format!("4{i:015}");
    match i % 5 {
        0 => format!("{i},user {i},{card}\n"),
        _ if i.is_multiple_of(3) => format!("{i},user {i},{card},\"says \"\"hi\"\", ok\"\n"),
        _ => format!("{i},user {i},{card},ref 123456\n"),
    }
}

/// The CsvSink's row for input row `i`, after Redact (12 digits or more,
/// the last 4 kept).
fn output_row(i: usize) -> String {
    let card = format!("4{i:015}");
    let masked = format!("************{}", &card[12..]);
    match i % 5 {
        0 => format!("{i},user {i},{masked},\r\n"),
        _ if i.is_multiple_of(3) => format!("{i},user {i},{masked},\"says \"\"hi\"\", ok\"\r\n"),
        _ => format!("{i},user {i},{masked},ref 123456\r\n"),
    }
}

#[tokio::test]
async fn c_csv_source_to_c_csv_sink_through_c_redact() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    // Only the C components: the worker then compiles nothing else.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for name in [
        "c-csv-source",
        "c-csv-sink",
        "c-redact",
        "c-source-template",
    ] {
        let path = polyglot_dir().join(format!("{name}.wasm"));
        assert!(
            path.exists(),
            "{} is missing: run `bash guest-connectors/c/build.sh build/polyglot`",
            path.display()
        );
        std::fs::copy(&path, plugins.join(format!("{name}.wasm"))).unwrap();
    }
    let input = dir.path().join("cards.csv");
    let output = dir.path().join("out.csv");
    let mut text = String::from("id,name,card,note\n");
    (0..40).for_each(|i| text.push_str(&input_row(i)));
    std::fs::write(&input, text).unwrap();

    let port = free_port();
    let props = worker_props_with_plugins(
        broker.bootstrap(),
        port,
        &plugins,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\n",
    );
    let (worker, rest) = start_worker(dir.path(), &props, port).await;

    let source = json!({"connector.class": "CsvSource", "file": input, "topic": "cards"});
    let r = rest.create("cards-in", &source).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = rest
        .create(
            "cards-out",
            &json!({"connector.class": "CsvSink", "topics": "cards", "file": output,
                    "fields": "id,name,card,note",
                    "errors.tolerance": "all",
                    "transforms": "redact",
                    "transforms.redact.type": "Redact",
                    "transforms.redact.min.digits": "12",
                    "transforms.redact.keep.last": "4"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    rest.wait_running("cards-in", 1).await;
    rest.wait_running("cards-out", 1).await;

    let mut expected = String::from("id,name,card,note\r\n");
    (0..40).for_each(|i| expected.push_str(&output_row(i)));
    wait_for_file(&output, &expected, &worker).await;

    // The Redact transform's settings are checked against its key table
    // and its own validate.
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/CsvSink/config/validate",
            Some(
                json!({"connector.class": "CsvSink", "topics": "cards", "file": output,
                        "fields": "id", "transforms": "redact",
                        "transforms.redact.type": "Redact",
                        "transforms.redact.min.digits": "4",
                        "transforms.redact.keep.last": "4"}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let errors: Vec<Value> = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["definition"]["name"] == "transforms.redact.keep.last")
        .flat_map(|c| c["value"]["errors"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        errors,
        vec![json!(
            "keep.last must be below min.digits, or no digit would be masked"
        )],
        "{}",
        r.body
    );

    // A new configuration restarts the source's task: it resumes after the
    // last row Kafka acknowledged, and rows appended meanwhile follow.
    let r = rest
        .call("PUT", "/connectors/cards-in/config", Some(source.clone()))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    rest.wait_running("cards-in", 1).await;
    let mut more = String::new();
    (40..60).for_each(|i| more.push_str(&input_row(i)));
    append(&input, &more);
    (40..60).for_each(|i| expected.push_str(&output_row(i)));
    wait_for_file(&output, &expected, &worker).await;

    // A topic value that is no JSON object is errant: reported, skipped,
    // and the sink goes on with the rows after it.
    let r = rest
        .create(
            "plain",
            &json!({"connector.class": "CTemplateSource", "topic": "cards",
                    "interval.ms": "0"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    rest.wait_running("plain", 1).await;
    let r = rest.call("DELETE", "/connectors/plain", None).await;
    assert!(r.status == 204 || r.status == 200, "{r:?}");
    append(&input, &input_row(60));
    expected.push_str(&output_row(60));
    wait_for_file(&output, &expected, &worker).await;
    let r = rest.call("GET", "/connectors/cards-out/status", None).await;
    assert_eq!(r.body["tasks"][0]["state"], "RUNNING", "{r:?}");
}
