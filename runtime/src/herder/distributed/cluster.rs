//! This worker's share of the cluster's state: the config topic's view
//! (what is configured), the last completed round (what this worker runs,
//! who leads), restart requests waiting for the loop, and the stores of the
//! internal topics.
//!
//! Who writes what:
//! * the leader writes connector configurations and task configurations
//!   (a follower's herder redirects such writes to it); a follower whose
//!   connector generated task configurations sends them to the leader's
//!   internal `POST /connectors/{name}/tasks` ([`Cluster::publish_task_configs`]);
//! * any worker writes target states (pause, resume) and restart requests;
//! * each worker writes the states of what it runs, with its `host:port`
//!   and the group generation, to the status topic;
//! * source tasks write their offsets to the offsets topic wherever they run.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::Method;
use tokio::sync::{Mutex, Notify, watch};

use super::super::peer;
use crate::config::Config;
use crate::config::distributed::DistributedConfig;
use crate::distributed::config_log::ConfigState;
use crate::distributed::config_log::{Change, Properties};
use crate::distributed::config_store::ConfigStore;
use crate::distributed::membership::ConfigView;
use crate::distributed::offset_store::OffsetStore;
use crate::distributed::plugin_log::PluginLog;
use crate::distributed::protocol::Work;
use crate::distributed::session_key::{ALGORITHM, SessionKey, Signature};
use crate::distributed::status_log::StatusKey;
use crate::distributed::status_store::StatusStore;
use crate::error::HerderError;

/// How often the config topic is read for other workers' writes (and the
/// local work reconciled), when nothing else wakes the loop.
pub(super) const CONFIG_POLL: Duration = Duration::from_millis(250);
/// How often the status and plugin topics are read.
pub(super) const SHARED_POLL: Duration = Duration::from_millis(300);

/// The last completed round, as the REST layer and the loop need it.
#[derive(Debug, Clone)]
pub(super) struct RoundInfo {
    pub(super) generation: i32,
    pub(super) leader: bool,
    pub(super) leader_url: String,
    pub(super) allocation: Work,
}

/// A restart request read from the config topic.
#[derive(Debug, Clone)]
pub(super) struct RestartRequest {
    pub(super) connector: String,
    pub(super) include_tasks: bool,
    pub(super) only_failed: bool,
}

/// This worker's share of the cluster: the stores, the view and the round.
pub struct Cluster {
    pub(super) settings: DistributedConfig,
    pub(super) worker_id: String,
    pub(super) config: Mutex<ConfigStore>,
    pub(super) view: RwLock<ConfigState>,
    pub(super) status: Arc<StatusStore>,
    pub(super) offsets: Arc<OffsetStore>,
    pub(super) plugins: Mutex<PluginLog>,
    pub(super) round: RwLock<Option<RoundInfo>>,
    pub(super) restarts: std::sync::Mutex<Vec<RestartRequest>>,
    pub(super) wake: Notify,
    pub(super) stop: watch::Sender<bool>,
    /// The client for requests to other workers.
    pub(super) peer: reqwest::Client,
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

    pub(super) fn round(&self) -> Option<RoundInfo> {
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
        // Every worker of a cluster advertises the same scheme.
        Some(format!(
            "{}://{}/",
            self.settings.advertised_listener, record.worker_id
        ))
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
    pub(super) async fn write_config<F>(&self, write: F) -> Result<(), HerderError>
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

    /// As leader, writes a session key when there is none or it is older
    /// than `inter.worker.key.ttl.ms` (Kafka Connect's key rotation).
    pub(super) async fn rotate_session_key(&self) {
        if !self.is_leader()
            || self
                .view()
                .session_key()
                .is_some_and(|k| !k.expired(self.settings.key_ttl))
        {
            return;
        }
        let key = match SessionKey::generate() {
            Ok(key) => key,
            Err(e) => {
                tracing::error!("{e}; internal requests stay unsigned");
                return;
            }
        };
        let written = self
            .write_config(move |s| Box::pin(async move { s.put_session_key(&key).await }))
            .await;
        match written {
            Ok(()) => tracing::info!("wrote a new session key for signed internal requests"),
            Err(e) => tracing::warn!("cannot write a session key: {}", e.message),
        }
    }

    /// Whether an internal request carrying `signature` for `body` comes
    /// from a member of this cluster (`connect.protocol=sessioned`; with
    /// `compatible`, as in Kafka, requests are not checked).
    pub(super) fn check_signature(
        &self,
        signature: Option<&Signature>,
        body: &[u8],
    ) -> Result<(), HerderError> {
        if self.settings.protocol != "sessioned" {
            return Ok(());
        }
        let Some(signature) = signature else {
            return Err(HerderError::bad_request(
                "Internal request missing required signature",
            ));
        };
        if signature.algorithm != ALGORITHM {
            return Err(HerderError::bad_request(format!(
                "This worker does not support the '{}' key signing algorithm used by other workers. \
                 This worker is currently configured to use: [{ALGORITHM}]. Check that all workers' \
                 configuration files permit the same set of signature algorithms, and correct any \
                 misconfigured worker and restart it.",
                signature.algorithm
            )));
        }
        match self.view().session_key() {
            Some(key) if key.verifies(signature, body) => Ok(()),
            _ => Err(HerderError::with_status(
                403,
                "Internal request contained invalid signature.",
            )),
        }
    }

    /// Sends task configurations to the leader (or, leading, writes them).
    pub(super) async fn publish_task_configs(
        &self,
        name: &str,
        configs: &[Config],
    ) -> Result<(), String> {
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
        let body = serde_json::to_vec(&properties).map_err(|e| e.to_string())?;
        let path = format!("/connectors/{}/tasks", peer::segment(name));
        // Signed with the leader's session key; before one is known the
        // leader refuses, and the next reconcile sends again.
        let signature = self.view().session_key().map(|k| k.sign(&body));
        let request = peer::Request {
            method: Method::POST,
            path: &path,
            forward: None,
            query: &[],
            authorization: None,
            signature: signature.as_ref(),
            body: Some(&body),
        };
        peer::forward(&self.peer, self.leader_url().as_deref(), &request)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
    }
}

pub(super) fn to_config(p: &Properties) -> Config {
    p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(super) fn to_properties(c: &Config) -> Properties {
    c.iter().cloned().collect()
}

pub(super) fn task_configs_of(view: &ConfigState, name: &str) -> Vec<Config> {
    view.tasks(name).into_iter().map(to_config).collect()
}
