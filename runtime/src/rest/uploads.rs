//! Plugin management endpoints, under `/wasmconnect/plugins` so they never
//! collide with Kafka Connect's own paths:
//!
//! * `POST /wasmconnect/plugins` with `Content-Type: application/wasm`: 201
//!   with class, type, version, sha256 and contract version (200 when those exact bytes are
//!   already installed); 400 with the reason for anything that is not a
//!   component of one of our worlds; 409 when that class and version exist
//!   with other bytes; 413 above `plugin.upload.max.bytes`; 415 for another
//!   media type.
//! * `GET /wasmconnect/plugins`: every version, with the connectors using it.
//! * `GET /wasmconnect/plugins/{plugin}` and `…/{plugin}/{version}`.
//! * `DELETE /wasmconnect/plugins/{plugin}/{version}`: 204; 409 while in use.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use futures::StreamExt;
use serde_json::{Value, json};

use super::configinfo::plugin_config;
use super::error::ApiError;
use super::handlers::{Reply, W};
use crate::herder::Herder;
use crate::plugin::PluginInfo;
use crate::worker::Worker;
use crate::worker::plugins::PluginVersion;

/// Default upload limit: 64 MiB.
pub const DEFAULT_MAX_UPLOAD: usize = 64 << 20;

fn describe(info: &PluginInfo) -> Value {
    json!({
        "class": info.name, "type": info.world.as_str(), "version": info.version,
        "sha256": info.sha256, "aliases": info.aliases, "description": info.description,
        "contract": info.contract.as_str(),
    })
}

fn describe_version(v: &PluginVersion) -> Value {
    let mut out = describe(&v.info);
    out["used_by"] = json!(v.used_by);
    out["uploaded"] = json!(v.uploaded);
    out
}

pub async fn upload(State(w): W, headers: HeaderMap, body: Body) -> Reply {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !media.trim().eq_ignore_ascii_case("application/wasm") {
        return Err(ApiError::new(
            415,
            "plugins are uploaded with Content-Type: application/wasm",
        ));
    }
    let limit = upload_limit(w.worker());
    let bytes = read_limited(body, limit).await.map_err(|too_big| {
        if too_big {
            ApiError::new(
                413,
                format!("the plugin is larger than plugin.upload.max.bytes ({limit} bytes)"),
            )
        } else {
            ApiError::new(400, "the upload was cut off")
        }
    })?;
    let (info, created) = w.upload_plugin(&bytes).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(describe(&info))).into_response())
}

/// Reads at most `limit` bytes. Past the limit the rest is read and
/// dropped (up to four times the limit), so the client gets the 413 rather
/// than a connection reset mid-upload. `Err(true)`: too big.
async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, bool> {
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| false)?;
        seen += chunk.len();
        if seen > limit.saturating_mul(4) {
            return Err(true);
        }
        if seen <= limit {
            out.extend_from_slice(&chunk);
        }
    }
    if seen > limit { Err(true) } else { Ok(out) }
}

/// The worker's upload limit in bytes.
pub fn upload_limit(w: &Worker) -> usize {
    w.config()
        .get("plugin.upload.max.bytes")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_UPLOAD)
}

pub async fn list(State(w): W) -> Reply {
    Ok(Json(Value::Array(
        w.plugin_versions()
            .await
            .iter()
            .map(describe_version)
            .collect(),
    ))
    .into_response())
}

async fn versions_of(w: &dyn Herder, plugin: &str) -> Result<Vec<PluginVersion>, ApiError> {
    let Some(newest) = w.worker().registry().find(plugin) else {
        return Err(ApiError::new(404, format!("Unknown plugin {plugin}.")));
    };
    let class = newest.info().name.clone();
    Ok(w.plugin_versions()
        .await
        .into_iter()
        .filter(|v| v.info.name == class)
        .collect())
}

pub async fn versions(State(w): W, Path(plugin): Path<String>) -> Reply {
    let all = versions_of(w.as_ref(), &plugin).await?;
    Ok(Json(Value::Array(all.iter().map(describe_version).collect())).into_response())
}

pub async fn version(State(w): W, Path((plugin, version)): Path<(String, String)>) -> Reply {
    let all = versions_of(w.as_ref(), &plugin).await?;
    let v = all
        .iter()
        .find(|v| v.info.version == version)
        .ok_or_else(|| ApiError::new(404, format!("Unknown plugin {plugin} version {version}")))?;
    let p = w
        .worker()
        .registry()
        .versions(&plugin)
        .into_iter()
        .find(|p| p.info().version == version)
        .ok_or_else(|| ApiError::new(404, format!("Unknown plugin {plugin} version {version}")))?;
    let mut out = describe_version(v);
    out["config"] = plugin_config(&p);
    Ok(Json(out).into_response())
}

pub async fn delete(State(w): W, Path((plugin, version)): Path<(String, String)>) -> Reply {
    w.delete_plugin_version(&plugin, &version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
