//! The worker: connectors and their tasks, running against Kafka.
//!
//! * [`registry`]: plugins found in `plugin.path`, resolved by class name;
//! * [`kafka`]: the cluster (or the embedded dev broker) and topic creation;
//! * [`validation`]: checking a connector configuration before it runs;
//! * [`source_task`] / [`sink_task`]: the data loops;
//! * [`offset_file`]: standalone source offsets, written atomically;
//! * [`status`]: connector and task states.
//!
//! A failing connector or task is marked FAILED with its trace; every other
//! connector keeps running.

pub mod kafka;
pub mod offset_file;
pub mod registry;
pub mod sink_task;
pub mod source_task;
pub mod status;
pub mod validation;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::WorkerConfig;
use crate::config::worker::{lookup, prefixed};
use crate::convert::Converter;
use crate::instance::{ConnectorInstance, InstanceSpec};
use crate::plugin::{Plugin, World};
use crate::sandbox::Sandbox;
use kafka::Kafka;
use offset_file::OffsetFile;
use registry::PluginRegistry;
use status::{State, StatusBoard};

/// How long the worker waits for Kafka to answer at start.
const KAFKA_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Everything a task needs to run.
#[derive(Clone)]
pub struct TaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
    /// The task's configuration.
    pub config: Vec<(String, String)>,
    /// The connector's configuration (client overrides, topics, …).
    pub connector_config: Vec<(String, String)>,
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// Key converter.
    pub key_converter: Converter,
    /// Value converter.
    pub value_converter: Converter,
    /// Kafka.
    pub kafka: Arc<Kafka>,
    /// Source offsets.
    pub offsets: Arc<OffsetFile>,
    /// Worker settings.
    pub worker: Arc<WorkerConfig>,
    /// Where states go.
    pub status: Arc<StatusBoard>,
}

struct RunningConnector {
    instance: ConnectorInstance,
    tasks: Vec<(watch::Sender<bool>, JoinHandle<()>)>,
}

/// A standalone worker.
pub struct Worker {
    config: Arc<WorkerConfig>,
    registry: PluginRegistry,
    kafka: Arc<Kafka>,
    offsets: Arc<OffsetFile>,
    status: Arc<StatusBoard>,
    connectors: tokio::sync::Mutex<BTreeMap<String, RunningConnector>>,
}

impl Worker {
    /// Opens the offsets file, reaches Kafka and loads the plugins.
    pub async fn start(config: WorkerConfig, sandbox: &Sandbox) -> Result<Worker, String> {
        let offset_path = config.offset_file.clone().ok_or_else(|| {
            "Missing required configuration \"offset.storage.file.filename\" which has no default value.".to_string()
        })?;
        let offsets = Arc::new(OffsetFile::open(&offset_path)?);
        let kafka = Kafka::connect(&config.kafka, &config.admin)?;
        kafka.check_reachable(KAFKA_CHECK_TIMEOUT).await?;
        let registry = PluginRegistry::scan(sandbox, &config.plugin_path).await;
        if registry.plugins().is_empty() {
            tracing::warn!(plugin_path = ?config.plugin_path, "no plugins found: set plugin.path to directories holding .wasm plugins");
        }
        Ok(Worker {
            config: Arc::new(config),
            registry,
            kafka: Arc::new(kafka),
            offsets,
            status: Arc::new(StatusBoard::default()),
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
        })
    }

    /// Connector and task states.
    pub fn status(&self) -> &StatusBoard {
        &self.status
    }

    /// The plugins this worker loaded.
    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }

    /// Validates, starts the connector and its tasks. On error nothing runs
    /// and the message says why, in Kafka Connect's words.
    pub async fn create_connector(&self, config: Vec<(String, String)>) -> Result<(), String> {
        let name = lookup(&config, "name").unwrap_or_default().to_string();
        validation::check_name(&name)?;
        let mut connectors = self.connectors.lock().await;
        if connectors.contains_key(&name) {
            return Err(format!("Connector {name} already exists"));
        }
        let class = lookup(&config, "connector.class").ok_or_else(|| {
            format!(
                "Connector config {} contains no connector type",
                render_map(&config)
            )
        })?;
        let plugin = self.registry.connector(class)?;
        let problems = validation::validate(&plugin, &config).await?;
        if !problems.is_empty() {
            return Err(problems.to_message());
        }
        let key_converter = self.converter("key.converter", &config, self.config.key_converter)?;
        let value_converter =
            self.converter("value.converter", &config, self.config.value_converter)?;

        let mut instance =
            ConnectorInstance::new(&plugin, InstanceSpec::new(&name, None, config.clone()))
                .await
                .map_err(|e| e.to_string())?;
        let started = async {
            instance.start(&config).await?;
            let max = lookup(&config, "tasks.max")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(1u32);
            instance.task_configs(max).await
        }
        .await;
        let task_configs = match started {
            Ok(t) => t,
            Err(e) => {
                self.status
                    .connector(&name, State::Failed, Some(e.to_string()));
                return Err(format!("connector {name} failed to start: {e}"));
            }
        };
        self.status.connector(&name, State::Running, None);
        let mut tasks = Vec::new();
        for (i, task_config) in task_configs.into_iter().enumerate() {
            let ctx = TaskContext {
                connector: name.clone(),
                task: i as u32,
                config: task_config_for(&plugin, &config, task_config),
                connector_config: config.clone(),
                plugin: plugin.clone(),
                key_converter,
                value_converter,
                kafka: self.kafka.clone(),
                offsets: self.offsets.clone(),
                worker: self.config.clone(),
                status: self.status.clone(),
            };
            let (stop_tx, stop_rx) = watch::channel(false);
            let handle = match plugin.info().world {
                World::Sink => tokio::spawn(sink_task::run(ctx, stop_rx)),
                _ => tokio::spawn(source_task::run(ctx, stop_rx)),
            };
            tasks.push((stop_tx, handle));
        }
        connectors.insert(name, RunningConnector { instance, tasks });
        Ok(())
    }

    /// Stops every task (flushing offsets) within
    /// `task.shutdown.graceful.timeout.ms`, then the connectors.
    pub async fn shutdown(&self) {
        let mut connectors = self.connectors.lock().await;
        for running in connectors.values() {
            for (stop, _) in &running.tasks {
                let _ = stop.send(true);
            }
        }
        // The tasks' own shutdown waits up to the graceful timeout for Kafka;
        // allow a little more for the guest calls around it.
        let deadline =
            tokio::time::Instant::now() + self.config.shutdown_timeout + Duration::from_secs(5);
        for (name, running) in connectors.iter_mut() {
            for (_, handle) in running.tasks.iter_mut() {
                if tokio::time::timeout_at(deadline, handle).await.is_err() {
                    tracing::warn!(connector = %name, "a task did not stop within the graceful shutdown timeout");
                }
            }
            if let Err(e) = running.instance.stop().await {
                tracing::warn!(connector = %name, "{e}");
            }
            self.status.connector(name, State::Unassigned, None);
        }
        connectors.clear();
    }

    fn converter(
        &self,
        key: &str,
        config: &[(String, String)],
        default: Converter,
    ) -> Result<Converter, String> {
        match lookup(config, key) {
            None => Ok(default),
            Some(class) => {
                let settings = prefixed(config, &format!("{key}."));
                Converter::from_class(class, |s| lookup(&settings, s).map(str::to_string))
                    .map_err(|e| format!("{key}: {e}"))
            }
        }
    }
}

/// What a task is started with: the connector's task configuration plus
/// `task.class`, and for sinks the subscription, as Kafka adds them.
fn task_config_for(
    plugin: &Plugin,
    connector: &[(String, String)],
    mut task: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut add = |key: &str, value: Option<&str>| {
        if let Some(v) = value
            && lookup(&task, key).is_none()
        {
            task.push((key.to_string(), v.to_string()));
        }
    };
    add("task.class", Some(plugin.info().task_class.as_str()));
    if plugin.info().world == World::Sink {
        add("topics", lookup(connector, "topics"));
        add("topics.regex", lookup(connector, "topics.regex"));
    }
    task
}

fn render_map(config: &[(String, String)]) -> String {
    let items: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", items.join(", "))
}
