//! Distributed mode's parts against a real Apache Kafka broker: the `connect`
//! group (two workers join, one is elected leader and sees both members'
//! metadata byte for byte, its assignments reach each member, and when one
//! leaves the other is told to rebalance and continues alone), and the
//! compacted topic logs the stores are built on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wasmconnect::distributed::assignor::{AssignorState, RoundInput};
use wasmconnect::distributed::config_log::{ConfigRecord, ConfigState};
use wasmconnect::distributed::group::{GroupError, GroupMember, GroupSettings, Joined};
use wasmconnect::distributed::protocol::{Assignment, MemberMetadata, TaskId, Work};
use wasmconnect::distributed::topic_log::{TopicLog, TopicSpec};
use wasmconnect::store::RecordLog;
use wasmconnect_tests::Broker;

/// One test at a time: each starts an Apache Kafka broker, and seven JVMs
/// at once on a 2-core machine starved brokers of their start-up deadline
/// and the group test of its JoinGroup timing.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn settings(broker: &Broker) -> GroupSettings {
    GroupSettings {
        bootstrap: vec![broker.bootstrap().to_string()],
        group_id: "connect-cluster".into(),
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(30),
        client_id: "wasmconnect-test".into(),
    }
}

/// The protocol list a worker that runs nothing yet sends.
fn protocols(url: &str) -> Vec<(&'static str, Vec<u8>)> {
    wasmconnect::distributed::membership::protocols(url, 3, &Work::default())
}

fn configured() -> Work {
    Work {
        connectors: ["c".to_string()].into(),
        tasks: (0..4)
            .map(|task| TaskId {
                connector: "c".into(),
                task,
            })
            .collect(),
    }
}

/// The leader's side of a round: assignments for every member, encoded.
fn assignments(joined: &Joined, state: &mut AssignorState) -> Vec<(String, Vec<u8>)> {
    let members: BTreeMap<String, Work> = joined
        .members
        .iter()
        .map(|(id, _)| (id.clone(), Work::default()))
        .collect();
    let round = state.assign(&RoundInput {
        members: &members,
        configured: &configured(),
        generation: joined.generation,
        last_completed_generation: None,
        now_ms: 0,
        max_delay_ms: 0,
    });
    round
        .members
        .into_iter()
        .map(|(id, a)| {
            let assignment = Assignment {
                version: 2,
                leader: joined.leader.clone(),
                leader_url: "http://leader/".into(),
                config_offset: 3,
                assigned: a.assigned,
                revoked: a.revoked,
                ..Assignment::default()
            };
            (id, assignment.encode())
        })
        .collect()
}

#[tokio::test]
async fn two_workers_form_a_group_and_one_carries_on_when_the_other_leaves() {
    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let settings = settings(&broker);
    let mut a = GroupMember::connect(settings.clone()).await.unwrap();
    let mut b = GroupMember::connect(settings).await.unwrap();

    let started = Instant::now();
    let (pa, pb) = (protocols("http://a:8083/"), protocols("http://b:8083/"));
    // As workers meet: `a` forms the group alone and reaches a stable
    // generation; `b`'s JoinGroup then starts a new round, which the
    // coordinator holds open until `a` rejoins, and `a` learns of it from its
    // heartbeat. (Joining both at once races: the broker has no initial
    // rebalance delay here, so one member's round could complete before the
    // other's JoinGroup arrived.)
    let alone = a.join(&pa).await.unwrap();
    assert!(alone.is_leader());
    assert_eq!(alone.members.len(), 1);
    a.sync(&assignments(&alone, &mut AssignorState::default()))
        .await
        .unwrap();
    let a_rejoins = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match a.heartbeat().await {
                Err(GroupError::Rebalance) => break,
                Ok(()) => {}
                Err(e) => panic!("unexpected heartbeat error: {e}"),
            }
            assert!(
                Instant::now() < deadline,
                "the first member was never told of the second's join"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        a.join(&pa).await
    };
    let (ja, jb) = tokio::join!(a_rejoins, b.join(&pb));
    let (ja, jb) = (ja.unwrap(), jb.unwrap());
    assert!(ja.generation > alone.generation);
    println!("first rebalance took {:?}", started.elapsed());
    assert_eq!(ja.generation, jb.generation);
    assert_eq!(ja.leader, jb.leader);
    assert_eq!(ja.protocol, "sessioned");
    assert_eq!(usize::from(ja.is_leader()) + usize::from(jb.is_leader()), 1);

    let (leader, follower, lj, fj) = if ja.is_leader() {
        (&mut a, &mut b, ja, jb)
    } else {
        (&mut b, &mut a, jb, ja)
    };
    // The leader sees both members' first-choice metadata, byte for byte.
    let mut urls: Vec<String> = lj
        .members
        .iter()
        .map(|(_, m)| MemberMetadata::decode(m).unwrap().url)
        .collect();
    urls.sort();
    assert_eq!(urls, ["http://a:8083/", "http://b:8083/"]);
    for (id, metadata) in &lj.members {
        let url = if *id == lj.member_id || *id == fj.member_id {
            MemberMetadata::decode(metadata).unwrap().url
        } else {
            panic!("unknown member {id}")
        };
        assert_eq!(*metadata, protocols(&url)[0].1);
    }
    assert!(fj.members.is_empty(), "only the leader gets the members");

    let mut state = AssignorState::default();
    let sent = assignments(&lj, &mut state);
    let (mine, theirs) = tokio::join!(leader.sync(&sent), follower.sync(&[]));
    let (mine, theirs) = (
        Assignment::decode(&mine.unwrap()).unwrap(),
        Assignment::decode(&theirs.unwrap()).unwrap(),
    );
    assert_eq!(mine.assigned.union(&theirs.assigned), configured());
    assert_eq!(
        mine.assigned.len() + theirs.assigned.len(),
        configured().len()
    );
    assert_eq!(mine.leader, lj.member_id);
    leader.heartbeat().await.unwrap();
    follower.heartbeat().await.unwrap();

    // The follower leaves: the leader's next heartbeat says rebalance, and
    // it continues alone in a new generation.
    follower.leave().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match leader.heartbeat().await {
            Err(GroupError::Rebalance) => break,
            Ok(()) => {}
            Err(e) => panic!("unexpected heartbeat error: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "no rebalance after the other member left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alone = leader.join(&protocols("http://a:8083/")).await.unwrap();
    assert!(alone.is_leader());
    assert_eq!(alone.members.len(), 1);
    assert!(alone.generation > lj.generation);
    let sent = assignments(&alone, &mut AssignorState::default());
    let all = Assignment::decode(&leader.sync(&sent).await.unwrap()).unwrap();
    assert_eq!(all.assigned, configured());
}

#[tokio::test]
async fn a_topic_log_is_read_to_its_end_by_every_worker() {
    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let spec = TopicSpec {
        topic: "connect-configs".into(),
        partitions: 1,
        replication: 1,
    };
    let a = TopicLog::open(broker.bootstrap(), &[], &spec, "worker-a")
        .await
        .unwrap();
    assert!(
        a.read_to_end().await.unwrap().is_empty(),
        "a new log is empty"
    );
    let records = [
        ConfigRecord::Connector {
            name: "c".into(),
            properties: Some([("name".to_string(), "c".to_string())].into()),
        },
        ConfigRecord::Task {
            connector: "c".into(),
            task: 0,
            properties: [("t".to_string(), "0".to_string())].into(),
        },
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 1,
        },
    ];
    for r in &records {
        let (key, value) = r.encode();
        a.send(key.as_bytes(), value.as_deref()).await.unwrap();
    }
    // Another worker, opening the log later, rebuilds the same view.
    let b = TopicLog::open(broker.bootstrap(), &[], &spec, "worker-b")
        .await
        .unwrap();
    let mut view = ConfigState::new();
    for r in b.read_to_end().await.unwrap() {
        let key = String::from_utf8(r.key.unwrap()).unwrap();
        view.apply(
            r.offset,
            ConfigRecord::decode(&key, r.value.as_deref()).unwrap(),
        );
    }
    assert_eq!(view.offset, 3);
    assert_eq!(view.tasks("c").len(), 1);
    // A read returns only what is new; a tombstone deletes.
    let (key, value) = ConfigRecord::Connector {
        name: "c".into(),
        properties: None,
    }
    .encode();
    assert_eq!(value, None);
    let (partition, offset) = a.send(key.as_bytes(), None).await.unwrap();
    assert_eq!((partition, offset), (0, 3));
    let new = b.read_to_end().await.unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].value, None);
    view.apply(new[0].offset, ConfigRecord::decode(&key, None).unwrap());
    assert!(view.work().is_empty());
    assert_eq!(
        a.read_to_end().await.unwrap().len(),
        4,
        "a reads its own writes too"
    );

    // A multi-partition log (the offsets and status topics) reads every partition.
    let status = TopicSpec {
        topic: "connect-status".into(),
        partitions: 5,
        replication: 1,
    };
    let log = TopicLog::open(broker.bootstrap(), &[], &status, "worker-a")
        .await
        .unwrap();
    assert_eq!(log.partitions(), 5);
    for n in 0..20 {
        log.send(format!("status-task-c-{n}").as_bytes(), Some(b"{}"))
            .await
            .unwrap();
    }
    let other = TopicLog::open(broker.bootstrap(), &[], &status, "worker-c")
        .await
        .unwrap();
    assert_eq!(other.read_to_end().await.unwrap().len(), 20);
}

/// A fixed configuration: two connectors with three tasks each.
struct StaticView(Work);

impl wasmconnect::distributed::membership::ConfigView for StaticView {
    fn config_offset(&self) -> i64 {
        10
    }
    fn configured(&self) -> Work {
        self.0.clone()
    }
}

/// Waits for each member's next round until their allocations cover
/// `expected` exactly (each item once). `latest` holds each member's
/// allocation and whether it led its last round.
async fn settle(
    members: &mut [wasmconnect::distributed::membership::Membership],
    latest: &mut [(Work, bool)],
    expected: &Work,
    what: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let total: usize = latest.iter().map(|(w, _)| w.len()).sum();
        let union = latest.iter().fold(Work::default(), |a, (w, _)| a.union(w));
        if union == *expected && total == expected.len() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no complete assignment: {latest:?}"
        );
        for (i, m) in members.iter_mut().enumerate() {
            if let Ok(Some(round)) =
                tokio::time::timeout(Duration::from_millis(200), m.next_round()).await
            {
                // Nothing runs here: what is revoked has stopped at once.
                if !round.revoked.is_empty() {
                    m.revocations_done(round.generation);
                }
                latest[i] = (round.allocation, round.leader);
            }
        }
    }
}

#[tokio::test]
async fn a_dead_workers_share_moves_to_the_others_after_the_delay() {
    use std::sync::Arc;
    use wasmconnect::distributed::membership::{Membership, MembershipSettings};

    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let mut all = configured();
    all.connectors.insert("d".into());
    for task in 0..2 {
        all.tasks.insert(TaskId {
            connector: "d".into(),
            task,
        });
    }
    let view = Arc::new(StaticView(all.clone()));
    let start = |name: &str| {
        let mut group = settings(&broker);
        group.session_timeout = Duration::from_secs(6);
        Membership::start(
            MembershipSettings {
                group,
                url: format!("http://{name}:8083/"),
                heartbeat_interval: Duration::from_millis(500),
                max_delay: Duration::from_secs(3),
            },
            view.clone(),
        )
    };
    let mut members = vec![start("a"), start("b"), start("c")];
    let mut latest = vec![(Work::default(), false); 3];
    settle(&mut members, &mut latest, &all, "three workers").await;
    let loads: Vec<usize> = latest.iter().map(|(w, _)| w.len()).collect();
    println!("three workers: {loads:?} connectors+tasks each");
    assert!(loads.iter().all(|&n| n >= 2), "spread: {loads:?}");

    // A worker that is not the leader dies without leaving; the others
    // take its share once the session times out and the scheduled delay
    // has passed. (A dead leader's share moves at once: the new leader
    // has no record of it, as in Kafka Connect.)
    let victim = latest.iter().position(|(_, leader)| !leader).unwrap();
    let killed = Instant::now();
    members.remove(victim).abandon();
    latest.remove(victim);
    settle(&mut members, &mut latest, &all, "after the kill").await;
    let took = killed.elapsed();
    println!("failover: {took:?} (session timeout 6 s + delay 3 s)");
    assert!(
        took >= Duration::from_secs(6),
        "the share was held: {took:?}"
    );
    for m in members {
        m.leave().await;
    }
}

#[tokio::test]
async fn config_stores_on_two_workers_agree_and_never_run_half_a_task_set() {
    use wasmconnect::config::TargetState;
    use wasmconnect::distributed::config_log::Change;
    use wasmconnect::distributed::config_store::ConfigStore;

    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let open =
        |id: &'static str| ConfigStore::open(broker.bootstrap(), &[], "connect-configs", 1, id);
    let (mut leader, changes) = open("leader").await.unwrap();
    assert!(changes.is_empty());
    let props = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    leader
        .put_connector(
            "c",
            props(&[("name", "c"), ("tasks.max", "2")]),
            Some(TargetState::Paused),
        )
        .await
        .unwrap();
    let changes = leader
        .put_task_configs("c", &[props(&[("t", "0")]), props(&[("t", "1")])])
        .await
        .unwrap();
    assert_eq!(changes, [Change::TaskConfigs("c".into())]);

    // Another worker starting now rebuilds the same view.
    let (mut follower, changes) = open("follower").await.unwrap();
    assert!(changes.contains(&Change::ConnectorConfig("c".into())));
    assert_eq!(follower.state().target_state("c"), TargetState::Paused);
    assert_eq!(follower.state().tasks("c").len(), 2);
    assert_eq!(follower.state().offset, leader.state().offset);

    // Any worker may resume; the leader sees it on its next read.
    follower
        .put_target_state("c", TargetState::Started)
        .await
        .unwrap();
    assert_eq!(
        leader.refresh().await.unwrap(),
        [Change::TargetState("c".into())]
    );
    assert_eq!(leader.state().target_state("c"), TargetState::Started);

    // A leader dies after writing one of three new task configurations and
    // a commit: nobody runs any of them.
    leader
        .put_record(&ConfigRecord::Task {
            connector: "c".into(),
            task: 0,
            properties: props(&[("t", "new-0")]),
        })
        .await
        .unwrap();
    leader
        .put_record(&ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 3,
        })
        .await
        .unwrap();
    follower.refresh().await.unwrap();
    assert!(follower.state().is_inconsistent("c"));
    assert!(follower.state().tasks("c").is_empty());
    assert!(follower.state().work().tasks.is_empty());

    follower.remove_connector("c").await.unwrap();
    assert!(
        leader
            .refresh()
            .await
            .unwrap()
            .contains(&Change::ConnectorRemoved("c".into()))
    );
    assert!(leader.state().work().is_empty());
}

#[tokio::test]
async fn offsets_written_by_one_worker_are_read_by_another_and_reset_by_tombstones() {
    use wasmconnect::distributed::offset_store::OffsetStore;
    use wasmconnect::host::offsets::OffsetReader;

    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let spec = TopicSpec {
        topic: "connect-offsets".into(),
        partitions: 25,
        replication: 1,
    };
    let a = OffsetStore::open(broker.bootstrap(), &[], &spec, "a")
        .await
        .unwrap();
    let files: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"filename":"/data/{i}.txt"}}"#))
        .collect();
    let offsets: Vec<(String, Option<String>)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), Some(format!(r#"{{"position":{}}}"#, i * 100))))
        .collect();
    a.put("src", &offsets).await.unwrap();
    a.put(
        "src",
        &[(files[0].clone(), Some(r#"{"position":7}"#.into()))],
    )
    .await
    .unwrap();
    let b = OffsetStore::open(broker.bootstrap(), &[], &spec, "b")
        .await
        .unwrap();
    assert_eq!(b.offsets_in_view("src").len(), 10);
    let read = b
        .read(
            "src",
            &[
                files[0].clone(),
                files[9].clone(),
                r#"{"filename":"/x"}"#.into(),
            ],
        )
        .unwrap();
    assert_eq!(
        read,
        [
            Some(r#"{"position":7}"#.to_string()),
            Some(r#"{"position":900}"#.to_string()),
            None
        ],
        "the last write wins; unknown partitions have none"
    );
    a.put("src", &[(files[9].clone(), None)]).await.unwrap();
    b.refresh().await.unwrap();
    assert_eq!(b.read("src", &[files[9].clone()]).unwrap(), [None]);
    assert!(b.offsets_in_view("other").is_empty());
}

#[tokio::test]
async fn every_worker_sees_every_state_and_a_stale_owner_cannot_overwrite_it() {
    use wasmconnect::distributed::status_log::{StatusKey, StatusRecord};
    use wasmconnect::distributed::status_store::StatusStore;

    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let spec = TopicSpec {
        topic: "connect-status".into(),
        partitions: 5,
        replication: 1,
    };
    let a = StatusStore::open(broker.bootstrap(), &[], &spec, "a")
        .await
        .unwrap();
    let b = StatusStore::open(broker.bootstrap(), &[], &spec, "b")
        .await
        .unwrap();
    let record = |state: &str, worker: &str, generation| StatusRecord {
        state: state.into(),
        trace: None,
        worker_id: worker.into(),
        generation,
    };
    let task0 = StatusKey::Task {
        connector: "c".into(),
        task: 0,
    };
    // Generation 1: a runs task 0.
    assert!(
        a.put(&task0, &record("RUNNING", "a:8083", 1))
            .await
            .unwrap()
    );
    // Generation 2: the task moved to b, which reports RUNNING ...
    b.refresh().await.unwrap();
    assert!(
        b.put(&task0, &record("RUNNING", "b:8083", 2))
            .await
            .unwrap()
    );
    // ... and a, late, reports it UNASSIGNED from generation 1: skipped.
    a.refresh().await.unwrap();
    assert!(
        !a.put(&task0, &record("UNASSIGNED", "a:8083", 1))
            .await
            .unwrap()
    );
    assert_eq!(a.get(&task0).unwrap().worker_id, "b:8083");
    // A connector state and a second task, seen by the other worker.
    a.put(
        &StatusKey::Connector("c".into()),
        &record("RUNNING", "a:8083", 2),
    )
    .await
    .unwrap();
    let task1 = StatusKey::Task {
        connector: "c".into(),
        task: 1,
    };
    a.put(&task1, &record("FAILED", "a:8083", 2)).await.unwrap();
    b.refresh().await.unwrap();
    assert_eq!(
        b.get(&StatusKey::Connector("c".into())).unwrap().state,
        "RUNNING"
    );
    let tasks = b.tasks("c");
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        (tasks[&0].state.as_str(), tasks[&1].state.as_str()),
        ("RUNNING", "FAILED")
    );
    // Deleting the connector's states (DESTROYED) removes them everywhere.
    a.delete(&task1).await.unwrap();
    b.refresh().await.unwrap();
    assert_eq!(b.tasks("c").len(), 1);
}

#[tokio::test]
async fn a_component_published_by_one_worker_reaches_another_intact() {
    use wasmconnect::distributed::plugin_log::{CHUNK_BYTES, PluginEvent, PluginLog};

    let _turn = SERIAL.lock().await;
    let broker = Broker::start();
    let spec = TopicSpec {
        topic: "connect-plugins".into(),
        partitions: 1,
        replication: 1,
    };
    // The largest bundled component: the Python sink, about 18 MB.
    let path = wasmconnect_tests::polyglot_dir().join("python-json-lines-sink.wasm");
    let component = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins.sh)", path.display()));
    assert!(component.len() > 10 * CHUNK_BYTES);
    let a = PluginLog::open(broker.bootstrap(), &[], &spec, "a")
        .await
        .unwrap();
    let started = Instant::now();
    let sha = a.publish(&component).await.unwrap();
    println!(
        "published {} bytes in {:?}",
        component.len(),
        started.elapsed()
    );
    let mut b = PluginLog::open(broker.bootstrap(), &[], &spec, "b")
        .await
        .unwrap();
    let events = b.refresh().await.unwrap();
    assert_eq!(events.len(), 1);
    match &events[0] {
        PluginEvent::Published { sha256, bytes } => {
            assert_eq!(sha256, &sha);
            assert!(bytes == &component, "the bytes arrive intact");
        }
        other => panic!("expected the component, got {other:?}"),
    }
    let chunks = component.len().div_ceil(CHUNK_BYTES) as u32;
    a.remove(&sha, chunks).await.unwrap();
    assert_eq!(
        b.refresh().await.unwrap(),
        [PluginEvent::Removed { sha256: sha }]
    );
}
