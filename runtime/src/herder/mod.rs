//! Herders: what runs where, and the answer to every REST request on
//! connectors, as Kafka Connect's `Herder` gives them.
//!
//! * [`standalone`]: one worker; connectors kept in a file beside the
//!   offsets file;
//! * [`distributed`]: one member of a cluster; what is configured lives in
//!   Kafka topics, what runs where is decided in the `connect` group;
//! * [`peer`]: the client one worker asks another with.
//!
//! The REST layer holds a `dyn` [`Herder`] and never asks which mode runs.
//! A request this worker may not make (a write only the leader makes, a
//! restart of a task another worker runs) fails with a
//! [`HerderError`] carrying a [`crate::error::Redirect`]; the REST layer
//! forwards the request there. Herders call the mode-agnostic
//! [`Worker`](crate::worker::Worker) to start and stop instances and tasks;
//! the worker never calls a herder.

pub mod distributed;
pub mod peer;
pub mod standalone;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::Config;
use crate::config::TargetState;
use crate::distributed::session_key::Signature;
use crate::error::HerderError;
use crate::plugin::{Plugin, PluginInfo};
use crate::worker::Worker;
use crate::worker::offsets::{OffsetEntry, OffsetsOf};
use crate::worker::plugins::PluginVersion;
use crate::worker::status::ConnectorStatus;

pub use distributed::DistributedHerder;
pub use standalone::StandaloneHerder;

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

/// A connector's status as the REST API shows it.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// Connector and task states.
    pub status: ConnectorStatus,
    /// `source` or `sink` (`unknown` when the plugin is not installed here).
    pub kind: &'static str,
    /// The plugin version (empty when unknown).
    pub version: String,
}

/// What the herder knows of one connector, for requests that act on it.
#[derive(Clone)]
pub struct ConnectorSummary {
    /// Its plugin.
    pub plugin: Arc<Plugin>,
    /// Its configuration, resolved.
    pub config: Config,
    /// Its target state.
    pub target: TargetState,
    /// How many tasks it has.
    pub tasks: usize,
}

/// The herder of a standalone worker or of one cluster member.
#[async_trait]
pub trait Herder: Send + Sync + 'static {
    /// The worker this herder runs its share of the work on.
    fn worker(&self) -> &Worker;

    /// Whether the herder answers requests yet (a cluster member: once it
    /// has read the internal topics and completed its first round).
    fn is_ready(&self) -> bool;

    /// Fails with a redirect to the leader unless this worker may make
    /// writes only the leader makes (a standalone worker always may).
    fn require_leader(&self) -> Result<(), HerderError>;

    /// Names of every connector.
    async fn connector_names(&self) -> Vec<String>;

    /// `ConnectorInfo` of `name`.
    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError>;

    /// The connector's status, type and plugin version.
    async fn connector_status(&self, name: &str) -> Result<StatusReport, HerderError>;

    /// The task configurations of `name`, as stored (placeholders kept).
    async fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError>;

    /// The plugin, resolved configuration, target state and task count of
    /// `name`.
    async fn summary(&self, name: &str) -> Result<ConnectorSummary, HerderError>;

    /// Validates and creates a connector; refuses a duplicate name.
    async fn create_connector(
        &self,
        config: Config,
        initial: Option<TargetState>,
    ) -> Result<ConnectorInfo, HerderError>;

    /// `PUT /connectors/{name}/config`: creates (`true`) or replaces the
    /// configuration; the connector restarts in its current target state.
    async fn put_connector_config(
        &self,
        name: &str,
        config: Config,
    ) -> Result<(bool, ConnectorInfo), HerderError>;

    /// Stops and removes a connector (its offsets stay).
    async fn delete_connector(&self, name: &str) -> Result<(), HerderError>;

    /// Sets the target state (pause, resume, stop).
    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError>;

    /// Restarts the connector instance (and, per the flags, tasks). Returns
    /// the plan as Kafka reports it: what is restarted shows RESTARTING.
    async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, HerderError>;

    /// Restarts one task.
    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError>;

    /// The internal `POST /connectors/{name}/tasks`: a connector's new task
    /// configurations, written by the leader if `signature` signs `body`
    /// with the cluster's session key.
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Config>,
        signature: Option<&Signature>,
        body: &[u8],
    ) -> Result<(), HerderError>;

    /// (connector, sha256 of the plugin version it runs) for every
    /// connector this herder knows of.
    async fn plugins_in_use(&self) -> Vec<(String, String)>;

    /// Offers an installed upload to the other workers (a no-op alone).
    async fn share_plugin(&self, bytes: &[u8]) -> Result<(), HerderError>;

    /// Withdraws a shared upload from the other workers (a no-op alone).
    async fn unshare_plugin(&self, sha256: &str) -> Result<(), HerderError>;

    /// Called after another worker answered a forwarded request, so that
    /// what it wrote is read here before the client hears back.
    async fn after_forward(&self);

    /// The client a redirected request is forwarded with. A standalone
    /// herder never redirects; its client goes unused.
    fn peer_client(&self) -> reqwest::Client {
        peer::client_for(self.worker().config().peer_tls.as_ref())
    }

    /// Stops every task (flushing offsets) within
    /// `task.shutdown.graceful.timeout.ms`, then the connectors (and leaves
    /// the cluster).
    async fn shutdown(&self);

    /// `GET /connectors/{name}/offsets`.
    async fn get_offsets(&self, name: &str) -> Result<Vec<OffsetEntry>, HerderError> {
        let s = self.summary(name).await?;
        self.worker()
            .get_offsets(OffsetsOf {
                name,
                plugin: s.plugin,
                config: s.config,
            })
            .await
    }

    /// `PATCH /connectors/{name}/offsets` (on the leader, when stopped).
    async fn alter_offsets(
        &self,
        name: &str,
        entries: Option<Vec<OffsetEntry>>,
    ) -> Result<String, HerderError> {
        self.require_leader()?;
        let of = stopped(name, self.summary(name).await?)?;
        self.worker().alter_offsets(of, entries).await
    }

    /// `DELETE /connectors/{name}/offsets` (on the leader, when stopped).
    async fn reset_offsets(&self, name: &str) -> Result<String, HerderError> {
        self.require_leader()?;
        let of = stopped(name, self.summary(name).await?)?;
        self.worker().reset_offsets(of).await
    }

    /// Loads, stores and registers an uploaded component, and shares it;
    /// `false` when those exact bytes were already installed.
    async fn upload_plugin(&self, bytes: &[u8]) -> Result<(PluginInfo, bool), HerderError> {
        let (info, installed) = self.worker().install_plugin(bytes).await?;
        if installed {
            self.share_plugin(bytes).await?;
        }
        Ok((info, installed))
    }

    /// Every plugin version, grouped by name, newest first, with its users.
    async fn plugin_versions(&self) -> Vec<PluginVersion> {
        let in_use = self.plugins_in_use().await;
        self.worker().plugin_versions(&in_use)
    }

    /// Removes one plugin version; refused while a connector uses it.
    async fn delete_plugin_version(&self, name: &str, version: &str) -> Result<(), HerderError> {
        let in_use = self.plugins_in_use().await;
        let sha = self.worker().removable_version(name, version, &in_use)?;
        self.unshare_plugin(&sha).await?;
        self.worker().remove_plugin(&sha)
    }
}

/// The connector, when it is STOPPED with no tasks; 400 otherwise.
fn stopped(name: &str, s: ConnectorSummary) -> Result<OffsetsOf<'_>, HerderError> {
    if s.target != TargetState::Stopped || s.tasks > 0 {
        return Err(HerderError::bad_request(format!(
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
        )));
    }
    Ok(OffsetsOf {
        name,
        plugin: s.plugin,
        config: s.config,
    })
}

/// "Connector {name} not found" (404).
pub(crate) fn not_found(name: &str) -> HerderError {
    HerderError::not_found(format!("Connector {name} not found"))
}
