//! The tests' REST client: [`Rest`] calls one worker's Kafka Connect REST
//! API (plain or HTTPS) and answers with a [`Reply`]; it also waits for a
//! worker to come up and for a condition on an endpoint.

use std::time::{Duration, Instant};

use crate::WorkerProcess;

/// A REST client for one worker. Cheap to clone.
#[derive(Clone)]
pub struct Rest {
    base: String,
    client: reqwest::Client,
}

/// A response: status and body (JSON when it parses, else a JSON string).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed body (`Null` when empty).
    pub body: serde_json::Value,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

impl Reply {
    /// Whether a distributed worker refused the request because a rebalance
    /// is under way (Kafka Connect's 409 "likely because a rebalance was
    /// underway" or "stale configuration"): when that happens is timing, so
    /// callers retry it.
    pub fn is_rebalancing(&self) -> bool {
        self.status == 409
            && self.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("rebalanc") || m.contains("stale configuration"))
    }
}

impl Rest {
    /// A client for `http://127.0.0.1:<port>`.
    pub fn new(port: u16) -> Rest {
        Rest {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    /// A client for `https://127.0.0.1:<port>` that trusts only `ca_pem`
    /// and, when `identity_pem` is given, presents that key and
    /// certificate.
    pub fn https(port: u16, ca_pem: &str, identity_pem: Option<&str>) -> Rest {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA"));
        if let Some(pem) = identity_pem {
            builder =
                builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
        }
        Rest {
            base: format!("https://127.0.0.1:{port}"),
            client: builder.build().expect("https client"),
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// As [`Rest::call`], retrying for 30 s while a distributed worker
    /// answers that a rebalance is under way (a worker whose REST server is
    /// up may not have joined its group yet).
    pub async fn call_settled(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let reply = self.call(method, path, body.clone()).await;
            if !reply.is_rebalancing() || Instant::now() >= deadline {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends a prepared request.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        Reply {
            status,
            body,
            location,
        }
    }

    /// A raw request builder, for unusual requests.
    pub fn raw(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// `POST /connectors` with `name` and `config`, retried while a
    /// rebalance is under way.
    pub async fn create(&self, name: &str, config: &serde_json::Value) -> Reply {
        self.call_settled(
            "POST",
            "/connectors",
            Some(serde_json::json!({"name": name, "config": config})),
        )
        .await
    }

    /// Waits until `GET /connectors` answers. A worker serves REST once it
    /// has loaded its plugins, and the first load of the interpreter-based
    /// components (Python, JavaScript: 12-18 MB each) compiles them, which
    /// takes well over a minute while another test binary runs beside this
    /// one on the same two cores; the generous deadline only bounds a worker
    /// that never comes up.
    pub async fn wait_ready(&self, worker: &WorkerProcess) {
        const READY: Duration = Duration::from_secs(240);
        let deadline = Instant::now() + READY;
        loop {
            if let Ok(r) = self
                .client
                .get(format!("{}/connectors", self.base))
                .send()
                .await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "REST API not up after {READY:?}; log:\n{}",
                worker.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `GET path` until `check` accepts the reply.
    pub async fn wait_for(&self, path: &str, what: &str, check: impl Fn(&Reply) -> bool) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.call("GET", path, None).await;
            if check(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: last reply {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until connector `name` and its `tasks` tasks are all RUNNING.
    pub async fn wait_running(&self, name: &str, tasks: usize) -> Reply {
        self.wait_for(&format!("/connectors/{name}/status"), "RUNNING", |r| {
            r.body["connector"]["state"] == "RUNNING"
                && r.body["tasks"]
                    .as_array()
                    .is_some_and(|t| t.len() == tasks && t.iter().all(|t| t["state"] == "RUNNING"))
        })
        .await
    }
}
