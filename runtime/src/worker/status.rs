//! Connector and task states (spec §8), as the REST status endpoints will
//! show them; every transition is logged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::errors::ErrorCounts;
use crate::sandbox::limits::Usage;

/// A connector or task state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not running on this worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused by an operator.
    Paused,
    /// Failed; see the trace.
    Failed,
    /// Being restarted.
    Restarting,
    /// Stopped by an operator (connectors only).
    Stopped,
}

impl State {
    /// The state Kafka Connect names `name`.
    pub fn parse(name: &str) -> Option<State> {
        [
            State::Unassigned,
            State::Running,
            State::Paused,
            State::Failed,
            State::Restarting,
            State::Stopped,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The name Kafka Connect uses.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
        }
    }
}

/// A state and, for failures, what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// Why it failed, when it did.
    pub trace: Option<String>,
    /// The worker that reported it (`host:port`); `None`: this worker.
    pub worker: Option<String>,
}

impl Status {
    /// A state reported by this worker.
    pub fn local(state: State, trace: Option<String>) -> Status {
        Status {
            state,
            trace,
            worker: None,
        }
    }
}

/// One state change, as a distributed worker publishes it to the status
/// topic (`task` is `None` for the connector itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// Connector name.
    pub connector: String,
    /// Task number, `None` for the connector.
    pub task: Option<u32>,
    /// The new state.
    pub state: State,
    /// The failure trace.
    pub trace: Option<String>,
}

/// One connector's status and its tasks'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorStatus {
    /// The connector itself.
    pub connector: Status,
    /// Its tasks by number.
    pub tasks: BTreeMap<u32, Status>,
    /// Resources each running task has used.
    pub usage: BTreeMap<u32, Usage>,
    /// Record errors each task has met (once it has met one).
    pub errors: BTreeMap<u32, ErrorCounts>,
}

impl ConnectorStatus {
    /// Kafka's restart plan: marks what a restart with these flags restarts
    /// as RESTARTING, and returns whether the connector restarts and which
    /// tasks do.
    pub fn mark_restarting(&mut self, include_tasks: bool, only_failed: bool) -> (bool, Vec<u32>) {
        let connector = !only_failed || self.connector.state == State::Failed;
        if connector {
            self.connector.state = State::Restarting;
            self.connector.trace = None;
        }
        let mut tasks = Vec::new();
        for (id, s) in self.tasks.iter_mut() {
            if include_tasks && (!only_failed || s.state == State::Failed) {
                s.state = State::Restarting;
                s.trace = None;
                tasks.push(*id);
            }
        }
        (connector, tasks)
    }
}

/// Every connector's status on this worker, and the topics each used.
#[derive(Debug, Default)]
pub struct StatusBoard {
    /// Where every change is also sent (distributed mode's status topic).
    listener: Option<tokio::sync::mpsc::UnboundedSender<StatusEvent>>,
    connectors: Mutex<BTreeMap<String, ConnectorStatus>>,
    /// Each connector's kind and plugin version, so that status reads never
    /// wait for the herder (which may be busy starting or stopping tasks).
    described: Mutex<BTreeMap<String, (&'static str, String)>>,
    topics: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

impl StatusBoard {
    /// A board that also sends every change to `listener`.
    pub fn with_listener(listener: tokio::sync::mpsc::UnboundedSender<StatusEvent>) -> Self {
        StatusBoard {
            listener: Some(listener),
            ..StatusBoard::default()
        }
    }

    fn publish(&self, connector: &str, task: Option<u32>, state: State, trace: Option<&str>) {
        if let Some(listener) = &self.listener {
            let _ = listener.send(StatusEvent {
                connector: connector.to_string(),
                task,
                state,
                trace: trace.map(str::to_string),
            });
        }
    }

    /// Sets the connector's state.
    pub fn connector(&self, name: &str, state: State, trace: Option<String>) {
        log(name, None, state, trace.as_deref());
        self.publish(name, None, state, trace.as_deref());
        if let Ok(mut all) = self.connectors.lock() {
            let entry = all
                .entry(name.to_string())
                .or_insert_with(|| ConnectorStatus {
                    connector: Status::local(state, None),
                    tasks: BTreeMap::new(),
                    usage: BTreeMap::new(),
                    errors: BTreeMap::new(),
                });
            entry.connector = Status::local(state, trace);
        }
    }

    /// Sets a task's state.
    pub fn task(&self, name: &str, task: u32, state: State, trace: Option<String>) {
        log(name, Some(task), state, trace.as_deref());
        self.publish(name, Some(task), state, trace.as_deref());
        if let Ok(mut all) = self.connectors.lock() {
            let entry = all
                .entry(name.to_string())
                .or_insert_with(|| ConnectorStatus {
                    connector: Status::local(State::Unassigned, None),
                    tasks: BTreeMap::new(),
                    usage: BTreeMap::new(),
                    errors: BTreeMap::new(),
                });
            entry.tasks.insert(task, Status::local(state, trace));
        }
    }

    /// The connector's status, if known.
    pub fn get(&self, name: &str) -> Option<ConnectorStatus> {
        self.connectors
            .lock()
            .ok()
            .and_then(|all| all.get(name).cloned())
    }

    /// Forgets the connector's status (its topics stay until reset).
    pub fn remove(&self, name: &str) {
        if let Ok(mut all) = self.connectors.lock() {
            all.remove(name);
        }
        if let Ok(mut all) = self.described.lock() {
            all.remove(name);
        }
    }

    /// Records the connector's kind (`source`/`sink`) and plugin version.
    pub fn describe(&self, name: &str, kind: &'static str, version: &str) {
        if let Ok(mut all) = self.described.lock() {
            all.insert(name.to_string(), (kind, version.to_string()));
        }
    }

    /// The connector's kind and plugin version, if it is known.
    pub fn description(&self, name: &str) -> Option<(&'static str, String)> {
        self.described
            .lock()
            .ok()
            .and_then(|all| all.get(name).cloned())
    }

    /// Records what a task has used so far.
    pub fn task_usage(&self, name: &str, task: u32, usage: Usage) {
        if let Ok(mut all) = self.connectors.lock()
            && let Some(c) = all.get_mut(name)
        {
            c.usage.insert(task, usage);
        }
    }

    /// Records the record errors a task has met so far.
    pub fn task_errors(&self, name: &str, task: u32, counts: ErrorCounts) {
        if let Ok(mut all) = self.connectors.lock()
            && let Some(c) = all.get_mut(name)
        {
            c.errors.insert(task, counts);
        }
    }

    /// Forgets what an earlier run of the task reported (usage, record
    /// errors): a task starting again starts from zero, as its metrics do.
    pub fn forget_task_reports(&self, name: &str, task: u32) {
        if let Ok(mut all) = self.connectors.lock()
            && let Some(c) = all.get_mut(name)
        {
            c.usage.remove(&task);
            c.errors.remove(&task);
        }
    }

    /// Forgets every task status of the connector.
    pub fn clear_tasks(&self, name: &str) {
        if let Ok(mut all) = self.connectors.lock()
            && let Some(c) = all.get_mut(name)
        {
            c.tasks.clear();
            c.usage.clear();
            c.errors.clear();
        }
    }

    /// Notes that the connector produced to or consumed from `topic`.
    pub fn record_topic(&self, connector: &str, topic: &str) {
        if let Ok(mut t) = self.topics.lock() {
            let set = t.entry(connector.to_string()).or_default();
            if !set.contains(topic) {
                set.insert(topic.to_string());
            }
        }
    }

    /// The topics the connector used since creation or the last reset.
    pub fn topics(&self, connector: &str) -> Vec<String> {
        self.topics
            .lock()
            .map(|t| {
                t.get(connector)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Forgets the topics the connector used.
    pub fn reset_topics(&self, connector: &str) {
        if let Ok(mut t) = self.topics.lock() {
            t.remove(connector);
        }
    }
}

fn log(connector: &str, task: Option<u32>, state: State, trace: Option<&str>) {
    match (state, trace) {
        (State::Failed, Some(trace)) => {
            tracing::error!(connector, task, state = state.as_str(), "{trace}")
        }
        _ => tracing::info!(connector, task, state = state.as_str(), "status changed"),
    }
}
