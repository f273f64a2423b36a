//! FileStreamSink as a wasmconnect component (Kafka Connect's
//! `org.apache.kafka.connect.file.FileStreamSinkConnector`).
//!
//! Appends each record's value to the file named by `file`, one line per
//! record, rendered as Java's `println` would (strings verbatim, maps as
//! `{k=v, …}`, structs as `Struct{f=v,…}`, null as `null`). Buffered lines
//! are flushed to disk before the host commits consumer offsets.

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, ConfigValue, Connector, File, FileExt, Importance,
    Key, OpenMode, PartitionOffset, Payload, Plugin, PluginKind, PluginMetadata, ResourceKind,
    SinkRecord, SinkTask, TaskError, fatal, open_file,
};

const FILE: &str = "file";

/// The connector role: `max_tasks` identical tasks.
pub struct FileSinkConnector {
    config: Config,
}

impl Plugin for FileSinkConnector {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "org.apache.kafka.connect.file.FileStreamSinkConnector".into(),
            aliases: vec!["FileStreamSink".into(), "FileStreamSinkConnector".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Writes each record's value to a file, one line per record".into(),
            task_class: Some("org.apache.kafka.connect.file.FileStreamSinkTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new(FILE, ConfigType::String)
                .importance(Importance::High)
                .doc("Destination filename. If not specified, the standard output will be used")
                .resource(ResourceKind::WriteFile)
                .into(),
        ]
    }

    fn validate(config: &[(String, String)]) -> Vec<ConfigValue> {
        if config.get_non_blank(FILE).is_some() {
            return Vec::new();
        }
        vec![ConfigValue {
            name: FILE.into(),
            value: config.value(FILE).map(str::to_string),
            recommended_values: Vec::new(),
            errors: vec![
                "Missing required configuration \"file\": the sandbox has no standard output to write to".into(),
            ],
            visible: true,
        }]
    }
}

impl Connector for FileSinkConnector {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(FileSinkConnector { config })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok(vec![self.config.clone(); max_tasks as usize])
    }

    fn alter_offsets(
        _config: &[(String, String)],
        _offsets: &[(String, Option<String>)],
    ) -> Result<bool, TaskError> {
        // Offsets live only in the consumer group; nothing to do here.
        Ok(true)
    }
}

/// The task: appends rendered values and syncs on pre-commit.
pub struct FileSinkTask {
    path: String,
    file: File,
}

impl SinkTask for FileSinkTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let path = config
            .get_non_blank(FILE)
            .ok_or_else(|| fatal("Missing required configuration \"file\""))?
            .to_string();
        let file = open_file(&path, OpenMode::Append).map_err(|e| {
            fatal(format!(
                "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
            ))
        })?;
        Ok(FileSinkTask { path, file })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        let mut out = String::new();
        for record in &records {
            render_value(record.value.as_ref(), &mut out);
            out.push('\n');
        }
        self.file
            .append_all(out.as_bytes())
            .map_err(|e| fatal(format!("Error writing to {}: {e}", self.path)))
    }

    fn flush(&mut self, _current: &[PartitionOffset]) -> Result<(), TaskError> {
        self.file
            .sync()
            .map_err(|e| fatal(format!("Error flushing {}: {e}", self.path)))
    }
}

/// Renders a value as `String.valueOf(value)` would in Kafka's sink.
fn render_value(value: Option<&Payload>, out: &mut String) {
    match value {
        None => out.push_str("null"),
        Some(Payload::Text(text)) => out.push_str(text),
        Some(Payload::Binary(bytes)) => out.push_str(&String::from_utf8_lossy(bytes)),
        Some(Payload::Json(json)) => {
            match serde_json::from_str::<serde_json::Value>(&json.document) {
                Ok(doc) => {
                    let is_struct = json
                        .schema
                        .as_deref()
                        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                        .is_some_and(|s| s.get("type").and_then(|t| t.as_str()) == Some("struct"));
                    render_json(&doc, is_struct, out);
                }
                // Not JSON after all: write what arrived rather than lose it.
                Err(_) => out.push_str(&json.document),
            }
        }
    }
}

/// Java `toString` of Connect data: maps `{k=v, k2=v2}`, lists `[a, b]`,
/// structs `Struct{f=v,g=w}` (null fields omitted).
fn render_json(value: &serde_json::Value, as_struct: bool, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_json(item, false, out);
            }
            out.push(']');
        }
        Value::Object(fields) if as_struct => {
            out.push_str("Struct{");
            let mut first = true;
            for (k, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(k);
                out.push('=');
                render_json(v, false, out);
            }
            out.push('}');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render_json(v, false, out);
            }
            out.push('}');
        }
    }
}

wasmconnect_sdk::export_sink!(FileSinkConnector, FileSinkTask);
