//! Standalone mode's herder: one worker runs every connector and task, as
//! Kafka Connect's `StandaloneHerder` runs them. Connectors, their target
//! states and their tasks' failures are kept in a file beside the offsets
//! file ([`ConnectorStore`]), so a restarted worker brings them back.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{ConnectorInfo, ConnectorSummary, Herder, StatusReport, not_found};
use crate::config::TargetState;
use crate::config::worker::lookup;
use crate::config::{Config, WorkerConfig};
use crate::distributed::session_key::Signature;
use crate::error::HerderError;
use crate::plugin::Plugin;
use crate::sandbox::Sandbox;
use crate::store::OffsetBackingStore;
use crate::worker::kafka::Kafka;
use crate::worker::offset_file::OffsetFile;
use crate::worker::plugin_store::PluginStore;
use crate::worker::status::{ConnectorStatus, State, StatusBoard};
use crate::worker::store::{ConnectorStore, StoredConnector};
use crate::worker::{Connector, KAFKA_CHECK_TIMEOUT, Worker, WorkerParts, validation};

/// What a standalone worker is built from ([`StandaloneHerder::assemble`]).
pub struct StandaloneParts {
    pub config: WorkerConfig,
    pub sandbox: Sandbox,
    pub kafka: Kafka,
    pub offsets: Arc<dyn OffsetBackingStore>,
    /// Connectors, target states and failures remembered across restarts.
    pub store: Arc<ConnectorStore>,
    /// Where uploaded plugins are kept.
    pub plugin_dir: std::path::PathBuf,
}

/// How often the standalone herder looks for connectors due a recheck of
/// their task configurations (each connector sets its own interval).
const RECHECK_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// The herder of a standalone worker.
pub struct StandaloneHerder {
    worker: Worker,
    store: Arc<ConnectorStore>,
    connectors: Mutex<BTreeMap<String, Connector>>,
}

impl StandaloneHerder {
    /// Opens the offsets file and the connector store, reaches Kafka, loads
    /// the plugins, and brings back the connectors the store remembers.
    pub async fn start(config: WorkerConfig, sandbox: &Sandbox) -> Result<Self, String> {
        let offset_path = config.offset_file.clone().ok_or_else(|| {
            "Missing required configuration \"offset.storage.file.filename\" which has no default value.".to_string()
        })?;
        let offsets = Arc::new(OffsetFile::open(&offset_path)?);
        let store = Arc::new(ConnectorStore::beside(&offset_path)?);
        let kafka = Kafka::connect(&config.kafka, &config.admin)?;
        kafka.check_reachable(KAFKA_CHECK_TIMEOUT).await?;
        let plugin_dir = match config.get("plugin.store.dir") {
            Some(dir) if !dir.trim().is_empty() => std::path::PathBuf::from(dir.trim()),
            _ => {
                let mut name = offset_path
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_default();
                name.push(".plugins");
                offset_path.with_file_name(name)
            }
        };
        let parts = StandaloneParts {
            config,
            sandbox: sandbox.clone(),
            kafka,
            offsets,
            store,
            plugin_dir,
        };
        Ok(Self::assemble(parts).await)
    }

    /// Builds the herder from its parts and brings back the connectors the
    /// store remembers. [`Self::start`] keeps everything in files beside the
    /// offsets file; a test passes [`ConnectorStore::in_memory`] and an
    /// offset store over an in-memory log.
    pub async fn assemble(parts: StandaloneParts) -> Self {
        let StandaloneParts {
            config,
            sandbox,
            kafka,
            offsets,
            store,
            plugin_dir,
        } = parts;
        let worker = Worker::new(WorkerParts {
            worker_id: crate::config::listeners::advertised_worker_id(&config),
            config,
            sandbox,
            kafka,
            offsets,
            status: StatusBoard::default(),
            store: store.clone(),
            plugin_store: PluginStore::new(plugin_dir),
        })
        .await;
        let herder = StandaloneHerder {
            worker,
            store,
            connectors: Mutex::new(BTreeMap::new()),
        };
        for (name, stored) in herder.store.all() {
            if let Err(e) = herder.restore(&name, stored).await {
                tracing::error!(connector = %name, "cannot bring back a stored connector: {e}");
            }
        }
        herder
    }

    /// A connector file given on the command line: created, or (when the
    /// store already has it) updated to the file's configuration in its
    /// remembered target state.
    pub async fn create_or_update_from_file(&self, config: Config) -> Result<(), HerderError> {
        let name = lookup(&config, "name").unwrap_or_default().to_string();
        validation::check_name(&name).map_err(HerderError::bad_request)?;
        self.put_connector_config(&name, config).await.map(|_| ())
    }

    async fn restore(&self, name: &str, stored: StoredConnector) -> Result<(), String> {
        let plugin = self
            .worker
            .check(&stored.config)
            .await
            .map_err(|e| e.message)?;
        let mut connectors = self.connectors.lock().await;
        self.add(&mut connectors, name, stored.config, plugin, stored.target)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
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

    /// Brings a connector to its target state from wherever it is.
    async fn activate(&self, name: &str, c: &mut Connector) {
        let status = self.worker.status();
        status.describe(name, c.kind(), &c.plugin.info().version);
        if c.target == TargetState::Stopped {
            c.task_configs.clear();
            status.clear_tasks(name);
            status.connector(name, State::Stopped, None);
            return;
        }
        if c.instance.is_none() && !self.worker.start_instance(name, c).await {
            return;
        }
        match c.target {
            TargetState::Paused => {
                status.connector(name, State::Paused, None);
                for id in 0..c.task_configs.len() as u32 {
                    if !self.worker.is_failed_task(name, id) {
                        status.task(name, id, State::Paused, None);
                    }
                }
            }
            _ => {
                status.connector(name, State::Running, None);
                self.worker.start_tasks(name, c, None);
            }
        }
    }

    /// Starts the loop that asks connectors for their task configurations
    /// again when they asked for it (`wasmconnect:tasks/reconfiguration`)
    /// and replaces their tasks when the answer changed, as Kafka's
    /// standalone herder does on `requestTaskReconfiguration`. It ends when
    /// the herder is dropped; `main` starts it once the herder is shared.
    pub fn spawn_rechecks(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let herder = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RECHECK_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(herder) = herder.upgrade() else {
                    return;
                };
                herder.recheck().await;
            }
        })
    }

    async fn recheck(&self) {
        let mut connectors = self.connectors.lock().await;
        for (name, c) in connectors.iter_mut() {
            match self.worker.recheck_task_configs(name, c).await {
                None => {}
                Some(Ok(configs)) if configs == c.task_configs => {}
                Some(Ok(configs)) => {
                    tracing::info!(
                        connector = %name,
                        tasks = configs.len(),
                        "the connector's task configurations changed; replacing its tasks"
                    );
                    c.task_configs = configs;
                    self.replace_tasks(name, c).await;
                }
                Some(Err(e)) => {
                    // As a connector that fails to start: its tasks run on
                    // (Kafka leaves them), a restart brings it back.
                    c.stop_instance(name).await;
                    self.worker.fail_connector(name, c, &e);
                }
            }
        }
    }

    /// Legacy restart: a new connector instance; tasks restart only if
    /// their configurations changed.
    async fn restart_instance(&self, name: &str, c: &mut Connector) {
        // A connector that floats on the newest version (or a range) moves to
        // a newer plugin uploaded since: tasks stop and flush, then start on
        // the new version from the same offsets.
        if let Ok(plugin) = self.worker.check(&c.config).await
            && plugin.info().sha256 != c.plugin.info().sha256
        {
            tracing::info!(connector = name, from = %c.plugin.info().version, to = %plugin.info().version, "moving connector to another plugin version");
            self.worker.deactivate(name, c).await;
            c.plugin = plugin;
            self.activate(name, c).await;
            return;
        }
        c.stop_instance(name).await;
        let status = self.worker.status();
        if c.target == TargetState::Stopped {
            status.connector(name, State::Stopped, None);
            return;
        }
        let before = c.task_configs.clone();
        if !self.worker.start_instance(name, c).await {
            return;
        }
        let state = if c.target == TargetState::Paused {
            State::Paused
        } else {
            State::Running
        };
        status.connector(name, state, None);
        if c.task_configs != before {
            self.replace_tasks(name, c).await;
        }
    }

    /// Stops the running tasks and starts those of `c.task_configs`, which
    /// the connector instance has just changed.
    async fn replace_tasks(&self, name: &str, c: &mut Connector) {
        self.worker.stop_tasks(name, c, None).await;
        self.worker.status().clear_tasks(name);
        self.activate(name, c).await;
    }
}

#[async_trait]
impl Herder for StandaloneHerder {
    fn worker(&self) -> &Worker {
        &self.worker
    }

    fn is_ready(&self) -> bool {
        true
    }

    fn require_leader(&self) -> Result<(), HerderError> {
        Ok(())
    }

    async fn connector_names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(info(name, c))
    }

    async fn connector_status(&self, name: &str) -> Result<StatusReport, HerderError> {
        let missing = || HerderError::not_found(format!("No status found for connector {name}"));
        let status = self.worker.status();
        let (kind, version) = status.description(name).ok_or_else(missing)?;
        let status = status.get(name).ok_or_else(missing)?;
        Ok(StatusReport {
            status,
            kind,
            version,
        })
    }

    async fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError> {
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(c.task_configs.clone())
    }

    async fn summary(&self, name: &str) -> Result<ConnectorSummary, HerderError> {
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(ConnectorSummary {
            plugin: c.plugin.clone(),
            config: self.worker.resolve(&c.config),
            target: c.target,
            tasks: c.task_configs.len(),
        })
    }

    async fn create_connector(
        &self,
        config: Config,
        initial: Option<TargetState>,
    ) -> Result<ConnectorInfo, HerderError> {
        let name = lookup(&config, "name").unwrap_or_default().to_string();
        let mut connectors = self.connectors.lock().await;
        let plugin = self.worker.check(&config).await?;
        if connectors.contains_key(&name) {
            return Err(HerderError::conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let target = initial.unwrap_or(TargetState::Started);
        self.add(&mut connectors, &name, config, plugin, target)
            .await
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: Config,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        let plugin = self.worker.check(&config).await?;
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
        self.worker.deactivate(name, c).await;
        self.remember(name, &config, c.target)?;
        // A new configuration starts every task afresh, failed ones too.
        self.worker.clear_failures(name, None);
        c.config = config;
        c.plugin = plugin;
        self.activate(name, c).await;
        Ok((false, info(name, c)))
    }

    async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().await;
        let mut c = connectors.remove(name).ok_or_else(|| not_found(name))?;
        self.worker.deactivate(name, &mut c).await;
        self.worker.status().remove(name);
        self.store
            .update(name, |e| *e = None)
            .map_err(HerderError::internal)
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
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
            self.worker.deactivate(name, c).await;
        } else {
            self.worker.stop_tasks(name, c, None).await;
        }
        c.target = target;
        self.activate(name, c).await;
        Ok(())
    }

    async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, HerderError> {
        let mut connectors = self.connectors.lock().await;
        let c = connectors
            .get_mut(name)
            .ok_or_else(|| HerderError::not_found(format!("Unknown connector: {name}")))?;
        let mut plan = self.worker.status().get(name).ok_or_else(|| {
            HerderError::not_found(format!("Status for connector {name} not found"))
        })?;
        let (restart_connector, restart_tasks) = plan.mark_restarting(include_tasks, only_failed);
        if restart_connector {
            self.restart_instance(name, c).await;
        }
        if !restart_tasks.is_empty() {
            self.worker.stop_tasks(name, c, Some(&restart_tasks)).await;
            self.worker.clear_failures(name, Some(&restart_tasks));
            self.worker.start_tasks(name, c, None);
        }
        Ok(plan)
    }

    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().await;
        let c = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        if task as usize >= c.task_configs.len() {
            return Err(HerderError::not_found(format!(
                "Task {name}-{task} not found"
            )));
        }
        self.worker.stop_tasks(name, c, Some(&[task])).await;
        self.worker.clear_failures(name, Some(&[task]));
        self.worker.start_tasks(name, c, None);
        Ok(())
    }

    async fn put_task_configs(
        &self,
        _name: &str,
        _configs: Vec<Config>,
        _signature: Option<&Signature>,
        _body: &[u8],
    ) -> Result<(), HerderError> {
        // Kafka's StandaloneHerder throws this, and its exception mapper
        // answers 500 with the message.
        Err(HerderError::internal(
            "Kafka Connect in standalone mode does not support externally setting task configurations.",
        ))
    }

    async fn plugins_in_use(&self) -> Vec<(String, String)> {
        self.connectors
            .lock()
            .await
            .iter()
            .map(|(n, c)| (n.clone(), c.plugin.info().sha256.clone()))
            .collect()
    }

    async fn share_plugin(&self, _bytes: &[u8]) -> Result<(), HerderError> {
        Ok(())
    }

    async fn unshare_plugin(&self, _sha256: &str) -> Result<(), HerderError> {
        Ok(())
    }

    async fn after_forward(&self) {}

    async fn shutdown(&self) {
        let mut connectors = self.connectors.lock().await;
        self.worker.stop_all(&mut connectors).await;
    }
}

fn info(name: &str, c: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_string(),
        config: c.config.clone(),
        tasks: (0..c.task_configs.len() as u32).collect(),
        kind: c.kind(),
    }
}
