//! Following a herder's redirect (distributed mode, spec §1.5), as Kafka
//! Connect's REST resources do when a herder throws `NotLeaderException` or
//! `NotAssignedException`.
//!
//! Every request runs here first. When the herder answers that another
//! worker must make it (the leader, a task's owner), the response carries a
//! [`Redirect`] and this middleware sends the same request there with
//! [`peer::forward`], relaying the answer. So which requests go where is
//! decided by the herders, in one place, never by a table of paths. A
//! standalone herder never redirects.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use crate::distributed::session_key::Signature;
use crate::error::{HerderError, Redirect};
use crate::herder::{Herder, peer};

/// The largest body kept for forwarding (connector configurations, task
/// configurations); larger ones are answered here.
const MAX_FORWARDED_BODY: usize = 16 * 1024 * 1024;

/// The middleware: runs the request here, and forwards it when the herder
/// redirects it.
pub async fn follow_redirects(
    State(herder): State<Arc<dyn Herder>>,
    request: Request,
    next: Next,
) -> Response {
    // Reads are answered by whoever is asked. A write is kept for
    // forwarding unless its body is not JSON and not known to be small: an
    // upload streams straight to its handler, while `curl -d ''` (an empty
    // form body) on a restart is still forwarded.
    let headers = request.headers();
    let json_or_none = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.to_ascii_lowercase().contains("json"));
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| n <= MAX_FORWARDED_BODY);
    if matches!(*request.method(), Method::GET | Method::HEAD) || !(json_or_none || small) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORWARDED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(400, format!("cannot read the request: {e}")).into_response();
        }
    };
    let method = parts.method.clone();
    let uri = parts.uri.clone();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let signature = Signature::from_headers(|name| parts.headers.get(name)?.to_str().ok());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    let Some(redirect) = response.extensions().get::<Redirect>().cloned() else {
        return response;
    };
    let pairs = url_pairs(uri.query().unwrap_or(""));
    let incoming_forward = pairs
        .iter()
        .find(|(k, _)| k == "forward")
        .map(|(_, v)| v.eq_ignore_ascii_case("true"));
    let query: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "forward")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let body = (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(&bytes[..]);
    let forwarded = peer::forward(
        &herder.peer_client(),
        redirect.url.as_deref(),
        &peer::Request {
            method,
            path: uri.path(),
            forward: incoming_forward,
            query: &query,
            authorization: authorization.as_deref(),
            signature: signature.as_ref(),
            body,
        },
    )
    .await;
    match forwarded {
        Err(e) => ApiError::from(HerderError {
            redirect: None,
            ..e
        })
        .into_response(),
        Ok(answer) => {
            herder.after_forward().await;
            relay(answer, &bytes)
        }
    }
}

/// The target's answer as this worker gives it (with `Location` for a
/// created connector, as the target set it).
fn relay(answer: peer::Forwarded, request_body: &Bytes) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = match answer.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    if status == StatusCode::CREATED
        && let Some(name) = serde_json::from_slice::<Value>(request_body)
            .ok()
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

/// A query string as decoded (key, value) pairs.
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
