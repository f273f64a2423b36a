//! Null sink: discards records after verifying and counting them.
//!
//! With `verify` (default true) each value must be a `datagen` record
//! (see `datagen-core`); a corrupt one fails the task with its coordinates.
//! The sink counts records, duplicates and gaps per datagen task, and logs
//! the tally every `report.every` records (default 1,000,000) and on stop.

use std::collections::BTreeMap;

use datagen_core::Tally;
use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Key, Payload, Plugin, PluginKind,
    PluginMetadata, SinkRecord, SinkTask, TaskError, fatal, info,
};

/// The connector role: `tasks.max` identical tasks.
pub struct NullSink {
    config: Config,
}

impl Plugin for NullSink {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.nullsink.NullSinkConnector".into(),
            aliases: vec!["NullSink".into(), "NullSinkConnector".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Verifies and counts records, then discards them".into(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new("verify", ConfigType::Boolean)
                .default_value("true")
                .doc("Check each value is an intact datagen record")
                .into(),
            Key::new("report.every", ConfigType::Long)
                .default_value("1000000")
                .doc("Log the tally every this many records")
                .into(),
        ]
    }
}

impl Connector for NullSink {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(NullSink { config })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok(vec![self.config.clone(); max_tasks as usize])
    }
}

/// One verifying task.
pub struct NullSinkTask {
    verify: bool,
    report_every: u64,
    seen: u64,
    tallies: BTreeMap<u32, Tally>,
}

impl SinkTask for NullSinkTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(NullSinkTask {
            verify: config.parse_or("verify", true)?,
            report_every: config.parse_or::<u64>("report.every", 1_000_000)?.max(1),
            seen: 0,
            tallies: BTreeMap::new(),
        })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        for r in &records {
            self.seen += 1;
            if self.verify {
                let bytes = match &r.value {
                    Some(Payload::Binary(b)) => b.as_slice(),
                    Some(Payload::Text(t)) => t.as_bytes(),
                    Some(Payload::Json(j)) => j.document.as_bytes(),
                    None => &[],
                };
                let (task, seq) = datagen_core::check_value(bytes).map_err(|e| {
                    fatal(format!(
                        "{}-{} offset {}: {e}",
                        r.topic, r.partition, r.offset
                    ))
                })?;
                self.tallies.entry(task).or_default().observe(seq);
            }
            if self.seen.is_multiple_of(self.report_every) {
                self.report();
            }
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.report();
    }
}

impl NullSinkTask {
    fn report(&self) {
        let per_task: Vec<String> = self
            .tallies
            .iter()
            .map(|(t, tally)| {
                format!(
                    "task {t}: {} contiguous, {} duplicates, {} missing",
                    tally.contiguous,
                    tally.duplicates,
                    tally.missing()
                )
            })
            .collect();
        info!("null sink: {} records; {}", self.seen, per_task.join("; "));
    }
}

wasmconnect_sdk::export_sink!(NullSink, NullSinkTask);
