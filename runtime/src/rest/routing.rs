//! Which worker answers a request (distributed mode, spec §1.5).
//!
//! Reads are answered by whichever worker is asked, from its copy of the
//! shared view. Writes that Kafka Connect's herder makes on the leader
//! (create, reconfigure, delete, stop, restart, offsets, the internal task
//! configurations) are forwarded to the leader, and a task restart to the
//! worker running the task, with [`forward`]. Pause and resume are written
//! by any worker, as in Kafka. A standalone worker answers everything.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::forward;
use crate::worker::Worker;

/// The largest body forwarded (connector configurations, task configs).
const MAX_FORWARDED_BODY: usize = 16 * 1024 * 1024;

/// Who must answer a request.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// Whoever was asked.
    Local,
    /// The group's leader.
    Leader,
    /// The worker running this task.
    TaskOwner(String, u32),
}

fn target(method: &Method, path: &str) -> Target {
    if method == Method::GET || method == Method::HEAD {
        return Target::Local;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let leader = match (method.as_str(), segments.as_slice()) {
        ("POST", ["connectors"]) => true,
        ("DELETE", ["connectors", _]) => true,
        ("PUT" | "PATCH", ["connectors", _, "config"]) => true,
        ("POST", ["connectors", _, "restart"]) => true,
        ("PUT", ["connectors", _, "stop"]) => true,
        ("PATCH" | "DELETE", ["connectors", _, "offsets"]) => true,
        ("POST", ["connectors", _, "tasks"]) => true,
        ("POST", ["connectors", name, "tasks", task, "restart"]) => {
            let name = percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned();
            return match task.parse() {
                Ok(task) => Target::TaskOwner(name, task),
                Err(_) => Target::Local,
            };
        }
        _ => false,
    };
    if leader {
        Target::Leader
    } else {
        Target::Local
    }
}

/// The middleware: runs the request here, or forwards it.
pub async fn route(State(w): State<Arc<Worker>>, request: Request, next: Next) -> Response {
    let Some(cluster) = w.cluster() else {
        return next.run(request).await;
    };
    let destination = match target(request.method(), request.uri().path()) {
        Target::Local => None,
        Target::Leader if cluster.is_leader() => None,
        Target::Leader => Some(cluster.leader_url()),
        Target::TaskOwner(name, task) => match cluster.task_owner_url(&name, task) {
            Some(url) if url != cluster.url() => Some(Some(url)),
            _ => None,
        },
    };
    let Some(destination) = destination else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORWARDED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(400, format!("cannot read the request: {e}")).into_response();
        }
    };
    let json: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            // Malformed: answered here, with the same error the target
            // would give, before anything is written.
            Err(_) => {
                return next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
            }
        }
    };
    let pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url_pairs(q)
                .into_iter()
                .filter(|(k, _)| k != "forward")
                .collect()
        })
        .unwrap_or_default();
    let incoming_forward = parts
        .uri
        .query()
        .and_then(|q| url_pairs(q).into_iter().find(|(k, _)| k == "forward"))
        .map(|(_, v)| v.eq_ignore_ascii_case("true"));
    let query: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let path = parts.uri.path();
    let forwarded = forward::forward(
        &cluster_client(),
        destination.as_deref(),
        &forward::Request {
            method: parts.method.clone(),
            path,
            forward: incoming_forward,
            query: &query,
            authorization,
            body: json.as_ref(),
        },
    )
    .await;
    match forwarded {
        Err(e) => e.into_response(),
        Ok(answer) => {
            // Read-your-writes: what the leader wrote is in this worker's
            // view before the client hears back.
            if let Err(e) = cluster.refresh_config().await {
                tracing::warn!("cannot read the config topic: {e}");
            }
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let mut response = match answer.body {
                Some(body) => (status, axum::Json(body)).into_response(),
                None => status.into_response(),
            };
            if status == StatusCode::CREATED
                && let Some(name) = json
                    .as_ref()
                    .and_then(|b| b.get("name"))
                    .and_then(Value::as_str)
            {
                response
                    .headers_mut()
                    .insert(header::LOCATION, super::handlers::location(name));
            }
            response
        }
    }
}

/// One client for every forwarded request (it pools connections).
fn cluster_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_to_the_leader_or_the_task_owner_and_reads_stay() {
        let t = |m: Method, p: &str| target(&m, p);
        assert_eq!(t(Method::GET, "/connectors/a/status"), Target::Local);
        assert_eq!(t(Method::POST, "/connectors"), Target::Leader);
        assert_eq!(t(Method::PUT, "/connectors/a/config"), Target::Leader);
        assert_eq!(t(Method::PATCH, "/connectors/a/config"), Target::Leader);
        assert_eq!(t(Method::DELETE, "/connectors/a"), Target::Leader);
        assert_eq!(t(Method::PUT, "/connectors/a/stop"), Target::Leader);
        assert_eq!(t(Method::POST, "/connectors/a/restart"), Target::Leader);
        assert_eq!(t(Method::DELETE, "/connectors/a/offsets"), Target::Leader);
        assert_eq!(t(Method::POST, "/connectors/a/tasks"), Target::Leader);
        // Any worker writes target states, as Kafka's do.
        assert_eq!(t(Method::PUT, "/connectors/a/pause"), Target::Local);
        assert_eq!(t(Method::PUT, "/connectors/a/resume"), Target::Local);
        assert_eq!(t(Method::POST, "/wasmconnect/plugins"), Target::Local);
        assert_eq!(
            t(Method::POST, "/connectors/a%20b/tasks/2/restart"),
            Target::TaskOwner("a b".into(), 2)
        );
        assert_eq!(
            t(Method::POST, "/connectors/a/tasks/x/restart"),
            Target::Local
        );
    }
}
