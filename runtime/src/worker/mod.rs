//! The worker: starts and stops connector instances and task loops, as
//! Kafka Connect's `Worker` does, without knowing whether it is standalone
//! or one member of a cluster. A [`crate::herder`] decides what should run
//! here and calls it.
//!
//! * [`connector`]: one connector's configuration and what of it runs here;
//! * [`task`]: what a task is handed and how its loop is run;
//! * [`source_task`] / [`sink_task`]: the data loops; [`acks`] (which
//!   source records Kafka acknowledged), [`exactly_once`] (transactional
//!   sources, KIP-618), [`rebalance`] (a sink's partitions coming and
//!   going) and [`consumed`] (a consumed message as the plugin sees it)
//!   beside them;
//! * [`transforms`], [`retry`], [`errors`]: the chain each record passes,
//!   retries, and records that fail (tolerance, logs, dead letter queue);
//! * [`registry`], [`plugins`], [`plugin_store`], [`versions`]: plugins
//!   found in `plugin.path` or uploaded, resolved by class and version;
//! * [`kafka`]: the cluster (or the embedded dev broker) and topic creation;
//! * [`validation`]: checking a connector configuration before it runs;
//! * [`offset_file`]: a standalone worker's source offsets (one
//!   [`OffsetBackingStore`](crate::store::OffsetBackingStore));
//! * [`offsets`]: the offsets API (KIP-875) for sources and sinks;
//! * [`store`]: connectors, target states and failures kept across restarts;
//! * [`status`]: connector and task states, and the topics each used.
//!
//! The worker may call the sandbox, instances, plugins, converters and the
//! configuration; it never calls a herder or the REST layer. A failing
//! connector or task is marked FAILED with its trace; every other connector
//! keeps running.

pub mod acks;
pub mod connector;
pub mod consumed;
pub mod errors;
pub mod exactly_once;
pub mod kafka;
pub mod offset_file;
pub mod offsets;
pub mod plugin_store;
pub mod plugins;
pub mod predicates;
pub mod producers;
pub mod rebalance;
pub mod registry;
pub mod retry;
pub mod settings;
pub mod sink_poll;
pub mod sink_task;
pub mod source_task;
pub mod status;
pub mod store;
pub mod task;
pub mod transforms;
pub mod validation;
pub mod versions;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::config::TargetState;
use crate::config::providers::{ConfigProviders, Secrets};
use crate::config::worker::{lookup, prefixed};
use crate::config::{Config, WorkerConfig};
use crate::convert::Converter;
use crate::error::{GuestError, HerderError};
use crate::instance::{ConnectorInstance, InstanceSpec};
use crate::metrics::{Metrics, TaskKind, WindowSpec};
use crate::plugin::{Plugin, World};
use crate::sandbox::limits::LIMIT_KEYS;
use crate::sandbox::{Limits, Sandbox};
use crate::store::OffsetBackingStore;
pub use connector::{Connector, kind_of};
use kafka::Kafka;
use plugin_store::PluginStore;
use registry::PluginRegistry;
use settings::TaskSettings;
use status::{State, StatusBoard};
use store::ConnectorStore;
pub use task::TaskContext;
use task::TaskHandle;

/// How long a worker waits for Kafka to answer at start.
pub const KAFKA_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an interrupted task may take to end: dropping it closes its
/// Kafka clients (a consumer leaves its group).
const ABORT_WAIT: Duration = Duration::from_secs(30);

/// What a herder builds a worker from: the parts that differ by mode.
pub struct WorkerParts {
    /// The worker configuration.
    pub config: WorkerConfig,
    /// The sandbox every instance runs in.
    pub sandbox: Sandbox,
    /// Kafka, reachable.
    pub kafka: Kafka,
    /// Where source offsets are kept (a file, or the offsets topic).
    pub offsets: Arc<dyn OffsetBackingStore>,
    /// Where states are shown (and, distributed, published from).
    pub status: StatusBoard,
    /// Where task failures are remembered.
    pub store: Arc<ConnectorStore>,
    /// Where uploaded plugins are kept.
    pub plugin_store: PluginStore,
    /// `host:port` this worker reports as `worker_id`.
    pub worker_id: String,
}

/// A worker: the instances and task loops on this machine.
pub struct Worker {
    config: Arc<WorkerConfig>,
    sandbox: Sandbox,
    registry: std::sync::RwLock<Arc<PluginRegistry>>,
    plugin_store: PluginStore,
    kafka: Arc<Kafka>,
    offsets: Arc<dyn OffsetBackingStore>,
    status: Arc<StatusBoard>,
    store: Arc<ConnectorStore>,
    worker_id: String,
    providers: ConfigProviders,
    metrics: Arc<Metrics>,
}

impl Worker {
    /// A worker from its parts, with the plugins of `plugin.path` and the
    /// plugin store loaded.
    pub async fn new(parts: WorkerParts) -> Worker {
        let WorkerParts {
            config,
            sandbox,
            kafka,
            offsets,
            status,
            store,
            plugin_store,
            worker_id,
        } = parts;
        // Created now, so that the first scan finds it (empty) silently.
        if let Err(e) = std::fs::create_dir_all(plugin_store.dir()) {
            tracing::warn!(dir = %plugin_store.dir().display(), "cannot create the plugin store: {e}");
        }
        let mut dirs = config.plugin_path.clone();
        dirs.push(plugin_store.dir().to_path_buf());
        let registry = PluginRegistry::scan(&sandbox, &dirs).await;
        if registry.plugins().is_empty() {
            tracing::warn!(plugin_path = ?config.plugin_path, "no plugins found: set plugin.path to directories holding .wasm plugins");
        }
        let metrics = Metrics::new(&worker_id, WindowSpec::from_lookup(|k| config.get(k)));
        Worker {
            worker_id,
            metrics,
            providers: ConfigProviders::from_worker(&config.raw),
            config: Arc::new(config),
            sandbox,
            registry: std::sync::RwLock::new(Arc::new(registry)),
            plugin_store,
            kafka: Arc::new(kafka),
            offsets,
            status: Arc::new(status),
            store,
        }
    }

    /// `host:port` this worker reports as `worker_id`.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// What `GET /metrics` shows of this worker.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
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

    /// Where task failures (and, standalone, connectors) are remembered.
    pub fn store(&self) -> &ConnectorStore {
        &self.store
    }

    /// Source offsets store (for the offsets API).
    pub fn source_offsets(&self) -> &Arc<dyn OffsetBackingStore> {
        &self.offsets
    }

    /// `config` with its `${provider:path:key}` placeholders resolved.
    pub fn resolve(&self, config: &Config) -> Config {
        self.providers.resolve(config)
    }

    /// The plugins this worker knows right now.
    pub fn registry(&self) -> Arc<PluginRegistry> {
        match self.registry.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The plugin a configuration names, as this worker has it.
    pub fn resolve_plugin(&self, config: &Config) -> Option<Arc<Plugin>> {
        let class = lookup(config, "connector.class")?;
        self.registry()
            .connector_version(class, lookup(config, "connector.plugin.version"))
            .ok()
    }

    /// Validates a configuration; the plugin it names, or the error.
    pub async fn check(&self, raw: &Config) -> Result<Arc<Plugin>, HerderError> {
        // Validation sees resolved values; the raw ones are what is stored,
        // and what any message shows (a provider's secret never goes back).
        let config = &self.providers.resolve(raw);
        self.check_resolved(raw, config).await.map_err(|mut e| {
            e.message = crate::config::providers::redact(&e.message, raw, config);
            e
        })
    }

    async fn check_resolved(
        &self,
        raw: &Config,
        config: &Config,
    ) -> Result<Arc<Plugin>, HerderError> {
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
        let mut problems = validation::validate(&plugin, config)
            .await
            .map_err(HerderError::internal)?;
        let (_, chain_problems) = transforms::check(&registry, config)
            .await
            .map_err(HerderError::internal)?;
        problems.0.extend(chain_problems);
        problems.0.extend(self.limit_problems(config));
        problems.0.extend(self.config.overrides.problems(config));
        if plugin.info().world == World::Source {
            problems.0.extend(exactly_once::problems(
                config,
                self.config.exactly_once_source,
            ));
        }
        // What the configuration names (files, hosts) must be grantable
        // under the worker's allow-lists: refused here, not at task start.
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        if let Err(refused) = crate::host::grants::Grants::from_config(
            plugin.config_definition(),
            config,
            &self.sandbox.config().grant_policy,
            &cwd,
        ) {
            problems.0.push((refused.key, refused.message));
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

    /// Starts the connector instance; it and the task configurations it
    /// generates (with `task.class` and a sink's topics added, values from
    /// placeholders shown as the placeholders again).
    pub async fn launch_instance(
        &self,
        name: &str,
        // `&mut`: a shared reference to a connector (its instance is not
        // `Sync`) would keep this future from moving between threads.
        c: &mut Connector,
    ) -> Result<(ConnectorInstance, Vec<Config>), GuestError> {
        // Shown from the attempt on, as Kafka shows a connector that failed
        // to start; the guard goes when the instance is stopped.
        c.metrics = Some(self.metrics.connector_starting(name, &c.plugin));
        let launched = async {
            let resolved = self.providers.resolve(&c.config);
            let spec = InstanceSpec {
                limits: self.limits_for(&c.config),
                secrets: Secrets::of(&c.config, &resolved),
                ..InstanceSpec::new(name, None, resolved.clone())
            };
            let mut instance = ConnectorInstance::new(&c.plugin, spec).await?;
            instance.start(&resolved).await?;
            let configs =
                generate_task_configs(&c.plugin, &c.config, &resolved, &mut instance).await?;
            c.configs_generated = Some(Instant::now());
            Ok((instance, configs))
        }
        .await;
        self.metrics.connector_started(launched.is_ok());
        launched
    }

    /// The running connector's task configurations generated again, when
    /// its instance asked to be rechecked (`wasmconnect:tasks/reconfiguration`,
    /// as a JDBC source watches for new tables) and its interval has passed
    /// since they were last generated; `None` when nothing is due. Only a
    /// started connector is rechecked: a paused one has stopped working, as
    /// Kafka stops a paused connector.
    pub async fn recheck_task_configs(
        &self,
        name: &str,
        c: &mut Connector,
    ) -> Option<Result<Vec<Config>, GuestError>> {
        if c.target != TargetState::Started {
            return None;
        }
        let interval = c.instance.as_ref()?.recheck_interval()?;
        if c.configs_generated
            .is_some_and(|at| at.elapsed() < interval)
        {
            return None;
        }
        c.configs_generated = Some(Instant::now());
        let resolved = self.providers.resolve(&c.config);
        let instance = c.instance.as_mut()?;
        tracing::debug!(
            connector = name,
            "asking the connector for its task configurations again"
        );
        Some(generate_task_configs(&c.plugin, &c.config, &resolved, instance).await)
    }

    /// Starts the connector instance and takes its task configurations;
    /// `false` (with the connector FAILED) when that fails.
    pub async fn start_instance(&self, name: &str, c: &mut Connector) -> bool {
        match self.launch_instance(name, c).await {
            Ok((instance, configs)) => {
                c.instance = Some(instance);
                c.task_configs = configs;
                true
            }
            Err(e) => {
                self.fail_connector(name, c, &e);
                false
            }
        }
    }

    /// Reports the connector FAILED with `e` as its trace, the values of
    /// its secret keys hidden.
    pub fn fail_connector(&self, name: &str, c: &Connector, e: &GuestError) {
        let resolved = self.providers.resolve(&c.config);
        let trace = Secrets::of(&c.config, &resolved)
            .hide(&e.to_string())
            .into_owned();
        self.status.connector(name, State::Failed, Some(trace));
    }

    /// Spawns every task (of `only`, when given) that is not running and
    /// not remembered as failed, when the connector is started.
    pub fn start_tasks(&self, name: &str, c: &mut Connector, only: Option<&BTreeSet<u32>>) {
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
        let connector_secrets = Secrets::of(&c.config, &connector_config);
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
        let settings = match TaskSettings::parse(&connector_config, &self.config) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                self.status.connector(name, State::Failed, Some(e));
                return;
            }
        };
        for (i, task_config) in c.task_configs.iter().enumerate() {
            let id = i as u32;
            if only.is_some_and(|o| !o.contains(&id))
                || c.tasks.get(&id).is_some_and(|t| !t.is_finished())
            {
                continue;
            }
            if let Some(trace) = self.store.task_failure(name, id) {
                self.status.task(name, id, State::Failed, Some(trace));
                continue;
            }
            // Stored raw (placeholders kept, as Kafka Connect does);
            // resolved as the task starts.
            let config = self.providers.resolve(task_config);
            let secrets = connector_secrets.union(&Secrets::of(task_config, &config));
            let kind = match c.plugin.info().world {
                World::Sink => TaskKind::Sink,
                _ => TaskKind::Source,
            };
            let (metrics_guard, metrics) = self.metrics.task_starting(name, id, kind);
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
                settings: settings.clone(),
                secrets,
                metrics,
            };
            let (stop, stop_rx) = watch::channel(false);
            let join = match c.plugin.info().world {
                World::Sink => tokio::spawn(sink_task::run(ctx, stop_rx)),
                _ => tokio::spawn(source_task::run(ctx, stop_rx)),
            };
            c.tasks.insert(
                id,
                TaskHandle {
                    stop,
                    join,
                    _metrics: metrics_guard,
                },
            );
        }
    }

    /// Stops the given tasks (all when `None`), waiting up to the graceful
    /// shutdown timeout for each to flush.
    pub async fn stop_tasks(&self, name: &str, c: &mut Connector, ids: Option<&[u32]>) {
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
            let Some(mut t) = c.tasks.remove(&id) else {
                continue;
            };
            if tokio::time::timeout_at(deadline, &mut t.join).await.is_ok() {
                continue;
            }
            // Kafka only abandons such a task (a Java thread cannot be
            // stopped), and it runs on beside its successor. Here the task
            // is dropped at the guest's next epoch tick or host call: its
            // instance, consumer and producer go with it, before the caller
            // confirms a revocation or starts the task again, so at most one
            // generation of a task ever writes. Its status is left alone, as
            // Kafka leaves a cancelled task's: the successor reports.
            tracing::warn!(connector = %name, task = id, "Graceful stop of task {name}-{id} failed; interrupting it");
            t.join.abort();
            if tokio::time::timeout(ABORT_WAIT, t.join).await.is_err() {
                tracing::error!(connector = %name, task = id, "task {name}-{id} did not end {} s after it was interrupted", ABORT_WAIT.as_secs());
            }
        }
    }

    /// Stops tasks and the connector instance, and forgets the task
    /// configurations.
    pub async fn deactivate(&self, name: &str, c: &mut Connector) {
        self.stop_tasks(name, c, None).await;
        c.stop_instance(name).await;
        self.status.clear_tasks(name);
        c.task_configs.clear();
    }

    /// Stops every task of `connectors` (all asked at once, so they flush
    /// in parallel), then every connector instance, and empties the map.
    pub async fn stop_all(&self, connectors: &mut BTreeMap<String, Connector>) {
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

    /// The failure remembered for a task, if any.
    pub fn task_failure(&self, name: &str, task: u32) -> Option<String> {
        self.store.task_failure(name, task)
    }

    /// Whether the task is remembered as failed (it is not started again
    /// until a restart or a new configuration).
    pub fn is_failed_task(&self, name: &str, task: u32) -> bool {
        self.task_failure(name, task).is_some()
    }

    /// Forgets the failures of the given tasks (all when `None`).
    pub fn clear_failures(&self, name: &str, tasks: Option<&[u32]>) {
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

/// `connector.task-configs` under `tasks.max`, each configuration
/// completed by [`task_config_for`] and with values that came from
/// placeholders shown as the placeholders again (`raw`).
async fn generate_task_configs(
    plugin: &Plugin,
    raw: &Config,
    resolved: &Config,
    instance: &mut ConnectorInstance,
) -> Result<Vec<Config>, GuestError> {
    let max = lookup(resolved, "tasks.max")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1u32);
    let configs = instance.task_configs(max).await?;
    Ok(configs
        .into_iter()
        .map(|t| crate::config::providers::restore_raw(&task_config_for(plugin, resolved, t), raw))
        .collect())
}

fn render_map(config: &Config) -> String {
    let items: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", items.join(", "))
}
