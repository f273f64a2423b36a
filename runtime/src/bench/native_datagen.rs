//! The datagen plugin's logic compiled natively, for the benchmark's
//! sandbox-tax row: the same generator (`datagen-core`), the same settings
//! and the same records, run through the same source task loop as the
//! component, so the only difference left is the sandbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datagen_core::{Pacer, Shape};

use crate::GuestError;
use crate::bindings::source_task::RecordAck;
use crate::bindings::types::{Payload, SourceRecord};
use crate::config::worker::lookup;
use crate::host::offsets::OffsetReader;
use crate::sandbox::limits::Usage;
use crate::worker::source_task::SourceGuest;

/// Longest a poll waits when nothing is due (as in the component).
const IDLE_WAIT: Duration = Duration::from_millis(100);

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
    pacer: Pacer,
    iterations: u64,
    batch: u64,
    next: u64,
    first: u64,
    started: Instant,
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
        let partition = format!(r#"{{"task":{task}}}"#);
        let stored = self
            .offsets
            .read(&self.connector, std::slice::from_ref(&partition))
            .map_err(|e| fatal("start", e))?;
        let next = match stored.into_iter().next().flatten() {
            None => 0,
            Some(offset) => {
                let v: serde_json::Value =
                    serde_json::from_str(&offset).map_err(|e| fatal("start", e.to_string()))?;
                v["seq"]
                    .as_u64()
                    .map(|n| n + 1)
                    .ok_or_else(|| fatal("start", format!("stored offset {offset} has no seq")))?
            }
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
            pacer: Pacer::new(setting(config, "rate", 0.0)?),
            iterations: setting(config, "iterations", 0)?,
            batch: setting::<u64>(config, "batch.size", 1000)?.max(1),
            next,
            first: next,
            started: Instant::now(),
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>, GuestError> {
        let began = Instant::now();
        let s = self
            .state
            .as_mut()
            .ok_or_else(|| fatal("poll", "poll before start"))?;
        let mut end = s.next + s.batch;
        if s.iterations > 0 {
            end = end.min(s.iterations);
        }
        end = end.min(s.first.saturating_add(s.pacer.allowed(s.started.elapsed())));
        if end <= s.next {
            let wait = if s.iterations > 0 && s.next >= s.iterations {
                IDLE_WAIT
            } else {
                let due = s.started + s.pacer.due(s.next - s.first);
                due.saturating_duration_since(Instant::now()).min(IDLE_WAIT)
            };
            tokio::time::sleep(wait).await;
            return Ok(Vec::new());
        }
        let records = (s.next..end)
            .map(|seq| SourceRecord {
                source_partition: s.partition.clone(),
                source_offset: format!(r#"{{"seq":{seq}}}"#),
                topic: s.topic.clone(),
                partition: None,
                key: Some(Payload::Text(datagen_core::key(&s.shape, seq))),
                value: Some(Payload::Binary(datagen_core::value(&s.shape, s.task, seq))),
                headers: Vec::new(),
                timestamp: None,
                ack_token: None,
            })
            .collect();
        s.next = end;
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
