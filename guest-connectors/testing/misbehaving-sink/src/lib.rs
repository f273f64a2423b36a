//! A sink connector that misbehaves on purpose, for the worker's tests.
//! **Test only.** Its `mode` setting picks the fault:
//!
//! * `healthy`: accepts every batch;
//! * `panic-in-put`: panics in `put` with the message in `message`;
//! * `fail-retriable`: `put` fails with a retriable error (only `failures`
//!   times when that is set, then it accepts batches);
//! * `fail-fatal`: `put` fails with a fatal error.
//!
//! With `fault.switch` set, the fault happens only while that file says
//! `on` (see `common/fault_switch.rs`).

#[path = "../../common/fault_switch.rs"]
mod fault_switch;

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Key, Plugin, PluginKind, PluginMetadata,
    SinkRecord, SinkTask, TaskError, fatal, retriable,
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
            "healthy" => Ok(()),
            "panic-in-put" => panic!("{}", self.config.value("message").unwrap_or("boom")),
            "fail-fatal" => Err(fatal("the target system rejected the batch")),
            "fail-retriable" => {
                let limit: u64 = self.config.parse_or("failures", u64::MAX)?;
                if self.failed < limit {
                    self.failed += 1;
                    Err(retriable("the target system is busy", Some(100)))
                } else {
                    Ok(())
                }
            }
            other => Err(fatal(format!("unknown mode {other}"))),
        }
    }
}

wasmconnect_sdk::export_sink!(Misbehaving, MisbehavingTask);
