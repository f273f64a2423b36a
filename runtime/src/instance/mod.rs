//! Running plugin instances: one `Store` per connector or task instance.
//!
//! Each call into a guest runs under the instance's wall-clock deadline.
//! While it runs, the guest yields to the async runtime at every epoch tick,
//! so a busy guest never holds a worker thread. Whatever goes wrong inside
//! the guest (a trap, a panic, a refused memory growth, a missed deadline)
//! comes back as a [`GuestError`]; after a trap or a missed deadline the
//! instance is poisoned and refuses further calls, and dropping it releases
//! its memory.
//!
//! Each instance holds the plugin's compiled code (an `Arc` of the linked
//! component it was made from) for its whole life: the instances of one
//! plugin share one copy, and the plugin lets it go when the last of them
//! is dropped (see [`crate::plugin::code`]).
//!
//! Here: the store (`Core`), the deadline guard and error mapping. The
//! typed instances callers use are in `connector.rs` (the connector role) and
//! `tasks.rs` (source, sink, transform); they speak either contract version,
//! packing 0.2.0's batches through `packed.rs`, so callers never see which.

mod connector;
pub mod inspect;
mod packed;
mod tasks;

pub use connector::ConnectorInstance;
pub use tasks::{SinkTaskInstance, SourceTaskInstance, TransformInstance};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wasmtime::Store;
use wasmtime::component::Instance;

use crate::bindings::types::TaskError;
pub use crate::config::providers::Secrets;
use crate::error::GuestError;
use crate::host::grants::Grants;
use crate::host::http::HttpSettings;
use crate::host::offsets::OffsetReader;
use crate::plugin::Plugin;
use crate::plugin::code::Linked;
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

/// The store and instance behind every typed instance.
pub(crate) struct Core {
    pub(crate) store: Store<HostState>,
    instance: Instance,
    pub(crate) limits: Limits,
    poisoned: bool,
    stop: StopHandle,
    pub(crate) usage: Usage,
    /// The code this instance was made from, and its export indices; held
    /// so that the plugin's code stays loaded while the instance lives.
    pub(crate) code: Arc<Linked>,
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
            http: HttpSettings {
                connect_timeout: limits.http_connect_timeout,
                response_timeout: limits.http_response_timeout,
                response_bytes: limits.http_response_bytes,
                tls: config.http_tls.clone(),
            },
            offsets: spec.offsets,
            stop: stop_rx,
            secrets: spec.secrets,
        })
        .map_err(GuestError::Instantiate)?;
        // After the grants, so that a configuration error is reported as
        // before whether the code is loaded or not.
        let code = plugin.linked().await.map_err(GuestError::Instantiate)?;
        let mut store = Store::new(sandbox.engine(), state);
        store.limiter(|s| &mut s.limiter);
        // Yield to the async runtime at every epoch tick.
        store.epoch_deadline_async_yield_and_update(1);
        let instance = match tokio::time::timeout(
            limits.call_deadline,
            code.pre.instantiate_async(&mut store),
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
            code,
        })
    }

    /// Loads an exported interface from the instance.
    pub(crate) fn load<G>(
        &mut self,
        f: impl FnOnce(&mut Store<HostState>, &Instance) -> wasmtime::Result<G>,
    ) -> Result<G, GuestError> {
        f(&mut self.store, &self.instance).map_err(|e| GuestError::Instantiate(format!("{e:#}")))
    }

    /// Refuses calls on a poisoned instance; otherwise tells the
    /// capabilities that wait on the outside world when this call must
    /// end, so that they give up in time instead of poisoning it, and
    /// returns when the call starts.
    pub(crate) fn begin(&mut self, call: &'static str) -> Result<std::time::Instant, GuestError> {
        if self.poisoned {
            return Err(GuestError::Poisoned { call });
        }
        let started = std::time::Instant::now();
        let state = self.store.data_mut();
        state
            .database
            .set_deadline(started + self.limits.call_deadline);
        state.http.set_deadline(started + self.limits.call_deadline);
        Ok(started)
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
        let (http_requests, http_bytes_sent, http_bytes_received) = state.http.counts();
        Usage {
            memory_bytes: state.limiter.current(),
            peak_memory_bytes: state.limiter.peak(),
            log_lines_dropped: state.log_budget.dropped(),
            http_requests,
            http_bytes_sent,
            http_bytes_received,
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
            Ok(started) => {
                let deadline = $core.limits.call_deadline;
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
