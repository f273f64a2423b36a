//! A source connector that misbehaves on purpose, for the worker's tests.
//! **Test only.** Its `mode` setting picks the fault:
//!
//! * `healthy`: emits `batch` records numbered from 0 on each poll;
//! * `panic-in-poll`: panics in `poll` with the message in `message`;
//! * `trap-in-start`: executes `unreachable` in `start`;
//! * `loop-in-poll`: never returns from `poll`;
//! * `grow-memory`: allocates without bound in `poll`;
//! * `probe-files`: tries to read the path in `target` through WASI
//!   (`std::fs`) and through the `files` import, and through `files` the path
//!   in `granted`, and reports each outcome as one text record;
//! * `fail-fatal` / `fail-retriable`: returns that error from `poll`.

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Key, OpenMode, Payload, Plugin,
    PluginKind, PluginMetadata, ResourceKind, SourceRecord, SourceTask, TaskError, fatal,
    open_file, retriable,
};

/// Connector role: one task per `tasks.max`.
pub struct Misbehaving {
    config: Config,
}

impl Plugin for Misbehaving {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.testing.MisbehavingSourceConnector".into(),
            aliases: vec![],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Source,
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
            Key::new("target", ConfigType::String)
                .doc("A path to try to read (not granted)")
                .into(),
            Key::new("granted", ConfigType::String)
                .doc("A path the host grants for reading")
                .resource(ResourceKind::ReadFile)
                .into(),
            Key::new("batch", ConfigType::Int)
                .default_value("10")
                .into(),
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
    mode: String,
    next: u64,
}

impl SourceTask for MisbehavingTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let mode = config.value("mode").unwrap_or("healthy").to_string();
        if mode == "trap-in-start" {
            core::arch::wasm32::unreachable();
        }
        Ok(MisbehavingTask {
            config,
            mode,
            next: 0,
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        match self.mode.as_str() {
            "healthy" => {
                let batch: u64 = self.config.parse_or("batch", 10)?;
                let records = (self.next..self.next + batch)
                    .map(|n| record(format!("{n}"), n + 1))
                    .collect();
                self.next += batch;
                Ok(records)
            }
            "panic-in-poll" => panic!("{}", self.config.value("message").unwrap_or("boom")),
            "loop-in-poll" => {
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "grow-memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "probe-files" => Ok(self.probe_files()),
            "fail-fatal" => Err(fatal("the source system rejected our credentials")),
            "fail-retriable" => Err(retriable("the source system is busy", Some(250))),
            other => Err(fatal(format!("unknown mode {other}"))),
        }
    }
}

impl MisbehavingTask {
    fn probe_files(&self) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        if let Some(target) = self.config.value("target") {
            out.push(match std::fs::read(target) {
                Ok(bytes) => format!("wasi read {target}: ALLOWED ({} bytes)", bytes.len()),
                Err(e) => format!("wasi read {target}: denied: {e}"),
            });
            out.push(match open_file(target, OpenMode::Read) {
                Ok(_) => format!("files open {target}: ALLOWED"),
                Err(e) => format!("files open {target}: denied: {e}"),
            });
        }
        if let Some(granted) = self.config.value("granted") {
            out.push(
                match open_file(granted, OpenMode::Read).and_then(|f| f.read(0, 1 << 16)) {
                    Ok(bytes) => {
                        format!("files read {granted}: {}", String::from_utf8_lossy(&bytes))
                    }
                    Err(e) => format!("files read {granted}: denied: {e}"),
                },
            );
            out.push(match open_file(granted, OpenMode::Append) {
                Ok(_) => format!("files append {granted}: ALLOWED"),
                Err(e) => format!("files append {granted}: denied: {e}"),
            });
        }
        out.into_iter()
            .enumerate()
            .map(|(i, text)| record(text, i as u64 + 1))
            .collect()
    }
}

fn record(text: String, position: u64) -> SourceRecord {
    SourceRecord::new(
        r#"{"source":"misbehaving"}"#,
        format!(r#"{{"position":{position}}}"#),
        "misbehaving",
        Some(Payload::text(text)),
    )
}

wasmconnect_sdk::export_source!(Misbehaving, MisbehavingTask);
