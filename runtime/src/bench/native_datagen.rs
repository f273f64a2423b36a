//! The datagen plugin's logic compiled natively, for the benchmark's
//! sandbox-tax row: the same generator (`datagen-core`), the same settings
//! and the same records, run through the same source task loop as the
//! component, so the only difference left is the sandbox.

use std::sync::Arc;
use std::time::Instant;

use datagen_core::{Schedule, Shape, Step};

use crate::GuestError;
use crate::bindings::source_task::RecordAck;
use crate::bindings::types::{Payload, SourceRecord};
use crate::config::worker::lookup;
use crate::host::offsets::OffsetReader;
use crate::sandbox::limits::Usage;
use crate::worker::source_task::SourceGuest;

/// A native datagen task.
pub struct NativeDatagen {
    connector: String,
    offsets: Arc<dyn OffsetReader>,
    state: Option<State>,
    usage: Usage,
}

struct State {
    topic: String,
    shape: Shape,
    task: u32,
    partition: String,
    schedule: Schedule,
}

impl NativeDatagen {
    /// A task of `connector` that resumes from `offsets`.
    pub fn new(connector: &str, offsets: Arc<dyn OffsetReader>) -> Self {
        NativeDatagen {
            connector: connector.to_string(),
            offsets,
            state: None,
            usage: Usage::default(),
        }
    }
}

fn fatal(call: &'static str, message: impl Into<String>) -> GuestError {
    GuestError::Fatal {
        call,
        message: message.into(),
    }
}

fn setting<T: std::str::FromStr>(
    config: &[(String, String)],
    key: &str,
    default: T,
) -> Result<T, GuestError> {
    match lookup(config, key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| fatal("start", format!("{key}={v} does not parse"))),
    }
}

impl SourceGuest for NativeDatagen {
    async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let task: u32 = setting(config, "task.index", 0)?;
        let partition = datagen_core::partition_json(task);
        let stored = self
            .offsets
            .read(&self.connector, std::slice::from_ref(&partition))
            .map_err(|e| fatal("start", e))?;
        let next = match stored.into_iter().next().flatten() {
            None => 0,
            Some(offset) => datagen_core::resume_after(&offset).map_err(|e| fatal("start", e))?,
        };
        self.state = Some(State {
            topic: lookup(config, "topic")
                .ok_or_else(|| fatal("start", "Missing required configuration \"topic\""))?
                .to_string(),
            shape: Shape {
                record_bytes: setting(config, "record.bytes", 100)?,
                key_cardinality: setting(config, "key.cardinality", 1000)?,
            },
            task,
            partition,
            schedule: Schedule::new(
                next,
                setting(config, "rate", 0.0)?,
                setting(config, "iterations", 0)?,
                setting(config, "batch.size", 1000)?,
            ),
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>, GuestError> {
        let began = Instant::now();
        let s = self
            .state
            .as_mut()
            .ok_or_else(|| fatal("poll", "poll before start"))?;
        let range = match s.schedule.step() {
            Step::Wait(wait) => {
                tokio::time::sleep(wait).await;
                return Ok(Vec::new());
            }
            Step::Emit(range) => range,
        };
        let records = range
            .map(|seq| SourceRecord {
                source_partition: s.partition.clone(),
                source_offset: datagen_core::offset_json(seq),
                topic: s.topic.clone(),
                partition: None,
                key: Some(Payload::Text(datagen_core::key(&s.shape, seq))),
                value: Some(Payload::Binary(datagen_core::value(&s.shape, s.task, seq))),
                headers: Vec::new(),
                timestamp: None,
                ack_token: None,
            })
            .collect();
        self.usage.calls += 1;
        self.usage.guest_time += began.elapsed();
        Ok(records)
    }

    async fn commit_records(&mut self, _acks: &[RecordAck]) -> Result<(), GuestError> {
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), GuestError> {
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), GuestError> {
        Ok(())
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}
