//! Distributed mode's herder: this worker as one member of a cluster, as
//! Kafka Connect's `DistributedHerder` runs it.
//!
//! * [`cluster`]: the shared state as this worker last read it (the config
//!   topic's view, the last round, queued restart requests);
//! * [`reconcile`]: the loop that brings the local work in line with it;
//! * this module: start-up and the answers to requests. Reads come from the
//!   shared view; writes go to the config topic, made here when this worker
//!   may make them, else refused with a redirect (to the leader, or to a
//!   task's owner) that the REST layer follows.

pub mod cluster;
mod reconcile;

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tokio::sync::{Mutex, Notify, mpsc, watch};

use super::{ConnectorInfo, ConnectorSummary, Herder, StatusReport, not_found, peer};
use crate::config::TargetState;
use crate::config::distributed::{DistributedConfig, StorageTopic};
use crate::config::{Config, WorkerConfig};
use crate::distributed::config_log::{ConfigRecord, Properties};
use crate::distributed::config_store::ConfigStore;
use crate::distributed::group::GroupSettings;
use crate::distributed::membership::{Membership, MembershipSettings};
use crate::distributed::offset_store::OffsetStore;
use crate::distributed::plugin_log::{CHUNK_BYTES, PluginLog};
use crate::distributed::session_key::Signature;
use crate::distributed::status_log::{StatusKey, StatusRecord};
use crate::distributed::status_store::StatusStore;
use crate::distributed::topic_log::TopicSpec;
use crate::error::HerderError;
use crate::sandbox::Sandbox;
use crate::store::memory::MemoryTopic;
use crate::worker::kafka::Kafka;
use crate::worker::plugin_store::PluginStore;
use crate::worker::status::{ConnectorStatus, State, Status, StatusBoard};
use crate::worker::store::ConnectorStore;
use crate::worker::{Connector, KAFKA_CHECK_TIMEOUT, Worker, WorkerParts, kind_of};
use cluster::{Cluster, to_config, to_properties};

/// A connector this worker runs the instance or some tasks of, with what
/// only distributed mode tracks.
struct Owned {
    connector: Connector,
    /// The instance failed to start; not retried until a restart or a new
    /// configuration.
    failed: bool,
    /// The task configurations the instance generated, and the last set
    /// sent to the leader (sent again only when they differ).
    generated: Option<Vec<Config>>,
    published: Option<Vec<Config>>,
}

impl Owned {
    fn new(connector: Connector) -> Owned {
        Owned {
            connector,
            failed: false,
            generated: None,
            published: None,
        }
    }
}

impl Deref for Owned {
    type Target = Connector;
    fn deref(&self) -> &Connector {
        &self.connector
    }
}

impl DerefMut for Owned {
    fn deref_mut(&mut self) -> &mut Connector {
        &mut self.connector
    }
}

/// What a cluster member is built from ([`DistributedHerder::assemble`]).
pub struct ClusterParts {
    pub config: WorkerConfig,
    pub settings: DistributedConfig,
    pub sandbox: Sandbox,
    /// The cluster tasks produce to and consume from.
    pub kafka: Kafka,
    pub stores: ClusterStores,
}

/// The cluster's shared state: the config, offset, status and plugin
/// stores, each over a log (Kafka Connect's internal topics).
pub struct ClusterStores {
    pub config: ConfigStore,
    pub offsets: Arc<OffsetStore>,
    pub status: Arc<StatusStore>,
    pub plugins: PluginLog,
}

impl ClusterStores {
    /// The internal topics named in `settings`, created when missing, each
    /// read to its end. Restart requests already in the config topic were
    /// for workers before this one; only the state they leave matters.
    pub async fn open(
        bootstrap: &str,
        clients: &[(String, String)],
        settings: &DistributedConfig,
        client_id: &str,
    ) -> Result<ClusterStores, String> {
        let spec = |t: &StorageTopic| TopicSpec {
            topic: t.topic.clone(),
            partitions: t.partitions,
            replication: t.replication,
        };
        let (config, _) = ConfigStore::open(
            bootstrap,
            clients,
            &settings.config.topic,
            settings.config.replication,
            client_id,
        )
        .await?;
        Ok(ClusterStores {
            config,
            offsets: Arc::new(
                OffsetStore::open(bootstrap, clients, &spec(&settings.offsets), client_id).await?,
            ),
            status: Arc::new(
                StatusStore::open(bootstrap, clients, &spec(&settings.status), client_id).await?,
            ),
            plugins: PluginLog::open(bootstrap, clients, &spec(&settings.plugins), client_id)
                .await?,
        })
    }

    /// This worker's readers of in-memory topics that every worker of a
    /// test cluster shares.
    pub async fn in_memory(topics: &MemoryTopics) -> Result<ClusterStores, String> {
        let (config, _) = ConfigStore::over(Box::new(topics.config.open())).await?;
        Ok(ClusterStores {
            config,
            offsets: Arc::new(OffsetStore::over(Box::new(topics.offsets.open())).await?),
            status: Arc::new(StatusStore::over(Box::new(topics.status.open())).await?),
            plugins: PluginLog::over(Box::new(topics.plugins.open())),
        })
    }
}

/// The four internal topics in memory, shared by the workers of a test
/// cluster (clone it for each).
#[derive(Clone)]
pub struct MemoryTopics {
    pub config: MemoryTopic,
    pub offsets: MemoryTopic,
    pub status: MemoryTopic,
    pub plugins: MemoryTopic,
}

impl Default for MemoryTopics {
    /// Kafka Connect's default partition counts (config: 1, offsets: 25,
    /// status: 5), and one for plugins.
    fn default() -> MemoryTopics {
        MemoryTopics {
            config: MemoryTopic::new(1),
            offsets: MemoryTopic::new(25),
            status: MemoryTopic::new(5),
            plugins: MemoryTopic::new(1),
        }
    }
}

/// The herder of one cluster member.
pub struct DistributedHerder {
    worker: Worker,
    cluster: Arc<Cluster>,
    connectors: Mutex<BTreeMap<String, Owned>>,
    herd: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl DistributedHerder {
    /// Reads the internal topics, installs the shared plugins, joins
    /// `group.id` and starts herding.
    pub async fn start(
        config: WorkerConfig,
        settings: DistributedConfig,
        sandbox: &Sandbox,
    ) -> Result<Arc<DistributedHerder>, String> {
        let kafka = Kafka::connect(&config.kafka, &config.admin)?;
        if kafka.is_embedded() {
            return Err(
                "distributed mode needs bootstrap.servers: the cluster's state lives in Kafka topics"
                    .into(),
            );
        }
        kafka.check_reachable(KAFKA_CHECK_TIMEOUT).await?;
        let bootstrap = kafka.bootstrap().to_string();
        let client_id = format!("wasmconnect-{}", settings.worker_id());
        let stores = ClusterStores::open(&bootstrap, &config.admin, &settings, &client_id).await?;
        let membership = MembershipSettings {
            group: GroupSettings {
                bootstrap: bootstrap.split(',').map(|s| s.trim().to_string()).collect(),
                group_id: settings.group_id.clone(),
                session_timeout: settings.session_timeout,
                rebalance_timeout: settings.rebalance_timeout,
                client_id,
            },
            url: settings.url(),
            heartbeat_interval: settings.heartbeat_interval,
            max_delay: settings.scheduled_rebalance_max_delay,
        };
        let parts = ClusterParts {
            config,
            settings,
            sandbox: sandbox.clone(),
            kafka,
            stores,
        };
        Ok(Self::assemble(parts, |cluster| Membership::start(membership, cluster)).await)
    }

    /// Builds the herder from its parts, installs the shared plugins, joins
    /// the group through `join` and starts herding. [`Self::start`] joins
    /// the `connect` group on Kafka; a test passes in-memory stores and a
    /// [`Membership::scripted`] group.
    pub async fn assemble(
        parts: ClusterParts,
        join: impl FnOnce(Arc<Cluster>) -> Membership,
    ) -> Arc<DistributedHerder> {
        let ClusterParts {
            config,
            settings,
            sandbox,
            kafka,
            stores,
        } = parts;
        let worker_id = settings.worker_id();
        let plugin_store = PluginStore::new(match config.get("plugin.store.dir") {
            Some(dir) if !dir.trim().is_empty() => std::path::PathBuf::from(dir.trim()),
            _ => std::env::temp_dir().join(format!(
                "wasmconnect-plugins-{}",
                worker_id.replace([':', '/'], "_")
            )),
        });
        let (events, events_rx) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let cluster = Arc::new(Cluster {
            view: RwLock::new(stores.config.state().clone()),
            config: Mutex::new(stores.config),
            status: stores.status,
            offsets: stores.offsets.clone(),
            plugins: Mutex::new(stores.plugins),
            round: RwLock::new(None),
            restarts: std::sync::Mutex::new(Vec::new()),
            wake: Notify::new(),
            stop,
            worker_id: worker_id.clone(),
            settings,
            peer: peer::client_for(config.peer_tls.as_ref()),
        });
        let worker = Worker::new(WorkerParts {
            worker_id,
            config,
            sandbox,
            kafka,
            offsets: stores.offsets,
            status: StatusBoard::with_listener(events),
            store: Arc::new(ConnectorStore::in_memory()),
            plugin_store,
        })
        .await;
        let herder = Arc::new(DistributedHerder {
            worker,
            cluster: cluster.clone(),
            connectors: Mutex::new(BTreeMap::new()),
            herd: std::sync::Mutex::new(None),
        });
        // Shared plugins first: work assigned in the first round may need one.
        herder.read_shared_plugins().await;
        let membership = join(cluster.clone());
        tokio::spawn(reconcile::write_statuses(cluster.clone(), events_rx));
        tokio::spawn(reconcile::read_config(cluster.clone()));
        tokio::spawn(reconcile::read_shared(herder.clone()));
        let herd = tokio::spawn(reconcile::herd(herder.clone(), membership));
        if let Ok(mut h) = herder.herd.lock() {
            *h = Some(herd);
        }
        herder
    }

    /// The cluster state this worker last read.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Reads what other workers wrote to the config topic, so that a
    /// decision made here (the leader's, above all) sees every write that
    /// was acknowledged before the request arrived; polling alone lags.
    async fn read_config_to_end(&self) {
        if let Err(e) = self.cluster.refresh_config().await {
            tracing::warn!("cannot read the config topic: {e}");
        }
    }

    fn status_of(&self, name: &str) -> Result<StatusReport, HerderError> {
        let missing = || HerderError::not_found(format!("No status found for connector {name}"));
        let view = self.cluster.view();
        let properties = view.connector(name).ok_or_else(missing)?;
        let connector = self
            .cluster
            .status
            .get(&StatusKey::Connector(name.to_string()))
            .ok_or_else(missing)?;
        let count = view.tasks(name).len() as u32;
        let tasks = self
            .cluster
            .status
            .tasks(name)
            .into_iter()
            .filter(|(id, _)| *id < count)
            .map(|(id, r)| (id, shared_status(r)))
            .collect();
        let (kind, version) = match self.worker.resolve_plugin(&to_config(properties)) {
            Some(p) => (kind_of(&p), p.info().version.clone()),
            None => ("unknown", String::new()),
        };
        Ok(StatusReport {
            status: ConnectorStatus {
                connector: shared_status(connector),
                tasks,
                // Usage and error counts are known only where a task runs;
                // leaving them out keeps every worker's answer the same.
                usage: BTreeMap::new(),
                errors: BTreeMap::new(),
            },
            kind,
            version,
        })
    }

    /// Writes a connector configuration (on the leader).
    async fn write_connector(
        &self,
        name: &str,
        config: Config,
        initial: Option<TargetState>,
        must_be_new: bool,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        self.require_leader()?;
        self.read_config_to_end().await;
        let plugin = self.worker.check(&config).await?;
        let view = self.cluster.view();
        let existing = view.connector(name).map(to_config);
        if must_be_new && existing.is_some() {
            return Err(HerderError::conflict(format!(
                "Connector {name} already exists"
            )));
        }
        if existing.as_ref() == Some(&to_config(&to_properties(&config))) {
            return self.connector_info(name).await.map(|i| (false, i));
        }
        // As Kafka's distributed herder answers: the tasks configured when
        // the write was made (new ones follow once the owner generates them).
        let info = ConnectorInfo {
            name: name.to_string(),
            tasks: (0..view.tasks(name).len() as u32).collect(),
            config: config.clone(),
            kind: kind_of(&plugin),
        };
        let (owned, properties) = (name.to_string(), to_properties(&config));
        self.cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_connector(&owned, properties, initial).await })
            })
            .await?;
        Ok((existing.is_none(), info))
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    fn worker(&self) -> &Worker {
        &self.worker
    }

    fn is_ready(&self) -> bool {
        self.cluster.round().is_some()
    }

    fn require_leader(&self) -> Result<(), HerderError> {
        if self.cluster.is_leader() {
            Ok(())
        } else {
            Err(HerderError::not_leader(self.cluster.leader_url()))
        }
    }

    async fn connector_names(&self) -> Vec<String> {
        self.cluster.view().connectors().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let view = self.cluster.view();
        let properties = view.connector(name).ok_or_else(|| not_found(name))?;
        let config = to_config(properties);
        let kind = self
            .worker
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

    async fn connector_status(&self, name: &str) -> Result<StatusReport, HerderError> {
        self.status_of(name)
    }

    async fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError> {
        let view = self.cluster.view();
        if view.connector(name).is_none() {
            return Err(not_found(name));
        }
        Ok(cluster::task_configs_of(&view, name))
    }

    async fn summary(&self, name: &str) -> Result<ConnectorSummary, HerderError> {
        // Offsets requests act on this answer (stopped, no tasks).
        self.read_config_to_end().await;
        let view = self.cluster.view();
        let config = to_config(view.connector(name).ok_or_else(|| not_found(name))?);
        let plugin = self.worker.resolve_plugin(&config).ok_or_else(|| {
            HerderError::internal(format!(
                "the plugin of connector {name} is not installed on this worker"
            ))
        })?;
        Ok(ConnectorSummary {
            plugin,
            config: self.worker.resolve(&config),
            target: view.target_state(name),
            tasks: view.tasks(name).len(),
        })
    }

    async fn create_connector(
        &self,
        config: Config,
        initial: Option<TargetState>,
    ) -> Result<ConnectorInfo, HerderError> {
        let name = crate::config::worker::lookup(&config, "name")
            .unwrap_or_default()
            .to_string();
        self.write_connector(&name, config, initial, true)
            .await
            .map(|(_, info)| info)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: Config,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        self.write_connector(name, config, None, false).await
    }

    async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        self.require_leader()?;
        self.read_config_to_end().await;
        let view = self.cluster.view();
        if view.connector(name).is_none() {
            return Err(not_found(name));
        }
        let tasks = view.tasks(name).len() as u32;
        let owned = name.to_string();
        self.cluster
            .write_config(move |s| Box::pin(async move { s.remove_connector(&owned).await }))
            .await?;
        // DESTROYED: tombstones for every task, then the connector.
        for task in 0..tasks {
            let key = StatusKey::Task {
                connector: name.to_string(),
                task,
            };
            if let Err(e) = self.cluster.status.delete(&key).await {
                tracing::warn!(connector = name, task, "{e}");
            }
        }
        if let Err(e) = self
            .cluster
            .status
            .delete(&StatusKey::Connector(name.to_string()))
            .await
        {
            tracing::warn!(connector = name, "{e}");
        }
        Ok(())
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        // Any worker writes pause and resume, as Kafka's do; stopping also
        // empties the task configurations, which only the leader writes.
        if target == TargetState::Stopped {
            self.require_leader()?;
        }
        self.read_config_to_end().await;
        let view = self.cluster.view();
        if view.connector(name).is_none() {
            return Err(HerderError::not_found(format!("Unknown connector {name}")));
        }
        if view.target_state(name) == target {
            return Ok(());
        }
        let owned = name.to_string();
        self.cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_target_state(&owned, target).await })
            })
            .await
    }

    async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, HerderError> {
        self.require_leader()?;
        self.read_config_to_end().await;
        if self.cluster.view().connector(name).is_none() {
            return Err(HerderError::not_found(format!("Unknown connector: {name}")));
        }
        // The plan says what is failed now, as every worker last wrote it.
        if let Err(e) = self.cluster.status.refresh().await {
            tracing::warn!("cannot read the status topic: {e}");
        }
        let mut plan = self
            .status_of(name)
            .map_err(|_| HerderError::not_found(format!("Status for connector {name} not found")))?
            .status;
        plan.mark_restarting(include_tasks, only_failed);
        let record = ConfigRecord::Restart {
            connector: name.to_string(),
            include_tasks,
            only_failed,
        };
        self.cluster
            .write_config(move |s| Box::pin(async move { s.put_record(&record).await }))
            .await?;
        Ok(plan)
    }

    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        self.read_config_to_end().await;
        // Kafka's distributed herder words it differently from its
        // standalone one ("Task … not found"); each mode answers as Kafka's.
        if task as usize >= self.cluster.view().tasks(name).len() {
            return Err(HerderError::not_found(format!(
                "Unknown task: {name}-{task}"
            )));
        }
        let owned = self.cluster.round().is_some_and(|r| {
            r.allocation
                .tasks
                .iter()
                .any(|t| t.connector == name && t.task == task as i32)
        });
        if !owned {
            // The worker that last reported the task's state runs it.
            return match self.cluster.task_owner_url(name, task) {
                Some(url) if url != self.cluster.url() => Err(HerderError::not_owner(url)),
                _ => Err(HerderError::conflict(
                    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
                )),
            };
        }
        let mut connectors = self.connectors.lock().await;
        if let Some(c) = connectors.get_mut(name) {
            self.worker.stop_tasks(name, c, Some(&[task])).await;
        }
        self.worker.clear_failures(name, Some(&[task]));
        // The loop starts it again on its next pass.
        self.cluster.wake.notify_one();
        Ok(())
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Config>,
        signature: Option<&Signature>,
        body: &[u8],
    ) -> Result<(), HerderError> {
        self.require_leader()?;
        self.read_config_to_end().await;
        self.cluster.check_signature(signature, body)?;
        let view = self.cluster.view();
        if view.connector(name).is_none() {
            return Err(not_found(name));
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
        self.cluster
            .write_config(move |s| {
                Box::pin(async move { s.put_task_configs(&owned, &properties).await })
            })
            .await
    }

    async fn plugins_in_use(&self) -> Vec<(String, String)> {
        let view = self.cluster.view();
        view.connectors()
            .filter_map(|name| {
                let plugin = self
                    .worker
                    .resolve_plugin(&to_config(view.connector(name)?))?;
                Some((name.clone(), plugin.info().sha256.clone()))
            })
            .collect()
    }

    async fn share_plugin(&self, bytes: &[u8]) -> Result<(), HerderError> {
        self.cluster
            .plugins
            .lock()
            .await
            .publish(bytes)
            .await
            .map(|_| ())
            .map_err(|e| HerderError::internal(format!("cannot share the plugin: {e}")))
    }

    async fn unshare_plugin(&self, sha256: &str) -> Result<(), HerderError> {
        // Only an upload is shared; a plugin.path file is not in the store.
        let Some(meta) = self
            .worker
            .stored_plugin_file(sha256)
            .and_then(|p| std::fs::metadata(p).ok())
        else {
            return Ok(());
        };
        let chunks = (meta.len() as usize).div_ceil(CHUNK_BYTES) as u32;
        self.cluster
            .plugins
            .lock()
            .await
            .remove(sha256, chunks)
            .await
            .map_err(|e| HerderError::internal(format!("cannot withdraw the plugin: {e}")))
    }

    fn peer_client(&self) -> reqwest::Client {
        self.cluster.peer.clone()
    }

    async fn after_forward(&self) {
        // Read-your-writes: what the leader wrote is in this worker's view
        // before the client hears back.
        if let Err(e) = self.cluster.refresh_config().await {
            tracing::warn!("cannot read the config topic: {e}");
        }
    }

    async fn shutdown(&self) {
        let _ = self.cluster.stop.send(true);
        let herd = self.herd.lock().ok().and_then(|mut h| h.take());
        if let Some(herd) = herd {
            let _ = herd.await;
        }
    }
}

/// A status record from the topic as the REST layer shows it.
fn shared_status(r: StatusRecord) -> Status {
    Status {
        state: State::parse(&r.state).unwrap_or(State::Unassigned),
        trace: r.trace,
        worker: Some(r.worker_id),
    }
}
