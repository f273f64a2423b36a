//! The web console at `/ui`, driven in headless Chromium: a real broker, a
//! real worker, and `console/test/e2e.mjs` (playwright-core with Debian's
//! `/usr/bin/chromium`, both installed by `scripts/setup.sh`) clicking
//! through it. Two scenarios on one broker:
//!
//! * `pipeline`: a FileStream source and sink created through the
//!   generated form (fixing the errors it shows beside the fields), records
//!   flowing into the sink file, pause, stop, offsets shown and reset,
//!   delete, and a plugin upload;
//! * `auth`: a worker with `rest.auth.protect.reads=true`, where the
//!   console asks for credentials, refuses wrong ones, and sends the right
//!   ones with every request (an upload included).
//!
//! `CONSOLE_SCREENSHOTS=docs/console` (relative to the repository root)
//! saves the screenshots docs/console.md shows.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use wasmconnect_tests::{
    Broker, WorkerProcess, free_port, repo_root, start_worker, test_plugin_path, worker_props,
};

/// The browser the script drives (`$CHROMIUM`, else Debian's).
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Runs `console/test/e2e.mjs` for `scenario` against the console on
/// `port`, with `env`; panics with its output and the worker's log when it
/// fails.
fn run_e2e(scenario: &str, port: u16, env: &[(&str, &OsStr)], worker: &WorkerProcess) {
    let console = repo_root().join("console");
    assert!(
        console.join("node_modules/playwright-core").exists(),
        "console/node_modules is missing: run `bash scripts/setup.sh` (npm ci in console/)"
    );
    assert!(
        chromium().exists(),
        "{} is missing: run `bash scripts/setup.sh` (apt-get install chromium)",
        chromium().display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(console.join("test/e2e.mjs"))
        .current_dir(&console)
        .env("CONSOLE_URL", format!("http://127.0.0.1:{port}/ui"))
        .env("CONSOLE_SCENARIO", scenario)
        .env("CHROMIUM", chromium());
    for (key, value) in env {
        cmd.env(key, value);
    }
    if let Some(dir) = std::env::var_os("CONSOLE_SCREENSHOTS") {
        cmd.env("CONSOLE_SCREENSHOTS", repo_root().join(dir));
    }
    let started = Instant::now();
    let out = cmd.output().expect("run node console/test/e2e.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}e2e {scenario}: {:?}", started.elapsed());
    assert!(
        out.status.success(),
        "the {scenario} scenario failed:\n{stdout}\n{stderr}\nworker log:\n{}",
        worker.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_drives_a_pipeline_and_asks_for_credentials() {
    let broker = Broker::start();
    let upload = test_plugin_path("file-source-2.0.0.wasm");

    // The pipeline, on an open worker.
    let dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let props = worker_props(broker.bootstrap(), port, "");
    let (worker, _rest) = start_worker(dir.path(), &props, port).await;
    run_e2e(
        "pipeline",
        port,
        &[
            ("CONSOLE_WORK_DIR", dir.path().as_os_str()),
            ("CONSOLE_UPLOAD", upload.as_os_str()),
        ],
        &worker,
    );
    drop(worker);

    // Authentication: reads protected too, so the console asks at once.
    let dir = tempfile::tempdir().expect("temporary directory");
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, "basic admin:s3cret\n").expect("credentials file");
    let port = free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        &format!(
            "rest.auth.credentials.file={}\nrest.auth.protect.reads=true\n",
            credentials.display()
        ),
    );
    let worker = WorkerProcess::start(dir.path(), &props, &[]);
    // The API wants credentials now; the console does not (it is static).
    let client = reqwest::Client::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/ui/"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console is not up after 60 s; log:\n{}",
            worker.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refused = client
        .get(format!("http://127.0.0.1:{port}/connectors"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(refused.status().as_u16(), 401);
    run_e2e(
        "auth",
        port,
        &[
            ("CONSOLE_UPLOAD", upload.as_os_str()),
            ("CONSOLE_AUTH", OsStr::new("admin:s3cret")),
        ],
        &worker,
    );
}
