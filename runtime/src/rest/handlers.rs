//! One handler per endpoint. Status codes, bodies and messages follow
//! Kafka Connect 3.9 (spec §2); where the spec marks behaviour as inferred,
//! the choice is noted beside the code.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::entities::{config_json, connector_info, connector_state, state};
use super::error::ApiError;
use super::{OPENAPI, configinfo};
use crate::config::Config;
use crate::config::TargetState;
use crate::config::worker::lookup;
use crate::convert::{CONVERTER_CLASSES, parse_bool};
use crate::distributed::session_key::Signature;
use crate::herder::{Herder, StatusReport};
use crate::logs::LogError;
use crate::plugin::World;
use crate::worker::offsets::OffsetEntry;

pub(crate) type W = State<Arc<dyn Herder>>;
type Body = Result<Json<Value>, JsonRejection>;
pub(crate) type Reply = Result<Response, ApiError>;

/// The Kafka version this API is compatible with.
const KAFKA_VERSION: &str = "3.9.0";

fn ok(value: Value) -> Reply {
    Ok(Json(value).into_response())
}

fn empty(status: StatusCode) -> Reply {
    Ok(status.into_response())
}

/// Query parameters as (key, value) pairs, repeated keys kept.
fn query(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let decode = |s: &str| {
                        percent_encoding::percent_decode_str(&s.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A Java-style boolean query parameter: case-insensitive `true`, else false.
fn flag(q: &[(String, String)], key: &str, default: bool) -> bool {
    lookup(q, key).map_or(default, |v| parse_bool(v) == Some(true))
}

/// A JSON config map; numbers and booleans become their text, JSON nulls
/// are returned apart. Anything else is Jackson's 500.
fn config_map(v: &Value) -> Result<(Config, Vec<String>), ApiError> {
    let Value::Object(map) = v else {
        return Err(ApiError::new(
            500,
            "Cannot deserialize value of type `java.util.HashMap<java.lang.String,java.lang.String>` from a non-object",
        ));
    };
    let mut config = Vec::new();
    let mut nulls = Vec::new();
    for (k, v) in map {
        match v {
            Value::String(s) => config.push((k.clone(), s.clone())),
            Value::Number(n) => config.push((k.clone(), n.to_string())),
            Value::Bool(b) => config.push((k.clone(), b.to_string())),
            Value::Null => nulls.push(k.clone()),
            _ => {
                return Err(ApiError::new(
                    500,
                    format!(
                        "Cannot deserialize value of type `java.lang.String` from {} for key {k}",
                        if v.is_array() { "Array" } else { "Object" }
                    ),
                ));
            }
        }
    }
    Ok((config, nulls))
}

fn body(b: Body) -> Result<Value, ApiError> {
    b.map(|Json(v)| v).map_err(ApiError::from)
}

pub(crate) fn location(name: &str) -> HeaderValue {
    let encoded = crate::herder::peer::segment(name);
    HeaderValue::from_str(&format!("/connectors/{encoded}"))
        .unwrap_or(HeaderValue::from_static("/connectors"))
}

fn created(name: &str, value: Value) -> Reply {
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location(name))],
        Json(value),
    )
        .into_response())
}

/// `config` with `name` added, or Kafka's 400 when it names another connector.
fn with_name(mut config: Config, name: &str) -> Result<Config, ApiError> {
    match lookup(&config, "name") {
        Some(n) if n != name => Err(ApiError::new(
            400,
            format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
            ),
        )),
        Some(_) => Ok(config),
        None => {
            config.push(("name".into(), name.to_string()));
            Ok(config)
        }
    }
}

fn null_problem(nulls: &[String]) -> Result<(), ApiError> {
    if nulls.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = nulls
        .iter()
        .map(|_| "Null value can not be supplied as the configuration value.".to_string())
        .collect();
    Err(ApiError::new(
        400,
        format!(
            "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
            errors.len(),
            errors.join("\n")
        ),
    ))
}

// ---- server ----------------------------------------------------------------

pub async fn server_info(State(w): W) -> Reply {
    ok(json!({
        "version": KAFKA_VERSION,
        "commit": concat!("wasmconnect-", env!("CARGO_PKG_VERSION")),
        "kafka_cluster_id": w.worker().kafka().cluster_id(),
    }))
}

pub async fn health(State(w): W) -> Reply {
    if !w.is_ready() {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting", "message": "Worker is still starting up."})),
        )
            .into_response());
    }
    ok(
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
    )
}

pub async fn openapi() -> Reply {
    Ok(([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response())
}

/// `GET /metrics`: this worker's connectors and tasks for Prometheus (see
/// [`crate::metrics`]). Served locally on every worker, never forwarded:
/// each worker reports what runs on it.
pub async fn metrics(State(w): W) -> Reply {
    let worker = w.worker();
    let text = worker.metrics().render(worker.status());
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

// ---- plugins ---------------------------------------------------------------

pub async fn list_plugins(State(w): W, RawQuery(raw): RawQuery) -> Reply {
    let connectors_only = flag(&query(&raw), "connectorsOnly", true);
    let mut out = Vec::new();
    for kind in [World::Sink, World::Source, World::Transform] {
        if connectors_only && kind == World::Transform {
            continue;
        }
        for p in w
            .worker()
            .registry()
            .plugins()
            .iter()
            .filter(|p| p.info().world == kind)
        {
            out.push(
                json!({"class": p.info().name, "type": kind.as_str(), "version": p.info().version}),
            );
        }
    }
    if !connectors_only {
        for class in CONVERTER_CLASSES {
            out.push(
                json!({"class": class, "type": "converter", "version": crate::worker::validation::CONVERTER_VERSION}),
            );
        }
        // Kafka's predicates, built into the worker.
        for class in crate::worker::predicates::PredicateClass::ALL {
            out.push(
                json!({"class": class.class_name(), "type": "predicate", "version": crate::worker::predicates::VERSION}),
            );
        }
    }
    ok(Value::Array(out))
}

/// Configuration keys of the built-in converters.
fn converter_config(class: &str) -> Option<Value> {
    let key = |name: &str, ty: &str, default: &str, doc: &str| {
        json!({"name": name, "type": ty, "required": false, "default_value": default, "importance": "LOW",
               "documentation": doc, "group": null, "width": "NONE", "display_name": name, "dependents": [], "order_in_group": -1})
    };
    let simple = class.rsplit('.').next().unwrap_or(class);
    match simple.strip_suffix("Converter").unwrap_or(simple) {
        "Json" => Some(json!([
            key(
                "schemas.enable",
                "BOOLEAN",
                "true",
                "Include schemas within each of the serialized values and keys."
            ),
            key(
                "schemas.cache.size",
                "INT",
                "1000",
                "The maximum number of schemas that can be cached in this converter instance."
            ),
            key(
                "decimal.format",
                "STRING",
                "BASE64",
                "Controls which format this converter will serialize decimals in."
            ),
            key(
                "replace.null.with.default",
                "BOOLEAN",
                "true",
                "Whether to replace fields that have a default value and that are null to the default value."
            ),
        ])),
        "String" => Some(json!([key(
            "converter.encoding",
            "STRING",
            "UTF8",
            "The name of the Java character set to use for encoding strings as byte arrays."
        )])),
        "ByteArray" => Some(json!([])),
        _ => None,
    }
}

pub async fn plugin_config(State(w): W, Path(plugin): Path<String>) -> Reply {
    if let Some(p) = w.worker().registry().find(&plugin) {
        return ok(configinfo::plugin_config(&p));
    }
    if let Some(class) = crate::worker::predicates::PredicateClass::find(&plugin) {
        return ok(configinfo::predicate_config(class));
    }
    match converter_config(&plugin) {
        Some(v) => ok(v),
        None => Err(ApiError::new(404, format!("Unknown plugin {plugin}."))),
    }
}

/// `x` without a trailing `Connector` (when longer than that).
fn norm(x: &str) -> &str {
    match x.strip_suffix("Connector") {
        Some(s) if !s.is_empty() => s,
        _ => x,
    }
}

pub async fn validate(State(w): W, Path(plugin): Path<String>, b: Body) -> Reply {
    let (config, nulls) = config_map(&body(b)?)?;
    let Some(class) = lookup(&config, "connector.class").map(str::to_string) else {
        return Err(ApiError::new(
            500,
            format!(
                "Connector config {} contains no connector type",
                config_json(&config)
            ),
        ));
    };
    if !norm(&class).ends_with(norm(&plugin)) {
        return Err(ApiError::new(
            400,
            format!("Included connector type {class} does not match request type {plugin}"),
        ));
    }
    let registry = w.worker().registry();
    let p = registry
        .connector(&class)
        .map_err(|e| ApiError::new(500, e))?;
    let mut chain = crate::worker::transforms::check(&registry, &config)
        .await
        .map_err(|e| ApiError::new(500, e))?;
    // Client overrides the worker's policy refuses, under their full keys.
    chain
        .1
        .extend(w.worker().config().overrides.problems(&config));
    if p.info().world == crate::plugin::World::Source {
        chain.1.extend(crate::worker::exactly_once::problems(
            &config,
            w.worker().config().exactly_once_source,
        ));
    }
    let infos = configinfo::config_infos(&p, &class, &config, &nulls, &chain)
        .await
        .map_err(|e| ApiError::new(500, e))?;
    ok(infos)
}

// ---- connectors --------------------------------------------------------------

pub async fn list_connectors(State(w): W, RawQuery(raw): RawQuery) -> Reply {
    let names = w.connector_names().await;
    let expand: Vec<String> = query(&raw)
        .into_iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v)
        .collect();
    if expand.is_empty() {
        return ok(json!(names));
    }
    let mut out = Map::new();
    for name in names {
        let mut entry = Map::new();
        for e in &expand {
            match e.as_str() {
                "status" => match w.connector_status(&name).await {
                    Ok(StatusReport {
                        status: s,
                        kind,
                        version,
                    }) => {
                        entry.insert(
                            "status".into(),
                            connector_state(
                                &name,
                                &s,
                                kind,
                                Some(&version),
                                w.worker().worker_id(),
                            ),
                        );
                    }
                    // Deleted meanwhile, or no status yet: left out, as Kafka does.
                    Err(_) => continue,
                },
                "info" => {
                    entry.insert(
                        "info".into(),
                        w.connector_info(&name)
                            .await
                            .map(|i| connector_info(&i))
                            .unwrap_or(Value::Null),
                    );
                }
                _ => {}
            }
        }
        out.insert(name, Value::Object(entry));
    }
    ok(Value::Object(out))
}

pub async fn create_connector(State(w): W, b: Body) -> Reply {
    let v = body(b)?;
    let Value::Object(req) = &v else {
        return Err(ApiError::new(
            500,
            "Cannot deserialize CreateConnectorRequest from a non-object",
        ));
    };
    if let Some(k) = req
        .keys()
        .find(|k| !["name", "config", "initial_state"].contains(&k.as_str()))
    {
        return Err(ApiError::new(
            500,
            format!(
                "Unrecognized field \"{k}\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: \"config\", \"name\", \"initial_state\")"
            ),
        ));
    }
    let name = req
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let initial = match req.get("initial_state") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(TargetState::from_initial_state(s).ok_or_else(|| {
            ApiError::new(500, format!("Cannot deserialize value of type `CreateConnectorRequest$InitialState` from String \"{s}\": not one of the values accepted for Enum class: [RUNNING, PAUSED, STOPPED]"))
        })?),
        Some(other) => return Err(ApiError::new(500, format!("Cannot deserialize initial_state from {other}"))),
    };
    let (config, nulls) = config_map(req.get("config").unwrap_or(&Value::Null))?;
    let config = with_name(config, &name)?;
    null_problem(&nulls)?;
    let info = w.create_connector(config, initial).await?;
    created(&name, connector_info(&info))
}

pub async fn get_connector(State(w): W, Path(name): Path<String>) -> Reply {
    ok(connector_info(&w.connector_info(&name).await?))
}

pub async fn delete_connector(State(w): W, Path(name): Path<String>) -> Reply {
    w.delete_connector(&name).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn get_config(State(w): W, Path(name): Path<String>) -> Reply {
    ok(config_json(&w.connector_info(&name).await?.config))
}

pub async fn put_config(State(w): W, Path(name): Path<String>, b: Body) -> Reply {
    let (config, nulls) = config_map(&body(b)?)?;
    let config = with_name(config, &name)?;
    null_problem(&nulls)?;
    let (was_created, info) = w.put_connector_config(&name, config).await?;
    if was_created {
        created(&name, connector_info(&info))
    } else {
        ok(connector_info(&info))
    }
}

pub async fn patch_config(State(w): W, Path(name): Path<String>, b: Body) -> Reply {
    // The same coercion as any config body; JSON nulls remove keys.
    let (set, removed) = config_map(&body(b)?)?;
    let mut config = w.connector_info(&name).await?.config;
    config.retain(|(k, _)| !removed.contains(k) && !set.iter().any(|(sk, _)| sk == k));
    config.extend(set);
    let (_, info) = w.put_connector_config(&name, config).await?;
    ok(connector_info(&info))
}

pub async fn connector_status(State(w): W, Path(name): Path<String>) -> Reply {
    let StatusReport {
        status: s,
        kind,
        version,
    } = w.connector_status(&name).await?;
    ok(connector_state(
        &name,
        &s,
        kind,
        Some(&version),
        w.worker().worker_id(),
    ))
}

pub async fn pause(State(w): W, Path(name): Path<String>) -> Reply {
    w.set_target(&name, TargetState::Paused).await?;
    empty(StatusCode::ACCEPTED)
}

pub async fn resume(State(w): W, Path(name): Path<String>) -> Reply {
    w.set_target(&name, TargetState::Started).await?;
    empty(StatusCode::ACCEPTED)
}

pub async fn stop(State(w): W, Path(name): Path<String>) -> Reply {
    w.set_target(&name, TargetState::Stopped).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn restart(State(w): W, Path(name): Path<String>, RawQuery(raw): RawQuery) -> Reply {
    let q = query(&raw);
    let (include_tasks, only_failed) = (
        flag(&q, "includeTasks", false),
        flag(&q, "onlyFailed", false),
    );
    let plan = w.restart(&name, include_tasks, only_failed).await?;
    if !include_tasks && !only_failed {
        return empty(StatusCode::NO_CONTENT);
    }
    let StatusReport { kind, version, .. } = w.connector_status(&name).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(connector_state(
            &name,
            &plan,
            kind,
            Some(&version),
            w.worker().worker_id(),
        )),
    )
        .into_response())
}

pub async fn tasks(State(w): W, Path(name): Path<String>) -> Reply {
    let configs = w.task_configs(&name).await?;
    let out: Vec<Value> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"id": {"connector": name, "task": i}, "config": config_json(c)}))
        .collect();
    ok(Value::Array(out))
}

/// Internal (worker to worker): a connector's new task configurations,
/// accepted by the leader (spec §1.6).
/// The internal request a follower sends the leader: read as raw bytes,
/// since its signature (see `distributed::session_key`) covers them.
pub async fn put_tasks(
    State(w): W,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Reply {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err(ApiError::new(415, "HTTP 415 Unsupported Media Type"));
    }
    // Worded as every other body that is not JSON (axum's rejection).
    let parsed: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            500,
            format!("Failed to parse the request body as JSON: {e}"),
        )
    })?;
    let signature = Signature::from_headers(|n| headers.get(n)?.to_str().ok());
    let Value::Array(items) = parsed else {
        return Err(ApiError::new(
            500,
            "Cannot deserialize value of type `java.util.ArrayList<java.util.HashMap>` from a non-array",
        ));
    };
    let mut configs = Vec::with_capacity(items.len());
    for item in &items {
        let (config, nulls) = config_map(item)?;
        null_problem(&nulls)?;
        configs.push(config);
    }
    w.put_task_configs(&name, configs, signature.as_ref(), &bytes)
        .await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn tasks_config(State(w): W, Path(name): Path<String>) -> Reply {
    tracing::warn!(
        "the tasks-config endpoint is deprecated (KIP-970); use GET /connectors/{{name}}/tasks"
    );
    let configs = w.task_configs(&name).await?;
    if configs.is_empty() {
        return Err(ApiError::new(404, format!("Connector {name} not found")));
    }
    let mut out = Map::new();
    for (i, c) in configs.iter().enumerate() {
        out.insert(format!("{name}-{i}"), config_json(c));
    }
    ok(Value::Object(out))
}

/// A task number path segment; anything else is a 404, as in JAX-RS.
fn task_id(raw: &str) -> Result<u32, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(404, "HTTP 404 Not Found"))
}

pub async fn task_status(State(w): W, Path((name, task)): Path<(String, String)>) -> Reply {
    let task = task_id(&task)?;
    let missing = || ApiError::new(404, format!("No status found for task {name}-{task}"));
    let StatusReport {
        status: s, version, ..
    } = w.connector_status(&name).await.map_err(|_| missing())?;
    let t = s.tasks.get(&task).ok_or_else(missing)?;
    ok(state(
        t,
        Some(task),
        w.worker().worker_id(),
        Some(&version),
        Some(&s),
    ))
}

pub async fn restart_task(State(w): W, Path((name, task)): Path<(String, String)>) -> Reply {
    let task = task_id(&task)?;
    w.restart_task(&name, task).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn topics(State(w): W, Path(name): Path<String>) -> Reply {
    ok(json!({ name.clone(): {"topics": w.worker().status().topics(&name)} }))
}

pub async fn reset_topics(State(w): W, Path(name): Path<String>) -> Reply {
    w.worker().status().reset_topics(&name);
    empty(StatusCode::ACCEPTED)
}

// ---- offsets ---------------------------------------------------------------

pub async fn get_offsets(State(w): W, Path(name): Path<String>) -> Reply {
    let entries = w.get_offsets(&name).await?;
    ok(
        json!({"offsets": entries.iter().map(|e| json!({"partition": e.partition, "offset": e.offset})).collect::<Vec<_>>()}),
    )
}

pub async fn alter_offsets(State(w): W, Path(name): Path<String>, b: Body) -> Reply {
    let v = body(b)?;
    let Value::Object(req) = &v else {
        return Err(ApiError::new(
            500,
            "Cannot deserialize ConnectorOffsets from a non-object",
        ));
    };
    if let Some(k) = req.keys().find(|k| *k != "offsets") {
        return Err(ApiError::new(
            500,
            format!(
                "Unrecognized field \"{k}\" (class org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets), not marked as ignorable"
            ),
        ));
    }
    let entries = match req.get("offsets") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| {
                    let Value::Object(o) = item else { return Err(ApiError::new(500, "Cannot deserialize ConnectorOffset from a non-object")) };
                    if let Some(k) = o.keys().find(|k| *k != "partition" && *k != "offset") {
                        return Err(ApiError::new(500, format!("Unrecognized field \"{k}\" (class org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset), not marked as ignorable")));
                    }
                    Ok(OffsetEntry {
                        partition: o.get("partition").cloned().unwrap_or(Value::Null),
                        offset: o.get("offset").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(ApiError::new(500, "Cannot deserialize offsets from a non-array")),
    };
    ok(json!({"message": w.alter_offsets(&name, entries).await?}))
}

pub async fn reset_offsets(State(w): W, Path(name): Path<String>) -> Reply {
    ok(json!({"message": w.reset_offsets(&name).await?}))
}

// ---- loggers ---------------------------------------------------------------

fn log_control() -> Result<&'static crate::logs::LogControl, ApiError> {
    crate::logs::control()
        .ok_or_else(|| ApiError::new(500, "log levels cannot be changed in this process"))
}

pub async fn loggers() -> Reply {
    let mut out = Map::new();
    for (name, l) in log_control()?.all() {
        out.insert(
            name,
            json!({"level": l.level, "last_modified": l.last_modified}),
        );
    }
    ok(Value::Object(out))
}

pub async fn get_logger(Path(logger): Path<String>) -> Reply {
    let control = log_control()?;
    let known = logger.eq_ignore_ascii_case("root") || control.all().contains_key(&logger);
    if !known {
        return Err(ApiError::new(404, format!("Logger {logger} not found.")));
    }
    let l = control.get(&logger);
    ok(json!({"level": l.level, "last_modified": l.last_modified}))
}

pub async fn set_logger(Path(logger): Path<String>, RawQuery(raw): RawQuery, b: Body) -> Reply {
    let v = body(b)?;
    let Some(level) = v.get("level").and_then(Value::as_str) else {
        return Err(ApiError::new(
            400,
            "Desired 'level' parameter was not specified in request.",
        ));
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let affected = log_control()?
        .set(&logger, level, now)
        .map_err(|e| match e {
            LogError::Level(m) => ApiError::new(404, m),
            LogError::Name(m) => ApiError::new(400, m),
            LogError::Internal(m) => ApiError::new(500, m),
        })?;
    let scope = lookup(&query(&raw), "scope")
        .unwrap_or("worker")
        .to_ascii_lowercase();
    if scope == "cluster" {
        // Standalone: the cluster is this worker; Kafka answers 204.
        return empty(StatusCode::NO_CONTENT);
    }
    ok(json!(affected))
}
