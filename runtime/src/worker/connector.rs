//! One connector as this worker holds it: its configuration, plugin and
//! target state, and what of it runs here (the connector instance, the
//! task loops). Herders keep these in their own maps and ask the
//! [`Worker`](super::Worker) to start and stop the parts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::task::TaskHandle;
use crate::config::Config;
use crate::config::TargetState;
use crate::instance::ConnectorInstance;
use crate::metrics::ConnectorGuard;
use crate::plugin::{Plugin, World};

/// A connector on this worker (in distributed mode: one whose instance or
/// some of whose tasks this worker runs).
pub struct Connector {
    /// The configuration as submitted (placeholders unresolved).
    pub config: Config,
    /// The plugin version it runs.
    pub plugin: Arc<Plugin>,
    /// Started, paused or stopped.
    pub target: TargetState,
    /// The connector instance, when it runs here.
    pub instance: Option<ConnectorInstance>,
    /// The task configurations, as stored (placeholders unresolved); task
    /// `i` runs `task_configs[i]`.
    pub task_configs: Vec<Config>,
    pub(crate) tasks: BTreeMap<u32, TaskHandle>,
    /// When the instance last generated task configurations (for
    /// [`Worker::recheck_task_configs`](super::Worker::recheck_task_configs)).
    pub(crate) configs_generated: Option<Instant>,
    /// Keeps the connector in `GET /metrics` from the start of its instance
    /// until the instance stops (or this connector is dropped).
    pub(crate) metrics: Option<ConnectorGuard>,
}

impl Connector {
    /// A connector with nothing running yet.
    pub fn new(config: Config, plugin: Arc<Plugin>, target: TargetState) -> Connector {
        Connector {
            config,
            plugin,
            target,
            instance: None,
            task_configs: Vec::new(),
            tasks: BTreeMap::new(),
            configs_generated: None,
            metrics: None,
        }
    }

    /// Stops the connector instance, if it runs (a failing stop is logged).
    pub async fn stop_instance(&mut self, name: &str) {
        self.metrics = None;
        if let Some(mut instance) = self.instance.take()
            && let Err(e) = instance.stop().await
        {
            tracing::warn!(connector = %name, "{e}");
        }
    }

    /// Task numbers whose loop runs here.
    pub fn running_tasks(&self) -> Vec<u32> {
        self.tasks.keys().copied().collect()
    }

    /// Whether task `id` has no live loop here (never started, stopped, or
    /// ended by a failure).
    pub fn is_idle(&self, id: u32) -> bool {
        self.tasks.get(&id).is_none_or(|t| t.is_finished())
    }

    /// `source` or `sink`, as the REST API says.
    pub fn kind(&self) -> &'static str {
        kind_of(&self.plugin)
    }
}

/// `source` or `sink` (`unknown` for a transform), as the REST API says.
pub fn kind_of(plugin: &Plugin) -> &'static str {
    match plugin.info().world {
        World::Sink => "sink",
        World::Source => "source",
        World::Transform => "unknown",
    }
}
