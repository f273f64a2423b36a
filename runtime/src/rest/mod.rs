//! The Kafka Connect REST API (spec §1–§5), served by axum on `listeners`
//! (default `http://:8083`).
//!
//! * [`routes`]: the route table, one line per endpoint, also the source of
//!   truth the OpenAPI document is checked against;
//! * [`handlers`]: one function per endpoint;
//! * [`entities`]: the JSON shapes;
//! * [`configinfo`]: `ConfigKeyInfo` / `ConfigInfos`;
//! * [`error`]: `{"error_code": N, "message": "…"}` for every failure;
//! * [`uploads`]: plugin management (upload, versions, delete);
//! * [`auth`]: optional Basic / Bearer authentication of writes;
//! * [`routing`] and [`forward`]: distributed mode's forwarding of writes
//!   to the leader (or a task's owner).
//!
//! Paths match with or without a trailing slash, as Jersey does.

pub mod auth;
pub mod configinfo;
pub mod entities;
pub mod error;
pub mod forward;
pub mod handlers;
pub mod routes;
pub mod routing;
pub mod uploads;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::config::WorkerConfig;
use crate::worker::Worker;

/// The OpenAPI document of the whole API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// A `listeners` entry: `http://host:port` (empty host: all interfaces).
pub fn parse_listener(listener: &str) -> Result<(String, u16), String> {
    let (scheme, rest) = listener
        .split_once("://")
        .ok_or_else(|| format!("Invalid listener {listener}: expected scheme://host:port"))?;
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "Invalid listener {listener}: only http listeners are supported"
        ));
    }
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("Invalid listener {listener}: no port"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = port
        .parse()
        .map_err(|_| format!("Invalid listener {listener}: bad port {port}"))?;
    Ok((host, port))
}

/// `name` as one URL path segment (percent-encoded).
pub fn segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, handlers::SEGMENT).to_string()
}

/// `worker_id`: advertised host (else the listener's host, else the machine's
/// name) and advertised port (else the listener's).
pub fn advertised_worker_id(config: &WorkerConfig) -> String {
    let (lhost, lport) = config
        .listeners
        .first()
        .and_then(|l| parse_listener(l).ok())
        .unwrap_or_else(|| (String::new(), 8083));
    let host = config
        .get("rest.advertised.host.name")
        .map(str::to_string)
        .filter(|h| !h.is_empty())
        .or_else(|| (!lhost.is_empty() && lhost != "0.0.0.0").then_some(lhost))
        .unwrap_or_else(hostname);
    let port = config
        .get("rest.advertised.port")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(lport);
    format!("{host}:{port}")
}

/// This machine's name (`/etc/hostname`), else `localhost`.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Binds every listener and serves the API until the process ends.
pub async fn serve(worker: Arc<Worker>) -> Result<Vec<SocketAddr>, String> {
    let mut bound = Vec::new();
    for listener in worker.config().listeners.clone() {
        let (host, port) = parse_listener(&listener)?;
        let host = if host.is_empty() {
            "0.0.0.0".to_string()
        } else {
            host
        };
        let socket = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot listen on {listener}: {e}"))?;
        let addr = socket.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, "REST API listening");
        bound.push(addr);
        let app = NormalizePathLayer::trim_trailing_slash().layer(router(worker.clone())?);
        tokio::spawn(async move {
            let service = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
            if let Err(e) = axum::serve(socket, service).await {
                tracing::error!("REST server stopped: {e}");
            }
        });
    }
    Ok(bound)
}

/// The router for `worker`, with authentication when configured.
pub fn router(worker: Arc<Worker>) -> Result<Router, String> {
    let auth = auth::Auth::from_config(worker.config())?;
    let limit = uploads::upload_limit(&worker);
    let router = routes::routes(limit)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(worker.clone())
        .layer(axum::middleware::from_fn_with_state(worker, routing::route));
    Ok(match auth {
        Some(auth) => router.layer(axum::middleware::from_fn_with_state(
            Arc::new(auth),
            auth::require,
        )),
        None => router,
    })
}
