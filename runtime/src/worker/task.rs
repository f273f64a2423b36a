//! Task plumbing below both data loops: what a task is handed
//! ([`TaskContext`]), the shape every loop has ([`TaskLoop`]), and
//! [`run_task`], which runs one to its end and records the outcome.
//!
//! [`super::source_task`] and [`super::sink_task`] build on this module; it
//! knows neither.

use std::future::Future;
use std::sync::Arc;

use rdkafka::ClientConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::kafka::Kafka;
use super::settings::TaskSettings;
use super::status::{State, StatusBoard};
use super::store::ConnectorStore;
use super::transforms;
use crate::config::clients::task_producer;
use crate::config::providers::Secrets;
use crate::config::{Config, WorkerConfig};
use crate::convert::Converter;
use crate::metrics::{TaskGuard, TaskMetrics};
use crate::plugin::Plugin;
use crate::sandbox::Limits;
use crate::store::OffsetBackingStore;

/// Everything a task needs to run.
#[derive(Clone)]
pub struct TaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
    /// The task's configuration.
    pub config: Config,
    /// The connector's configuration (client overrides, topics, …).
    pub connector_config: Config,
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// Key converter.
    pub key_converter: Converter,
    /// Value converter.
    pub value_converter: Converter,
    /// Kafka.
    pub kafka: Arc<Kafka>,
    /// Source offsets.
    pub offsets: Arc<dyn OffsetBackingStore>,
    /// Worker settings.
    pub worker: Arc<WorkerConfig>,
    /// Where states go.
    pub status: Arc<StatusBoard>,
    /// Where failures are remembered.
    pub store: Arc<ConnectorStore>,
    /// The limits the connector asked for (`None`: the worker's defaults).
    pub limits: Option<Limits>,
    /// The connector's transformation chain, resolved.
    pub transforms: Arc<[transforms::StageSpec]>,
    /// What the task loop takes from configuration, parsed once.
    pub settings: Arc<TaskSettings>,
    /// Provider-resolved values of the connector's and the task's
    /// configurations: hidden from the guest's output and from the trace.
    pub secrets: Secrets,
    /// The task's counters for `GET /metrics`.
    pub metrics: Arc<TaskMetrics>,
}

impl TaskContext {
    /// The settings of one of the task's producers (`role`: see
    /// [`task_producer`]): the worker's `producer.*`, then the connector's
    /// `producer.override.*` the worker's policy permits.
    pub fn producer_settings(&self, role: &str) -> ClientConfig {
        task_producer(
            role,
            self.kafka.bootstrap(),
            &self.connector,
            self.task,
            &self.worker.producer,
            &self
                .worker
                .overrides
                .permitted(&self.connector_config, "producer.override."),
        )
    }
}

/// A running task: its stop flag and its join handle.
pub(crate) struct TaskHandle {
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) join: JoinHandle<()>,
    /// Keeps the task's series in `GET /metrics` while the handle lives.
    pub(crate) _metrics: TaskGuard,
}

impl TaskHandle {
    /// Whether the task's loop has ended (stopped or failed).
    pub(crate) fn is_finished(&self) -> bool {
        self.join.is_finished()
    }
}

/// The shape of a task's data loop, shared by sources and sinks.
pub(crate) trait TaskLoop: Sized + Send + 'static {
    /// Moves data until the stop flag is raised; an error fails the task.
    async fn run(&mut self) -> Result<(), String>;
    /// Flushes what can be flushed (`clean`: the loop ended without error)
    /// and stops the guest.
    async fn shutdown(&mut self, clean: bool) -> Result<(), String>;
}

/// Runs a task loop to its end and records the outcome: UNASSIGNED after a
/// clean stop, FAILED with the trace (remembered across restarts) otherwise.
/// `start` creates the instance and clients and starts the guest task.
pub(crate) async fn run_task<L: TaskLoop>(
    ctx: TaskContext,
    start: impl Future<Output = Result<L, String>>,
) {
    let (connector, task) = (ctx.connector.clone(), ctx.task);
    ctx.status.task(&connector, task, State::Running, None);
    ctx.status.forget_task_reports(&connector, task);
    let (outcome, runner) = match start.await {
        Ok(mut runner) => {
            ctx.metrics.start_succeeded();
            let ran = runner.run().await;
            let stopped = runner.shutdown(ran.is_ok()).await;
            (ran.and(stopped), Some(runner))
        }
        Err(trace) => {
            ctx.metrics.start_failed();
            (Err(trace), None)
        }
    };
    // Dropping Kafka clients blocks (a producer joins its polling thread and
    // flushes, a consumer leaves its group): keep that off the async
    // threads, then give the freed heap back.
    let _ = tokio::task::spawn_blocking(move || {
        drop(runner);
        release_freed_heap();
    })
    .await;
    match outcome {
        Ok(()) => ctx.status.task(&connector, task, State::Unassigned, None),
        Err(trace) => {
            let trace = ctx.secrets.hide(&trace).into_owned();
            // The store fsyncs; keep that off the async worker threads.
            let (store, name, why) = (ctx.store.clone(), connector.clone(), trace.clone());
            let _ = tokio::task::spawn_blocking(move || store.task_failed(&name, task, &why)).await;
            ctx.status
                .task(&connector, task, State::Failed, Some(trace));
        }
    }
}

/// Returns freed heap pages to the operating system. The binary's own
/// allocator (mimalloc, see `crate::allocator`) hands them back as they are
/// freed, but librdkafka allocates through glibc, which keeps a closed
/// client's buffers in its arenas (above all in other threads' arenas,
/// which it never trims on its own), and library users may keep glibc's
/// allocator for everything; the worker's RSS would then stay high after
/// the task is gone.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's own arenas to
    // the kernel; it has no preconditions and may run at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
