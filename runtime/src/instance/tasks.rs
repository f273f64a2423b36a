//! Task instances: source and sink tasks and transforms, in either
//! contract version. A 0.2.0 plugin's batches are packed and unpacked here
//! ([`super::packed`]), so the worker's loops see the same records
//! whatever the plugin's version.

use super::{Core, InstanceSpec, StopHandle, guarded, packed, task_result, wrong_world};
use crate::bindings::source_task::{AckStatus, RecordAck};
use crate::bindings::types::{
    PartitionOffset, SinkRecord, SourceRecord, TopicPartition, TransformRecord,
};
use crate::bindings::{record_transform, sink_task, source_task, v0_2};
use crate::error::GuestError;
use crate::plugin::{Plugin, Versioned, World, each_version, either_version};
use crate::sandbox::limits::Usage;

/// A source task instance.
pub struct SourceTaskInstance {
    core: Core,
    api: Versioned<source_task::Guest, v0_2::source_task::Guest>,
}

impl SourceTaskInstance {
    /// Instantiates a source task of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        // Checked before the code is loaded; the world decides which
        // exports were resolved.
        if plugin.info().world != World::Source {
            return Err(wrong_world(plugin, World::Source.as_str()));
        }
        let mut core = Core::new(plugin, spec).await?;
        let code = core.code.clone();
        let indices = code
            .exports
            .source
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Source.as_str()))?;
        let api = each_version!(indices, |v| core.load(|s, i| v.load(s, i))?);
        Ok(SourceTaskInstance { core, api })
    }

    /// `source-task.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            either_version!(api, |api| guarded!(core, "start", |store| api
                .call_start(store, &config))),
        )
    }

    /// `source-task.poll` (a 0.2.0 batch unpacked and checked).
    pub async fn poll(&mut self) -> Result<Vec<SourceRecord>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let records = match api {
            Versioned::V0_1(api) => {
                task_result("poll", guarded!(core, "poll", |store| api.call_poll(store)))?
            }
            Versioned::V0_2(api) => {
                let batch =
                    task_result("poll", guarded!(core, "poll", |store| api.call_poll(store)))?;
                packed::unpack_source(batch).map_err(|message| {
                    core.usage.faults += 1;
                    GuestError::Fatal {
                        call: "poll",
                        message: format!("the task returned a malformed batch: {message}"),
                    }
                })?
            }
        };
        let limit = core.limits.batch_records;
        if records.len() > limit as usize {
            core.usage.faults += 1;
            return Err(GuestError::BatchLimit {
                call: "poll",
                records: records.len(),
                limit,
            });
        }
        Ok(records)
    }

    /// `source-task.commit-records`.
    pub async fn commit_records(&mut self, acks: &[RecordAck]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "commit-records",
            match api {
                Versioned::V0_1(api) => guarded!(core, "commit-records", |store| api
                    .call_commit_records(store, acks)),
                Versioned::V0_2(api) => {
                    let acks: Vec<_> = acks.iter().map(ack_v0_2).collect();
                    guarded!(core, "commit-records", |store| api
                        .call_commit_records(store, &acks))
                }
            },
        )
    }

    /// `source-task.commit`.
    pub async fn commit(&mut self) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "commit",
            either_version!(api, |api| guarded!(core, "commit", |store| api
                .call_commit(store))),
        )
    }

    /// Raises the stop flag, then calls `source-task.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        either_version!(api, |api| guarded!(core, "stop", |store| api
            .call_stop(store)))
    }

    /// A handle that raises this instance's stop flag during a call.
    pub fn stop_handle(&self) -> StopHandle {
        self.core.stop_handle()
    }

    /// Peak guest memory so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.core.store.data().peak_memory()
    }

    /// Memory, guest time, calls and faults so far.
    pub fn usage(&self) -> Usage {
        self.core.usage()
    }
}

/// A record's fate in 0.2.0's types (the same shape as 0.1.0's).
fn ack_v0_2(ack: &RecordAck) -> v0_2::source_task::RecordAck {
    v0_2::source_task::RecordAck {
        token: ack.token,
        status: match ack.status {
            AckStatus::Written(at) => v0_2::source_task::AckStatus::Written(at),
            AckStatus::Filtered => v0_2::source_task::AckStatus::Filtered,
        },
    }
}

/// A sink task instance.
pub struct SinkTaskInstance {
    core: Core,
    api: Versioned<sink_task::Guest, v0_2::sink_task::Guest>,
}

impl SinkTaskInstance {
    /// Memory, guest time, calls and faults so far.
    pub fn usage(&self) -> Usage {
        self.core.usage()
    }

    /// Instantiates a sink task of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        // Checked before the code is loaded; the world decides which
        // exports were resolved.
        if plugin.info().world != World::Sink {
            return Err(wrong_world(plugin, World::Sink.as_str()));
        }
        let mut core = Core::new(plugin, spec).await?;
        let code = core.code.clone();
        let indices = code
            .exports
            .sink
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Sink.as_str()))?;
        let api = each_version!(indices, |v| core.load(|s, i| v.load(s, i))?);
        Ok(SinkTaskInstance { core, api })
    }

    /// `sink-task.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            either_version!(api, |api| guarded!(core, "start", |store| api
                .call_start(store, &config))),
        )
    }

    /// `sink-task.open`.
    pub async fn open(&mut self, partitions: &[TopicPartition]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "open",
            either_version!(api, |api| guarded!(core, "open", |store| api
                .call_open(store, partitions))),
        )
    }

    /// `sink-task.close`.
    pub async fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "close",
            either_version!(api, |api| guarded!(core, "close", |store| api
                .call_close(store, partitions))),
        )
    }

    /// `sink-task.put` (packed into one batch for 0.2.0).
    pub async fn put(&mut self, records: &[SinkRecord]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        match api {
            Versioned::V0_1(api) => task_result(
                "put",
                guarded!(core, "put", |store| api.call_put(store, records)),
            ),
            Versioned::V0_2(api) => {
                let batch = packed::pack_sink(records).map_err(|message| GuestError::Fatal {
                    call: "put",
                    message,
                })?;
                task_result(
                    "put",
                    guarded!(core, "put", |store| api.call_put(store, &batch)),
                )
            }
        }
    }

    /// Sets the answer `errant-records.report` gives: success when the
    /// connector tolerates errors, the failure otherwise.
    pub fn tolerate_errant_records(&mut self, tolerated: bool) {
        self.core
            .store
            .data_mut()
            .errant_records
            .tolerate(tolerated);
    }

    /// The records the task reported as errant since the last call.
    pub fn take_errant_records(&mut self) -> Vec<(SinkRecord, String)> {
        self.core.store.data_mut().errant_records.take()
    }

    /// `sink-task.pre-commit`.
    pub async fn pre_commit(
        &mut self,
        current: &[PartitionOffset],
    ) -> Result<Vec<PartitionOffset>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "pre-commit",
            either_version!(api, |api| guarded!(core, "pre-commit", |store| api
                .call_pre_commit(store, current))),
        )
    }

    /// Raises the stop flag, then calls `sink-task.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        either_version!(api, |api| guarded!(core, "stop", |store| api
            .call_stop(store)))
    }

    /// A handle that raises this instance's stop flag during a call.
    pub fn stop_handle(&self) -> StopHandle {
        self.core.stop_handle()
    }
}

/// A transform instance.
pub struct TransformInstance {
    core: Core,
    api: Versioned<record_transform::Guest, v0_2::record_transform::Guest>,
}

impl TransformInstance {
    /// Instantiates `plugin` as a transform.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        // Checked before the code is loaded; the world decides which
        // exports were resolved.
        if plugin.info().world != World::Transform {
            return Err(wrong_world(plugin, World::Transform.as_str()));
        }
        let mut core = Core::new(plugin, spec).await?;
        let code = core.code.clone();
        let indices = code
            .exports
            .transform
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Transform.as_str()))?;
        let api = each_version!(indices, |v| core.load(|s, i| v.load(s, i))?);
        Ok(TransformInstance { core, api })
    }

    /// `record-transform.configure`.
    pub async fn configure(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "configure",
            either_version!(api, |api| guarded!(core, "configure", |store| api
                .call_configure(store, &config))),
        )
    }

    /// `record-transform.apply`; anything but one outcome per record breaks
    /// the contract and is a fatal error.
    pub async fn apply(
        &mut self,
        records: &[TransformRecord],
    ) -> Result<Vec<record_transform::Outcome>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let outcomes = match api {
            Versioned::V0_1(api) => task_result(
                "apply",
                guarded!(core, "apply", |store| api.call_apply(store, records)),
            )?,
            Versioned::V0_2(api) => {
                let batch =
                    packed::pack_transform(records).map_err(|message| GuestError::Fatal {
                        call: "apply",
                        message,
                    })?;
                let applied = task_result(
                    "apply",
                    guarded!(core, "apply", |store| api.call_apply(store, &batch)),
                )?;
                packed::unpack_applied(applied).map_err(|message| {
                    core.usage.faults += 1;
                    GuestError::Fatal {
                        call: "apply",
                        message: format!("the transform answered a malformed batch: {message}"),
                    }
                })?
            }
        };
        if outcomes.len() != records.len() {
            return Err(GuestError::Fatal {
                call: "apply",
                message: format!(
                    "the transform returned {} outcomes for {} records",
                    outcomes.len(),
                    records.len()
                ),
            });
        }
        Ok(outcomes)
    }
}
