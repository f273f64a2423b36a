//! A source that replays records from a JSON-lines file, once. **Test
//! only**: tests/tests/transforms.rs runs the same file through Kafka
//! Connect (tests/java/ReplaySource.java, its twin) and through us.
//!
//! Each line is an object: `topic`, `key` and `value` (with
//! `schemas.enable=true`, JsonConverter envelopes `{"schema":…,
//! "payload":…}`; otherwise plain JSON; `null` for a null key or value),
//! `headers` (`[[name, text], …]`) and `timestamp` (ms, optional).
//! Source partition `{"file": <file>}`, offset `{"line": n}`.

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Header, Key, OpenMode, Payload, Plugin,
    PluginKind, PluginMetadata, ResourceKind, SourceRecord, SourceTask, TaskError, fatal,
    open_file,
};

/// Connector role: one task.
pub struct ReplaySource {
    config: Config,
}

impl Plugin for ReplaySource {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.testing.ReplaySourceConnector".into(),
            aliases: vec![],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Source,
            description: "Replays records from a JSON-lines file (tests only)".into(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new("file", ConfigType::String)
                .required()
                .doc("The JSON-lines file to replay")
                .resource(ResourceKind::ReadFile)
                .into(),
            Key::new("schemas.enable", ConfigType::Boolean)
                .default_value("true")
                .doc("Whether keys and values are {schema, payload} envelopes")
                .into(),
        ]
    }
}

impl Connector for ReplaySource {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(ReplaySource { config })
    }

    fn task_configs(&mut self, _max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok(vec![self.config.clone()])
    }
}

/// The task: everything on the first poll, nothing after.
pub struct ReplayTask {
    file: String,
    schemas: bool,
    done: bool,
}

impl SourceTask for ReplayTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(ReplayTask {
            file: config.value("file").unwrap_or_default().to_string(),
            schemas: config.value("schemas.enable").map(str::trim) != Some("false"),
            done: false,
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.done {
            wasmconnect_sdk::sleep_unless_stopped(std::time::Duration::from_millis(200));
            return Ok(Vec::new());
        }
        self.done = true;
        let file = open_file(&self.file, OpenMode::Read)
            .map_err(|e| fatal(format!("opening {}: {e}", self.file)))?;
        let mut bytes = Vec::new();
        loop {
            let chunk = file
                .read(bytes.len() as u64, 1 << 16)
                .map_err(|e| fatal(format!("reading {}: {e}", self.file)))?;
            if chunk.is_empty() {
                break;
            }
            bytes.extend(chunk);
        }
        let text = String::from_utf8(bytes).map_err(|e| fatal(e.to_string()))?;
        let partition = serde_json::json!({ "file": self.file }).to_string();
        let mut out = Vec::new();
        for (n, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let line: serde_json::Value =
                serde_json::from_str(line).map_err(|e| fatal(format!("line {n}: {e}")))?;
            let mut record = SourceRecord::new(
                partition.clone(),
                serde_json::json!({ "line": n }).to_string(),
                line["topic"].as_str().unwrap_or_default(),
                self.payload(&line["value"]),
            );
            record.key = self.payload(&line["key"]);
            record.timestamp = line["timestamp"].as_i64();
            for header in line["headers"].as_array().into_iter().flatten() {
                record.headers.push(Header::new(
                    header[0].as_str().unwrap_or_default(),
                    header[1].as_str().unwrap_or_default(),
                ));
            }
            out.push(record);
        }
        Ok(out)
    }
}

impl ReplayTask {
    /// A key or value as JsonConverter would read it: an envelope's
    /// payload with its schema, or a schemaless document.
    fn payload(&self, v: &serde_json::Value) -> Option<Payload> {
        if v.is_null() {
            return None;
        }
        if self.schemas {
            let schema = &v["schema"];
            if v["payload"].is_null() {
                return None;
            }
            Some(Payload::json(
                v["payload"].to_string(),
                (!schema.is_null()).then(|| schema.to_string()),
            ))
        } else {
            Some(Payload::json(v.to_string(), None))
        }
    }
}

wasmconnect_sdk::export_source!(ReplaySource, ReplayTask);
