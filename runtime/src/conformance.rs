//! The conformance kit behind `wasmconnect plugin test FILE.wasm`.
//!
//! Runs one component through the whole contract, as a worker would, and
//! reports every check as passed (with what it saw) or failed (with why):
//! metadata, configuration definition, validation of the given and of an
//! empty configuration, the connector role (start, task configurations
//! within `max-tasks`, stop), then the task role of its world. For a
//! source: start, a few polls whose records must carry JSON-object source
//! partitions and offsets, commit, stop. For a sink: start, open, put of
//! generated records, a pre-commit that may only return offsets it was
//! given, close, stop. For a transform: configure and apply. It needs no
//! broker: records are generated (or given with `--value`), offsets kept in
//! memory. What a source polled and what a transform made of each record
//! are kept as samples (`--show` prints them).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bindings::record_transform::Outcome;
use crate::bindings::types::{
    Header, JsonPayload, PartitionOffset, Payload, SinkRecord, TimestampType, TopicPartition,
};
use crate::bindings::types::{SourceRecord, TransformRecord};
use crate::config::worker::lookup;
use crate::host::offsets::{MemoryOffsets, canonical_object};
use crate::instance::{
    ConnectorInstance, InstanceSpec, SinkTaskInstance, SourceTaskInstance, TransformInstance,
};
use crate::plugin::{Plugin, World};
use crate::sandbox::{Limits, Sandbox};
use crate::worker::validation;

/// `max-tasks` asked of the connector role.
pub const MAX_TASKS: u32 = 3;
/// Polls made of a source task (fewer if it returns records sooner).
const POLLS: usize = 3;
/// Records handed to a sink's `put` and a transform's `apply`, unless
/// values are given.
const RECORDS: i64 = 10;
/// Records or outcomes kept as samples.
const SAMPLES: usize = 5;
/// The topic generated records come from.
const TOPIC: &str = "conformance";
/// The deadline of every call: a conformant plugin answers well within it.
const CALL_DEADLINE: Duration = Duration::from_secs(10);

/// One check and its outcome: `Ok` with what was seen, `Err` with why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// The outcome.
    pub outcome: Result<String, String>,
}

/// Every check, in the order they ran.
#[derive(Debug, Default)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
    /// The first records a source polled, or what a transform made of the
    /// first records, one line each.
    pub samples: Vec<String>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome.is_ok())
    }

    /// Records a check; returns whether it passed, so callers can stop
    /// when later checks depend on it.
    fn check(&mut self, name: &str, outcome: Result<String, String>) -> bool {
        let ok = outcome.is_ok();
        self.checks.push(Check {
            name: name.to_string(),
            outcome,
        });
        ok
    }

    /// Records the creation and start of an instance as one check named
    /// `name`; returns the instance when both succeeded.
    fn started<T>(
        &mut self,
        name: &str,
        what: &str,
        instance: Result<T, crate::GuestError>,
    ) -> Option<T> {
        match instance {
            Ok(t) => {
                self.check(name, Ok(what.to_string()));
                Some(t)
            }
            Err(e) => {
                self.check(name, Err(e.to_string()));
                None
            }
        }
    }

    /// The report as text: one line per check, then a summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            match &c.outcome {
                Ok(detail) => out.push_str(&format!("PASS {}: {detail}\n", c.name)),
                Err(reason) => out.push_str(&format!("FAIL {}: {reason}\n", c.name)),
            }
        }
        let failed = self.checks.iter().filter(|c| c.outcome.is_err()).count();
        out.push_str(&format!(
            "{} checks, {} passed, {failed} failed\n",
            self.checks.len(),
            self.checks.len() - failed
        ));
        out
    }
}

/// Runs the component in `bytes` through the contract with `config` (the
/// connector configuration; `name` and, for sinks, `topics` are added when
/// missing). `values` become the values of the records a sink or transform
/// is given (see [`payload_of`]); when empty, ten text records are
/// generated.
pub async fn run(
    sandbox: &Sandbox,
    bytes: &[u8],
    config: Vec<(String, String)>,
    values: &[String],
) -> Report {
    let mut report = Report::default();
    let plugin = match Plugin::load(sandbox, bytes).await {
        Ok(p) => p,
        Err(e) => {
            report.check("load", Err(e.to_string()));
            return report;
        }
    };
    let info = plugin.info().clone();
    report.check(
        "load",
        Ok(format!(
            "a {} component, sha256 {}",
            info.world,
            &info.sha256[..12]
        )),
    );
    report.check("metadata", metadata(&plugin));
    report.check("config definition", definition(&plugin));
    let config = completed(config, info.world);
    report.check(
        "validate (given config)",
        validate_given(&plugin, &config).await,
    );
    report.check("validate (empty config)", validate_empty(&plugin).await);
    let values: Vec<Option<Payload>> = if values.is_empty() {
        (0..RECORDS).map(text).collect()
    } else {
        values.iter().map(|v| Some(payload_of(v))).collect()
    };
    match info.world {
        World::Source | World::Sink => {
            connector_and_tasks(&plugin, &config, &values, &mut report).await
        }
        World::Transform => transform(&plugin, &config, &values, &mut report).await,
    }
    report
}

/// A value given on the command line: JsonConverter's envelope (an object
/// of exactly `schema` and `payload`) becomes a JSON payload with that
/// schema, as JsonConverter with `schemas.enable=true` reads it; another
/// JSON object or array a schemaless JSON payload (`schemas.enable=false`);
/// anything else text.
pub fn payload_of(value: &str) -> Payload {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(mut envelope))
            if envelope.len() == 2
                && envelope.get("schema").is_some_and(|s| s.is_object())
                && envelope.contains_key("payload") =>
        {
            let take = |v: Option<serde_json::Value>| v.unwrap_or_default().to_string();
            Payload::Json(JsonPayload {
                schema: Some(take(envelope.remove("schema"))),
                document: take(envelope.remove("payload")),
            })
        }
        Ok(v) if v.is_object() || v.is_array() => Payload::Json(JsonPayload {
            document: value.to_string(),
            schema: None,
        }),
        _ => Payload::Text(value.to_string()),
    }
}

/// A payload in one line: text quoted, JSON as its document, bytes as
/// text when they are UTF-8.
fn show(payload: &Option<Payload>) -> String {
    match payload {
        None => "null".into(),
        Some(Payload::Text(t)) => format!("{t:?}"),
        Some(Payload::Json(j)) => match &j.schema {
            Some(schema) => format!("{} (schema {schema})", j.document),
            None => j.document.clone(),
        },
        Some(Payload::Binary(b)) => match std::str::from_utf8(b) {
            Ok(t) => format!("bytes {t:?}"),
            Err(_) => format!("{} bytes", b.len()),
        },
    }
}

fn show_headers(headers: &[Header]) -> String {
    if headers.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = headers
        .iter()
        .map(|h| match &h.value {
            Some(v) => format!("{}={}", h.key, String::from_utf8_lossy(v)),
            None => format!("{}=null", h.key),
        })
        .collect();
    format!(" headers [{}]", shown.join(", "))
}

/// A call's outcome as a check: `what` when it succeeded.
fn done(r: Result<(), crate::GuestError>, what: &str) -> Result<String, String> {
    r.map(|()| what.to_string()).map_err(|e| e.to_string())
}

fn completed(mut config: Vec<(String, String)>, world: World) -> Vec<(String, String)> {
    if lookup(&config, "name").is_none() {
        config.push(("name".into(), "conformance".into()));
    }
    if world == World::Sink
        && lookup(&config, "topics").is_none()
        && lookup(&config, "topics.regex").is_none()
    {
        config.push(("topics".into(), TOPIC.into()));
    }
    config
}

fn spec(config: &[(String, String)], task: Option<u32>) -> InstanceSpec {
    InstanceSpec {
        limits: Some(Limits {
            call_deadline: CALL_DEADLINE,
            ..Limits::default()
        }),
        offsets: Some(Arc::new(MemoryOffsets::default())),
        ..InstanceSpec::new("conformance", task, config.to_vec())
    }
}

fn metadata(plugin: &Plugin) -> Result<String, String> {
    let info = plugin.info();
    if info.name.trim().is_empty() {
        return Err("the plugin's name is empty".into());
    }
    if info.version.trim().is_empty() {
        return Err(format!("{} has an empty version", info.name));
    }
    Ok(format!(
        "{} {}, contract {} (aliases: {})",
        info.name,
        info.version,
        info.contract,
        if info.aliases.is_empty() {
            "none".to_string()
        } else {
            info.aliases.join(", ")
        }
    ))
}

fn definition(plugin: &Plugin) -> Result<String, String> {
    let keys = plugin.config_definition();
    let mut seen = BTreeSet::new();
    for key in keys {
        if key.name.trim().is_empty() {
            return Err("a key has an empty name".into());
        }
        if !seen.insert(key.name.as_str()) {
            return Err(format!("key {} is defined twice", key.name));
        }
        if let Some(default) = &key.default_value {
            let mut problems = validation::Problems::default();
            validation::check_key(key, &[(key.name.clone(), default.clone())], &mut problems);
            if !problems.is_empty() {
                return Err(format!(
                    "the default of {} does not fit its type: {}",
                    key.name,
                    problems.to_message()
                ));
            }
        }
    }
    let required = keys.iter().filter(|k| k.required).count();
    Ok(format!("{} keys, {required} required", keys.len()))
}

async fn validate_given(plugin: &Plugin, config: &[(String, String)]) -> Result<String, String> {
    let problems = validation::validate(plugin, config).await?;
    if problems.is_empty() {
        Ok("no errors".into())
    } else {
        Err(format!(
            "the given configuration does not validate: {}",
            problems.to_message()
        ))
    }
}

async fn validate_empty(plugin: &Plugin) -> Result<String, String> {
    let config = vec![("name".to_string(), "conformance".to_string())];
    let problems = validation::validate(plugin, &config).await?;
    let flagged: BTreeSet<&str> = problems.0.iter().map(|(k, _)| k.as_str()).collect();
    let missed: Vec<&str> = plugin
        .config_definition()
        .iter()
        .filter(|k| k.required && !flagged.contains(k.name.as_str()))
        .map(|k| k.name.as_str())
        .collect();
    if !missed.is_empty() {
        return Err(format!(
            "required keys missing from an empty configuration were not reported: {}",
            missed.join(", ")
        ));
    }
    Ok(format!("{} errors reported", problems.0.len()))
}

async fn connector_and_tasks(
    plugin: &Plugin,
    config: &[(String, String)],
    values: &[Option<Payload>],
    report: &mut Report,
) {
    let started = async {
        let mut c = ConnectorInstance::new(plugin, spec(config, None)).await?;
        c.start(config).await.map(|()| c)
    };
    let Some(mut connector) = report.started("connector start", "started", started.await) else {
        return;
    };
    let task_configs = match connector.task_configs(MAX_TASKS).await {
        Ok(t) if t.is_empty() => Err("returned no task configurations".to_string()),
        Ok(t) if t.len() > MAX_TASKS as usize => Err(format!(
            "returned {} task configurations for max-tasks {MAX_TASKS}",
            t.len()
        )),
        Ok(t) => Ok(t),
        Err(e) => Err(e.to_string()),
    };
    let detail = task_configs
        .as_ref()
        .map(|t| format!("{} for max-tasks {MAX_TASKS}", t.len()))
        .map_err(Clone::clone);
    let first = match (report.check("task-configs", detail), task_configs) {
        (true, Ok(t)) => t.into_iter().next(),
        _ => None,
    };
    if let Some(task_config) = first {
        match plugin.info().world {
            World::Source => source_task(plugin, &task_config, report).await,
            _ => sink_task(plugin, &task_config, values, report).await,
        }
    }
    report.check("connector stop", done(connector.stop().await, "stopped"));
}

async fn source_task(plugin: &Plugin, config: &[(String, String)], report: &mut Report) {
    let started = async {
        let mut t = SourceTaskInstance::new(plugin, spec(config, Some(0))).await?;
        t.start(config).await.map(|()| t)
    };
    let Some(mut task) = report.started("task start", "started", started.await) else {
        return;
    };
    let mut records = Vec::new();
    let started = Instant::now();
    let mut polls = 0;
    let polled = loop {
        if polls == POLLS || !records.is_empty() {
            break Ok(());
        }
        polls += 1;
        match task.poll().await {
            Ok(batch) => records.extend(batch),
            Err(e) => break Err(e.to_string()),
        }
    };
    let outcome = polled.and_then(|()| {
        check_source_records(&records)?;
        Ok(format!(
            "{} records in {polls} polls ({} ms)",
            records.len(),
            started.elapsed().as_millis()
        ))
    });
    report.check("poll", outcome);
    report.samples = records
        .iter()
        .take(SAMPLES)
        .map(|r| {
            format!(
                "record to {} key {} value {}{} partition {} offset {}",
                r.topic,
                show(&r.key),
                show(&r.value),
                show_headers(&r.headers),
                r.source_partition,
                r.source_offset
            )
        })
        .collect();
    report.check("commit", done(task.commit().await, "committed"));
    report.check("task stop", done(task.stop().await, "stopped"));
}

/// Every record needs a topic and JSON-object source partition and offset
/// (the host stores them and hands them back after a restart).
fn check_source_records(records: &[SourceRecord]) -> Result<(), String> {
    for (i, r) in records.iter().enumerate() {
        if r.topic.trim().is_empty() {
            return Err(format!("record {i} has no topic"));
        }
        canonical_object(&r.source_partition).map_err(|e| {
            format!(
                "record {i} has a source partition that is not a JSON object ({:?}): {e}",
                r.source_partition
            )
        })?;
        canonical_object(&r.source_offset).map_err(|e| {
            format!(
                "record {i} has a source offset that is not a JSON object ({:?}): {e}",
                r.source_offset
            )
        })?;
    }
    Ok(())
}

fn text(n: i64) -> Option<Payload> {
    Some(Payload::Text(format!("conformance record {n}")))
}

async fn sink_task(
    plugin: &Plugin,
    config: &[(String, String)],
    values: &[Option<Payload>],
    report: &mut Report,
) {
    let started = async {
        let mut t = SinkTaskInstance::new(plugin, spec(config, Some(0))).await?;
        t.start(config).await.map(|()| t)
    };
    let Some(mut task) = report.started("task start", "started", started.await) else {
        return;
    };
    let partition = TopicPartition {
        topic: TOPIC.into(),
        partition: 0,
    };
    report.check(
        "open",
        task.open(std::slice::from_ref(&partition))
            .await
            .map(|()| format!("{TOPIC}-0"))
            .map_err(|e| e.to_string()),
    );
    let records: Vec<SinkRecord> = values
        .iter()
        .zip(0..)
        .map(|(value, n)| SinkRecord {
            topic: TOPIC.into(),
            partition: 0,
            offset: n,
            key: Some(Payload::Text(format!("key-{n}"))),
            value: value.clone(),
            headers: Vec::new(),
            timestamp: Some(1_700_000_000_000 + n),
            timestamp_type: TimestampType::CreateTime,
        })
        .collect();
    let put = records.len() as i64;
    report.check(
        "put",
        task.put(&records)
            .await
            .map(|()| format!("{put} records"))
            .map_err(|e| e.to_string()),
    );
    let current = [PartitionOffset {
        topic: TOPIC.into(),
        partition: 0,
        offset: put,
    }];
    let committed = match task.pre_commit(&current).await {
        Err(e) => Err(e.to_string()),
        Ok(offsets) => offsets
            .iter()
            .find(|o| o.topic != TOPIC || o.partition != 0 || o.offset > put || o.offset < 0)
            .map_or_else(
                || {
                    Ok(format!(
                        "{} offsets, none beyond what was put",
                        offsets.len()
                    ))
                },
                |o| {
                    Err(format!(
                        "returned offset {} for {}-{}, but only {TOPIC}-0 up to {put} was put",
                        o.offset, o.topic, o.partition
                    ))
                },
            ),
    };
    report.check("pre-commit", committed);
    report.check(
        "close",
        done(task.close(std::slice::from_ref(&partition)).await, "closed"),
    );
    report.check("task stop", done(task.stop().await, "stopped"));
}

async fn transform(
    plugin: &Plugin,
    config: &[(String, String)],
    values: &[Option<Payload>],
    report: &mut Report,
) {
    let configured = async {
        let mut t = TransformInstance::new(plugin, spec(config, None)).await?;
        t.configure(config).await.map(|()| t)
    };
    let Some(mut t) = report.started("configure", "configured", configured.await) else {
        return;
    };
    let records: Vec<TransformRecord> = values
        .iter()
        .map(|value| TransformRecord {
            topic: TOPIC.into(),
            partition: Some(0),
            key: None,
            value: value.clone(),
            headers: Vec::new(),
            timestamp: None,
        })
        .collect();
    let applied = t.apply(&records).await;
    if let Ok(outcomes) = &applied {
        report.samples = records
            .iter()
            .zip(outcomes)
            .take(SAMPLES)
            .map(|(r, o)| match o {
                Outcome::Keep => format!("{} -> keep", show(&r.value)),
                Outcome::Drop => format!("{} -> drop", show(&r.value)),
                Outcome::Replace(n) => format!(
                    "{} -> {} to {}{}",
                    show(&r.value),
                    show(&n.value),
                    n.topic,
                    show_headers(&n.headers)
                ),
            })
            .collect();
    }
    report.check(
        "apply",
        applied
            .map(|o| format!("{} outcomes for {} records", o.len(), records.len()))
            .map_err(|e| e.to_string()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_json_converter_reads_them() {
        let Payload::Json(with) =
            payload_of(r#"{"schema":{"type":"int32","optional":false},"payload":7}"#)
        else {
            panic!("an envelope is JSON");
        };
        assert_eq!(with.document, "7");
        assert_eq!(
            with.schema.as_deref(),
            Some(r#"{"optional":false,"type":"int32"}"#)
        );
        // Not an envelope: a third field, or a schema that is not one.
        for schemaless in [
            r#"{"schema":{"type":"int32"},"payload":7,"x":1}"#,
            r#"{"schema":"int32","payload":7}"#,
            "[1,2]",
        ] {
            let Payload::Json(j) = payload_of(schemaless) else {
                panic!("{schemaless} is JSON");
            };
            assert_eq!((j.document.as_str(), j.schema), (schemaless, None));
        }
        assert!(matches!(payload_of("plain"), Payload::Text(t) if t == "plain"));
    }
}
