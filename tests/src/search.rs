//! A real OpenSearch node for end-to-end tests: `scripts/opensearch.sh`
//! (OpenSearch 2.19 from Maven Central jars) started on free loopback
//! ports in a directory of the test's own, killed and removed when
//! dropped, also when the test panics. `bash scripts/setup.sh` installs it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::free_port;
use crate::scripted::Scripted;

/// One OpenSearch node.
pub struct OpenSearch {
    server: Scripted,
    port: u16,
    http: reqwest::Client,
}

impl OpenSearch {
    /// Starts a node and waits until it answers (a few seconds).
    pub fn start() -> OpenSearch {
        let port = free_port();
        let env = vec![
            ("OPENSEARCH_PORT", port.to_string()),
            ("OPENSEARCH_TRANSPORT_PORT", free_port().to_string()),
        ];
        OpenSearch {
            server: Scripted::start("opensearch.sh", "OPENSEARCH_DIR", env),
            port,
            http: reqwest::Client::new(),
        }
    }

    /// Starts the node again after [`OpenSearch::kill`], on its data.
    pub fn start_again(&self) {
        self.server.start_again();
    }

    /// Kills the node (SIGKILL): an outage.
    pub fn kill(&self) {
        self.server.kill();
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.server.dir().join("logs/wasmconnect.log")).unwrap_or_default()
    }

    /// A request; returns the status and the JSON answer (`null` when the
    /// answer is not JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut req = self.http.request(method, format!("{}{path}", self.url()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("OpenSearch answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every document of `index` (refreshed first) by id, or `None` while
    /// the index does not exist.
    pub async fn documents(&self, index: &str) -> Option<BTreeMap<String, Value>> {
        let (status, _) = self.call("POST", &format!("/{index}/_refresh"), None).await;
        if status == 404 {
            return None;
        }
        let (status, found) = self
            .call(
                "POST",
                &format!("/{index}/_search?size=10000"),
                Some(serde_json::json!({"query": {"match_all": {}}})),
            )
            .await;
        assert_eq!(status, 200, "search {index}: {found}");
        let hits = found["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Some(
            hits.into_iter()
                .map(|h| {
                    let id = h["_id"].as_str().unwrap_or_default().to_string();
                    (id, h["_source"].clone())
                })
                .collect(),
        )
    }
}
