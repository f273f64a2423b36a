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
//! * [`console`]: the web console at `/ui`, in front of the API;
//! * [`forwarding`]: following a herder's redirect to the leader (or a
//!   task's owner) in distributed mode.
//!
//! Handlers call a `dyn` [`Herder`] (and, for plugins, registries and
//! states, its worker); they never ask which mode runs.
//!
//! Paths match with or without a trailing slash, as Jersey does.

pub mod auth;
pub mod configinfo;
pub mod console;
pub mod entities;
pub mod error;
pub mod forwarding;
pub mod handlers;
pub mod routes;
pub mod uploads;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::config::listeners::{Listener, parse_listener};
use crate::herder::Herder;

/// The OpenAPI document of the whole API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Binds every listener and serves the API until the process ends:
/// `http` listeners in the clear, `https` ones over TLS as the worker
/// file's `ssl.*` keys say ([`crate::config::tls`]).
pub async fn serve(herder: Arc<dyn Herder>) -> Result<Vec<SocketAddr>, String> {
    let mut bound = Vec::new();
    let config = herder.worker().config();
    for listener in config.listeners.clone() {
        let Listener { scheme, host, port } = parse_listener(&listener)?;
        let host = if host.is_empty() {
            "0.0.0.0".to_string()
        } else {
            host
        };
        let socket = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot listen on {listener}: {e}"))?;
        let addr = socket.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, scheme, "REST API listening");
        bound.push(addr);
        let app = console::with_console(
            NormalizePathLayer::trim_trailing_slash().layer(router(herder.clone())?),
        );
        let service = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
        if scheme == "https" {
            let tls = config
                .rest_tls
                .clone()
                .ok_or_else(|| format!("cannot listen on {listener}: no TLS settings were read"))?;
            let socket = socket
                .into_std()
                .map_err(|e| format!("cannot listen on {listener}: {e}"))?;
            let server = axum_server::from_tcp_rustls(
                socket,
                axum_server::tls_rustls::RustlsConfig::from_config(tls),
            )
            .map_err(|e| format!("cannot listen on {listener}: {e}"))?;
            tokio::spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!("REST server stopped: {e}");
                }
            });
        } else {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(socket, service).await {
                    tracing::error!("REST server stopped: {e}");
                }
            });
        }
    }
    Ok(bound)
}

/// The router for `herder`, with authentication when configured.
pub fn router(herder: Arc<dyn Herder>) -> Result<Router, String> {
    let auth = auth::Auth::from_config(herder.worker().config())?;
    let limit = uploads::upload_limit(herder.worker());
    let router = routes::routes(limit)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(herder.clone())
        .layer(axum::middleware::from_fn_with_state(
            herder,
            forwarding::follow_redirects,
        ));
    Ok(match auth {
        Some(auth) => router.layer(axum::middleware::from_fn_with_state(
            Arc::new(auth),
            auth::require,
        )),
        None => router,
    })
}
