//! The client one worker uses to ask another (Kafka Connect's
//! `RestClient` and `HerderRequestHandler`, spec §1.5): a request a herder
//! redirects (to the leader, to a task's owner) is forwarded with it, and a
//! follower sends its connector's task configurations to the leader.
//!
//! The same method, path and body go to `<target><path>?forward=<X>`, X
//! being `true` when the incoming request had no `forward` parameter and
//! `false` when it had one, so a request makes at most two hops: a worker
//! asked with `forward=false` that would have to forward again answers 409
//! instead. Only `Authorization` and an internal request's signature
//! headers are copied. The target's answer is relayed:
//! its status and JSON body, a 204 without one, an error with the target's
//! status and message.

use std::time::Duration;

use axum::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::distributed::session_key::{ALGORITHM_HEADER, SIGNATURE_HEADER, Signature};
use crate::error::HerderError;

/// How long a forwarded request may take (Kafka Connect's REST timeout).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(90);

/// Everything but RFC 3986's unreserved characters is encoded, so a
/// connector name stays one path segment.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `name` as one URL path segment (percent-encoded).
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// The client for every request to another worker (it pools
/// connections): over https it trusts and presents what `tls` says (the
/// worker file's `ssl.*` keys, [`crate::config::tls::client_config`]).
pub fn client_for(tls: Option<&std::sync::Arc<rustls::ClientConfig>>) -> reqwest::Client {
    let Some(tls) = tls else {
        return reqwest::Client::new();
    };
    match reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(tls))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            // Only a TLS backend reqwest was built without fails here;
            // requests to https workers would then fail, each with this
            // cause in its error.
            tracing::error!("the TLS settings for other workers cannot be used: {e}");
            reqwest::Client::new()
        }
    }
}

/// A forwarded request's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    /// The target's 2xx status (201 vs 200 matters to clients).
    pub status: u16,
    /// The body; `None` for 204.
    pub body: Option<Value>,
}

/// What to forward.
pub struct Request<'a> {
    pub method: Method,
    /// The path, without a query (`/connectors/c/restart`).
    pub path: &'a str,
    /// The incoming `forward` parameter, if it had one.
    pub forward: Option<bool>,
    /// Further query parameters to pass on (`includeTasks`, `onlyFailed`).
    pub query: &'a [(&'a str, String)],
    pub authorization: Option<&'a str>,
    /// An internal request's signature, passed on unchanged.
    pub signature: Option<&'a Signature>,
    /// A JSON body, as received.
    pub body: Option<&'a [u8]>,
}

/// Sends `request` to `target` (a worker's REST URL; `None` when no leader
/// is known) and relays the answer.
pub async fn forward(
    client: &reqwest::Client,
    target: Option<&str>,
    request: &Request<'_>,
) -> Result<Forwarded, HerderError> {
    let Some(target) = target else {
        return Err(HerderError::conflict(
            "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
        ));
    };
    if request.forward == Some(false) {
        return Err(HerderError::conflict(
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        ));
    }
    let url = format!("{}{}", target.trim_end_matches('/'), request.path);
    let mut query: Vec<(&str, String)> = vec![("forward", request.forward.is_none().to_string())];
    query.extend(request.query.iter().map(|(k, v)| (*k, v.clone())));
    let mut builder = client
        .request(request.method.clone(), &url)
        .query(&query)
        .header("accept", "application/json")
        .header("user-agent", "kafka-connect")
        .timeout(FORWARD_TIMEOUT);
    if let Some(auth) = request.authorization {
        builder = builder.header("authorization", auth);
    }
    if let Some(signature) = request.signature {
        builder = builder
            .header(SIGNATURE_HEADER, &signature.value)
            .header(ALGORITHM_HEADER, &signature.algorithm);
    }
    if let Some(body) = request.body {
        builder = builder
            .header("content-type", "application/json")
            .body(body.to_vec());
    }
    let response = builder.send().await.map_err(|e| {
        HerderError::internal(format!("IO Error trying to forward REST request: {e}"))
    })?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| {
        HerderError::internal(format!("IO Error trying to forward REST request: {e}"))
    })?;
    let body: Option<Value> = serde_json::from_str(&text).ok();
    match status {
        204 => Ok(Forwarded { status, body: None }),
        200..=299 => Ok(Forwarded { status, body }),
        400.. => Err(HerderError::with_status(
            status,
            body.as_ref()
                .and_then(|b| b.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or(text),
        )),
        other => Err(HerderError::internal(format!(
            "Unexpected status code when handling forwarded request: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::extract::{Query, Request as HttpRequest};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::{any, post};
    use serde_json::json;
    use std::collections::HashMap;

    /// A worker that echoes what it received.
    async fn leader() -> String {
        async fn echo(
            Query(q): Query<HashMap<String, String>>,
            req: HttpRequest,
        ) -> impl IntoResponse {
            let (parts, body) = req.into_parts();
            let header = |n: &str| {
                parts
                    .headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let (auth, agent) = (header("authorization"), header("user-agent"));
            let method = parts.method.to_string();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            (
                StatusCode::CREATED,
                axum::Json(
                    json!({"query": q, "authorization": auth, "user_agent": agent,
                                  "method": method, "body": String::from_utf8_lossy(&body)}),
                ),
            )
        }
        let app = Router::new()
            .route("/connectors", post(echo))
            .route(
                "/connectors/c/restart",
                post(|| async { StatusCode::NO_CONTENT }),
            )
            .route(
                "/connectors/missing",
                any(|| async {
                    (
                        StatusCode::NOT_FOUND,
                        axum::Json(
                            json!({"error_code": 404, "message": "Connector missing not found"}),
                        ),
                    )
                }),
            )
            .route("/moved", any(|| async { StatusCode::FOUND }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/")
    }

    fn request<'a>(
        method: Method,
        path: &'a str,
        forward: Option<bool>,
        body: Option<&'a [u8]>,
    ) -> Request<'a> {
        Request {
            method,
            path,
            forward,
            query: &[],
            authorization: Some("Basic YWRtaW46czNjcmV0"),
            signature: None,
            body,
        }
    }

    #[tokio::test]
    async fn a_write_is_relayed_with_its_status_body_and_credentials() {
        let url = leader().await;
        let client = reqwest::Client::new();
        let body = json!({"name": "c", "config": {}});
        let bytes = body.to_string().into_bytes();
        let answer = forward(
            &client,
            Some(&url),
            &request(Method::POST, "/connectors", None, Some(&bytes)),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 201);
        let echoed = answer.body.unwrap();
        assert_eq!(echoed["query"]["forward"], "true", "first hop");
        assert_eq!(echoed["authorization"], "Basic YWRtaW46czNjcmV0");
        assert_eq!(echoed["user_agent"], "kafka-connect");
        assert_eq!(
            serde_json::from_str::<Value>(echoed["body"].as_str().unwrap()).unwrap(),
            body
        );
        // A request that arrived forwarded (forward=true) goes on with false.
        let again = forward(
            &client,
            Some(&url),
            &request(Method::POST, "/connectors", Some(true), Some(&bytes)),
        )
        .await
        .unwrap();
        assert_eq!(again.body.unwrap()["query"]["forward"], "false");
    }

    #[tokio::test]
    async fn answers_and_failures_map_as_kafka_connect_maps_them() {
        let url = leader().await;
        let client = reqwest::Client::new();
        let restarted = forward(
            &client,
            Some(&url),
            &request(Method::POST, "/connectors/c/restart", None, None),
        )
        .await
        .unwrap();
        assert_eq!(
            restarted,
            Forwarded {
                status: 204,
                body: None
            }
        );
        assert_eq!(
            forward(
                &client,
                Some(&url),
                &request(Method::DELETE, "/connectors/missing", None, None)
            )
            .await,
            Err(HerderError::not_found("Connector missing not found"))
        );
        assert_eq!(
            forward(
                &client,
                Some(&url),
                &request(Method::GET, "/moved", None, None)
            )
            .await,
            Err(HerderError::internal(
                "Unexpected status code when handling forwarded request: 302"
            ))
        );
        let no_leader = forward(
            &client,
            None,
            &request(Method::POST, "/connectors", None, None),
        )
        .await;
        assert_eq!(no_leader.unwrap_err().status, 409);
        let third_hop = forward(
            &client,
            Some(&url),
            &request(Method::POST, "/connectors", Some(false), None),
        )
        .await;
        assert_eq!(
            third_hop,
            Err(HerderError::conflict(
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
            ))
        );
        let unreachable = forward(
            &client,
            Some("http://127.0.0.1:1/"),
            &request(Method::POST, "/connectors", None, None),
        )
        .await;
        let e = unreachable.unwrap_err();
        assert_eq!(e.status, 500);
        assert!(
            e.message
                .starts_with("IO Error trying to forward REST request: "),
            "{}",
            e.message
        );
    }
}
