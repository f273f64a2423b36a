//! The JSON shapes of the REST API (spec §3), field for field.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::herder::ConnectorInfo;
use crate::sandbox::limits::Usage;
use crate::worker::errors::ErrorCounts;
use crate::worker::status::{ConnectorStatus, Status};

/// A config map as JSON (values are strings).
pub fn config_json(config: &Config) -> Value {
    let mut m = Map::new();
    for (k, v) in config {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// `ConnectorInfo`.
pub fn connector_info(info: &ConnectorInfo) -> Value {
    serde_json::json!({
        "name": info.name,
        "config": config_json(&info.config),
        "tasks": info.tasks.iter().map(|t| serde_json::json!({"connector": info.name, "task": t})).collect::<Vec<_>>(),
        "type": info.kind,
    })
}

#[derive(Serialize)]
struct StateJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    state: &'a str,
    worker_id: &'a str,
    /// The plugin version running (KIP-891); Kafka clients ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<&'a str>,
    /// Resources the task used; an extra field Kafka clients ignore.
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Value>,
    /// Kafka's task error metrics, once the task met a record error.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Value>,
}

/// A task's resource usage as JSON.
fn usage_json(u: &Usage) -> Value {
    serde_json::json!({
        "memory_bytes": u.memory_bytes,
        "peak_memory_bytes": u.peak_memory_bytes,
        "guest_time_ms": u.guest_time.as_millis() as u64,
        "calls": u.calls,
        "faults": u.faults,
        "log_lines_dropped": u.log_lines_dropped,
        "http_requests": u.http_requests,
        "http_bytes_sent": u.http_bytes_sent,
        "http_bytes_received": u.http_bytes_received,
    })
}

/// A task's error counts as JSON, under Kafka's metric names.
fn errors_json(e: &ErrorCounts) -> Value {
    serde_json::json!({
        "total-record-errors": e.record_errors,
        "total-records-skipped": e.records_skipped,
        "total-errors-logged": e.errors_logged,
        "deadletterqueue-produce-requests": e.dlq_produce_requests,
        "deadletterqueue-produce-failures": e.dlq_produce_failures,
    })
}

/// One state object; `trace` only when there is one. A task's (`id` set)
/// carries its usage and error counts from `of`.
pub fn state(
    status: &Status,
    id: Option<u32>,
    worker_id: &str,
    version: Option<&str>,
    of: Option<&ConnectorStatus>,
) -> Value {
    let task =
        |map: fn(&ConnectorStatus, u32) -> Option<Value>| of.zip(id).and_then(|(c, id)| map(c, id));
    serde_json::to_value(StateJson {
        id,
        state: status.state.as_str(),
        worker_id: status.worker.as_deref().unwrap_or(worker_id),
        version,
        trace: status.trace.as_deref().filter(|t| !t.is_empty()),
        resources: task(|c, id| c.usage.get(&id).map(usage_json)),
        errors: task(|c, id| c.errors.get(&id).map(errors_json)),
    })
    .unwrap_or(Value::Null)
}

/// `ConnectorStateInfo`.
pub fn connector_state(
    name: &str,
    status: &ConnectorStatus,
    kind: &str,
    version: Option<&str>,
    worker_id: &str,
) -> Value {
    serde_json::json!({
        "name": name,
        "connector": state(&status.connector, None, worker_id, version, None),
        "tasks": status.tasks.iter().map(|(id, s)| state(s, Some(*id), worker_id, version, Some(status))).collect::<Vec<_>>(),
        "type": kind,
    })
}
