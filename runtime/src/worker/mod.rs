//! The worker: connectors and their tasks, running against Kafka, managed
//! the way Kafka Connect's herder manages them.
//!
//! * [`registry`]: plugins found in `plugin.path`, resolved by class name;
//! * [`kafka`]: the cluster (or the embedded dev broker) and topic creation;
//! * [`validation`]: checking a connector configuration before it runs;
//! * [`source_task`] / [`sink_task`]: the data loops;
//! * [`offset_file`]: standalone source offsets, written atomically;
//! * [`offsets`]: the offsets API (KIP-875) for sources and sinks;
//! * [`store`]: connectors, target states and failures kept across restarts;
//! * [`status`]: connector and task states, and the topics each used.
//!
//! A failing connector or task is marked FAILED with its trace; every other
//! connector keeps running.

pub mod cluster;
pub mod kafka;
pub mod offset_file;
pub mod offsets;
pub mod plugin_store;
pub mod plugins;
pub mod registry;
pub mod retry;
pub mod sink_task;
pub mod source_offsets;
pub mod source_task;
pub mod status;
pub mod store;
pub mod transforms;
pub mod validation;
pub mod versions;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::WorkerConfig;
use crate::config::providers::{ConfigProviders, restore_raw};
use crate::config::worker::{lookup, prefixed};
use crate::convert::Converter;
use crate::instance::{ConnectorInstance, InstanceSpec};
use crate::plugin::{Plugin, World};
use crate::sandbox::limits::LIMIT_KEYS;
use crate::sandbox::{Limits, Sandbox};
use kafka::Kafka;
use offset_file::OffsetFile;
use registry::PluginRegistry;
use source_offsets::SourceOffsets;
use status::{ConnectorStatus, State, StatusBoard};
use store::{ConnectorStore, StoredConnector, TargetState};

/// How long the worker waits for Kafka to answer at start.
const KAFKA_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// A configuration map.
pub type Config = Vec<(String, String)>;

/// A failed operation, with the HTTP status Kafka Connect answers it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HerderError {
    /// HTTP status (and `error_code`).
    pub status: u16,
    /// Kafka Connect's message.
    pub message: String,
}

impl HerderError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        HerderError {
            status: 400,
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        HerderError {
            status: 404,
            message: message.into(),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        HerderError {
            status: 409,
            message: message.into(),
        }
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        HerderError {
            status: 500,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for HerderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Kafka Connect's `ConnectorInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorInfo {
    /// Name.
    pub name: String,
    /// The configuration as submitted.
    pub config: Config,
    /// Task numbers.
    pub tasks: Vec<u32>,
    /// `source` or `sink`.
    pub kind: &'static str,
}

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
    pub offsets: SourceOffsets,
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
    let (outcome, runner) = match start.await {
        Ok(mut runner) => {
            let ran = runner.run().await;
            let stopped = runner.shutdown(ran.is_ok()).await;
            (ran.and(stopped), Some(runner))
        }
        Err(trace) => (Err(trace), None),
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
            // The store fsyncs; keep that off the async worker threads.
            let (store, name, why) = (ctx.store.clone(), connector.clone(), trace.clone());
            let _ = tokio::task::spawn_blocking(move || store.task_failed(&name, task, &why)).await;
            ctx.status
                .task(&connector, task, State::Failed, Some(trace));
        }
    }
}

/// Returns freed heap pages to the operating system. A task that ends may
/// have had the host lift a large batch from its guest; glibc keeps such
/// memory in its arenas (above all in other threads' arenas, which it never
/// trims on its own), so the worker's RSS would stay high after the task is
/// gone.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's own arenas to
    // the kernel; it has no preconditions and may run at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

struct TaskHandle {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

/// One connector on this worker (in distributed mode: one this worker
/// runs the instance or some tasks of).
struct Connector {
    config: Config,
    plugin: Arc<Plugin>,
    target: TargetState,
    instance: Option<ConnectorInstance>,
    task_configs: Vec<Config>,
    tasks: BTreeMap<u32, TaskHandle>,
    /// Distributed: the instance failed to start; not retried until a
    /// restart or a new configuration.
    failed: bool,
    /// Distributed: the task configurations the instance generated, and
    /// the last set sent to the leader (sent again only when they differ).
    generated: Option<Vec<Config>>,
    published: Option<Vec<Config>>,
}

impl Connector {
    fn new(config: Config, plugin: Arc<Plugin>, target: TargetState) -> Connector {
        Connector {
            config,
            plugin,
            target,
            instance: None,
            task_configs: Vec::new(),
            tasks: BTreeMap::new(),
            failed: false,
            generated: None,
            published: None,
        }
    }

    /// Stops the connector instance, if it runs (a failing stop is logged).
    async fn stop_instance(&mut self, name: &str) {
        if let Some(mut instance) = self.instance.take()
            && let Err(e) = instance.stop().await
        {
            tracing::warn!(connector = %name, "{e}");
        }
    }
}

/// A worker: standalone, or one member of a distributed cluster (see
/// [`cluster`]).
pub struct Worker {
    config: Arc<WorkerConfig>,
    sandbox: Sandbox,
    registry: std::sync::RwLock<Arc<PluginRegistry>>,
    plugin_store: plugin_store::PluginStore,
    kafka: Arc<Kafka>,
    offsets: SourceOffsets,
    status: Arc<StatusBoard>,
    store: Arc<ConnectorStore>,
    connectors: tokio::sync::Mutex<BTreeMap<String, Connector>>,
    worker_id: String,
    providers: ConfigProviders,
    /// Distributed mode's shared view and membership; `None` standalone.
    cluster: Option<Arc<cluster::Cluster>>,
}

impl Worker {
    /// Opens the offsets file and the connector store, reaches Kafka, loads
    /// the plugins, and brings back the connectors the store remembers.
    pub async fn start(config: WorkerConfig, sandbox: &Sandbox) -> Result<Worker, String> {
        let offset_path = config.offset_file.clone().ok_or_else(|| {
            "Missing required configuration \"offset.storage.file.filename\" which has no default value.".to_string()
        })?;
        let offsets = SourceOffsets::File(Arc::new(OffsetFile::open(&offset_path)?));
        let store = Arc::new(ConnectorStore::beside(&offset_path)?);
        let kafka = Kafka::connect(&config.kafka, &config.admin)?;
        kafka.check_reachable(KAFKA_CHECK_TIMEOUT).await?;
        let plugin_store = plugin_store::PluginStore::new(match config.get("plugin.store.dir") {
            Some(dir) if !dir.trim().is_empty() => std::path::PathBuf::from(dir.trim()),
            _ => {
                let mut name = offset_path
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_default();
                name.push(".plugins");
                offset_path.with_file_name(name)
            }
        });
        let mut dirs = config.plugin_path.clone();
        dirs.push(plugin_store.dir().to_path_buf());
        let registry = PluginRegistry::scan(sandbox, &dirs).await;
        if registry.plugins().is_empty() {
            tracing::warn!(plugin_path = ?config.plugin_path, "no plugins found: set plugin.path to directories holding .wasm plugins");
        }
        let worker = Worker {
            worker_id: crate::rest::advertised_worker_id(&config),
            providers: ConfigProviders::from_worker(&config.raw),
            config: Arc::new(config),
            sandbox: sandbox.clone(),
            registry: std::sync::RwLock::new(Arc::new(registry)),
            plugin_store,
            kafka: Arc::new(kafka),
            offsets,
            status: Arc::new(StatusBoard::default()),
            store,
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
            cluster: None,
        };
        for (name, stored) in worker.store.all() {
            if let Err(e) = worker.restore(&name, stored).await {
                tracing::error!(connector = %name, "cannot bring back a stored connector: {e}");
            }
        }
        Ok(worker)
    }

    /// `host:port` this worker reports as `worker_id`.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The worker configuration.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Kafka.
    pub fn kafka(&self) -> &Kafka {
        &self.kafka
    }

    /// Connector and task states, and topics used.
    pub fn status(&self) -> &StatusBoard {
        &self.status
    }

    /// The plugins this worker knows right now.
    pub fn registry(&self) -> Arc<PluginRegistry> {
        match self.registry.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Names of every connector.
    pub async fn connector_names(&self) -> Vec<String> {
        if let Some(cluster) = &self.cluster {
            return cluster.view().connectors().cloned().collect();
        }
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// `ConnectorInfo` of `name`.
    pub async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_connector_info(cluster, name);
        }
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(info(name, c))
    }

    /// The connector's status, type and plugin version.
    pub async fn connector_status(
        &self,
        name: &str,
    ) -> Result<(ConnectorStatus, &'static str, String), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_status(cluster, name);
        }
        let missing = || HerderError::not_found(format!("No status found for connector {name}"));
        let (kind, version) = self.status.description(name).ok_or_else(missing)?;
        let status = self.status.get(name).ok_or_else(missing)?;
        Ok((status, kind, version))
    }

    /// The task configurations of `name`.
    pub async fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError> {
        if let Some(cluster) = &self.cluster {
            let view = cluster.view();
            if view.connector(name).is_none() {
                return Err(not_found(name));
            }
            // Stored raw already.
            return Ok(view
                .tasks(name)
                .into_iter()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .collect());
        }
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        // Shown as stored: placeholders of the raw configuration restored.
        Ok(c.task_configs
            .iter()
            .map(|t| restore_raw(t, &c.config))
            .collect())
    }

    /// The plugin behind `name`, its resolved configuration, target state
    /// and task count.
    pub async fn plugin_of(
        &self,
        name: &str,
    ) -> Result<(Arc<Plugin>, Config, TargetState, usize), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_plugin_of(cluster, name);
        }
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok((
            c.plugin.clone(),
            self.providers.resolve(&c.config),
            c.target,
            c.task_configs.len(),
        ))
    }

    /// Validates and creates a connector; refuses a duplicate name.
    pub async fn create_connector(
        &self,
        config: Config,
        initial: Option<TargetState>,
    ) -> Result<ConnectorInfo, HerderError> {
        let name = lookup(&config, "name").unwrap_or_default().to_string();
        if let Some(cluster) = &self.cluster {
            return self
                .cluster_put_config(cluster, &name, config, initial, true)
                .await
                .map(|(_, info)| info);
        }
        let mut connectors = self.connectors.lock().await;
        let plugin = self.checked(&config).await?;
        if connectors.contains_key(&name) {
            return Err(HerderError::conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let target = initial.unwrap_or(TargetState::Started);
        self.add(&mut connectors, &name, config, plugin, target)
            .await
    }

    /// A connector file given on the command line: created, or (when the
    /// store already has it) updated to the file's configuration in its
    /// remembered target state.
    pub async fn create_or_update_from_file(&self, config: Config) -> Result<(), HerderError> {
        let name = lookup(&config, "name").unwrap_or_default().to_string();
        validation::check_name(&name).map_err(HerderError::bad_request)?;
        self.put_connector_config(&name, config).await.map(|_| ())
    }

    /// `PUT /connectors/{name}/config`: creates (`true`) or replaces the
    /// configuration and restarts the connector in its current target state.
    pub async fn put_connector_config(
        &self,
        name: &str,
        config: Config,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self
                .cluster_put_config(cluster, name, config, None, false)
                .await;
        }
        let plugin = self.checked(&config).await?;
        let mut connectors = self.connectors.lock().await;
        let Some(c) = connectors.get_mut(name) else {
            let out = self
                .add(&mut connectors, name, config, plugin, TargetState::Started)
                .await?;
            return Ok((true, out));
        };
        if c.config == config {
            // Nothing changed: nothing to restart.
            return Ok((false, info(name, c)));
        }
        self.deactivate(name, c).await;
        self.remember(name, &config, c.target)?;
        // A new configuration starts every task afresh, failed ones too.
        self.clear_failures(name, None);
        c.config = config;
        c.plugin = plugin;
        self.activate(name, c).await;
        Ok((false, info(name, c)))
    }

    /// Stops and removes a connector (its offsets stay).
    pub async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_delete(cluster, name).await;
        }
        let mut connectors = self.connectors.lock().await;
        let mut c = connectors.remove(name).ok_or_else(|| not_found(name))?;
        self.deactivate(name, &mut c).await;
        self.status.remove(name);
        self.store
            .update(name, |e| *e = None)
            .map_err(HerderError::internal)?;
        Ok(())
    }

    /// Sets the target state (pause, resume, stop).
    pub async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_set_target(cluster, name, target).await;
        }
        let mut connectors = self.connectors.lock().await;
        let c = connectors
            .get_mut(name)
            .ok_or_else(|| HerderError::not_found(format!("Unknown connector {name}")))?;
        if c.target == target {
            return Ok(());
        }
        self.store
            .update(name, |e| {
                if let Some(e) = e {
                    e.target = target;
                }
            })
            .map_err(HerderError::internal)?;
        if target == TargetState::Stopped || c.target == TargetState::Stopped {
            self.deactivate(name, c).await;
        } else {
            self.stop_tasks(name, c, None).await;
        }
        c.target = target;
        self.activate(name, c).await;
        Ok(())
    }

    /// Restarts the connector instance (and, per the flags, tasks). Returns
    /// the plan as Kafka reports it: what is restarted shows RESTARTING.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, HerderError> {
        if let Some(cluster) = &self.cluster {
            return self
                .cluster_restart(cluster, name, include_tasks, only_failed)
                .await;
        }
        let mut connectors = self.connectors.lock().await;
        let c = connectors
            .get_mut(name)
            .ok_or_else(|| HerderError::not_found(format!("Unknown connector: {name}")))?;
        let mut plan = self.status.get(name).ok_or_else(|| {
            HerderError::not_found(format!("Status for connector {name} not found"))
        })?;
        let (restart_connector, restart_tasks) = plan.mark_restarting(include_tasks, only_failed);
        if restart_connector {
            self.restart_instance(name, c).await;
        }
        if !restart_tasks.is_empty() {
            self.stop_tasks(name, c, Some(&restart_tasks)).await;
            self.clear_failures(name, Some(&restart_tasks));
            self.start_tasks(name, c, None);
        }
        Ok(plan)
    }

    /// Restarts one task.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_restart_task(cluster, name, task).await;
        }
        let mut connectors = self.connectors.lock().await;
        let c = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        if task as usize >= c.task_configs.len() {
            return Err(HerderError::not_found(format!(
                "Task {name}-{task} not found"
            )));
        }
        self.stop_tasks(name, c, Some(&[task])).await;
        self.clear_failures(name, Some(&[task]));
        self.start_tasks(name, c, None);
        Ok(())
    }

    /// Stops every task (flushing offsets) within
    /// `task.shutdown.graceful.timeout.ms`, then the connectors.
    pub async fn shutdown(&self) {
        if let Some(cluster) = &self.cluster {
            return self.shutdown_distributed(cluster).await;
        }
        self.stop_everything().await;
    }

    /// Stops every task (all asked at once, so they flush in parallel),
    /// then every connector instance.
    async fn stop_everything(&self) {
        let mut connectors = self.connectors.lock().await;
        for c in connectors.values() {
            for t in c.tasks.values() {
                let _ = t.stop.send(true);
            }
        }
        for (name, c) in connectors.iter_mut() {
            self.stop_tasks(name, c, None).await;
            c.stop_instance(name).await;
        }
        connectors.clear();
    }

    /// Source offsets store (for the offsets API).
    pub fn source_offsets(&self) -> &SourceOffsets {
        &self.offsets
    }

    // ---- internals -------------------------------------------------------

    /// The limits `config` asks for, `None` when it asks for nothing.
    fn limits_for(&self, config: &Config) -> Option<Limits> {
        if !LIMIT_KEYS.iter().any(|k| lookup(config, k.key).is_some()) {
            return None;
        }
        // Validation refuses bad values before a connector is stored.
        self.sandbox
            .config()
            .default_limits
            .overridden(false, |k| lookup(config, k))
            .ok()
    }

    /// Limit keys that do not parse or exceed the worker's maximums.
    fn limit_problems(&self, config: &Config) -> Vec<(String, String)> {
        let sandbox = self.sandbox.config();
        let asked = match sandbox
            .default_limits
            .overridden(false, |k| lookup(config, k))
        {
            Ok(asked) => asked,
            Err(problems) => {
                return problems
                    .into_iter()
                    .map(|(k, m)| (k.to_string(), m))
                    .collect();
            }
        };
        let max = sandbox.max_limits;
        LIMIT_KEYS
            .iter()
            .filter_map(|k| {
                let raw = lookup(config, k.key)?;
                let maximum = (k.get)(&max);
                ((k.get)(&asked) > maximum).then(|| {
                    (
                        k.key.to_string(),
                        format!(
                            "Invalid value {raw} for configuration {}: this worker allows at most {maximum} ({})",
                            k.key, k.max_key
                        ),
                    )
                })
            })
            .collect()
    }

    /// Remembers a new connector, brings it to `target` and registers it.
    async fn add(
        &self,
        connectors: &mut BTreeMap<String, Connector>,
        name: &str,
        config: Config,
        plugin: Arc<Plugin>,
        target: TargetState,
    ) -> Result<ConnectorInfo, HerderError> {
        self.remember(name, &config, target)?;
        let mut c = Connector::new(config, plugin, target);
        self.activate(name, &mut c).await;
        let out = info(name, &c);
        connectors.insert(name.to_string(), c);
        Ok(out)
    }

    /// Validates a configuration; the plugin it names, or the error.
    async fn checked(&self, raw: &Config) -> Result<Arc<Plugin>, HerderError> {
        // Validation sees resolved values; the raw ones are what is stored.
        let config = &self.providers.resolve(raw);
        let class = lookup(config, "connector.class").ok_or_else(|| {
            HerderError::bad_request(format!(
                "Connector config {} contains no connector type",
                render_map(raw)
            ))
        })?;
        let registry = self.registry();
        // Kafka Connect answers an unknown class on create with 400 (on
        // validate with 500; see rest::handlers).
        registry
            .connector(class)
            .map_err(HerderError::bad_request)?;
        let plugin = registry
            .connector_version(class, lookup(config, "connector.plugin.version"))
            .map_err(HerderError::bad_request)?;
        let problems = validation::validate(&plugin, config)
            .await
            .map_err(HerderError::internal)?;
        let mut problems = problems;
        let (_, chain_problems) = transforms::check(&registry, config)
            .await
            .map_err(HerderError::internal)?;
        problems.0.extend(chain_problems);
        for (key, message) in self.limit_problems(config) {
            problems.0.push((key, message));
        }
        for key in ["key.converter", "value.converter"] {
            if let Err(e) = converter(key, config, Converter::String) {
                problems.0.push((key.to_string(), e));
            }
        }
        if !problems.is_empty() {
            return Err(HerderError::bad_request(problems.to_message()));
        }
        Ok(plugin)
    }

    fn remember(
        &self,
        name: &str,
        config: &Config,
        target: TargetState,
    ) -> Result<(), HerderError> {
        self.store
            .update(name, |e| {
                let failures = e
                    .as_ref()
                    .map(|s| s.task_failures.clone())
                    .unwrap_or_default();
                *e = Some(StoredConnector {
                    config: config.clone(),
                    target,
                    connector_failure: None,
                    task_failures: failures,
                })
            })
            .map_err(HerderError::internal)
    }

    async fn restore(&self, name: &str, stored: StoredConnector) -> Result<(), String> {
        let plugin = self.checked(&stored.config).await.map_err(|e| e.message)?;
        let mut connectors = self.connectors.lock().await;
        self.add(&mut connectors, name, stored.config, plugin, stored.target)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
    }

    /// Brings a connector to its target state from wherever it is.
    async fn activate(&self, name: &str, c: &mut Connector) {
        self.status
            .describe(name, kind_of(&c.plugin), &c.plugin.info().version);
        if c.target == TargetState::Stopped {
            c.task_configs.clear();
            self.status.clear_tasks(name);
            self.status.connector(name, State::Stopped, None);
            return;
        }
        if c.instance.is_none() && !self.start_instance(name, c).await {
            return;
        }
        match c.target {
            TargetState::Paused => {
                self.status.connector(name, State::Paused, None);
                for id in 0..c.task_configs.len() as u32 {
                    if !self.is_failed_task(name, id) {
                        self.status.task(name, id, State::Paused, None);
                    }
                }
            }
            _ => {
                self.status.connector(name, State::Running, None);
                self.start_tasks(name, c, None);
            }
        }
    }

    /// Starts the connector instance and computes task configurations;
    /// `false` (with the connector FAILED) when that fails.
    async fn start_instance(&self, name: &str, c: &mut Connector) -> bool {
        match self.launch_instance(name, c).await {
            Ok((instance, configs)) => {
                c.instance = Some(instance);
                c.task_configs = configs;
                true
            }
            Err(e) => {
                self.status
                    .connector(name, State::Failed, Some(e.to_string()));
                false
            }
        }
    }

    /// Starts the connector instance; it and the task configurations it
    /// generates (resolved, with `task.class` and a sink's topics added).
    async fn launch_instance(
        &self,
        name: &str,
        // `&mut`: a shared reference to a connector (its instance is not
        // `Sync`) would keep this future from moving between threads.
        c: &mut Connector,
    ) -> Result<(ConnectorInstance, Vec<Config>), crate::GuestError> {
        let resolved = self.providers.resolve(&c.config);
        let spec = InstanceSpec {
            limits: self.limits_for(&c.config),
            ..InstanceSpec::new(name, None, resolved.clone())
        };
        let mut instance = ConnectorInstance::new(&c.plugin, spec).await?;
        instance.start(&resolved).await?;
        let max = lookup(&resolved, "tasks.max")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1u32);
        let configs = instance.task_configs(max).await?;
        let configs = configs
            .into_iter()
            .map(|t| task_config_for(&c.plugin, &resolved, t))
            .collect();
        Ok((instance, configs))
    }

    /// Legacy restart: a new connector instance; tasks restart only if
    /// their configurations changed.
    async fn restart_instance(&self, name: &str, c: &mut Connector) {
        // A connector that floats on the newest version (or a range) moves to
        // a newer plugin uploaded since: tasks stop and flush, then start on
        // the new version from the same offsets.
        if let Ok(plugin) = self.checked(&c.config).await
            && plugin.info().sha256 != c.plugin.info().sha256
        {
            tracing::info!(connector = name, from = %c.plugin.info().version, to = %plugin.info().version, "moving connector to another plugin version");
            self.deactivate(name, c).await;
            c.plugin = plugin;
            self.activate(name, c).await;
            return;
        }
        if let Some(mut old) = c.instance.take() {
            let _ = old.stop().await;
        }
        if c.target == TargetState::Stopped {
            self.status.connector(name, State::Stopped, None);
            return;
        }
        let before = c.task_configs.clone();
        if !self.start_instance(name, c).await {
            return;
        }
        let state = if c.target == TargetState::Paused {
            State::Paused
        } else {
            State::Running
        };
        self.status.connector(name, state, None);
        if c.task_configs != before {
            self.stop_tasks(name, c, None).await;
            self.status.clear_tasks(name);
            self.activate(name, c).await;
        }
    }

    /// Stops tasks and the connector instance.
    async fn deactivate(&self, name: &str, c: &mut Connector) {
        self.stop_tasks(name, c, None).await;
        c.stop_instance(name).await;
        self.status.clear_tasks(name);
        c.task_configs.clear();
    }

    /// Spawns every task (of `only`, when given) that is not running and
    /// not remembered as failed.
    fn start_tasks(&self, name: &str, c: &mut Connector, only: Option<&BTreeSet<u32>>) {
        if c.target != TargetState::Started {
            return;
        }
        let (key_converter, value_converter) = match (
            converter("key.converter", &c.config, self.config.key_converter),
            converter("value.converter", &c.config, self.config.value_converter),
        ) {
            (Ok(k), Ok(v)) => (k, v),
            (Err(e), _) | (_, Err(e)) => {
                self.status.connector(name, State::Failed, Some(e));
                return;
            }
        };
        // Per connector, not per task: resolving may read provider files.
        let connector_config = self.providers.resolve(&c.config);
        let limits = self.limits_for(&c.config);
        let (stages, problems) = transforms::resolve(&self.registry(), &connector_config);
        if !problems.is_empty() {
            // Validated at creation; a transform plugin removed since then
            // lands here.
            let messages: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
            self.status
                .connector(name, State::Failed, Some(messages.join("\n")));
            return;
        }
        let stages: Arc<[transforms::StageSpec]> = stages.into();
        for (i, task_config) in c.task_configs.iter().enumerate() {
            let id = i as u32;
            if only.is_some_and(|o| !o.contains(&id))
                || c.tasks.get(&id).is_some_and(|t| !t.join.is_finished())
            {
                continue;
            }
            if let Some(trace) = self.stored_failure(name, id) {
                self.status.task(name, id, State::Failed, Some(trace));
                continue;
            }
            // A cluster stores task configurations raw (placeholders kept,
            // as Kafka Connect does); they are resolved as a task starts.
            let config = match self.cluster {
                Some(_) => self.providers.resolve(task_config),
                None => task_config.clone(),
            };
            let ctx = TaskContext {
                connector: name.to_string(),
                task: id,
                config,
                connector_config: connector_config.clone(),
                plugin: c.plugin.clone(),
                key_converter,
                value_converter,
                kafka: self.kafka.clone(),
                offsets: self.offsets.clone(),
                worker: self.config.clone(),
                status: self.status.clone(),
                store: self.store.clone(),
                limits,
                transforms: stages.clone(),
            };
            let (stop, stop_rx) = watch::channel(false);
            let join = match c.plugin.info().world {
                World::Sink => tokio::spawn(sink_task::run(ctx, stop_rx)),
                _ => tokio::spawn(source_task::run(ctx, stop_rx)),
            };
            c.tasks.insert(id, TaskHandle { stop, join });
        }
    }

    /// Stops the given tasks (all when `None`), waiting up to the graceful
    /// shutdown timeout for each to flush.
    async fn stop_tasks(&self, name: &str, c: &mut Connector, ids: Option<&[u32]>) {
        let chosen: Vec<u32> = match ids {
            Some(ids) => ids.to_vec(),
            None => c.tasks.keys().copied().collect(),
        };
        for id in &chosen {
            if let Some(t) = c.tasks.get(id) {
                let _ = t.stop.send(true);
            }
        }
        let deadline =
            tokio::time::Instant::now() + self.config.shutdown_timeout + Duration::from_secs(5);
        for id in chosen {
            if let Some(t) = c.tasks.remove(&id)
                && tokio::time::timeout_at(deadline, t.join).await.is_err()
            {
                tracing::warn!(connector = %name, task = id, "task did not stop within the graceful shutdown timeout");
            }
        }
    }

    fn stored_failure(&self, name: &str, task: u32) -> Option<String> {
        self.store.task_failure(name, task)
    }

    fn is_failed_task(&self, name: &str, task: u32) -> bool {
        self.stored_failure(name, task).is_some()
    }

    fn clear_failures(&self, name: &str, tasks: Option<&[u32]>) {
        let result = self.store.update(name, |e| {
            if let Some(e) = e {
                match tasks {
                    Some(ids) => ids.iter().for_each(|id| {
                        e.task_failures.remove(id);
                    }),
                    None => e.task_failures.clear(),
                }
            }
        });
        if let Err(e) = result {
            tracing::warn!(connector = name, "{e}");
        }
    }
}

fn not_found(name: &str) -> HerderError {
    HerderError::not_found(format!("Connector {name} not found"))
}

fn kind_of(plugin: &Plugin) -> &'static str {
    match plugin.info().world {
        World::Sink => "sink",
        World::Source => "source",
        World::Transform => "unknown",
    }
}

fn info(name: &str, c: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_string(),
        config: c.config.clone(),
        tasks: (0..c.task_configs.len() as u32).collect(),
        kind: kind_of(&c.plugin),
    }
}

/// The connector's converter for `key`, or the worker's `default`.
fn converter(key: &str, config: &Config, default: Converter) -> Result<Converter, String> {
    match lookup(config, key) {
        None => Ok(default),
        Some(class) => {
            let settings = prefixed(config, &format!("{key}."));
            Converter::from_class(class, |s| lookup(&settings, s).map(str::to_string))
                .map_err(|e| format!("{key}: {e}"))
        }
    }
}

/// What a task is started with: the connector's task configuration plus
/// `task.class`, and for sinks the subscription, as Kafka adds them.
fn task_config_for(plugin: &Plugin, connector: &Config, mut task: Config) -> Config {
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

fn render_map(config: &Config) -> String {
    let items: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", items.join(", "))
}
