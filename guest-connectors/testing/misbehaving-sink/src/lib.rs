//! A sink connector that misbehaves on purpose, for the worker's tests.
//! **Test only.** Its `mode` setting picks the fault:
//!
//! * `healthy`: accepts every batch;
//! * `panic-in-put`: panics in `put` with the message in `message`;
//! * `fail-retriable`: `put` fails with a retriable error (only `failures`
//!   times when that is set, then it accepts batches);
//! * `fail-fatal`: `put` fails with a fatal error;
//! * `block-in-put`: writes `blocking` to `output`, then sleeps `sleep.ms`
//!   (default an hour) inside `put` before taking the batch;
//! * `report-errant`: reports each record whose text value starts with
//!   `bad` through `errant-records` (the error names the value) and takes
//!   the rest.
//!
//! With `output` set, every batch taken is appended there, a value per
//! line (text values), so a test sees which records a task wrote.
//!
//! With `fault.switch` set, the fault happens only while that file says
//! `on` (see `common/fault_switch.rs`).

#[path = "../../common/fault_switch.rs"]
mod fault_switch;

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, FileExt, Key, OpenMode, Payload, Plugin,
    PluginKind, PluginMetadata, ResourceKind, SinkRecord, SinkTask, TaskError, fatal, open_file,
    report_errant_record, retriable,
};

/// Connector role: one task per `tasks.max`.
pub struct Misbehaving {
    config: Config,
}

impl Plugin for Misbehaving {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.testing.MisbehavingSinkConnector".into(),
            aliases: vec![],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Misbehaves on purpose (tests only)".into(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new("mode", ConfigType::String)
                .default_value("healthy")
                .doc("Which fault to commit")
                .into(),
            Key::new("message", ConfigType::String)
                .default_value("boom")
                .doc("Panic message")
                .into(),
            Key::new("failures", ConfigType::Int)
                .doc("fail-retriable: how many times to fail before recovering")
                .into(),
            Key::new("sleep.ms", ConfigType::Long)
                .doc("block-in-put: how long put sleeps")
                .into(),
            Key::new("output", ConfigType::String)
                .doc("A file every batch taken is appended to")
                .resource(ResourceKind::WriteFile)
                .into(),
            fault_switch::key().into(),
        ]
    }
}

impl Connector for Misbehaving {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(Misbehaving { config })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok(vec![self.config.clone(); max_tasks as usize])
    }
}

/// The task whose `mode` decides what goes wrong.
pub struct MisbehavingTask {
    config: Config,
    failed: u64,
}

impl SinkTask for MisbehavingTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(MisbehavingTask { config, failed: 0 })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        if records.is_empty() {
            return Ok(());
        }
        match fault_switch::mode(&self.config).as_str() {
            "healthy" => self.write(&records),
            "report-errant" => {
                let mut good = Vec::with_capacity(records.len());
                for r in records {
                    match &r.value {
                        Some(Payload::Text(text)) if text.starts_with("bad") => {
                            let error = format!("cannot write {text}");
                            // Not tolerated: the host fails the task after
                            // this call; the rest is still written.
                            let _ = report_errant_record(&r, &error);
                        }
                        _ => good.push(r),
                    }
                }
                self.write(&good)
            }
            "block-in-put" => {
                self.append("blocking\n")?;
                let ms: u64 = self.config.parse_or("sleep.ms", 3_600_000)?;
                std::thread::sleep(std::time::Duration::from_millis(ms));
                self.write(&records)
            }
            "panic-in-put" => panic!("{}", self.config.value("message").unwrap_or("boom")),
            "fail-fatal" => Err(fatal("the target system rejected the batch")),
            "fail-retriable" => {
                let limit: u64 = self.config.parse_or("failures", u64::MAX)?;
                if self.failed < limit {
                    self.failed += 1;
                    Err(retriable("the target system is busy", Some(100)))
                } else {
                    self.write(&records)
                }
            }
            other => Err(fatal(format!("unknown mode {other}"))),
        }
    }
}

impl MisbehavingTask {
    /// Appends the batch's text values to `output`, if set.
    fn write(&self, records: &[SinkRecord]) -> Result<(), TaskError> {
        let mut lines = String::new();
        for r in records {
            if let Some(Payload::Text(text)) = &r.value {
                lines.push_str(text);
                lines.push('\n');
            }
        }
        self.append(&lines)
    }

    fn append(&self, text: &str) -> Result<(), TaskError> {
        let Some(path) = self.config.value("output") else {
            return Ok(());
        };
        open_file(path, OpenMode::Append)
            .and_then(|f| f.append_all(text.as_bytes()))
            .map_err(|e| fatal(format!("cannot write {path}: {e}")))
    }
}

wasmconnect_sdk::export_sink!(Misbehaving, MisbehavingTask);
