//! A worker's membership loop: join, (as leader) assign, sync, heartbeat,
//! and rejoin when the group rebalances, when revocations must be followed
//! up, or when held work is due. Each completed round is reported to the
//! herder as a [`Round`], with the member's whole allocation after it.
//!
//! The herder supplies its view of the configuration ([`ConfigView`]): its
//! config-topic offset (which every member reports) and, when this worker
//! leads, everything configured. It may ask for a rejoin (a connector was
//! created or deleted, task configurations changed).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::assignor::{AssignorState, RoundInput};
use super::group::{GroupError, GroupMember, GroupSettings, Joined};
use super::protocol::{Assignment, MemberMetadata, PROTOCOLS, Work};

/// What the herder knows of the configuration.
pub trait ConfigView: Send + Sync + 'static {
    /// One past the last config record applied (-1: none).
    fn config_offset(&self) -> i64;
    /// Everything configured (the leader assigns it).
    fn configured(&self) -> Work;
}

/// Membership settings beyond the group's own.
#[derive(Debug, Clone)]
pub struct MembershipSettings {
    pub group: GroupSettings,
    /// This worker's advertised REST URL (`http://host:port/`).
    pub url: String,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: Duration,
    /// `scheduled.rebalance.max.delay.ms`.
    pub max_delay: Duration,
}

/// One completed round, as this member sees it.
#[derive(Debug, Clone)]
pub struct Round {
    pub generation: i32,
    pub member_id: String,
    pub leader: bool,
    pub leader_url: String,
    /// The config offset the assignment was computed at.
    pub config_offset: i64,
    /// What to start now.
    pub assigned: Work,
    /// What to stop now.
    pub revoked: Work,
    /// Everything this member runs after the round.
    pub allocation: Work,
}

/// The herder's handle on the loop.
pub struct Membership {
    rounds: mpsc::UnboundedReceiver<Round>,
    rejoin: mpsc::UnboundedSender<()>,
    revoked: mpsc::UnboundedSender<i32>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Membership {
    /// Starts the loop.
    pub fn start(settings: MembershipSettings, view: Arc<dyn ConfigView>) -> Membership {
        let (rounds_tx, rounds) = mpsc::unbounded_channel();
        let (rejoin, rejoin_rx) = mpsc::unbounded_channel();
        let (revoked, revoked_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let channels = Channels {
            rounds: rounds_tx,
            rejoin: rejoin_rx,
            revoked: revoked_rx,
            stop: stop_rx,
        };
        let task = tokio::spawn(run(settings, view, channels));
        Membership {
            rounds,
            rejoin,
            revoked,
            stop,
            task,
        }
    }

    /// The next completed round.
    pub async fn next_round(&mut self) -> Option<Round> {
        self.rounds.recv().await
    }

    /// Asks for a new round (the configuration changed).
    pub fn request_rejoin(&self) {
        let _ = self.rejoin.send(());
    }

    /// Says that what the round of `generation` revoked has stopped (its
    /// offsets flushed), so the follow-up round may hand it to others.
    /// Until then the member keeps heartbeating without rejoining: a task
    /// never runs on two workers at once.
    pub fn revocations_done(&self, generation: i32) {
        let _ = self.revoked.send(generation);
    }

    /// Leaves the group and ends the loop.
    pub async fn leave(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Ends the loop without leaving (as a crashed worker would: the group
    /// notices after the session timeout). For tests.
    pub fn abandon(self) {
        self.task.abort();
    }

    /// A membership whose rounds a test plays through the returned
    /// [`ScriptedGroup`] instead of a group coordinator: the in-memory
    /// counterpart of the group, as [`crate::store::memory`] is of the
    /// topics, so a herder can be driven without a broker.
    pub fn scripted() -> (Membership, ScriptedGroup) {
        let (rounds, rounds_rx) = mpsc::unbounded_channel();
        let (rejoin, rejoins) = mpsc::unbounded_channel();
        let (revoked, revocations) = mpsc::unbounded_channel();
        let (stop, mut stop_rx) = watch::channel(false);
        let left = stop.subscribe();
        // Stands for the loop: ends when the herder leaves.
        let task = tokio::spawn(async move {
            while !*stop_rx.borrow() {
                if stop_rx.changed().await.is_err() {
                    break;
                }
            }
        });
        let membership = Membership {
            rounds: rounds_rx,
            rejoin,
            revoked,
            stop,
            task,
        };
        let group = ScriptedGroup {
            rounds,
            rejoins,
            revocations,
            left,
        };
        (membership, group)
    }
}

/// The test's side of [`Membership::scripted`]: it completes rounds and
/// sees what the member asked for.
pub struct ScriptedGroup {
    rounds: mpsc::UnboundedSender<Round>,
    rejoins: mpsc::UnboundedReceiver<()>,
    revocations: mpsc::UnboundedReceiver<i32>,
    left: watch::Receiver<bool>,
}

impl ScriptedGroup {
    /// Completes a round for the member.
    pub fn complete(&self, round: Round) {
        let _ = self.rounds.send(round);
    }

    /// Whether the member asked for a new round since the last call.
    pub fn rejoin_requested(&mut self) -> bool {
        let mut asked = false;
        while self.rejoins.try_recv().is_ok() {
            asked = true;
        }
        asked
    }

    /// The next generation whose revocations the member confirmed as done.
    pub async fn revocations_done(&mut self) -> Option<i32> {
        self.revocations.recv().await
    }

    /// Whether the member left the group.
    pub fn left(&self) -> bool {
        *self.left.borrow()
    }
}

/// The loop's ends of the herder's channels.
struct Channels {
    rounds: mpsc::UnboundedSender<Round>,
    rejoin: mpsc::UnboundedReceiver<()>,
    revoked: mpsc::UnboundedReceiver<i32>,
    stop: watch::Receiver<bool>,
}

async fn run(settings: MembershipSettings, view: Arc<dyn ConfigView>, channels: Channels) {
    let Channels {
        rounds,
        mut rejoin,
        mut revoked,
        mut stop,
    } = channels;
    let group_id = settings.group.group_id.clone();
    let mut allocation = Work::default();
    let mut assignor = AssignorState::default();
    let mut completed: Option<i32> = None;
    let mut member = loop {
        match GroupMember::connect(settings.group.clone()).await {
            Ok(m) => break m,
            Err(e) => {
                tracing::warn!(group = %group_id, "{e}; retrying");
                if sleep_or_stop(&mut stop, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    };
    while !*stop.borrow() {
        let protocols = protocols(&settings.url, view.config_offset(), &allocation);
        let refs: Vec<(&str, Vec<u8>)> = protocols.iter().map(|(n, m)| (*n, m.clone())).collect();
        let joined = match member.join(&refs).await {
            Ok(j) => j,
            Err(e) => {
                if recover(&mut member, &e, &group_id).await {
                    return;
                }
                continue;
            }
        };
        let assignments = if joined.is_leader() {
            lead(&joined, &mut assignor, completed, &settings, view.as_ref())
        } else {
            Vec::new()
        };
        let mine = match member.sync(&assignments).await {
            Ok(bytes) => bytes,
            Err(e) => {
                if recover(&mut member, &e, &group_id).await {
                    return;
                }
                continue;
            }
        };
        let assignment = match Assignment::decode(&mine) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(group = %group_id, "unreadable assignment ({e}); rejoining");
                continue;
            }
        };
        completed = Some(joined.generation);
        allocation = allocation
            .minus(&assignment.revoked)
            .union(&assignment.assigned);
        tracing::info!(
            group = %group_id,
            generation = joined.generation,
            leader = joined.is_leader(),
            connectors = allocation.connectors.len(),
            tasks = allocation.tasks.len(),
            "Joined group at generation {} and got an assignment", joined.generation
        );
        // Revocations are followed by a round that places what was freed,
        // once the herder has stopped it; held work is placed when its
        // delay is up.
        let awaiting_revocation = !assignment.revoked.is_empty();
        let rejoin_at = if awaiting_revocation {
            None
        } else if assignment.delay_ms > 0 {
            Some(Instant::now() + Duration::from_millis(assignment.delay_ms as u64))
        } else {
            None
        };
        let round = Round {
            generation: joined.generation,
            member_id: joined.member_id.clone(),
            leader: joined.is_leader(),
            leader_url: assignment.leader_url.clone(),
            config_offset: assignment.config_offset,
            assigned: assignment.assigned,
            revoked: assignment.revoked,
            allocation: allocation.clone(),
        };
        if rounds.send(round).is_err() {
            member.leave().await;
            return;
        }
        // Heartbeat until something calls for a new round.
        loop {
            let wait = rejoin_at.map_or(settings.heartbeat_interval, |at| {
                at.saturating_duration_since(Instant::now())
                    .min(settings.heartbeat_interval)
            });
            tokio::select! {
                _ = stop.changed() => break,
                asked = rejoin.recv() => {
                    if asked.is_none() { return; }
                    break;
                }
                done = revoked.recv() => match done {
                    None => return,
                    Some(g) if awaiting_revocation && g == joined.generation => break,
                    // An answer to an earlier round.
                    Some(_) => continue,
                },
                _ = tokio::time::sleep(wait) => {}
            }
            if rejoin_at.is_some_and(|at| Instant::now() >= at) {
                break;
            }
            match member.heartbeat().await {
                Ok(()) => {}
                Err(e) => {
                    if recover(&mut member, &e, &group_id).await {
                        return;
                    }
                    break;
                }
            }
        }
    }
    member.leave().await;
}

/// The leader's part of a round: assignments for every member.
fn lead(
    joined: &Joined,
    assignor: &mut AssignorState,
    completed: Option<i32>,
    settings: &MembershipSettings,
    view: &dyn ConfigView,
) -> Vec<(String, Vec<u8>)> {
    let mut allocations = BTreeMap::new();
    let mut urls = BTreeMap::new();
    for (id, bytes) in &joined.members {
        let metadata = MemberMetadata::decode(bytes).unwrap_or(MemberMetadata {
            version: 0,
            url: String::new(),
            config_offset: -1,
            allocation: None,
        });
        let current = metadata.allocation.map(|a| a.assigned).unwrap_or_default();
        allocations.insert(id.clone(), current);
        urls.insert(id.clone(), metadata.url);
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let configured = view.configured();
    let round = assignor.assign(&RoundInput {
        members: &allocations,
        configured: &configured,
        generation: joined.generation,
        last_completed_generation: completed,
        now_ms,
        max_delay_ms: settings.max_delay.as_millis() as u64,
    });
    let leader_url = urls.get(&joined.member_id).cloned().unwrap_or_default();
    round
        .members
        .into_iter()
        .map(|(id, a)| {
            let assignment = Assignment {
                version: 2,
                error: 0,
                leader: joined.member_id.clone(),
                leader_url: leader_url.clone(),
                config_offset: view.config_offset(),
                assigned: a.assigned,
                revoked: a.revoked,
                delay_ms: i32::try_from(round.delay_ms).unwrap_or(i32::MAX),
            };
            (id, assignment.encode())
        })
        .collect()
}

/// The JoinGroup protocol list: every protocol's metadata, reporting the
/// member's URL, config offset and what it runs.
pub fn protocols(url: &str, config_offset: i64, allocation: &Work) -> Vec<(&'static str, Vec<u8>)> {
    PROTOCOLS
        .iter()
        .map(|(name, version)| {
            let allocation = (*version >= 1 && !allocation.is_empty()).then(|| Assignment {
                version: *version,
                assigned: allocation.clone(),
                ..Assignment::default()
            });
            let metadata = MemberMetadata {
                version: *version,
                url: url.to_string(),
                config_offset,
                allocation,
            };
            (*name, metadata.encode())
        })
        .collect()
}

/// Handles a failed call; true when the loop must end.
async fn recover(member: &mut GroupMember, error: &GroupError, group: &str) -> bool {
    match error {
        GroupError::Rebalance | GroupError::UnknownMember => false,
        GroupError::Coordinator(e) => {
            tracing::warn!(group, "{e}; finding the coordinator again");
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Err(e) = member.reconnect().await {
                tracing::warn!(group, "{e}");
            }
            false
        }
        GroupError::Fatal(e) => {
            tracing::error!(group, "{e}");
            true
        }
    }
}

/// Sleeps; true when asked to stop meanwhile.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(d) => *stop.borrow(),
    }
}
