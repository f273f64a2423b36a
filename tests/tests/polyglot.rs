//! Connectors written in C, Zig, Go, Python and JavaScript, end to end
//! through a worker process and a real broker, and every bundled
//! non-Rust component through the conformance kit.
//!
//! The pipelines chain languages so that each one is checked by another:
//! a C source feeds a Python sink through a Zig filter on the sink side,
//! and a Go source feeds Kafka through a JavaScript transform on the source
//! side, read back by the Python sink. Each language's own source → sink
//! pipeline with its transform in the chain is in `polyglot_<language>.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::receiver::{Receiver, answer};
use wasmconnect_tests::{
    Broker, WorkerProcess, append, free_port, plugin_dir, polyglot_dir, repo_root, start_worker,
    worker_bin, worker_props_with_plugins,
};

/// Both plugin directories, so the Rust and the polyglot plugins load.
fn plugin_path() -> String {
    format!("{},{}", plugin_dir().display(), polyglot_dir().display())
}

fn props(broker: &Broker, port: u16) -> String {
    worker_props_with_plugins(
        broker.bootstrap(),
        port,
        Path::new(&plugin_path()),
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\n",
    )
}

/// The JSON documents of a JSON Lines file (empty when it does not exist).
fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// Polls until `path` holds `n` JSON lines, failing with the worker's log.
async fn wait_for_json_lines(path: &Path, n: usize, worker: &WorkerProcess) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let lines = json_lines(path);
        if lines.len() >= n {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} has {} of {n} lines after 90 s; worker log:\n{}",
            path.display(),
            lines.len(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A CSV row: quoted fields with the delimiter and doubled quotes inside.
fn csv_row(i: usize) -> String {
    let keep = if i.is_multiple_of(3) { "no" } else { "yes" };
    format!("{i},user-{i},\"note {i}, \"\"quoted\"\"\",{keep}\n")
}

fn expected_row(i: usize) -> Value {
    json!({"id": i.to_string(), "name": format!("user-{i}"),
           "note": format!("note {i}, \"quoted\""), "keep": "yes"})
}

#[tokio::test]
async fn c_csv_source_feeds_a_python_sink_through_a_zig_filter() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut text = String::from("id,name,note,keep\n");
    for i in 0..300 {
        text.push_str(&csv_row(i));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("people.jsonl");
    let port = free_port();
    let (worker, rest) = start_worker(dir.path(), &props(&broker, port), port).await;

    // Transformations are validated like Kafka's: an unknown type is
    // refused, and validate shows the transform's own keys.
    let sink = |transform: Value| {
        let mut config = json!({"connector.class": "JsonLinesSink", "topics": "people",
                                "file": out, "include.metadata": "false",
                                "transforms": "keepers"});
        config
            .as_object_mut()
            .unwrap()
            .extend(transform.as_object().unwrap().clone());
        config
    };
    let r = rest
        .create("bad", &sink(json!({"transforms.keepers.type": "Nope"})))
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body["message"].as_str().unwrap().contains(
            "Invalid value Nope for configuration transforms.keepers.type: Class Nope could not be found."
        ),
        "{r:?}"
    );
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/JsonLinesSink/config/validate",
            Some(sink(json!({"transforms.keepers.type": "ValueFilter"}))),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let entry = |name: &str| {
        r.body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["definition"]["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", r.body))
            .clone()
    };
    assert_eq!(
        entry("transforms.keepers.type")["definition"]["group"],
        "Transforms: keepers"
    );
    let pattern = entry("transforms.keepers.pattern");
    assert_eq!(pattern["definition"]["required"], true);
    assert!(
        !pattern["value"]["errors"].as_array().unwrap().is_empty(),
        "{pattern}"
    );
    assert!(r.body["error_count"].as_u64().unwrap() >= 1);

    let r = rest
        .create(
            "csv",
            &json!({"connector.class": "CsvSource", "file": csv, "topic": "people"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = rest
        .create(
            "jsonl",
            &sink(json!({"transforms.keepers.type": "ValueFilter",
                         "transforms.keepers.pattern": "\"keep\":\"no\"",
                         "transforms.keepers.on.match": "drop"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    rest.wait_running("csv", 1).await;
    rest.wait_running("jsonl", 1).await;

    // Rows appended while it runs are picked up (the file is tailed).
    let mut more = String::new();
    for i in 300..330 {
        more.push_str(&csv_row(i));
    }
    append(&csv, &more);

    let kept: Vec<usize> = (0..330).filter(|i: &usize| !i.is_multiple_of(3)).collect();
    let lines = wait_for_json_lines(&out, kept.len(), &worker).await;
    let expected: Vec<Value> = kept.iter().map(|&i| expected_row(i)).collect();
    assert_eq!(lines, expected, "every kept row, in order, exactly once");

    // The filter dropped records on the sink side only: Kafka has them all.
    let r = rest.call("GET", "/connectors/jsonl/topics", None).await;
    assert_eq!(r.body, json!({"jsonl": {"topics": ["people"]}}));
}

#[tokio::test]
async fn go_source_through_a_javascript_mask_resumes_where_it_stopped() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let port = free_port();
    let (worker, rest) = start_worker(dir.path(), &props(&broker, port), port).await;

    let source = |iterations: u32| {
        json!({"connector.class": "RateSource", "topic": "events", "rate": "0",
               "iterations": iterations.to_string(), "batch.size": "100", "tasks.max": "2",
               "users": "7",
               "transforms": "mask",
               "transforms.mask.type": "MaskField",
               "transforms.mask.fields": "amount"})
    };
    let r = rest.create("gen", &source(1000)).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = rest
        .create(
            "jsonl",
            &json!({"connector.class": "PythonJsonLinesSink", "topics": "events",
                    "file": out, "include.metadata": "false"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    rest.wait_running("gen", 2).await;
    let lines = wait_for_json_lines(&out, 2000, &worker).await;
    check_events(&lines, 1000);

    // A new configuration restarts the tasks; each resumes after the last
    // event Kafka acknowledged (its offset came back through the Go kit's
    // offsets import).
    let r = rest
        .call("PUT", "/connectors/gen/config", Some(source(1500)))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let lines = wait_for_json_lines(&out, 3000, &worker).await;
    let duplicates = check_events(&lines, 1500);
    println!(
        "go source resumed: {} events, {duplicates} duplicates",
        lines.len()
    );
    assert_eq!(duplicates, 0, "a graceful restart stores every offset");
}

/// Checks the RateSource events: per task every seq below `per_task`
/// present, amounts masked, users as the generator makes them. Returns
/// how many events arrived more than once.
fn check_events(lines: &[Value], per_task: u64) -> usize {
    let mut seen: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for e in lines {
        let (task, seq) = (e["task"].as_u64().unwrap(), e["seq"].as_u64().unwrap());
        assert_eq!(e["amount"], json!(0), "MaskField masked the amount: {e}");
        assert_eq!(e["user"], json!(format!("user-{}", seq % 7)), "{e}");
        assert!(e["ts"].as_u64().is_some(), "{e}");
        *seen.entry((task, seq)).or_default() += 1;
    }
    for task in 0..2 {
        let missing: Vec<u64> = (0..per_task)
            .filter(|seq| !seen.contains_key(&(task, *seq)))
            .collect();
        assert!(missing.is_empty(), "task {task} is missing {missing:?}");
    }
    assert_eq!(
        seen.len() as u64,
        2 * per_task,
        "no events beyond the iterations"
    );
    seen.values().map(|n| n - 1).sum()
}

/// Every bundled component written outside Rust passes `wasmconnect
/// plugin test` (templates included), as CI requires. Each language lists
/// its components in `guest-connectors/<language>/conformance.tsv`: one
/// line per component, its name, then tab-separated `key=value` settings,
/// where `{tmp}` stands for a scratch directory holding `in.csv` and
/// `in.txt`, and `{http}` for an HTTP endpoint on loopback answering 200
/// with an empty JSON array.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_polyglot_component_passes_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.csv"), "a,b\n1,2\n3,4\n").unwrap();
    std::fs::write(dir.path().join("in.txt"), "one\ntwo\n").unwrap();
    let tmp = dir.path().display().to_string();
    // An empty JSON array: what a polled source reads as "nothing new" and
    // a webhook sink as a plain success.
    let endpoint = Receiver::start(None).await;
    endpoint.answer_next(vec![answer(
        200,
        &[("content-type", "application/json")],
        "[]",
    )]);
    let http = endpoint.url("");
    for language in ["c", "zig", "go", "python", "javascript"] {
        let manifest = repo_root().join(format!("guest-connectors/{language}/conformance.tsv"));
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let mut names = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let mut fields = line.split('\t');
            let name = fields.next().unwrap_or_default().trim();
            let settings: Vec<String> = fields
                .map(|f| f.replace("{tmp}", &tmp).replace("{http}", &http))
                .collect();
            names.push(name.to_string());
            let name = name.to_string();
            tokio::task::spawn_blocking(move || conformance(&name, &settings))
                .await
                .expect("the conformance run");
        }
        // Every kit has a template for each role.
        for role in ["source", "sink", "transform"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.ends_with(&format!("-{role}-template"))),
                "{} lists no {role} template: {names:?}",
                manifest.display()
            );
        }
    }
}

fn conformance(name: &str, settings: &[String]) {
    let path: PathBuf = polyglot_dir().join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh",
        path.display()
    );
    let mut command = Command::new(worker_bin());
    command.arg("plugin").arg("test").arg(&path);
    for s in settings {
        command.arg("--config").arg(s);
    }
    let output = command.output().expect("run wasmconnect plugin test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" 0 failed"),
        "{name} failed the conformance kit:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every kit builds against the current contract and packs its
    // batches (0.1.0 components are covered by tests/contract_versions.rs).
    assert!(stdout.contains(", contract 0.2.0 "), "{name}: {stdout}");
    println!("{name}: {}", stdout.lines().last().unwrap_or_default());
}

/// `plugin test --value … --show` hands the given values to a transform
/// and prints what it made of each: the author's quickest check.
#[test]
fn plugin_test_shows_what_a_transform_does_with_given_values() {
    let output = Command::new(worker_bin())
        .arg("plugin")
        .arg("test")
        .arg(polyglot_dir().join("zig-filter.wasm"))
        .args(["--config", "pattern=secret", "--show"])
        .args(["--value", "a secret", "--value", r#"{"public":true}"#])
        .output()
        .expect("run wasmconnect plugin test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("PASS apply: 2 outcomes for 2 records"),
        "{stdout}"
    );
    assert!(stdout.contains("  \"a secret\" -> drop\n"), "{stdout}");
    assert!(stdout.contains("  {\"public\":true} -> keep\n"), "{stdout}");
}
