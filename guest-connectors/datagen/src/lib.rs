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

use std::time::{Duration, Instant};

use datagen_core::{Pacer, Shape};
use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, Importance, Key, Payload, Plugin,
    PluginKind, PluginMetadata, SourceRecord, SourceTask, TaskError, fatal, read_offsets,
    sleep_unless_stopped,
};

/// Longest a poll waits when nothing is due (paced or finished).
const IDLE_WAIT: Duration = Duration::from_millis(100);

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
    pacer: Pacer,
    iterations: u64,
    batch: u64,
    /// Sequence number of the next record.
    next: u64,
    /// Where pacing counts from: the first sequence number of this run and
    /// when the run began.
    first: u64,
    started: Instant,
}

impl SourceTask for DatagenTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let task: u32 = config.parse_or("task.index", 0)?;
        let partition = format!(r#"{{"task":{task}}}"#);
        let next = match read_offsets(std::slice::from_ref(&partition))?
            .into_iter()
            .next()
            .flatten()
        {
            None => 0,
            Some(offset) => resume_after(&offset)?,
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
            pacer: Pacer::new(config.parse_or("rate", 0.0)?),
            iterations: config.parse_or("iterations", 0)?,
            batch: config.parse_or::<u64>("batch.size", 1000)?.max(1),
            next,
            first: next,
            started: Instant::now(),
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let mut end = self.next + self.batch;
        if self.iterations > 0 {
            end = end.min(self.iterations);
        }
        let paced = self
            .first
            .saturating_add(self.pacer.allowed(self.started.elapsed()));
        end = end.min(paced);
        if end <= self.next {
            let wait = if self.iterations > 0 && self.next >= self.iterations {
                IDLE_WAIT
            } else {
                let due = self.started + self.pacer.due(self.next - self.first);
                due.saturating_duration_since(Instant::now()).min(IDLE_WAIT)
            };
            sleep_unless_stopped(wait);
            return Ok(Vec::new());
        }
        let records = (self.next..end).map(|seq| self.record(seq)).collect();
        self.next = end;
        Ok(records)
    }
}

impl DatagenTask {
    fn record(&self, seq: u64) -> SourceRecord {
        let mut r = SourceRecord::new(
            self.partition.clone(),
            format!(r#"{{"seq":{seq}}}"#),
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

/// The next sequence number after a stored offset `{"seq":n}`.
fn resume_after(offset: &str) -> Result<u64, TaskError> {
    offset
        .trim()
        .strip_prefix(r#"{"seq":"#)
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map(|n| n + 1)
        .ok_or_else(|| {
            fatal(format!(
                "stored offset {offset} is not {{\"seq\":<number>}}"
            ))
        })
}

wasmconnect_sdk::export_source!(Datagen, DatagenTask);
