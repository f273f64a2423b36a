//! Outbound HTTP from a Python guest: the WebhookSink example
//! (`guest-connectors/python/examples/webhook-sink`, world `sink-with-http`,
//! built into `build/polyglot`) POSTs batches through `wasi:http` to the
//! endpoint its configuration names, under a worker's grant policy
//! (`sandbox.allowed.hosts=127.0.0.1`).
//!
//! The receivers are small HTTP/1.1 servers of the test's own on loopback
//! (a webhook endpoint is whatever the user runs; nothing here stands in
//! for a product). Checked: the exact body and headers the endpoint gets,
//! a 503 answered with a retriable error, the task's HTTP usage, and a
//! redirect to another origin refused by the worker, the other server
//! never reached.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect::bindings::types::{JsonPayload, Payload, SinkRecord, TimestampType};
use wasmconnect::sandbox::Limits;
use wasmconnect::{InstanceSpec, Plugin, Sandbox, SinkTaskInstance};
use wasmconnect_tests::receiver::{Receiver, answer};
use wasmconnect_tests::tls::TestPki;
use wasmconnect_tests::{config, polyglot_dir, worker_sandbox, worker_sandbox_config};

fn record(offset: i64, key: Option<&str>, value: Option<Payload>) -> SinkRecord {
    SinkRecord {
        topic: "events".into(),
        partition: 2,
        offset,
        key: key.map(|k| Payload::Text(k.into())),
        value,
        headers: vec![],
        timestamp: Some(1_700_000_000_000 + offset),
        timestamp_type: TimestampType::CreateTime,
    }
}

async fn webhook_sink(sandbox: &Sandbox) -> Plugin {
    let path = polyglot_dir().join("python-webhook-sink.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `bash guest-connectors/python/build.sh build/polyglot`",
        path.display()
    );
    Plugin::load_file(sandbox, &path)
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
}

#[tokio::test]
async fn a_python_guest_posts_to_its_endpoint_and_is_refused_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = webhook_sink(&worker_sandbox(dir.path())).await;
    assert_eq!(
        plugin.info().name,
        "io.wasmconnect.python.WebhookSinkConnector"
    );
    let endpoint = Receiver::start(None).await;
    let elsewhere = Receiver::start(None).await;
    let cfg = config(&[
        ("name", "hook"),
        ("topics", "events"),
        ("webhook.url", &endpoint.url("/hook?src=kafka")),
        ("webhook.token", "t0ken"),
    ]);
    let mut task = SinkTaskInstance::new(&plugin, InstanceSpec::new("hook", Some(0), cfg.clone()))
        .await
        .expect("the endpoint is granted");
    task.start(&cfg).await.unwrap();

    let batch = [
        record(
            5,
            Some("k"),
            Some(Payload::Json(JsonPayload {
                document: r#"{"name":"Zoë ☃","n":1}"#.into(),
                schema: None,
            })),
        ),
        record(6, None, Some(Payload::Text("plain".into()))),
        record(7, None, Some(Payload::Binary(vec![0xff, 0]))),
    ];
    task.put(&batch).await.expect("posted");
    let got = endpoint.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].line, "POST /hook?src=kafka HTTP/1.1");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].header("x-batch-id"), Some("events-2-5"));
    assert_eq!(got[0].header("authorization"), Some("Bearer t0ken"));
    assert_eq!(
        got[0].header("host"),
        Some(format!("127.0.0.1:{}", endpoint.port).as_str())
    );
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        body,
        json!([
            {"topic": "events", "partition": 2, "offset": 5, "timestamp": 1_700_000_000_005_i64,
             "key": "k", "value": {"name": "Zoë ☃", "n": 1}},
            {"topic": "events", "partition": 2, "offset": 6, "timestamp": 1_700_000_000_006_i64,
             "key": null, "value": "plain"},
            {"topic": "events", "partition": 2, "offset": 7, "timestamp": 1_700_000_000_007_i64,
             "key": null, "value": "/wA="},
        ])
    );

    // A 503 is worth retrying: the worker would call put again.
    endpoint.answer_next(vec![answer(503, &[], "busy")]);
    let err = task.put(&batch[..1]).await.expect_err("503");
    assert!(err.is_retriable(), "{err}");
    assert!(err.to_string().contains("answered HTTP 503: busy"), "{err}");

    // A redirect to another origin: the guest follows it, the worker
    // refuses the request (the configuration does not name that origin,
    // though the worker's policy allows loopback), and the other server
    // never hears of it.
    let location = elsewhere.url("/stolen");
    endpoint.answer_next(vec![answer(307, &[("location", &location)], "")]);
    let err = task.put(&batch[..1]).await.expect_err("redirect refused");
    assert!(!err.is_retriable(), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("the worker refused a request to {location}")),
        "{err}"
    );
    assert!(elsewhere.received().is_empty());

    let used = task.usage();
    assert_eq!(used.http_requests, 3, "{used:?}");
    assert!(
        used.http_bytes_sent as usize > got[0].body.len(),
        "{used:?}"
    );
    assert_eq!(used.http_bytes_received, 2 + 4);
    task.stop().await.unwrap();
}

/// A task of `plugin` posting to `url`, held to `limits`.
async fn hook_task(plugin: &Plugin, url: &str, limits: Limits) -> SinkTaskInstance {
    let cfg = config(&[("name", "hook"), ("topics", "events"), ("webhook.url", url)]);
    let spec = InstanceSpec {
        limits: Some(limits),
        ..InstanceSpec::new("hook", Some(0), cfg.clone())
    };
    let mut task = SinkTaskInstance::new(plugin, spec).await.expect("granted");
    task.start(&cfg).await.unwrap();
    task
}

#[tokio::test]
async fn https_trusts_the_workers_ca_file_and_the_limits_hold() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path());
    let secure = Receiver::start(Some(&pki)).await;
    let batch = [record(1, None, Some(Payload::Text("x".into())))];

    // The system's roots alone do not know the test's CA: the handshake
    // fails, which is worth retrying (the server may change its
    // certificate), and the receiver gets no request.
    let plugin = webhook_sink(&worker_sandbox(dir.path())).await;
    let mut task = hook_task(&plugin, &secure.https_url("/hook"), Limits::default()).await;
    let err = task.put(&batch).await.expect_err("unknown CA");
    assert!(err.is_retriable(), "{err}");
    assert!(secure.received().is_empty());

    // With the CA as the worker's sandbox.http.ca.file, the request goes.
    let mut with_ca = worker_sandbox_config(dir.path());
    with_ca.http_tls = std::sync::Arc::new(
        wasmconnect::config::tls::outbound_http(Some(&pki.ca)).expect("the CA file"),
    );
    let sandbox = Sandbox::new(with_ca).unwrap();
    let plugin = webhook_sink(&sandbox).await;
    let mut task = hook_task(&plugin, &secure.https_url("/hook"), Limits::default()).await;
    task.put(&batch).await.expect("posted over https");
    assert_eq!(secure.received().len(), 1);

    // A response larger than wasm.http.response.bytes is refused.
    let plain = Receiver::start(None).await;
    plain.answer_next(vec![answer(200, &[], &"y".repeat(5000))]);
    let small = Limits {
        http_response_bytes: 1000,
        ..Limits::default()
    };
    let mut task = hook_task(&plugin, &plain.url("/big"), small).await;
    let err = task.put(&batch).await.expect_err("too large");
    assert!(err.to_string().contains("HttpResponseBodySize"), "{err}");

    // An endpoint that does not answer within wasm.http.response.timeout.ms.
    plain.answer_next(vec![String::new()]);
    let quick = Limits {
        http_response_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut task = hook_task(&plugin, &plain.url("/slow"), quick).await;
    let started = std::time::Instant::now();
    let err = task.put(&batch).await.expect_err("no answer");
    assert!(err.is_retriable(), "{err}");
    assert!(err.to_string().contains("ConnectionReadTimeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
