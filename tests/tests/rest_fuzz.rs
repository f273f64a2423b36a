//! schemathesis (PyPI, installed by `scripts/setup.sh`) fuzzes a running
//! worker's REST API from its own `/openapi.json`: every operation, with
//! schema-valid and schema-violating requests, then stateful sequences that
//! create connectors and act on them through the document's links.
//!
//! The run is bounded in time (`WASMCONNECT_FUZZ_SECONDS`, default 60).
//! It passes when schemathesis finds nothing: no 5xx but Kafka Connect's own
//! (`tests/fuzz/schemathesis_hooks.py` lists them), every error in Kafka's
//! `{"error_code", "message"}` shape, responses that match the document,
//! schema-violating requests refused. Afterwards the worker must still be
//! running and answer.
//!
//! Not checked: `positive_data_acceptance` (a request valid by the schema
//! accepted), since no schema can say which connector classes and values a
//! worker accepts; `not_a_server_error`, replaced by the hook's stricter
//! list. The worker uses librdkafka's embedded mock cluster: the REST API is
//! under test, not Kafka.

use std::process::Command;

use wasmconnect_tests::{Rest, free_port, repo_root, start_worker, test_tool, worker_props};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_and_the_worker_stays_healthy() {
    let bin = test_tool("schemathesis");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Connectors schemathesis creates may only touch files in this test's
    // directory.
    let props = worker_props(
        "embedded",
        port,
        &format!(
            "sandbox.allowed.dirs={}\n",
            dir.path().canonicalize().unwrap().display()
        ),
    );
    let (mut worker, rest) = start_worker(dir.path(), &props, port).await;

    let seconds: u64 = std::env::var("WASMCONNECT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let report = dir.path().join("report");
    let run = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let report = report.clone();
        move || {
            Command::new(&bin)
                .current_dir(&dir)
                .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
                .env("PYTHONPATH", repo_root().join("tests/fuzz"))
                .args(["run", &format!("http://127.0.0.1:{port}/openapi.json")])
                .args(["--max-time", &seconds.to_string(), "--workers", "1"])
                .args([
                    "--exclude-checks",
                    "not_a_server_error,positive_data_acceptance",
                ])
                .args(["--request-timeout", "30", "--no-color"])
                .args(["--report", "ndjson", "--report-dir"])
                .arg(&report)
                .output()
                .expect("running schemathesis")
        }
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let summary: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("generated") || l.contains(" in ") && l.starts_with('='))
        .collect();
    println!("schemathesis: {}", summary.join(" | "));
    if !run.status.success() {
        let log = worker.log();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "schemathesis found problems:\n{out}\n{}\nlast lines of the worker's log:\n{}",
            String::from_utf8_lossy(&run.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    // Still healthy: running, answering, and able to run a connector.
    assert!(worker.is_running(), "the worker exited:\n{}", worker.log());
    let r = rest.call("GET", "/", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = Rest::new(port)
        .create(
            "after-fuzzing",
            &serde_json::json!({"connector.class": "Datagen", "topic": "after", "tasks.max": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    rest.wait_for("/connectors/after-fuzzing/status", "a running task", |r| {
        r.body["tasks"][0]["state"] == "RUNNING"
    })
    .await;
}
