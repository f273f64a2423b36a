//! The distributed herder's loop ([`herd`]): it brings the local work in
//! line with the cluster's state, level-triggered. After every round, config
//! change, restart request or plugin arrival it *reconciles*, stopping what
//! this worker should no longer run (revoked, reconfigured, paused,
//! deleted) and starting what it should (assigned). So the loop never has
//! to remember which event caused what, and a missed event is repaired on
//! the next tick. Beside it, readers keep the config, status and plugin
//! topics current and publish local state changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::cluster::{
    CONFIG_POLL, Cluster, RestartRequest, RoundInfo, SHARED_POLL, task_configs_of, to_config,
    to_properties,
};
use super::{DistributedHerder, Owned};
use crate::config::TargetState;
use crate::distributed::config_log::Properties;
use crate::distributed::membership::{Membership, Round};
use crate::distributed::plugin_log::PluginEvent;
use crate::distributed::status_log::{StatusKey, StatusRecord};
use crate::plugin::World;
use crate::worker::Connector;
use crate::worker::status::{State, StatusEvent};
use crate::worker::store::StoredConnector;

impl DistributedHerder {
    /// Installs what other workers uploaded (and removes what they deleted).
    pub(super) async fn read_shared_plugins(&self) {
        let cluster = &self.cluster;
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
                    match self.worker.install_plugin(&bytes).await {
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
                PluginEvent::Removed { sha256 } => self.worker.forget_plugin(&sha256),
            }
        }
        if installed {
            cluster.wake.notify_one();
        }
    }

    /// Restarts what this worker runs of each queued restart request.
    async fn serve_restarts(&self) {
        let cluster = &self.cluster;
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
            let state = self.worker.status().get(name);
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
                self.worker
                    .status()
                    .connector(name, State::Restarting, None);
            }
            if r.include_tasks {
                let mut ids: Vec<u32> = c.running_tasks();
                ids.extend(
                    (0..c.task_configs.len() as u32)
                        .filter(|t| self.worker.is_failed_task(name, *t)),
                );
                ids.retain(|t| !r.only_failed || failed(Some(*t)));
                ids.sort_unstable();
                ids.dedup();
                self.worker.stop_tasks(name, c, Some(&ids)).await;
                self.worker.clear_failures(name, Some(&ids));
            }
        }
    }

    /// Brings the local work in line with the view and the allocation.
    async fn reconcile(&self) {
        let cluster = &self.cluster;
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
                self.worker.stop_tasks(name, c, Some(&stale)).await;
            }
            if c.task_configs != view_tasks {
                // New task configurations start afresh, failed ones too.
                self.worker.clear_failures(name, None);
                c.task_configs = view_tasks;
            }
            if target != c.target {
                c.target = target;
                c.failed = false;
            }
            if let Some(config) = wanted
                && reconfigured
            {
                self.worker.clear_failures(name, None);
                c.failed = false;
                match self.worker.resolve_plugin(&config) {
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
                self.worker.status().remove(name);
                let _ = self.worker.store().update(name, |e| *e = None);
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
                let Some(plugin) = self.worker.resolve_plugin(&config) else {
                    tracing::warn!(connector = %name, "waiting for the connector's plugin to be installed");
                    continue;
                };
                let target = view.target_state(name);
                let _ = self.worker.store().update(name, |e| {
                    *e = Some(StoredConnector {
                        config: config.clone(),
                        target,
                        connector_failure: None,
                        task_failures: BTreeMap::new(),
                    })
                });
                let mut c = Connector::new(config, plugin, target);
                c.task_configs = task_configs_of(&view, name);
                connectors.insert(name.clone(), Owned::new(c));
            }
            let Some(c) = connectors.get_mut(name) else {
                continue;
            };
            self.worker
                .status()
                .describe(name, c.kind(), &c.plugin.info().version);
            if own_connector {
                self.run_connector(name, c).await;
            }
            match c.target {
                TargetState::Paused => {
                    for id in &mine {
                        if (*id as usize) < c.task_configs.len()
                            && !self.worker.is_failed_task(name, *id)
                        {
                            self.set_state(name, Some(*id), State::Paused);
                        }
                    }
                }
                TargetState::Started => {
                    let idle = mine.iter().any(|id| {
                        (*id as usize) < c.task_configs.len()
                            && c.is_idle(*id)
                            && !self.worker.is_failed_task(name, *id)
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
                        self.worker.start_tasks(name, c, Some(&mine));
                    }
                }
                TargetState::Stopped => {}
            }
        }
    }

    /// The connector instance this worker owns: started (or stopped) per
    /// its target state, its task configurations sent to the leader.
    async fn run_connector(&self, name: &str, c: &mut Owned) {
        let cluster = &self.cluster;
        if c.target == TargetState::Stopped {
            self.set_state(name, None, State::Stopped);
            // A stopped connector has no tasks (Kafka writes an empty set).
            c.generated = Some(Vec::new());
        } else if c.instance.is_none() && !c.failed {
            match self.worker.launch_instance(name, c).await {
                Ok((instance, configs)) => {
                    c.instance = Some(instance);
                    // Already as stored: placeholders kept.
                    c.generated = Some(configs);
                }
                Err(e) => {
                    c.failed = true;
                    self.worker.fail_connector(name, c, &e);
                    return;
                }
            }
        } else if let Some(regenerated) = self.worker.recheck_task_configs(name, c).await {
            // The connector asked to be asked again; what differs from the
            // stored set is published below, and the tasks follow it.
            match regenerated {
                Ok(configs) => c.generated = Some(configs),
                Err(e) => {
                    c.failed = true;
                    c.stop_instance(name).await;
                    self.worker.fail_connector(name, c, &e);
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
            let retired = generated.len() as u32..c.task_configs.len() as u32;
            if !retired.is_empty()
                && self.worker.config().exactly_once_source.enabled()
                && c.plugin.info().world == World::Source
            {
                // Before the new generation is written: no task left
                // behind may write once its successors run.
                if let Err(e) = crate::worker::exactly_once::fence(
                    self.worker.config(),
                    self.worker.kafka().bootstrap(),
                    name,
                    retired,
                )
                .await
                {
                    tracing::warn!(connector = name, "{e}; the task configurations wait");
                    return;
                }
            }
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
        let current = self.worker.status().get(name).and_then(|s| match task {
            None => Some(s.connector.state),
            Some(t) => s.tasks.get(&t).map(|s| s.state),
        });
        if current == Some(state) {
            return;
        }
        match task {
            None => self.worker.status().connector(name, state, None),
            Some(t) => self.worker.status().task(name, t, state, None),
        }
    }
}

/// The herder loop: rounds, config changes, restarts, reconciliation.
pub(super) async fn herd(herder: Arc<DistributedHerder>, mut membership: Membership) {
    let cluster = herder.cluster.clone();
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
        herder.serve_restarts().await;
        cluster.rotate_session_key().await;
        herder.reconcile().await;
        if let Some(generation) = revoking.take() {
            membership.revocations_done(generation);
        }
    }
    tracing::info!("stopping local connectors and tasks, then leaving the group");
    {
        let mut connectors = herder.connectors.lock().await;
        let mut plain: BTreeMap<String, Connector> = std::mem::take(&mut *connectors)
            .into_iter()
            .map(|(name, o)| (name, o.connector))
            .collect();
        herder.worker.stop_all(&mut plain).await;
    }
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
pub(super) async fn write_statuses(
    cluster: Arc<Cluster>,
    mut events: mpsc::UnboundedReceiver<StatusEvent>,
) {
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
pub(super) async fn read_config(cluster: Arc<Cluster>) {
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
pub(super) async fn read_shared(herder: Arc<DistributedHerder>) {
    let cluster = herder.cluster.clone();
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
        herder.read_shared_plugins().await;
    }
}
