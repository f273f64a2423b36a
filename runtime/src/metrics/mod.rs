//! `GET /metrics`: the worker's metrics in the Prometheus text format
//! (0.0.4), named after Kafka Connect's JMX metrics so that dashboards
//! built on the Prometheus JMX exporter carry over one to one.
//!
//! # Naming
//!
//! The JMX exporter's default translation, lower-cased: an MBean
//! `kafka.connect:type=<group>,connector=<c>,task=<t>` and attribute
//! `<attribute>` become `kafka_connect_<group>_<attribute>{connector="<c>",
//! task="<t>"}`, every `-` turned into `_`. So `source-record-poll-total` of
//! `source-task-metrics` is
//! `kafka_connect_source_task_metrics_source_record_poll_total`. Every
//! series also carries `worker="<host:port>"`, the `worker_id` the status
//! endpoints report. Kafka's string attributes (a status, a class) become
//! labels of a series whose value is 1. Metrics of our own (a guest's
//! memory and time) are `wasmconnect_task_*`. `docs/metrics.md` lists
//! every metric with its type, labels and the Kafka name it mirrors.
//!
//! Kafka attributes whose name ends in `-total` are counters; every other
//! attribute (including `total-record-errors` and friends, whose `total` is
//! a prefix) is a gauge, as the JMX exporter shows them.
//!
//! Rates, averages and maxima are computed as Kafka computes them, over
//! `metrics.num.samples` samples of `metrics.sample.window.ms` (Kafka's
//! defaults: two of 30 s, so the last 30–60 s); see [`window`].
//!
//! # Who calls what
//!
//! * The [`Worker`](crate::worker::Worker) owns one [`Metrics`]; it
//!   registers a connector when it starts the connector's instance
//!   ([`Metrics::connector_starting`]) and a task when it spawns the task's
//!   loop ([`Metrics::task_starting`]). Each registration is a guard kept
//!   beside what it describes (the `Connector`, the task's handle): when the
//!   worker drops it, as it does when it stops the task or the connector,
//!   the series leave the output at once. A task whose loop failed keeps
//!   its series, with `status="failed"`, until the worker stops it, as in
//!   Kafka.
//! * Task loops update their [`TaskMetrics`] (atomics, no lock).
//! * The REST handler calls [`Metrics::render`] with the status board,
//!   where task states, record error counts and guest usage already live.
//!
//! The endpoint is served with the rest of the API, under the same
//! authentication (see `rest::auth`): open to reads unless
//! `rest.auth.protect.reads=true`, as Kafka Connect's REST extensions would
//! protect it. Nothing in it comes from a configuration value: labels are
//! connector names, task numbers, states and plugin names.

mod render;
pub mod task;
pub mod window;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use render::{CONTENT_TYPE, FAMILIES, Family};
pub use task::{StartupCounters, TaskKind, TaskMetrics};
pub use window::WindowSpec;

use crate::plugin::{Plugin, World};
use crate::worker::status::StatusBoard;

/// A connector registered here: what `connector-metrics` shows besides its
/// status.
#[derive(Debug)]
struct ConnectorInfo {
    class: String,
    kind: &'static str,
    version: String,
}

/// The metrics of one worker.
#[derive(Debug)]
pub struct Metrics {
    worker_id: String,
    spec: WindowSpec,
    startups: Arc<StartupCounters>,
    connectors: Mutex<BTreeMap<String, Arc<ConnectorInfo>>>,
    tasks: Mutex<BTreeMap<(String, u32), Arc<TaskMetrics>>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold no invariant a panicking holder could break halfway.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// The metrics of worker `worker_id`, with windows shaped by `spec`.
    pub fn new(worker_id: &str, spec: WindowSpec) -> Arc<Metrics> {
        Arc::new(Metrics {
            worker_id: worker_id.to_string(),
            spec,
            startups: Arc::default(),
            connectors: Mutex::default(),
            tasks: Mutex::default(),
        })
    }

    /// Counts a start of connector `name`'s instance and shows the
    /// connector until the returned guard is dropped. Report the outcome
    /// with [`Metrics::connector_started`].
    pub fn connector_starting(self: &Arc<Self>, name: &str, plugin: &Plugin) -> ConnectorGuard {
        self.startups
            .connector_attempts
            .fetch_add(1, Ordering::Relaxed);
        let info = plugin.info();
        let entry = Arc::new(ConnectorInfo {
            class: info.name.clone(),
            kind: match info.world {
                World::Sink => "sink",
                World::Source => "source",
                World::Transform => "unknown",
            },
            version: info.version.clone(),
        });
        locked(&self.connectors).insert(name.to_string(), entry.clone());
        ConnectorGuard {
            metrics: self.clone(),
            name: name.to_string(),
            entry,
        }
    }

    /// How the start [`Metrics::connector_starting`] counted ended.
    pub fn connector_started(&self, ok: bool) {
        let counter = if ok {
            &self.startups.connector_successes
        } else {
            &self.startups.connector_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a start of task `task` of `connector` and returns its
    /// counters, shown until the guard is dropped. The task reports how
    /// its start went ([`TaskMetrics::start_succeeded`]).
    pub fn task_starting(
        self: &Arc<Self>,
        connector: &str,
        task: u32,
        kind: TaskKind,
    ) -> (TaskGuard, Arc<TaskMetrics>) {
        self.startups.task_attempts.fetch_add(1, Ordering::Relaxed);
        let metrics = Arc::new(TaskMetrics::new(kind, self.spec, self.startups.clone()));
        let key = (connector.to_string(), task);
        locked(&self.tasks).insert(key.clone(), metrics.clone());
        let guard = TaskGuard {
            metrics: self.clone(),
            key,
            task: metrics.clone(),
        };
        (guard, metrics)
    }

    /// Everything, in the Prometheus text format (0.0.4); `status` gives
    /// the states, record errors and guest usage of what is registered.
    pub fn render(&self, status: &StatusBoard) -> String {
        let connectors: Vec<(String, Arc<ConnectorInfo>)> = locked(&self.connectors)
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect();
        let tasks: Vec<((String, u32), Arc<TaskMetrics>)> = locked(&self.tasks)
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        render::render(&render::Scrape {
            worker: &self.worker_id,
            startups: &self.startups,
            connectors: &connectors,
            tasks: &tasks,
            status,
        })
    }
}

/// Keeps a connector in the output; dropping it removes the connector.
#[derive(Debug)]
pub struct ConnectorGuard {
    metrics: Arc<Metrics>,
    name: String,
    entry: Arc<ConnectorInfo>,
}

impl Drop for ConnectorGuard {
    fn drop(&mut self) {
        let mut all = locked(&self.metrics.connectors);
        // A newer start of the same connector may have registered since:
        // only this guard's own entry goes.
        if all
            .get(&self.name)
            .is_some_and(|e| Arc::ptr_eq(e, &self.entry))
        {
            all.remove(&self.name);
        }
    }
}

/// Keeps a task in the output; dropping it removes the task's series.
#[derive(Debug)]
pub struct TaskGuard {
    metrics: Arc<Metrics>,
    key: (String, u32),
    task: Arc<TaskMetrics>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let mut all = locked(&self.metrics.tasks);
        if all
            .get(&self.key)
            .is_some_and(|t| Arc::ptr_eq(t, &self.task))
        {
            all.remove(&self.key);
        }
    }
}
