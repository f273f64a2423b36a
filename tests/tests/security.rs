//! What a REST caller may not do to a worker, proven against a running
//! worker and a real broker.
//!
//! Client overrides: a connector configuration must not be able to make
//! librdkafka load native code into the worker (CVE-2023-25194's class).
//! The test builds a real shared library with `cc` whose constructor leaves
//! a mark file when it is loaded; with the door closed the mark never
//! appears, and with the operator opening it on purpose it does (so the
//! test would notice an open door).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::{Broker, Rest, free_port, start_worker, wait_until, worker_props};

/// Builds `libmark.so` in `dir`: loading it creates `dir/mark`.
fn marking_library(dir: &Path) -> (PathBuf, PathBuf) {
    let mark = dir.join("mark");
    let source = dir.join("mark.c");
    std::fs::write(
        &source,
        format!(
            "#include <stdio.h>\n\
             __attribute__((constructor)) static void leave_mark(void) {{\n\
               FILE *f = fopen(\"{}\", \"w\"); if (f) {{ fputs(\"loaded\", f); fclose(f); }}\n\
             }}\n",
            mark.display()
        ),
    )
    .unwrap();
    let lib = dir.join("libmark.so");
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&source)
        .status()
        .expect("running cc (the test needs a C compiler)");
    assert!(status.success(), "cc failed to build the marking library");
    (lib, mark)
}

fn sink(dir: &Path, overrides: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "topics": "secured",
        "file": dir.join("out.txt").display().to_string(),
    });
    for (k, v) in overrides {
        config[*k] = json!(v);
    }
    config
}

async fn worker(
    broker: &Broker,
    dir: &Path,
    extra: &str,
) -> (wasmconnect_tests::WorkerProcess, Rest) {
    let port = free_port();
    start_worker(dir, &worker_props(broker.bootstrap(), port, extra), port).await
}

/// The entry of `key` in a validation answer.
fn entry<'a>(infos: &'a Value, key: &str) -> &'a Value {
    infos["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == key)
        .unwrap_or_else(|| panic!("no entry for {key} in {infos:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_overrides_cannot_load_native_code_into_the_worker() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let (lib, mark) = marking_library(dir.path());
    let lib = lib.display().to_string();
    let (_w, rest) = worker(&broker, dir.path(), "").await;

    for key in [
        "consumer.override.plugin.library.paths",
        "producer.override.plugin.library.paths",
        "admin.override.plugin.library.paths",
    ] {
        let r = rest.create("evil", &sink(dir.path(), &[(key, &lib)])).await;
        assert_eq!(r.status, 400, "{key}: {:?}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains("'plugin.library.paths' makes the Kafka client load code"),
            "{message}"
        );
        let infos = rest
            .call(
                "PUT",
                "/connector-plugins/FileStreamSink/config/validate",
                Some(sink(dir.path(), &[(key, &lib), ("name", "evil")])),
            )
            .await;
        assert_eq!(infos.status, 200);
        assert_eq!(infos.body["error_count"], 1, "{:#}", infos.body);
        let e = entry(&infos.body, key);
        assert_eq!(e["definition"], Value::Null);
        assert_eq!(e["value"]["errors"].as_array().unwrap().len(), 1);
    }
    // Other code-loading and file-reading settings, refused the same way.
    for key in [
        "consumer.override.sasl.kerberos.kinit.cmd",
        "consumer.override.ssl.key.location",
        "consumer.override.ssl.engine.location",
    ] {
        let r = rest.create("evil", &sink(dir.path(), &[(key, "/x")])).await;
        assert_eq!(r.status, 400, "{key}: {:?}", r.body);
    }
    assert_eq!(rest.call("GET", "/connectors", None).await.body, json!([]));
    assert!(!mark.exists(), "the library was loaded into the worker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_can_open_the_door_and_the_test_would_see_it() {
    // The positive control for the test above: with the operator allowing
    // `plugin.library.paths`, librdkafka loads the library at task start.
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let (lib, mark) = marking_library(dir.path());
    let lib = lib.display().to_string();
    let (_w, rest) = worker(
        &broker,
        dir.path(),
        "connector.client.config.override.unsafe.allow=plugin.library.paths\n",
    )
    .await;
    let r = rest
        .create(
            "allowed",
            &sink(
                dir.path(),
                &[("consumer.override.plugin.library.paths", &lib)],
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    wait_until(Duration::from_secs(30), "the library to be loaded", || {
        mark.exists()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_override_policy_reads_as_kafkas() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let (_w, rest) = worker(
        &broker,
        dir.path(),
        "connector.client.config.override.policy=Principal\n",
    )
    .await;
    let r = rest
        .create(
            "tuned",
            &sink(
                dir.path(),
                &[
                    ("consumer.override.auto.offset.reset", "latest"),
                    ("consumer.override.security.protocol", "PLAINTEXT"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["message"],
        "Connector configuration is invalid and contains the following 1 error(s):\n\
         The 'Principal' policy does not allow 'auto.offset.reset' to be overridden in the connector configuration.\n\
         You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
    );
    let r = rest
        .create(
            "principal",
            &sink(
                dir.path(),
                &[("consumer.override.security.protocol", "PLAINTEXT")],
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_read_through_config_providers_never_come_back() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.properties");
    std::fs::write(&secrets, "root=$6$s3cr3t$hash\n").unwrap();
    let (w, rest) = worker(
        &broker,
        dir.path(),
        "config.providers=file\n\
         config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n",
    )
    .await;
    let placeholder = format!("${{file:{}:root}}", secrets.display());
    let mut config = sink(dir.path(), &[]);
    config["tasks.max"] = json!(placeholder);
    let r = rest.create("leaky", &config).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        !message.contains("s3cr3t"),
        "the secret came back: {message}"
    );
    assert!(
        message.contains(&format!(
            "Invalid value {placeholder} for configuration tasks.max"
        )),
        "{message}"
    );

    // A connector that writes what it was given (here: panics with it, so
    // it lands on stderr, in the worker's log and in the task's trace)
    // shows the placeholder, never the value.
    let r = rest
        .create(
            "blabbing",
            &json!({
                "connector.class": "MisbehavingSource",
                "tasks.max": "1",
                "topic": "blab",
                "mode": "panic-in-poll",
                "message": format!("credentials {placeholder} rejected"),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = rest
        .wait_for("/connectors/blabbing/status", "a failed task", |r| {
            r.body["tasks"][0]["state"] == "FAILED"
        })
        .await;
    let trace = r.body["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.contains(&format!("credentials {placeholder} rejected")),
        "the panic message is in the trace, masked: {trace}"
    );
    assert!(
        !trace.contains("s3cr3t"),
        "the secret is in the trace: {trace}"
    );
    let log = w.log();
    assert!(log.contains("rejected"), "the guest's stderr is logged");
    assert!(!log.contains("s3cr3t"), "the secret is in the worker's log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_names_are_refused_and_leave_the_apis_usable() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let (_w, rest) = worker(&broker, dir.path(), "").await;

    // A name longer than the group protocol carries, with a two-byte
    // character across the limit.
    let long = format!("{}é", "a".repeat(32_766));
    let r = rest.create(&long, &sink(dir.path(), &[])).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("at most 32767 bytes long in UTF-8"),
        "{:?}",
        r.body
    );

    // A logger name the log filter cannot take: 400, and nothing stored.
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/broken%5B",
            Some(json!({"level": "DEBUG"})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["error_code"], 400);
    let r = rest.call("GET", "/admin/loggers", None).await;
    assert!(r.body.get("broken[").is_none(), "{:?}", r.body);
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/wasmconnect::worker",
            Some(json!({"level": "DEBUG"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (200, json!(["wasmconnect::worker"]))
    );
}

/// The harness's worker properties without its `sandbox.allowed.dirs`, so
/// the worker's own default (its working directory) applies.
fn default_sandbox(props: String) -> String {
    props
        .lines()
        .filter(|l| !l.starts_with("sandbox.allowed."))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_connectors_reach_only_files_beneath_the_working_directory() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
    let port = free_port();
    let props = default_sandbox(worker_props(broker.bootstrap(), port, ""));
    let (_w, rest) = start_worker(dir.path(), &props, port).await;

    let refused = [
        "/etc/shadow".to_string(),
        format!("{}/../x.txt", dir.path().display()),
        dir.path().join("escape/out.txt").display().to_string(),
        outside.path().join("out.txt").display().to_string(),
    ];
    for file in &refused {
        let mut config = sink(dir.path(), &[]);
        config["file"] = json!(file);
        let r = rest.create("writer", &config).await;
        assert_eq!(r.status, 400, "{file}: {:?}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains("configuration file names"), "{message}");
        assert!(
            message.contains("is outside the directories this worker allows")
                && message.contains("sandbox.allowed.dirs can allow it"),
            "{message}"
        );
    }
    // Relative and absolute paths beneath the working directory are fine,
    // and the sink writes there.
    let r = rest.create("writer", &sink(dir.path(), &[])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(!outside.path().join("out.txt").exists());
}

/// `method path` as `admin:secret`, retried while the cluster rebalances.
async fn as_admin(
    rest: &Rest,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> wasmconnect_tests::Reply {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut req = rest.raw(method, path).basic_auth("admin", Some("secret"));
        if let Some(b) = &body {
            req = req.json(b);
        }
        let reply = rest.send(req).await;
        if !reply.is_rebalancing() || std::time::Instant::now() >= deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_rest_authentication_over_https_runs_connectors_and_signs_its_internal_requests()
 {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    // Every listener is https: requests forwarded to the leader and task
    // configurations a follower publishes go over TLS, each worker checking
    // the other's certificate against the test CA.
    let pki = wasmconnect_tests::tls::TestPki::create(dir.path());
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, "basic admin:secret\n").unwrap();
    let mut members = Vec::new();
    for i in 0..2 {
        let member = dir.path().join(format!("member-{i}"));
        std::fs::create_dir(&member).unwrap();
        let port = free_port();
        let props = worker_props(
            broker.bootstrap(),
            port,
            &format!(
                "group.id=secured\nconfig.storage.topic=s-configs\noffset.storage.topic=s-offsets\n\
                 status.storage.topic=s-status\nconfig.storage.replication.factor=1\n\
                 offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n\
                 offset.storage.partitions=3\nstatus.storage.partitions=3\n\
                 session.timeout.ms=6000\nheartbeat.interval.ms=1000\n\
                 rest.advertised.host.name=127.0.0.1\nrest.auth.credentials.file={}\n{}",
                credentials.display(),
                pki.listener_props(port)
            ),
        );
        let process = wasmconnect_tests::WorkerProcess::distributed(&member, &props);
        let rest = Rest::https(port, &pki.ca_pem, None);
        rest.wait_ready(&process).await;
        rest.wait_for("/health", "the worker in the group", |r| r.status == 200)
            .await;
        members.push((process, rest, format!("127.0.0.1:{port}")));
    }
    let rest = &members[1].1;

    // Four connectors through one worker: writes forwarded to the leader
    // with the caller's credentials; the connectors spread over both
    // workers, so a follower publishes task configurations to the leader,
    // signed.
    let names: Vec<String> = (0..4).map(|i| format!("gen-{i}")).collect();
    for name in &names {
        let config = json!({"connector.class": "Datagen", "topic": "secured", "tasks.max": "1", "rate": "5"});
        let r = as_admin(
            rest,
            "POST",
            "/connectors",
            Some(json!({"name": name, "config": config})),
        )
        .await;
        assert_eq!(r.status, 201, "{name}: {:?}", r.body);
    }
    let mut owners = std::collections::BTreeSet::new();
    for name in &names {
        let r = rest
            .wait_for(
                &format!("/connectors/{name}/status"),
                "a running task",
                |r| r.body["tasks"][0]["state"] == "RUNNING",
            )
            .await;
        owners.insert(
            r.body["connector"]["worker_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        owners.len(),
        2,
        "connector instances on both workers: {owners:?}"
    );

    // The internal endpoint refuses what no member signed, whoever asks.
    for (_, rest, _) in &members {
        let r = as_admin(
            rest,
            "POST",
            "/connectors/gen-0/tasks",
            Some(json!([{"k": "v"}])),
        )
        .await;
        assert_eq!(
            (r.status, r.body["message"].clone()),
            (400, json!("Internal request missing required signature"))
        );
        let forged = rest
            .raw("POST", "/connectors/gen-0/tasks")
            .header("X-Connect-Authorization", "AAAA")
            .header("X-Connect-Request-Signature-Algorithm", "HmacSHA256")
            .json(&json!([{"k": "v"}]));
        let r = rest.send(forged).await;
        assert_eq!(
            (r.status, r.body["message"].clone()),
            (403, json!("Internal request contained invalid signature."))
        );
        let r = rest
            .call("POST", "/connectors/gen-0/tasks", Some(json!([])))
            .await;
        assert_eq!(r.status, 401, "unsigned and without credentials");
    }
    let r = rest.call("GET", "/connectors/gen-0/tasks", None).await;
    assert_eq!(
        r.body[0]["config"]["topic"], "secured",
        "task configs unchanged"
    );
}
