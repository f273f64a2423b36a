//! The route table: every path and method the API serves.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, put};

use super::handlers as h;
use super::uploads as u;
use crate::herder::Herder;

/// `(method, path)` of every endpoint, in the order of the spec. The
/// OpenAPI document must list exactly these (a test checks it).
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/connector-plugins"),
    ("GET", "/connector-plugins/{plugin}/config"),
    ("PUT", "/connector-plugins/{plugin}/config/validate"),
    ("GET", "/connectors"),
    ("POST", "/connectors"),
    ("GET", "/connectors/{name}"),
    ("DELETE", "/connectors/{name}"),
    ("GET", "/connectors/{name}/config"),
    ("PUT", "/connectors/{name}/config"),
    ("PATCH", "/connectors/{name}/config"),
    ("GET", "/connectors/{name}/status"),
    ("PUT", "/connectors/{name}/pause"),
    ("PUT", "/connectors/{name}/resume"),
    ("PUT", "/connectors/{name}/stop"),
    ("POST", "/connectors/{name}/restart"),
    ("GET", "/connectors/{name}/tasks"),
    ("POST", "/connectors/{name}/tasks"),
    ("GET", "/connectors/{name}/tasks-config"),
    ("GET", "/connectors/{name}/tasks/{task}/status"),
    ("POST", "/connectors/{name}/tasks/{task}/restart"),
    ("GET", "/connectors/{name}/topics"),
    ("PUT", "/connectors/{name}/topics/reset"),
    ("GET", "/connectors/{name}/offsets"),
    ("PATCH", "/connectors/{name}/offsets"),
    ("DELETE", "/connectors/{name}/offsets"),
    ("GET", "/admin/loggers"),
    ("GET", "/admin/loggers/{logger}"),
    ("PUT", "/admin/loggers/{logger}"),
    ("POST", "/wasmconnect/plugins"),
    ("GET", "/wasmconnect/plugins"),
    ("GET", "/wasmconnect/plugins/{plugin}"),
    ("GET", "/wasmconnect/plugins/{plugin}/{version}"),
    ("DELETE", "/wasmconnect/plugins/{plugin}/{version}"),
];

/// The routes of [`ENDPOINTS`] with their handlers; uploads may carry up
/// to `max_upload` bytes.
pub fn routes(max_upload: usize) -> Router<Arc<dyn Herder>> {
    Router::new()
        .route(
            "/wasmconnect/plugins",
            // The handler enforces the limit itself (see uploads::read_limited).
            axum::routing::post(u::upload).get(u::list).layer(
                axum::extract::DefaultBodyLimit::max(max_upload.saturating_mul(4)),
            ),
        )
        .route("/wasmconnect/plugins/{plugin}", get(u::versions))
        .route(
            "/wasmconnect/plugins/{plugin}/{version}",
            get(u::version).delete(u::delete),
        )
        .route("/", get(h::server_info))
        .route("/health", get(h::health))
        .route("/openapi.json", get(h::openapi))
        .route("/metrics", get(h::metrics))
        .route("/connector-plugins", get(h::list_plugins))
        .route("/connector-plugins/{plugin}/config", get(h::plugin_config))
        .route(
            "/connector-plugins/{plugin}/config/validate",
            put(h::validate),
        )
        .route(
            "/connectors",
            get(h::list_connectors).post(h::create_connector),
        )
        .route(
            "/connectors/{name}",
            get(h::get_connector).delete(h::delete_connector),
        )
        .route(
            "/connectors/{name}/config",
            get(h::get_config).put(h::put_config).patch(h::patch_config),
        )
        .route("/connectors/{name}/status", get(h::connector_status))
        .route("/connectors/{name}/pause", put(h::pause))
        .route("/connectors/{name}/resume", put(h::resume))
        .route("/connectors/{name}/stop", put(h::stop))
        .route(
            "/connectors/{name}/restart",
            axum::routing::post(h::restart),
        )
        // POST is internal (followers send task configurations to the
        // leader, signed); the OpenAPI document says so.
        .route("/connectors/{name}/tasks", get(h::tasks).post(h::put_tasks))
        .route("/connectors/{name}/tasks-config", get(h::tasks_config))
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(h::task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            axum::routing::post(h::restart_task),
        )
        .route("/connectors/{name}/topics", get(h::topics))
        .route("/connectors/{name}/topics/reset", put(h::reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(h::get_offsets)
                .patch(h::alter_offsets)
                .delete(h::reset_offsets),
        )
        .route("/admin/loggers", get(h::loggers))
        .route(
            "/admin/loggers/{logger}",
            get(h::get_logger).put(h::set_logger),
        )
}
