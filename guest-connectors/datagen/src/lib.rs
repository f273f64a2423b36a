//! Datagen: a source of deterministic test data, like Confluent's
//! kafka-connect-datagen but with content a sink can verify.
//!
//! Each task `t` emits records numbered from 0 (see `datagen-core` for the
//! exact bytes): key `key-<n mod key.cardinality>` (text), value of exactly
//! `record.bytes` bytes (binary). Source partition `{"task":t}`, offset
//! `{"seq":n}`, so a restarted task goes on after the last committed record.
//!
//! Settings: `topic` (required), `record.bytes` (100), `key.cardinality`
//! (1000), `rate` (records per second per task, 0 = as fast as possible),
//! `iterations` (records per task, 0 = without end), `batch.size` (records
//! per poll, 1000), `tasks.max`.

use datagen_core::{Schedule, Shape, Step};
use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Importance, Key, Payload, Plugin,
    PluginKind, PluginMetadata, SourceRecord, SourceTask, TaskError, fatal, read_offsets,
    sleep_unless_stopped,
};

/// The connector role: `tasks.max` tasks, each told its index.
pub struct Datagen {
    config: Config,
}

impl Plugin for Datagen {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.datagen.DatagenConnector".into(),
            aliases: vec!["Datagen".into(), "DatagenConnector".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Source,
            description: "Generates verifiable test records at a configured size and rate".into(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new("topic", ConfigType::String)
                .required()
                .importance(Importance::High)
                .doc("The topic to write to")
                .into(),
            Key::new("record.bytes", ConfigType::Int)
                .default_value("100")
                .doc("Size of each record's value in bytes")
                .into(),
            Key::new("key.cardinality", ConfigType::Long)
                .default_value("1000")
                .doc("How many distinct keys to cycle through")
                .into(),
            Key::new("rate", ConfigType::Double)
                .default_value("0")
                .doc("Records per second per task; 0 is as fast as possible")
                .into(),
            Key::new("iterations", ConfigType::Long)
                .default_value("0")
                .doc("Records per task; 0 is without end")
                .into(),
            Key::new("batch.size", ConfigType::Int)
                .default_value("1000")
                .doc("Most records one poll returns")
                .into(),
        ]
    }
}

impl Connector for Datagen {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(Datagen { config })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok((0..max_tasks)
            .map(|i| {
                let mut c = self.config.clone();
                c.push(("task.index".into(), i.to_string()));
                c
            })
            .collect())
    }
}

/// One generating task.
pub struct DatagenTask {
    topic: String,
    shape: Shape,
    task: u32,
    partition: String,
    schedule: Schedule,
}

impl SourceTask for DatagenTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let task: u32 = config.parse_or("task.index", 0)?;
        let partition = datagen_core::partition_json(task);
        let next = match read_offsets(std::slice::from_ref(&partition))?
            .into_iter()
            .next()
            .flatten()
        {
            None => 0,
            Some(offset) => datagen_core::resume_after(&offset).map_err(fatal)?,
        };
        Ok(DatagenTask {
            topic: config
                .value("topic")
                .ok_or_else(|| fatal("Missing required configuration \"topic\""))?
                .to_string(),
            shape: Shape {
                record_bytes: config.parse_or("record.bytes", 100)?,
                key_cardinality: config.parse_or("key.cardinality", 1000)?,
            },
            task,
            partition,
            schedule: Schedule::new(
                next,
                config.parse_or("rate", 0.0)?,
                config.parse_or("iterations", 0)?,
                config.parse_or("batch.size", 1000)?,
            ),
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        match self.schedule.step() {
            Step::Wait(wait) => {
                sleep_unless_stopped(wait);
                Ok(Vec::new())
            }
            Step::Emit(range) => Ok(range.map(|seq| self.record(seq)).collect()),
        }
    }
}

impl DatagenTask {
    fn record(&self, seq: u64) -> SourceRecord {
        let mut r = SourceRecord::new(
            self.partition.clone(),
            datagen_core::offset_json(seq),
            self.topic.clone(),
            Some(Payload::Binary(datagen_core::value(
                &self.shape,
                self.task,
                seq,
            ))),
        );
        r.key = Some(Payload::text(datagen_core::key(&self.shape, seq)));
        r
    }
}

wasmconnect_sdk::export_source!(Datagen, DatagenTask);
