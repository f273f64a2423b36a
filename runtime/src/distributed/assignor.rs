//! The leader's assignment: Kafka Connect's incremental cooperative
//! assignor (KIP-415), simplified where noted.
//!
//! Each round the leader sees what every member runs now (its reported
//! allocation) and what is configured, and tells each member what to start
//! and what to stop; nothing else moves. In one round it
//!
//! - revokes what is no longer configured, and anything running on two
//!   members (from both; it is placed afresh in the next round);
//! - holds a departed member's share ("lost") for up to
//!   `scheduled.rebalance.max.delay.ms`, so a worker that restarts gets its
//!   work back instead of the cluster shuffling twice, and hands it out
//!   when the delay expires (the members rejoin then, told by `delay`);
//! - revokes from members above their fair share (connectors and tasks
//!   balanced separately); the revoking members rejoin at once, and the
//!   follow-up round places what they released;
//! - gives new work to the least-loaded members.
//!
//! Simplified from Kafka's: lost work goes to the least-loaded members
//! (Kafka prefers the members that were empty during the delay, which the
//! least-loaded usually are), and there is no back-off between successive
//! balancing revocations.

use std::collections::{BTreeMap, BTreeSet};

use super::protocol::{TaskId, Work};

/// What the leader remembers between rounds.
#[derive(Debug, Default, Clone)]
pub struct AssignorState {
    /// Everything placed after the previous round, lost work included.
    previous: Work,
    /// The generation that round was for.
    previous_generation: Option<i32>,
    /// The members of that round.
    previous_members: BTreeSet<String>,
    /// When held lost work is handed out (ms on the caller's clock).
    scheduled_rebalance_ms: Option<u64>,
}

/// One member's instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberAssignment {
    /// What it starts now.
    pub assigned: Work,
    /// What it stops now.
    pub revoked: Work,
}

/// A round's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// Per member id.
    pub members: BTreeMap<String, MemberAssignment>,
    /// Milliseconds until the members should rejoin (lost work held); 0
    /// when nothing is held.
    pub delay_ms: u64,
}

/// The inputs of one round.
pub struct RoundInput<'a> {
    /// Each member's current allocation, by member id.
    pub members: &'a BTreeMap<String, Work>,
    /// Everything configured: every connector and its tasks.
    pub configured: &'a Work,
    /// This round's generation.
    pub generation: i32,
    /// The last generation whose assignment this worker received; when it
    /// is not the one this state was computed for, leadership changed or a
    /// round failed, and the previous assignment is forgotten.
    pub last_completed_generation: Option<i32>,
    /// The current time in ms.
    pub now_ms: u64,
    /// `scheduled.rebalance.max.delay.ms`.
    pub max_delay_ms: u64,
}

impl AssignorState {
    /// Computes one round and remembers it.
    pub fn assign(&mut self, input: &RoundInput<'_>) -> Round {
        if self.previous_generation.is_none()
            || self.previous_generation != input.last_completed_generation
        {
            self.previous = Work::default();
            self.scheduled_rebalance_ms = None;
        }
        let allocations = input.members;
        let active = allocations
            .values()
            .fold(Work::default(), |all, w| all.union(w));
        let duplicated = duplicates(allocations);
        let deleted = self.previous.union(&active).minus(input.configured);
        let lost = self.previous.minus(&active).minus(&deleted);
        let created = input.configured.minus(&self.previous).minus(&active);

        let mut revoked: BTreeMap<String, Work> = BTreeMap::new();
        let mut next: BTreeMap<String, Work> = BTreeMap::new();
        for (member, allocation) in allocations {
            let out = allocation
                .intersect(&deleted)
                .union(&allocation.intersect(&duplicated));
            next.insert(member.clone(), allocation.minus(&out));
            revoked.insert(member.clone(), out);
        }

        let (lost_to_assign, delay_ms) = self.handle_lost(&lost, &next, input);
        if delay_ms == 0 {
            let configured_now = input.configured.minus(&duplicated);
            for (member, surplus) in balancing_revocations(&configured_now, &next) {
                if let (Some(n), Some(r)) = (next.get_mut(&member), revoked.get_mut(&member)) {
                    *n = n.minus(&surplus);
                    *r = r.union(&surplus);
                }
            }
        }
        let to_assign = created.union(&lost_to_assign).minus(&duplicated);
        place(&mut next, &to_assign);

        let mut members = BTreeMap::new();
        let mut placed = Work::default();
        for (member, work) in &next {
            placed = placed.union(work);
            let current = &allocations[member];
            members.insert(
                member.clone(),
                MemberAssignment {
                    assigned: work.minus(current),
                    revoked: revoked.remove(member).unwrap_or_default(),
                },
            );
        }
        // Held lost work stays "placed", so it is still lost next round.
        let held = if delay_ms > 0 { lost } else { Work::default() };
        self.previous = placed.union(&held);
        self.previous_generation = Some(input.generation);
        self.previous_members = allocations.keys().cloned().collect();
        Round { members, delay_ms }
    }

    /// What to do with work whose member is gone: hand it out now, or hold
    /// it (returning the delay until the members should rejoin).
    fn handle_lost(
        &mut self,
        lost: &Work,
        next: &BTreeMap<String, Work>,
        input: &RoundInput<'_>,
    ) -> (Work, u64) {
        if lost.is_empty() {
            self.scheduled_rebalance_ms = None;
            return (Work::default(), 0);
        }
        let everyone_stayed = self.previous_members.iter().all(|m| next.contains_key(m));
        if input.max_delay_ms == 0 || (self.scheduled_rebalance_ms.is_none() && everyone_stayed) {
            // No delay configured, or nobody left (the work just was not
            // reported back): place it now.
            self.scheduled_rebalance_ms = None;
            return (lost.clone(), 0);
        }
        match self.scheduled_rebalance_ms {
            Some(at) if input.now_ms >= at => {
                self.scheduled_rebalance_ms = None;
                (lost.clone(), 0)
            }
            Some(at) => (Work::default(), (at - input.now_ms).min(input.max_delay_ms)),
            None => {
                self.scheduled_rebalance_ms = Some(input.now_ms + input.max_delay_ms);
                (Work::default(), input.max_delay_ms)
            }
        }
    }
}

/// Items that more than one member runs.
fn duplicates(allocations: &BTreeMap<String, Work>) -> Work {
    let mut seen = Work::default();
    let mut twice = Work::default();
    for w in allocations.values() {
        twice = twice.union(&w.intersect(&seen));
        seen = seen.union(w);
    }
    twice
}

/// Per member, what it holds above its fair share: with T items of a kind
/// over W members, each keeps T / W, and T mod W of them one more.
fn balancing_revocations(
    configured: &Work,
    next: &BTreeMap<String, Work>,
) -> BTreeMap<String, Work> {
    let mut out: BTreeMap<String, Work> = BTreeMap::new();
    let workers = next.len();
    if workers == 0 {
        return out;
    }
    let fair = |total: usize| (total / workers, total % workers);
    let (min, mut extra) = fair(configured.connectors.len());
    for (member, work) in next {
        let keep = if work.connectors.len() > min && extra > 0 {
            extra -= 1;
            min + 1
        } else {
            min
        };
        let surplus: BTreeSet<String> = work.connectors.iter().skip(keep).cloned().collect();
        out.entry(member.clone()).or_default().connectors = surplus;
    }
    let (min, mut extra) = fair(configured.tasks.len());
    for (member, work) in next {
        let keep = if work.tasks.len() > min && extra > 0 {
            extra -= 1;
            min + 1
        } else {
            min
        };
        let surplus: BTreeSet<TaskId> = work.tasks.iter().skip(keep).cloned().collect();
        out.entry(member.clone()).or_default().tasks = surplus;
    }
    out.retain(|_, w| !w.is_empty());
    out
}

/// Gives each item to the least-loaded member (connectors and tasks
/// counted separately; ties go to the lower member id).
fn place(next: &mut BTreeMap<String, Work>, items: &Work) {
    if next.is_empty() {
        return;
    }
    for connector in &items.connectors {
        let member = least(next, |w| w.connectors.len());
        if let Some(w) = next.get_mut(&member) {
            w.connectors.insert(connector.clone());
        }
    }
    for task in &items.tasks {
        let member = least(next, |w| w.tasks.len());
        if let Some(w) = next.get_mut(&member) {
            w.tasks.insert(task.clone());
        }
    }
}

fn least(next: &BTreeMap<String, Work>, load: impl Fn(&Work) -> usize) -> String {
    next.iter()
        .min_by_key(|(id, w)| (load(w), (*id).clone()))
        .map(|(id, _)| id.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connectors `names`, each with `tasks` tasks.
    fn configured(names: &[&str], tasks: i32) -> Work {
        let mut w = Work::default();
        for n in names {
            w.connectors.insert(n.to_string());
            for t in 0..tasks {
                w.tasks.insert(TaskId {
                    connector: n.to_string(),
                    task: t,
                });
            }
        }
        w
    }

    /// Runs rounds the way members do: each applies its assignment to its
    /// allocation; returns the round.
    struct Cluster {
        leader: AssignorState,
        members: BTreeMap<String, Work>,
        generation: i32,
        completed: Option<i32>,
    }

    impl Cluster {
        fn new(ids: &[&str]) -> Cluster {
            Cluster {
                leader: AssignorState::default(),
                members: ids
                    .iter()
                    .map(|i| (i.to_string(), Work::default()))
                    .collect(),
                generation: 0,
                completed: None,
            }
        }

        fn round(&mut self, configured: &Work, now_ms: u64) -> Round {
            self.generation += 1;
            let round = self.leader.assign(&RoundInput {
                members: &self.members,
                configured,
                generation: self.generation,
                last_completed_generation: self.completed,
                now_ms,
                max_delay_ms: 10_000,
            });
            for (id, a) in &round.members {
                let w = self.members.get_mut(id).unwrap();
                *w = w.minus(&a.revoked).union(&a.assigned);
            }
            self.completed = Some(self.generation);
            round
        }

        /// Rounds until nobody is told to revoke (the follow-ups).
        fn settle(&mut self, configured: &Work, now_ms: u64) {
            for _ in 0..5 {
                let r = self.round(configured, now_ms);
                if r.members.values().all(|a| a.revoked.is_empty()) {
                    return;
                }
            }
            panic!("no stable assignment after 5 rounds");
        }

        fn loads(&self) -> Vec<(usize, usize)> {
            self.members
                .values()
                .map(|w| (w.connectors.len(), w.tasks.len()))
                .collect()
        }

        /// Connectors and tasks each spread within one of each other.
        fn assert_balanced(&self) {
            let loads = self.loads();
            let spread = |f: fn(&(usize, usize)) -> usize| {
                loads.iter().map(f).max().unwrap() - loads.iter().map(f).min().unwrap()
            };
            assert!(
                spread(|l| l.0) <= 1 && spread(|l| l.1) <= 1,
                "unbalanced: {loads:?}"
            );
        }

        fn everything(&self) -> Work {
            self.members
                .values()
                .fold(Work::default(), |a, w| a.union(w))
        }
    }

    #[test]
    fn new_work_is_spread_evenly() {
        let all = configured(&["a", "b", "c"], 3);
        let mut cluster = Cluster::new(&["m1", "m2", "m3"]);
        let round = cluster.round(&all, 0);
        assert!(round.members.values().all(|a| a.revoked.is_empty()));
        assert_eq!(cluster.loads(), [(1, 3), (1, 3), (1, 3)]);
        assert_eq!(cluster.everything(), all);
    }

    #[test]
    fn a_joining_member_takes_its_share_and_only_that_moves() {
        let all = configured(&["a", "b"], 4);
        let mut cluster = Cluster::new(&["m1", "m2"]);
        cluster.round(&all, 0);
        let before = cluster.members.clone();
        cluster.members.insert("m3".into(), Work::default());
        let first = cluster.round(&all, 0);
        // The first round only revokes the surplus; nothing is started yet.
        let revoked: usize = first.members.values().map(|a| a.revoked.len()).sum();
        assert_eq!(revoked, 2, "{first:?}");
        cluster.settle(&all, 0);
        cluster.assert_balanced();
        assert_eq!(cluster.everything(), all);
        assert!(!cluster.members["m3"].is_empty(), "the newcomer got work");
        // What m1 and m2 kept, they kept throughout.
        for id in ["m1", "m2"] {
            assert!(cluster.members[id].minus(&before[id]).is_empty());
        }
    }

    #[test]
    fn a_departed_members_work_is_held_then_handed_out_when_the_delay_expires() {
        let all = configured(&["a", "b", "c"], 2);
        let mut cluster = Cluster::new(&["m1", "m2", "m3"]);
        cluster.round(&all, 0);
        let gone = cluster.members.remove("m3").unwrap();
        let held = cluster.round(&all, 1_000);
        assert_eq!(held.delay_ms, 10_000, "held for the max delay");
        assert!(cluster.everything().intersect(&gone).is_empty());
        // Rejoining before the deadline: still held, with what is left.
        let still = cluster.round(&all, 6_000);
        assert_eq!(still.delay_ms, 5_000);
        // At the deadline it goes to the survivors.
        let handed = cluster.round(&all, 11_000);
        assert_eq!(handed.delay_ms, 0);
        assert_eq!(cluster.everything(), all);
        cluster.assert_balanced();
    }

    #[test]
    fn a_member_back_within_the_delay_gets_the_held_work() {
        let all = configured(&["a", "b"], 2);
        let mut cluster = Cluster::new(&["m1", "m2"]);
        cluster.round(&all, 0);
        let gone = cluster.members.remove("m2").unwrap();
        assert!(cluster.round(&all, 100).delay_ms > 0);
        // It restarts empty (a new member id), and the delay runs out.
        cluster
            .members
            .insert("m2-restarted".into(), Work::default());
        cluster.round(&all, 200);
        cluster.settle(&all, 20_000);
        assert_eq!(cluster.members["m2-restarted"].len(), gone.len());
        assert_eq!(cluster.everything(), all);
    }

    #[test]
    fn deleted_and_duplicated_work_is_revoked() {
        let all = configured(&["a", "b"], 1);
        let mut cluster = Cluster::new(&["m1", "m2"]);
        cluster.round(&all, 0);
        // b is deleted; and m2 also (wrongly) runs a's task.
        let only_a = configured(&["a"], 1);
        let a0 = TaskId {
            connector: "a".into(),
            task: 0,
        };
        cluster
            .members
            .get_mut("m2")
            .unwrap()
            .tasks
            .insert(a0.clone());
        let round = cluster.round(&only_a, 0);
        let revoked = round
            .members
            .values()
            .fold(Work::default(), |w, a| w.union(&a.revoked));
        assert!(revoked.connectors.contains("b"));
        assert!(revoked.tasks.contains(&TaskId {
            connector: "b".into(),
            task: 0
        }));
        assert!(revoked.tasks.contains(&a0), "a duplicate is revoked");
        cluster.settle(&only_a, 0);
        assert_eq!(cluster.everything(), only_a);
        let holders = cluster
            .members
            .values()
            .filter(|w| w.tasks.contains(&a0))
            .count();
        assert_eq!(holders, 1);
    }

    #[test]
    fn a_new_leader_starts_from_what_members_report() {
        let all = configured(&["a"], 3);
        let mut cluster = Cluster::new(&["m1", "m2"]);
        cluster.round(&all, 0);
        // Another worker becomes leader: fresh state, same allocations.
        cluster.leader = AssignorState::default();
        let round = cluster.round(&all, 0);
        assert!(
            round
                .members
                .values()
                .all(|a| a.assigned.is_empty() && a.revoked.is_empty())
        );
        assert_eq!(cluster.everything(), all);
    }
}
