//! HTTPS listeners: `listeners=https://…` with a PEM key store, checked
//! from the outside with real TLS clients (the distributed cluster that
//! forwards over HTTPS between workers is in `security.rs`).
//!
//! The workers use librdkafka's embedded mock cluster: nothing here moves
//! records, and the REST API is what is under test.

use std::time::Duration;

use wasmconnect_tests::tls::TestPki;
use wasmconnect_tests::{Rest, WorkerProcess, free_port, worker_props};

/// Starts a worker serving https with `pki`'s key store and `extra`.
async fn https_worker(dir: &std::path::Path, pki: &TestPki, extra: &str) -> (WorkerProcess, u16) {
    let port = free_port();
    let props = worker_props(
        "embedded",
        port,
        &format!("{}{extra}", pki.listener_props(port)),
    );
    let worker = WorkerProcess::start(dir, &props, &[]);
    let identity = (!extra.is_empty()).then_some(pki.client_pem.as_str());
    Rest::https(port, &pki.ca_pem, identity)
        .wait_ready(&worker)
        .await;
    (worker, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_listener_serves_the_api_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path());
    let (_worker, port) = https_worker(dir.path(), &pki, "").await;

    let rest = Rest::https(port, &pki.ca_pem, None);
    let r = rest.call("GET", "/", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["version"].is_string(), "{:?}", r.body);
    let r = rest.call("GET", "/connectors", None).await;
    assert_eq!((r.status, r.body), (200, serde_json::json!([])));

    // Plain http to the same port gets no answer from the API.
    let plain = Rest::new(port);
    assert!(
        plain.raw("GET", "/connectors").send().await.is_err(),
        "plain http must not be served on an https listener"
    );
    // A client that does not trust the worker's CA refuses it.
    let elsewhere = tempfile::tempdir().unwrap();
    let untrusting = Rest::https(port, &TestPki::create(elsewhere.path()).ca_pem, None);
    let err = untrusting.raw("GET", "/").send().await.unwrap_err();
    assert!(
        format!("{err:?}").contains("InvalidCertificate"),
        "the certificate is checked: {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_client_authentication_refuses_clients_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path());
    let (_worker, port) = https_worker(dir.path(), &pki, "ssl.client.auth=required\n").await;

    let with_certificate = Rest::https(port, &pki.ca_pem, Some(&pki.client_pem));
    let r = with_certificate.call("GET", "/connectors", None).await;
    assert_eq!(r.status, 200);
    let without = Rest::https(port, &pki.ca_pem, None);
    assert!(
        without.raw("GET", "/connectors").send().await.is_err(),
        "a client without a certificate must be refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_listener_without_a_key_store_stops_the_worker_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props(
        "embedded",
        port,
        &format!("listeners=https://127.0.0.1:{port}\n"),
    );
    let mut worker = WorkerProcess::start(dir.path(), &props, &[]);
    let code = worker.wait_exit(Duration::from_secs(30));
    assert!(matches!(code, Some(c) if c != 0), "exit code {code:?}");
    let log = worker.log();
    assert!(
        log.contains("an https listener needs a key and certificate: set ssl.keystore.location"),
        "{log}"
    );
}
