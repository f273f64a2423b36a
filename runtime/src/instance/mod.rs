//! Running plugin instances: one `Store` per connector or task instance.
//!
//! Each call into a guest runs under the instance's wall-clock deadline.
//! While it runs, the guest yields to the async runtime at every epoch tick,
//! so a busy guest never holds a worker thread. Whatever goes wrong inside
//! the guest (a trap, a panic, a refused memory growth, a missed deadline)
//! comes back as a [`GuestError`]; after a trap or a missed deadline the
//! instance is poisoned and refuses further calls, and dropping it releases
//! its memory.

pub mod inspect;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wasmtime::Store;
use wasmtime::component::Instance;

use crate::bindings::config_def::ConfigValue;
use crate::bindings::source_task::RecordAck;
use crate::bindings::types::{
    PartitionOffset, SinkRecord, SourceRecord, TaskError, TopicPartition, TransformRecord,
};
use crate::bindings::{connector, plugin as plugin_api, record_transform, sink_task, source_task};
pub use crate::config::providers::Secrets;
use crate::error::GuestError;
use crate::host::grants::Grants;
use crate::host::offsets::OffsetReader;
use crate::plugin::{Plugin, World};
use crate::sandbox::limits::Usage;
use crate::sandbox::state::StateParts;
use crate::sandbox::{HostState, Limits};

/// A configuration map.
pub type Config = Vec<(String, String)>;

/// Who an instance is and what it may use.
#[derive(Clone)]
pub struct InstanceSpec {
    /// The connector's name.
    pub connector: String,
    /// The task number; `None` for the connector instance.
    pub task: Option<u32>,
    /// The configuration whose resource-marked keys are granted.
    pub config: Config,
    /// Limits the connector asks for; `None` takes the worker's defaults.
    /// Either way they are capped at the worker's maximums.
    pub limits: Option<Limits>,
    /// Where committed source offsets are read from (source tasks).
    pub offsets: Option<Arc<dyn OffsetReader>>,
    /// Directory relative paths in the configuration resolve against.
    pub cwd: PathBuf,
    /// Provider-resolved values hidden from what the guest writes.
    pub secrets: Secrets,
}

impl InstanceSpec {
    /// A spec for `connector` (task `task`) granting what `config` names,
    /// with relative paths resolved against the worker's current directory.
    pub fn new(connector: impl Into<String>, task: Option<u32>, config: Config) -> Self {
        InstanceSpec {
            connector: connector.into(),
            task,
            config,
            limits: None,
            offsets: None,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            secrets: Secrets::default(),
        }
    }

    /// A throwaway instance for metadata and validation: no grants.
    pub(crate) fn inspection() -> Self {
        InstanceSpec::new("<plugin inspection>", None, Vec::new())
    }
}

/// Asks an instance to stop from outside a running call. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Raises the stop flag: `context.stop-requested` turns true and the
    /// `stop-signal` pollable becomes ready.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// The store and instance behind every typed instance below.
pub(crate) struct Core {
    pub(crate) store: Store<HostState>,
    instance: Instance,
    pub(crate) limits: Limits,
    poisoned: bool,
    stop: StopHandle,
    pub(crate) usage: Usage,
}

impl Core {
    /// Instantiates `plugin` for `spec`: grants, limits, stdio, stop flag.
    pub(crate) async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Core, GuestError> {
        let sandbox = &plugin.sandbox;
        let config = sandbox.config();
        let limits = spec
            .limits
            .unwrap_or(config.default_limits)
            .capped_at(config.max_limits);
        let grants = Grants::from_config(
            plugin.config_definition(),
            &spec.config,
            &config.grant_policy,
            &spec.cwd,
        )
        .map_err(|e| GuestError::Instantiate(e.message))?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let state = HostState::new(StateParts {
            connector: spec.connector.into(),
            task: spec.task,
            grants,
            cwd: spec.cwd,
            memory_limit: limits.memory_bytes,
            log_lines_per_second: limits.log_lines_per_second,
            offsets: spec.offsets,
            stop: stop_rx,
            secrets: spec.secrets,
        })
        .map_err(GuestError::Instantiate)?;
        let mut store = Store::new(sandbox.engine(), state);
        store.limiter(|s| &mut s.limiter);
        // Yield to the async runtime at every epoch tick.
        store.epoch_deadline_async_yield_and_update(1);
        let instance = match tokio::time::timeout(
            limits.call_deadline,
            plugin.pre.instantiate_async(&mut store),
        )
        .await
        {
            Ok(Ok(i)) => i,
            Ok(Err(e)) => {
                let limiter = &store.data().limiter;
                return Err(match limiter.refused() {
                    Some(requested) => GuestError::MemoryLimit {
                        call: "instantiate",
                        limit: limiter.limit(),
                        requested,
                    },
                    None => GuestError::Instantiate(trap_message(&e, &store.data().stderr.text())),
                });
            }
            Err(_) => {
                return Err(GuestError::Deadline {
                    call: "instantiate",
                    deadline: limits.call_deadline,
                });
            }
        };
        Ok(Core {
            store,
            instance,
            limits,
            poisoned: false,
            stop: StopHandle(Arc::new(stop_tx)),
            usage: Usage::default(),
        })
    }

    /// Loads an exported interface from the instance.
    pub(crate) fn load<G>(
        &mut self,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<G>,
    ) -> Result<G, GuestError> {
        f(&mut self.store, &self.instance).map_err(|e| GuestError::Instantiate(format!("{e:#}")))
    }

    /// Refuses calls on a poisoned instance.
    pub(crate) fn begin(&self, call: &'static str) -> Result<(), GuestError> {
        if self.poisoned {
            Err(GuestError::Poisoned { call })
        } else {
            Ok(())
        }
    }

    /// Turns the outcome of a guarded call into a value or a [`GuestError`].
    pub(crate) fn finish<T>(
        &mut self,
        call: &'static str,
        started: std::time::Instant,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, GuestError> {
        self.usage.calls += 1;
        self.usage.guest_time += started.elapsed();
        if !matches!(outcome, Ok(Ok(_))) {
            self.usage.faults += 1;
        }
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                self.poisoned = true;
                let state = self.store.data();
                Err(match state.limiter.refused() {
                    Some(requested) => GuestError::MemoryLimit {
                        call,
                        limit: state.limiter.limit(),
                        requested,
                    },
                    None if e.downcast_ref::<wasmtime::Trap>()
                        == Some(&wasmtime::Trap::StackOverflow) =>
                    {
                        GuestError::StackOverflow { call }
                    }
                    None => GuestError::Trap {
                        call,
                        message: trap_message(&e, &state.stderr.text()),
                    },
                })
            }
            Err(_) => {
                self.poisoned = true;
                Err(GuestError::Deadline {
                    call,
                    deadline: self.limits.call_deadline,
                })
            }
        }
    }

    fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Resources used so far.
    fn usage(&self) -> Usage {
        let state = self.store.data();
        Usage {
            memory_bytes: state.limiter.current(),
            peak_memory_bytes: state.limiter.peak(),
            log_lines_dropped: state.log_budget.dropped(),
            ..self.usage
        }
    }
}

/// Calls into the guest under the instance's deadline:
/// `guarded!(core, "poll", |store| api.call_poll(store))`.
macro_rules! guarded {
    ($core:ident, $call:literal, |$store:ident| $body:expr) => {{
        match $core.begin($call) {
            Err(e) => Err(e),
            Ok(()) => {
                let deadline = $core.limits.call_deadline;
                let started = ::std::time::Instant::now();
                let $store = &mut $core.store;
                let outcome = ::tokio::time::timeout(deadline, $body).await;
                $core.finish($call, started, outcome)
            }
        }
    }};
}
pub(crate) use guarded;

/// A trap's root cause plus what the guest last wrote to stderr.
fn trap_message(e: &wasmtime::Error, stderr: &str) -> String {
    let cause = match e.downcast_ref::<wasmtime::Trap>() {
        // Displays as "wasm trap: …" already.
        Some(trap) => trap.to_string(),
        None => format!("{e:#}"),
    };
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    if said.is_empty() {
        cause
    } else {
        format!("{cause}\nguest stderr:\n{}", said.join("\n"))
    }
}

/// Flattens the plugin's own `result<_, task-error>` into [`GuestError`].
fn task_result<T>(
    call: &'static str,
    r: Result<Result<T, TaskError>, GuestError>,
) -> Result<T, GuestError> {
    match r? {
        Ok(v) => Ok(v),
        Err(TaskError::Retriable(e)) => Err(GuestError::Retriable {
            call,
            message: e.message,
            backoff: e.backoff_ms.map(|ms| Duration::from_millis(ms.into())),
        }),
        Err(TaskError::Fatal(message)) => Err(GuestError::Fatal { call, message }),
    }
}

fn wrong_world(plugin: &Plugin, wanted: &str) -> GuestError {
    GuestError::Instantiate(format!(
        "{} is a {} plugin, not a {wanted}",
        plugin.info().name,
        plugin.info().world
    ))
}

/// The connector role of a source or sink plugin.
pub struct ConnectorInstance {
    core: Core,
    api: connector::Guest,
    plugin_api: plugin_api::Guest,
}

impl ConnectorInstance {
    /// Instantiates the connector role of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        let indices = plugin
            .exports
            .connector
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, "connector"))?;
        let mut core = Core::new(plugin, spec).await?;
        let api = core.load(|s, i| indices.load(s, i))?;
        let plugin_api = core.load(|s, i| plugin.exports.plugin.load(s, i))?;
        Ok(ConnectorInstance {
            core,
            api,
            plugin_api,
        })
    }

    /// `plugin.validate` on this instance.
    pub async fn validate(
        &mut self,
        config: &[(String, String)],
    ) -> Result<Vec<ConfigValue>, GuestError> {
        let (core, api, config) = (&mut self.core, &self.plugin_api, config.to_vec());
        guarded!(core, "validate", |store| api.call_validate(store, &config))
    }

    /// `connector.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            guarded!(core, "start", |store| api.call_start(store, &config)),
        )
    }

    /// `connector.task-configs`; more than `max_tasks` configurations breaks
    /// the contract and is a fatal error.
    pub async fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let configs = task_result(
            "task-configs",
            guarded!(core, "task-configs", |store| api
                .call_task_configs(store, max_tasks)),
        )?;
        if configs.len() > max_tasks as usize {
            return Err(GuestError::Fatal {
                call: "task-configs",
                message: format!(
                    "the connector returned {} task configurations, more than tasks.max ({max_tasks})",
                    configs.len()
                ),
            });
        }
        Ok(configs)
    }

    /// `connector.alter-offsets`.
    pub async fn alter_offsets(
        &mut self,
        config: &[(String, String)],
        offsets: &[(String, Option<String>)],
    ) -> Result<bool, GuestError> {
        let (core, api, config, offsets) =
            (&mut self.core, &self.api, config.to_vec(), offsets.to_vec());
        task_result(
            "alter-offsets",
            guarded!(core, "alter-offsets", |store| api
                .call_alter_offsets(store, &config, &offsets)),
        )
    }

    /// `connector.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        guarded!(core, "stop", |store| api.call_stop(store))
    }

    /// A handle that raises this instance's stop flag.
    pub fn stop_handle(&self) -> StopHandle {
        self.core.stop_handle()
    }
}

/// A source task instance.
pub struct SourceTaskInstance {
    core: Core,
    api: source_task::Guest,
}

impl SourceTaskInstance {
    /// Instantiates a source task of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        let indices = plugin
            .exports
            .source
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Source.as_str()))?;
        let mut core = Core::new(plugin, spec).await?;
        let api = core.load(|s, i| indices.load(s, i))?;
        Ok(SourceTaskInstance { core, api })
    }

    /// `source-task.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            guarded!(core, "start", |store| api.call_start(store, &config)),
        )
    }

    /// `source-task.poll`.
    pub async fn poll(&mut self) -> Result<Vec<SourceRecord>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let records = task_result("poll", guarded!(core, "poll", |store| api.call_poll(store)))?;
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
            guarded!(core, "commit-records", |store| api
                .call_commit_records(store, acks)),
        )
    }

    /// `source-task.commit`.
    pub async fn commit(&mut self) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "commit",
            guarded!(core, "commit", |store| api.call_commit(store)),
        )
    }

    /// Raises the stop flag, then calls `source-task.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        guarded!(core, "stop", |store| api.call_stop(store))
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

/// A sink task instance.
pub struct SinkTaskInstance {
    core: Core,
    api: sink_task::Guest,
}

impl SinkTaskInstance {
    /// Memory, guest time, calls and faults so far.
    pub fn usage(&self) -> Usage {
        self.core.usage()
    }

    /// Instantiates a sink task of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        let indices = plugin
            .exports
            .sink
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Sink.as_str()))?;
        let mut core = Core::new(plugin, spec).await?;
        let api = core.load(|s, i| indices.load(s, i))?;
        Ok(SinkTaskInstance { core, api })
    }

    /// `sink-task.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            guarded!(core, "start", |store| api.call_start(store, &config)),
        )
    }

    /// `sink-task.open`.
    pub async fn open(&mut self, partitions: &[TopicPartition]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "open",
            guarded!(core, "open", |store| api.call_open(store, partitions)),
        )
    }

    /// `sink-task.close`.
    pub async fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "close",
            guarded!(core, "close", |store| api.call_close(store, partitions)),
        )
    }

    /// `sink-task.put`.
    pub async fn put(&mut self, records: &[SinkRecord]) -> Result<(), GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        task_result(
            "put",
            guarded!(core, "put", |store| api.call_put(store, records)),
        )
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
            guarded!(core, "pre-commit", |store| api
                .call_pre_commit(store, current)),
        )
    }

    /// Raises the stop flag, then calls `sink-task.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        guarded!(core, "stop", |store| api.call_stop(store))
    }

    /// A handle that raises this instance's stop flag during a call.
    pub fn stop_handle(&self) -> StopHandle {
        self.core.stop_handle()
    }
}

/// A transform instance.
pub struct TransformInstance {
    core: Core,
    api: record_transform::Guest,
}

impl TransformInstance {
    /// Instantiates `plugin` as a transform.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        let indices = plugin
            .exports
            .transform
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, World::Transform.as_str()))?;
        let mut core = Core::new(plugin, spec).await?;
        let api = core.load(|s, i| indices.load(s, i))?;
        Ok(TransformInstance { core, api })
    }

    /// `record-transform.configure`.
    pub async fn configure(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "configure",
            guarded!(core, "configure", |store| api
                .call_configure(store, &config)),
        )
    }

    /// `record-transform.apply`; anything but one outcome per record breaks
    /// the contract and is a fatal error.
    pub async fn apply(
        &mut self,
        records: &[TransformRecord],
    ) -> Result<Vec<record_transform::Outcome>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let outcomes = task_result(
            "apply",
            guarded!(core, "apply", |store| api.call_apply(store, records)),
        )?;
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
