//! The `connect` group against a real broker (nisshi): two workers join,
//! one is elected leader and sees both members' metadata byte for byte,
//! its assignments reach each member, and when one leaves the other is
//! told to rebalance and continues alone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wasmconnect::distributed::assignor::{AssignorState, RoundInput};
use wasmconnect::distributed::group::{GroupError, GroupMember, GroupSettings, Joined};
use wasmconnect::distributed::protocol::{Assignment, MemberMetadata, PROTOCOLS, TaskId, Work};
use wasmconnect_tests::Broker;

fn settings(broker: &Broker) -> GroupSettings {
    GroupSettings {
        bootstrap: vec![broker.bootstrap().to_string()],
        group_id: "connect-cluster".into(),
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(30),
        client_id: "wasmconnect-test".into(),
    }
}

/// The protocol list every worker sends, with its metadata.
fn protocols(url: &str) -> Vec<(&'static str, Vec<u8>)> {
    PROTOCOLS
        .iter()
        .map(|(name, version)| {
            let metadata = MemberMetadata {
                version: *version,
                url: url.to_string(),
                config_offset: 3,
                allocation: None,
            };
            (*name, metadata.encode())
        })
        .collect()
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
    let broker = Broker::start();
    let mut a = GroupMember::connect(settings(&broker)).await.unwrap();
    let mut b = GroupMember::connect(settings(&broker)).await.unwrap();

    let started = Instant::now();
    let (pa, pb) = (protocols("http://a:8083/"), protocols("http://b:8083/"));
    let (ja, jb) = tokio::join!(a.join(&pa), b.join(&pb));
    let (ja, jb) = (ja.unwrap(), jb.unwrap());
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
