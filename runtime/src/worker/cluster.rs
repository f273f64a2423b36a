//! Distributed mode's herder: this worker as one member of a cluster, as
//! Kafka Connect's `DistributedHerder` runs it.
//!
//! The shared state lives in Kafka ([`crate::distributed`]): the config
//! topic says what is configured, the group coordinator says what this
//! worker runs, the status topic what everyone's work is doing, the offsets
//! topic where sources are. One loop ([`herd`]) brings the local work in
//! line with those, level-triggered: after every round, config change,
//! restart request or plugin arrival it *reconciles*, stopping what this
//! worker should no longer run (revoked, reconfigured, paused, deleted) and
//! starting what it should (assigned). So the loop never has to remember
//! which event caused what, and a missed event is repaired on the next tick.
//!
//! Who writes what:
//! * the leader writes connector configurations and task configurations
//!   (REST writes are forwarded to it, see [`crate::rest::routing`]);
//!   a follower whose connector generated task configurations sends them to
//!   the leader's internal `POST /connectors/{name}/tasks`;
//! * any worker writes target states (pause, resume) and restart requests;
//! * each worker writes the states of what it runs, with its `host:port`
//!   and the group generation, to the status topic;
//! * source tasks write their offsets to the offsets topic wherever they run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::Method;
use serde_json::Value;
use tokio::sync::{Mutex, Notify, mpsc, watch};

use super::plugin_store::PluginStore;
use super::registry::PluginRegistry;
use super::source_offsets::SourceOffsets;
use super::status::{ConnectorStatus, State, StatusBoard, StatusEvent};
use super::store::{ConnectorStore, StoredConnector, TargetState};
use super::{Config, Connector, ConnectorInfo, HerderError, KAFKA_CHECK_TIMEOUT, Worker, kind_of};
use crate::config::WorkerConfig;
use crate::config::distributed::{DistributedConfig, StorageTopic};
use crate::config::providers::{ConfigProviders, restore_raw};
use crate::config::worker::lookup;
use crate::distributed::config_log::{Change, ConfigRecord, ConfigState, Properties};
use crate::distributed::config_store::ConfigStore;
use crate::distributed::group::GroupSettings;
use crate::distributed::membership::{ConfigView, Membership, MembershipSettings, Round};
use crate::distributed::offset_store::OffsetStore;
use crate::distributed::plugin_log::{CHUNK_BYTES, PluginEvent, PluginLog};
use crate::distributed::protocol::Work;
use crate::distributed::status_log::{StatusKey, StatusRecord};
use crate::distributed::status_store::StatusStore;
use crate::distributed::topic_log::TopicSpec;
use crate::plugin::Plugin;
use crate::rest::forward;
use crate::sandbox::Sandbox;
use crate::worker::kafka::Kafka;

/// How often the config topic is read for other workers' writes (and the
/// local work reconciled), when nothing else wakes the loop.
const CONFIG_POLL: Duration = Duration::from_millis(250);
/// How often the status and plugin topics are read.
const SHARED_POLL: Duration = Duration::from_millis(300);

/// The last completed round, as the REST layer and the loop need it.
#[derive(Debug, Clone)]
struct RoundInfo {
    generation: i32,
    leader: bool,
    leader_url: String,
    allocation: Work,
}

/// A restart request read from the config topic.
#[derive(Debug, Clone)]
struct RestartRequest {
    connector: String,
    include_tasks: bool,
    only_failed: bool,
}

/// This worker's share of the cluster: the stores, the view and the round.
pub struct Cluster {
    settings: DistributedConfig,
    worker_id: String,
    config: Mutex<ConfigStore>,
    view: RwLock<ConfigState>,
    status: Arc<StatusStore>,
    offsets: Arc<OffsetStore>,
    plugins: Mutex<PluginLog>,
    round: RwLock<Option<RoundInfo>>,
    restarts: std::sync::Mutex<Vec<RestartRequest>>,
    wake: Notify,
    stop: watch::Sender<bool>,
    herder: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    client: reqwest::Client,
}

impl ConfigView for Cluster {
    fn config_offset(&self) -> i64 {
        self.view().offset
    }
    fn configured(&self) -> Work {
        self.view().work()
    }
}

impl Cluster {
    /// The configuration as last read.
    pub fn view(&self) -> ConfigState {
        match self.view.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn round(&self) -> Option<RoundInfo> {
        self.round.read().ok().and_then(|r| r.clone())
    }

    /// `host:port` of this worker.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// This worker's REST URL, as the group knows it.
    pub fn url(&self) -> String {
        self.settings.url()
    }

    /// Whether this worker leads the group (as of the last round).
    pub fn is_leader(&self) -> bool {
        self.round().is_some_and(|r| r.leader)
    }

    /// The leader's REST URL; `None` before the first round.
    pub fn leader_url(&self) -> Option<String> {
        self.round().map(|r| r.leader_url)
    }

    /// The REST URL of the worker that reported the task's status (its
    /// owner), if any.
    pub fn task_owner_url(&self, connector: &str, task: u32) -> Option<String> {
        let record = self.status.get(&StatusKey::Task {
            connector: connector.to_string(),
            task,
        })?;
        Some(format!("http://{}/", record.worker_id))
    }

    /// Takes a config store result: the view follows it, restart requests
    /// are queued for the loop, and the loop is woken.
    fn absorb(&self, store: &ConfigStore, changes: Vec<Change>) {
        if let Ok(mut view) = self.view.write() {
            *view = store.state().clone();
        }
        let restarts: Vec<RestartRequest> = changes
            .into_iter()
            .filter_map(|c| match c {
                Change::Restart {
                    connector,
                    include_tasks,
                    only_failed,
                } => Some(RestartRequest {
                    connector,
                    include_tasks,
                    only_failed,
                }),
                _ => None,
            })
            .collect();
        if !restarts.is_empty()
            && let Ok(mut queued) = self.restarts.lock()
        {
            queued.extend(restarts);
        }
        self.wake.notify_one();
    }

    /// Reads what other workers wrote to the config topic (the REST layer
    /// does after a forwarded write, so its client reads what it wrote).
    pub async fn refresh_config(&self) -> Result<(), String> {
        let mut store = self.config.lock().await;
        let changes = store.refresh().await?;
        self.absorb(&store, changes);
        Ok(())
    }

    /// Runs one write on the config store and absorbs what it changed.
    async fn write_config<F>(&self, write: F) -> Result<(), HerderError>
    where
        F: for<'a> FnOnce(
            &'a mut ConfigStore,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = Result<Vec<Change>, String>> + Send + 'a>,
        >,
    {
        let mut store = self.config.lock().await;
        let changes = write(&mut store)
            .await
            .map_err(|e| HerderError::internal(format!("cannot write to the config topic: {e}")))?;
        self.absorb(&store, changes);
        Ok(())
    }

    /// Sends task configurations to the leader (or, leading, writes them).
    async fn publish_task_configs(&self, name: &str, configs: &[Config]) -> Result<(), String> {
        let properties: Vec<Properties> = configs.iter().map(to_properties).collect();
        if self.is_leader() {
            let name = name.to_string();
            return self
                .write_config(move |s| {
                    Box::pin(async move { s.put_task_configs(&name, &properties).await })
                })
                .await
                .map_err(|e| e.message);
        }
        let body = Value::Array(
            properties
                .iter()
                .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
                .collect(),
        );
        let path = format!("/connectors/{}/tasks", crate::rest::segment(name));
        let request = forward::Request {
            method: Method::POST,
            path: &path,
            forward: None,
            query: &[],
            authorization: None,
            body: Some(&body),
        };
        forward::forward(&self.client, self.leader_url().as_deref(), &request)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
    }
}

/// Opens the internal topics, joins the group and starts the loops.
impl Worker {
    /// A distributed worker: reads the internal topics, installs the shared
    /// plugins, joins `group.id` and starts herding.
    pub async fn start_distributed(
        config: WorkerConfig,
        settings: DistributedConfig,
        sandbox: &Sandbox,
    ) -> Result<Arc<Worker>, String> {
        let kafka = Kafka::connect(&config.kafka, &config.admin)?;
        if kafka.is_embedded() {
            return Err(
                "distributed mode needs bootstrap.servers: the cluster's state lives in Kafka topics"
                    .into(),
            );
        }
        kafka.check_reachable(KAFKA_CHECK_TIMEOUT).await?;
        let bootstrap = kafka.bootstrap().to_string();
        let clients = config.admin.clone();
        let worker_id = settings.worker_id();
        let client_id = format!("wasmconnect-{worker_id}");
        let spec = |t: &StorageTopic| TopicSpec {
            topic: t.topic.clone(),
            partitions: t.partitions,
            replication: t.replication,
        };
        // Restart requests already in the topic were for workers before
        // this one; only the state they leave matters.
        let (config_store, _) = ConfigStore::open(
            &bootstrap,
            &clients,
            &settings.config.topic,
            settings.config.replication,
            &client_id,
        )
        .await?;
        let offsets = Arc::new(
            OffsetStore::open(&bootstrap, &clients, &spec(&settings.offsets), &client_id).await?,
        );
        let status = Arc::new(
            StatusStore::open(&bootstrap, &clients, &spec(&settings.status), &client_id).await?,
        );
        let plugin_log =
            PluginLog::open(&bootstrap, &clients, &spec(&settings.plugins), &client_id).await?;
        let plugin_store = PluginStore::new(match config.get("plugin.store.dir") {
            Some(dir) if !dir.trim().is_empty() => std::path::PathBuf::from(dir.trim()),
            _ => std::env::temp_dir().join(format!(
                "wasmconnect-plugins-{}",
                worker_id.replace([':', '/'], "_")
            )),
        });
        // Created now, so that the first scan finds it (empty) silently.
        if let Err(e) = std::fs::create_dir_all(plugin_store.dir()) {
            tracing::warn!(dir = %plugin_store.dir().display(), "cannot create the plugin store: {e}");
        }
        let mut dirs = config.plugin_path.clone();
        dirs.push(plugin_store.dir().to_path_buf());
        let registry = PluginRegistry::scan(sandbox, &dirs).await;
        let (events, events_rx) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let cluster = Arc::new(Cluster {
            view: RwLock::new(config_store.state().clone()),
            config: Mutex::new(config_store),
            status,
            offsets: offsets.clone(),
            plugins: Mutex::new(plugin_log),
            round: RwLock::new(None),
            restarts: std::sync::Mutex::new(Vec::new()),
            wake: Notify::new(),
            stop,
            herder: std::sync::Mutex::new(None),
            client: reqwest::Client::new(),
            worker_id: worker_id.clone(),
            settings,
        });
        let worker = Arc::new(Worker {
            worker_id,
            providers: ConfigProviders::from_worker(&config.raw),
            config: Arc::new(config),
            sandbox: sandbox.clone(),
            registry: std::sync::RwLock::new(Arc::new(registry)),
            plugin_store,
            kafka: Arc::new(kafka),
            offsets: SourceOffsets::Topic(offsets),
            status: Arc::new(StatusBoard::with_listener(events)),
            store: Arc::new(ConnectorStore::in_memory()),
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
            cluster: Some(cluster.clone()),
        });
        // Shared plugins first: work assigned in the first round may need one.
        worker.read_shared_plugins().await;
        let group = &cluster.settings;
        let membership = Membership::start(
            MembershipSettings {
                group: GroupSettings {
                    bootstrap: bootstrap.split(',').map(|s| s.trim().to_string()).collect(),
                    group_id: group.group_id.clone(),
                    session_timeout: group.session_timeout,
                    rebalance_timeout: group.rebalance_timeout,
                    client_id,
                },
                url: group.url(),
                heartbeat_interval: group.heartbeat_interval,
                max_delay: group.scheduled_rebalance_max_delay,
            },
            cluster.clone(),
        );
        tokio::spawn(write_statuses(cluster.clone(), events_rx));
        tokio::spawn(read_config(cluster.clone()));
        tokio::spawn(read_shared(worker.clone()));
        let herder = tokio::spawn(herd(worker.clone(), membership));
        if let Ok(mut h) = cluster.herder.lock() {
            *h = Some(herder);
        }
        Ok(worker)
    }

    /// Whether the worker is ready for requests: a cluster member once it
    /// has read the internal topics and completed its first round.
    pub fn is_ready(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.round().is_some())
    }

    /// The cluster this worker belongs to (`None`: standalone).
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// Leaves the group after stopping (and flushing) every local task.
    pub(super) async fn shutdown_distributed(&self, cluster: &Cluster) {
        let _ = cluster.stop.send(true);
        let herder = cluster.herder.lock().ok().and_then(|mut h| h.take());
        if let Some(herder) = herder {
            let _ = herder.await;
        }
    }

    // ---- REST, answered from the shared view ----------------------------

    pub(super) fn cluster_connector_info(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<ConnectorInfo, HerderError> {
        let view = cluster.view();
        let properties = view.connector(name).ok_or_else(|| super::not_found(name))?;
        let config = to_config(properties);
        let kind = self
            .resolve_plugin(&config)
            .map(|p| kind_of(&p))
            .unwrap_or("unknown");
        Ok(ConnectorInfo {
            name: name.to_string(),
            config,
            tasks: (0..view.tasks(name).len() as u32).collect(),
            kind,
        })
    }

    pub(super) fn cluster_status(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<(ConnectorStatus, &'static str, String), HerderError> {
        let missing = || HerderError::not_found(format!("No status found for connector {name}"));
        let view = cluster.view();
        let properties = view.connector(name).ok_or_else(missing)?;
        let connector = cluster
            .status
            .get(&StatusKey::Connector(name.to_string()))
            .ok_or_else(missing)?;
        let count = view.tasks(name).len() as u32;
        let tasks = cluster
            .status
            .tasks(name)
            .into_iter()
            .filter(|(id, _)| *id < count)
            .map(|(id, r)| (id, shared_status(r)))
            .collect();
        let (kind, version) = match self.resolve_plugin(&to_config(properties)) {
            Some(p) => (kind_of(&p), p.info().version.clone()),
            None => ("unknown", String::new()),
        };
        Ok((
            ConnectorStatus {
                connector: shared_status(connector),
                tasks,
                // Usage is known only where a task runs; leaving it out
                // keeps every worker's answer the same.
                usage: BTreeMap::new(),
            },
            kind,
            version,
        ))
    }

    pub(super) fn cluster_plugin_of(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<(Arc<Plugin>, Config, TargetState, usize), HerderError> {
        let view = cluster.view();
        let config = to_config(view.connector(name).ok_or_else(|| super::not_found(name))?);
        let plugin = self.resolve_plugin(&config).ok_or_else(|| {
            HerderError::internal(format!(
                "the plugin of connector {name} is not installed on this worker"
            ))
        })?;
        Ok((
            plugin,
            self.providers.resolve(&config),
            view.target_state(name),
            view.tasks(name).len(),
        ))
    }

    // ---- REST writes (on the leader, or any worker for target states) -----

    pub(super) async fn cluster_put_config(
        &self,
        cluster: &Cluster,
        name: &str,
        config: Config,
        initial: Option<TargetState>,
        must_be_new: bool,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        let plugin = self.checked(&config).await?;
        let existing = cluster.view().connector(name).map(to_config);
        if must_be_new && existing.is_some() {
            return Err(HerderError::conflict(format!(
                "Connector {name} already exists"
            )));
        }
        // As Kafka's distributed herder answers: the tasks configured when
        // the write was made (new ones follow once the owner generates them).
        let tasks = (0..cluster.view().tasks(name).len() as u32).collect();
        let info = |config: Config| ConnectorInfo {
            name: name.to_string(),
            tasks,
            config,
            kind: kind_of(&plugin),
        };
        if existing.as_ref() == Some(&to_config(&to_properties(&config))) {
            return self
                .cluster_connector_info(cluster, name)
                .map(|i| (false, i));
        }
        let (owned, properties) = (name.to_string(), to_properties(&config));
        cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_connector(&owned, properties, initial).await })
            })
            .await?;
        Ok((existing.is_none(), info(config)))
    }

    pub(super) async fn cluster_delete(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<(), HerderError> {
        let view = cluster.view();
        if view.connector(name).is_none() {
            return Err(super::not_found(name));
        }
        let tasks = view.tasks(name).len() as u32;
        let owned = name.to_string();
        cluster
            .write_config(move |s| Box::pin(async move { s.remove_connector(&owned).await }))
            .await?;
        // DESTROYED: tombstones for every task, then the connector.
        for task in 0..tasks {
            let key = StatusKey::Task {
                connector: name.to_string(),
                task,
            };
            if let Err(e) = cluster.status.delete(&key).await {
                tracing::warn!(connector = name, task, "{e}");
            }
        }
        if let Err(e) = cluster
            .status
            .delete(&StatusKey::Connector(name.to_string()))
            .await
        {
            tracing::warn!(connector = name, "{e}");
        }
        Ok(())
    }

    pub(super) async fn cluster_set_target(
        &self,
        cluster: &Cluster,
        name: &str,
        target: TargetState,
    ) -> Result<(), HerderError> {
        let view = cluster.view();
        if view.connector(name).is_none() {
            return Err(HerderError::not_found(format!("Unknown connector {name}")));
        }
        if view.target_state(name) == target {
            return Ok(());
        }
        let owned = name.to_string();
        cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_target_state(&owned, target).await })
            })
            .await
    }

    pub(super) async fn cluster_restart(
        &self,
        cluster: &Cluster,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, HerderError> {
        if cluster.view().connector(name).is_none() {
            return Err(HerderError::not_found(format!("Unknown connector: {name}")));
        }
        let (mut plan, _, _) = self.cluster_status(cluster, name).map_err(|_| {
            HerderError::not_found(format!("Status for connector {name} not found"))
        })?;
        plan.mark_restarting(include_tasks, only_failed);
        let record = ConfigRecord::Restart {
            connector: name.to_string(),
            include_tasks,
            only_failed,
        };
        cluster
            .write_config(move |s| Box::pin(async move { s.put_record(&record).await }))
            .await?;
        Ok(plan)
    }

    pub(super) async fn cluster_restart_task(
        &self,
        cluster: &Cluster,
        name: &str,
        task: u32,
    ) -> Result<(), HerderError> {
        // Kafka's distributed herder words it differently from its
        // standalone one ("Task … not found"); each mode answers as Kafka's.
        if task as usize >= cluster.view().tasks(name).len() {
            return Err(HerderError::not_found(format!(
                "Unknown task: {name}-{task}"
            )));
        }
        let owned = cluster.round().is_some_and(|r| {
            r.allocation
                .tasks
                .iter()
                .any(|t| t.connector == name && t.task == task as i32)
        });
        if !owned {
            return Err(HerderError::conflict(
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
            ));
        }
        let mut connectors = self.connectors.lock().await;
        if let Some(c) = connectors.get_mut(name) {
            self.stop_tasks(name, c, Some(&[task])).await;
        }
        self.clear_failures(name, Some(&[task]));
        // The loop starts it again on its next pass.
        cluster.wake.notify_one();
        Ok(())
    }

    /// The internal `POST /connectors/{name}/tasks`: a connector's new task
    /// configurations, written by the leader.
    pub async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Config>,
    ) -> Result<(), HerderError> {
        let Some(cluster) = &self.cluster else {
            return Err(HerderError::internal(
                "java.lang.UnsupportedOperationException: task configurations are internal to distributed mode",
            ));
        };
        let view = cluster.view();
        if view.connector(name).is_none() {
            return Err(super::not_found(name));
        }
        if view.target_state(name) == TargetState::Stopped && !configs.is_empty() {
            return Err(HerderError::bad_request(format!(
                "Cannot submit non-empty set of task configs for stopped connector {name}"
            )));
        }
        let properties: Vec<Properties> = configs.iter().map(to_properties).collect();
        tracing::info!(
            connector = name,
            tasks = properties.len(),
            "writing task configurations"
        );
        let owned = name.to_string();
        cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_task_configs(&owned, &properties).await })
            })
            .await
    }

    // ---- plugins --------------------------------------------------------

    /// Offers an uploaded component to every other worker.
    pub(super) async fn share_plugin(&self, bytes: &[u8]) -> Result<(), HerderError> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        cluster
            .plugins
            .lock()
            .await
            .publish(bytes)
            .await
            .map(|_| ())
            .map_err(|e| HerderError::internal(format!("cannot share the plugin: {e}")))
    }

    /// Withdraws a shared component (its store file must still exist).
    pub(super) async fn unshare_plugin(&self, sha256: &str) -> Result<(), HerderError> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        let path = self.plugin_store.dir().join(format!("{sha256}.wasm"));
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok(());
        };
        let chunks = (meta.len() as usize).div_ceil(CHUNK_BYTES) as u32;
        cluster
            .plugins
            .lock()
            .await
            .remove(sha256, chunks)
            .await
            .map_err(|e| HerderError::internal(format!("cannot withdraw the plugin: {e}")))
    }

    /// Installs what other workers uploaded (and removes what they deleted).
    async fn read_shared_plugins(&self) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let events = match cluster.plugins.lock().await.refresh().await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!("cannot read the plugin topic: {e}");
                return;
            }
        };
        let mut installed = false;
        for event in events {
            match event {
                PluginEvent::Published { sha256, bytes } => {
                    match self.install_plugin(&bytes).await {
                        Ok((info, true)) => {
                            tracing::info!(class = %info.name, version = %info.version, %sha256, "installed a plugin shared by the cluster");
                            installed = true;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(%sha256, "cannot install a shared plugin: {}", e.message)
                        }
                    }
                }
                PluginEvent::Removed { sha256 } => self.forget_plugin(&sha256),
            }
        }
        if installed {
            cluster.wake.notify_one();
        }
    }

    /// The plugin a configuration names, as this worker has it.
    fn resolve_plugin(&self, config: &Config) -> Option<Arc<Plugin>> {
        let class = lookup(config, "connector.class")?;
        self.registry()
            .connector_version(class, lookup(config, "connector.plugin.version"))
            .ok()
    }

    /// The connectors of the whole cluster and the plugin each runs.
    pub(super) fn cluster_plugins_in_use(&self, cluster: &Cluster) -> Vec<(String, String)> {
        let view = cluster.view();
        view.connectors()
            .filter_map(|name| {
                let plugin = self.resolve_plugin(&to_config(view.connector(name)?))?;
                Some((name.clone(), plugin.info().sha256.clone()))
            })
            .collect()
    }

    // ---- the loop's work ---------------------------------------------------

    /// Restarts what this worker runs of each queued restart request.
    async fn serve_restarts(&self, cluster: &Cluster) {
        let requests: Vec<RestartRequest> = match cluster.restarts.lock() {
            Ok(mut queued) => std::mem::take(&mut *queued),
            Err(_) => return,
        };
        if requests.is_empty() {
            return;
        }
        let mut connectors = self.connectors.lock().await;
        for r in requests {
            let Some(c) = connectors.get_mut(&r.connector) else {
                continue;
            };
            let name = r.connector.as_str();
            let state = self.status.get(name);
            let failed = |task: Option<u32>| {
                state.as_ref().is_some_and(|s| {
                    let status = match task {
                        None => Some(&s.connector),
                        Some(t) => s.tasks.get(&t),
                    };
                    status.is_some_and(|s| s.state == State::Failed)
                })
            };
            if (c.instance.is_some() || c.failed) && (!r.only_failed || failed(None)) {
                c.stop_instance(name).await;
                c.failed = false;
                c.generated = None;
                c.published = None;
                self.status.connector(name, State::Restarting, None);
            }
            if r.include_tasks {
                let mut ids: Vec<u32> = c.tasks.keys().copied().collect();
                ids.extend(
                    (0..c.task_configs.len() as u32).filter(|t| self.is_failed_task(name, *t)),
                );
                ids.retain(|t| !r.only_failed || failed(Some(*t)));
                ids.sort_unstable();
                ids.dedup();
                self.stop_tasks(name, c, Some(&ids)).await;
                self.clear_failures(name, Some(&ids));
            }
        }
    }

    /// Brings the local work in line with the view and the allocation.
    async fn reconcile(&self, cluster: &Cluster) {
        let Some(round) = cluster.round() else {
            return;
        };
        let view = cluster.view();
        let alloc = &round.allocation;
        let owned_tasks = |name: &str| -> BTreeSet<u32> {
            alloc
                .tasks
                .iter()
                .filter(|t| t.connector == name && t.task >= 0)
                .map(|t| t.task as u32)
                .collect()
        };
        let mut connectors = self.connectors.lock().await;

        // Stop what must stop.
        let names: Vec<String> = connectors.keys().cloned().collect();
        for name in &names {
            let Some(c) = connectors.get_mut(name) else {
                continue;
            };
            let wanted = view.connector(name).map(to_config);
            let reconfigured = wanted.as_ref() != Some(&c.config);
            let target = view.target_state(name);
            let view_tasks = task_configs_of(&view, name);
            if c.instance.is_some()
                && (reconfigured
                    || target == TargetState::Stopped
                    || !alloc.connectors.contains(name))
            {
                c.stop_instance(name).await;
                c.generated = None;
                c.published = None;
            }
            let mine = owned_tasks(name);
            let stale: Vec<u32> = c
                .tasks
                .keys()
                .copied()
                .filter(|id| {
                    reconfigured
                        || target != TargetState::Started
                        || !mine.contains(id)
                        || view_tasks.get(*id as usize) != c.task_configs.get(*id as usize)
                })
                .collect();
            if !stale.is_empty() {
                self.stop_tasks(name, c, Some(&stale)).await;
            }
            if c.task_configs != view_tasks {
                // New task configurations start afresh, failed ones too.
                self.clear_failures(name, None);
                c.task_configs = view_tasks;
            }
            if target != c.target {
                c.target = target;
                c.failed = false;
            }
            if let Some(config) = wanted
                && reconfigured
            {
                self.clear_failures(name, None);
                c.failed = false;
                match self.resolve_plugin(&config) {
                    Some(plugin) => c.plugin = plugin,
                    None => {
                        // Dropped below; set up again once the plugin arrives.
                        c.config = Vec::new();
                        continue;
                    }
                }
                c.config = config;
            }
        }
        connectors.retain(|name, c| {
            let keep = !c.config.is_empty()
                && view.connector(name).is_some()
                && (alloc.connectors.contains(name) || !owned_tasks(name).is_empty());
            if !keep {
                self.status.remove(name);
                let _ = self.store.update(name, |e| *e = None);
            }
            keep
        });

        // Start what this worker should run.
        let mut offsets_read = false;
        for name in view.connectors() {
            let own_connector = alloc.connectors.contains(name);
            let mine = owned_tasks(name);
            if !own_connector && mine.is_empty() {
                continue;
            }
            if !connectors.contains_key(name) {
                let Some(properties) = view.connector(name) else {
                    continue;
                };
                let config = to_config(properties);
                let Some(plugin) = self.resolve_plugin(&config) else {
                    tracing::warn!(connector = %name, "waiting for the connector's plugin to be installed");
                    continue;
                };
                let target = view.target_state(name);
                let _ = self.store.update(name, |e| {
                    *e = Some(StoredConnector {
                        config: config.clone(),
                        target,
                        connector_failure: None,
                        task_failures: BTreeMap::new(),
                    })
                });
                let mut c = Connector::new(config, plugin, target);
                c.task_configs = task_configs_of(&view, name);
                connectors.insert(name.clone(), c);
            }
            let Some(c) = connectors.get_mut(name) else {
                continue;
            };
            self.status
                .describe(name, kind_of(&c.plugin), &c.plugin.info().version);
            if own_connector {
                self.run_connector(cluster, name, c).await;
            }
            match c.target {
                TargetState::Paused => {
                    for id in &mine {
                        if (*id as usize) < c.task_configs.len() && !self.is_failed_task(name, *id)
                        {
                            self.set_state(name, Some(*id), State::Paused);
                        }
                    }
                }
                TargetState::Started => {
                    let idle = mine.iter().any(|id| {
                        (*id as usize) < c.task_configs.len()
                            && c.tasks.get(id).is_none_or(|t| t.join.is_finished())
                            && !self.is_failed_task(name, *id)
                    });
                    if idle && !offsets_read {
                        // A task moved here resumes from what its last
                        // owner wrote.
                        if let Err(e) = cluster.offsets.refresh().await {
                            tracing::warn!("cannot read the offsets topic: {e}");
                        }
                        offsets_read = true;
                    }
                    if idle {
                        self.start_tasks(name, c, Some(&mine));
                    }
                }
                TargetState::Stopped => {}
            }
        }
    }

    /// The connector instance this worker owns: started (or stopped) per
    /// its target state, its task configurations sent to the leader.
    async fn run_connector(&self, cluster: &Cluster, name: &str, c: &mut Connector) {
        if c.target == TargetState::Stopped {
            self.set_state(name, None, State::Stopped);
            // A stopped connector has no tasks (Kafka writes an empty set).
            c.generated = Some(Vec::new());
        } else if c.instance.is_none() && !c.failed {
            match self.launch_instance(name, c).await {
                Ok((instance, configs)) => {
                    c.instance = Some(instance);
                    c.generated = Some(configs.iter().map(|t| restore_raw(t, &c.config)).collect());
                }
                Err(e) => {
                    c.failed = true;
                    self.status
                        .connector(name, State::Failed, Some(e.to_string()));
                    return;
                }
            }
        }
        if c.instance.is_some() {
            let state = match c.target {
                TargetState::Paused => State::Paused,
                _ => State::Running,
            };
            self.set_state(name, None, state);
        }
        let Some(generated) = &c.generated else {
            return;
        };
        let stored: Vec<Properties> = c.task_configs.iter().map(to_properties).collect();
        let wanted: Vec<Properties> = generated.iter().map(to_properties).collect();
        let inconsistent = cluster.view().is_inconsistent(name);
        if (stored != wanted || inconsistent) && c.published.as_ref() != Some(generated) {
            let generated = generated.clone();
            tracing::info!(
                connector = name,
                tasks = generated.len(),
                "publishing new task configurations"
            );
            match cluster.publish_task_configs(name, &generated).await {
                Ok(()) => c.published = Some(generated),
                Err(e) => {
                    tracing::warn!(connector = name, "cannot publish task configurations: {e}")
                }
            }
        }
    }

    /// Sets a state on the board (and so on the status topic) only when it
    /// changes: the loop passes often.
    fn set_state(&self, name: &str, task: Option<u32>, state: State) {
        let current = self.status.get(name).and_then(|s| match task {
            None => Some(s.connector.state),
            Some(t) => s.tasks.get(&t).map(|s| s.state),
        });
        if current == Some(state) {
            return;
        }
        match task {
            None => self.status.connector(name, state, None),
            Some(t) => self.status.task(name, t, state, None),
        }
    }
}

/// The herder loop: rounds, config changes, restarts, reconciliation.
async fn herd(worker: Arc<Worker>, mut membership: Membership) {
    let Some(cluster) = worker.cluster.clone() else {
        return;
    };
    let mut stop = cluster.stop.subscribe();
    let mut poll = tokio::time::interval(CONFIG_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut configured = cluster.view().work();
    // A round that revoked work, to confirm once the work has stopped.
    let mut revoking: Option<i32> = None;
    loop {
        tokio::select! {
            round = membership.next_round() => match round {
                Some(round) => {
                    if !round.revoked.is_empty() {
                        revoking = Some(round.generation);
                    }
                    on_round(&cluster, round);
                    // The assignment may be ahead of this worker's view.
                    if let Err(e) = cluster.refresh_config().await {
                        tracing::warn!("cannot read the config topic: {e}");
                    }
                }
                None => {
                    tracing::error!("the group membership ended; this worker runs nothing more");
                    break;
                }
            },
            // Retries what could not start (a plugin still missing).
            _ = poll.tick() => {}
            _ = cluster.wake.notified() => {}
            _ = stop.changed() => break,
        }
        // Connectors created or deleted, task counts changed, connectors
        // stopped: the leader must assign again.
        let now = cluster.view().work();
        if now != configured {
            configured = now;
            membership.request_rejoin();
        }
        worker.serve_restarts(&cluster).await;
        worker.reconcile(&cluster).await;
        if let Some(generation) = revoking.take() {
            membership.revocations_done(generation);
        }
    }
    tracing::info!("stopping local connectors and tasks, then leaving the group");
    worker.stop_everything().await;
    membership.leave().await;
}

fn on_round(cluster: &Cluster, round: Round) {
    tracing::info!(
        generation = round.generation,
        leader = round.leader,
        connectors = round.allocation.connectors.len(),
        tasks = round.allocation.tasks.len(),
        revoked = round.revoked.connectors.len() + round.revoked.tasks.len(),
        "rebalance completed"
    );
    if let Ok(mut r) = cluster.round.write() {
        *r = Some(RoundInfo {
            generation: round.generation,
            leader: round.leader,
            leader_url: round.leader_url,
            allocation: round.allocation,
        });
    }
}

/// Publishes every local state change to the status topic.
async fn write_statuses(cluster: Arc<Cluster>, mut events: mpsc::UnboundedReceiver<StatusEvent>) {
    while let Some(e) = events.recv().await {
        // A deleted connector's tasks report UNASSIGNED as they stop; the
        // leader already wrote its tombstones.
        if cluster.view().connector(&e.connector).is_none() {
            continue;
        }
        let key = match e.task {
            None => StatusKey::Connector(e.connector.clone()),
            Some(task) => StatusKey::Task {
                connector: e.connector.clone(),
                task,
            },
        };
        let record = StatusRecord {
            state: e.state.as_str().to_string(),
            trace: e.trace,
            worker_id: cluster.worker_id.clone(),
            // -1: no round completed yet.
            generation: cluster.round().map_or(-1, |r| r.generation),
        };
        if let Err(err) = cluster.status.put(&key, &record).await {
            tracing::warn!(connector = %e.connector, task = e.task, "cannot write a status: {err}");
        }
    }
}

/// Reads the config topic for other workers' writes, apart from the loop,
/// so that REST reads stay current while the loop starts or stops tasks.
async fn read_config(cluster: Arc<Cluster>) {
    let mut stop = cluster.stop.subscribe();
    let mut poll = tokio::time::interval(CONFIG_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = cluster.refresh_config().await {
            tracing::warn!("cannot read the config topic: {e}");
        }
    }
}

/// Reads the status and plugin topics for other workers' writes.
async fn read_shared(worker: Arc<Worker>) {
    let Some(cluster) = worker.cluster.clone() else {
        return;
    };
    let mut stop = cluster.stop.subscribe();
    let mut poll = tokio::time::interval(SHARED_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = cluster.status.refresh().await {
            tracing::warn!("cannot read the status topic: {e}");
        }
        worker.read_shared_plugins().await;
    }
}

/// A status record from the topic as the REST layer shows it.
fn shared_status(r: StatusRecord) -> super::status::Status {
    super::status::Status {
        state: State::parse(&r.state).unwrap_or(State::Unassigned),
        trace: r.trace,
        worker: Some(r.worker_id),
    }
}

fn to_config(p: &Properties) -> Config {
    p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn to_properties(c: &Config) -> Properties {
    c.iter().cloned().collect()
}

fn task_configs_of(view: &ConfigState, name: &str) -> Vec<Config> {
    view.tasks(name).into_iter().map(to_config).collect()
}
