//! The herders driven directly, on in-memory stores and without a broker:
//! target states, restart plans, rebalances and the forwarding decisions
//! the REST layer acts on.
//!
//! What stands in for what: the config, offset and status topics are
//! in-memory logs (`wasmconnect::store::memory`) running the same store
//! code as the Kafka topics; the `connect` group is a scripted
//! [`Membership`] whose rounds each test writes (the assignor has its own
//! unit tests, and `distributed.rs` runs the real group on Apache Kafka);
//! tasks produce to librdkafka's in-process mock cluster (the quickstart's
//! embedded broker). Connectors and tasks are the real bundled components.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmconnect::config::distributed::DistributedConfig;
use wasmconnect::config::{TargetState, WorkerConfig};
use wasmconnect::distributed::membership::{Membership, Round, ScriptedGroup};
use wasmconnect::distributed::offset_store::OffsetStore;
use wasmconnect::distributed::protocol::Work;
use wasmconnect::herder::distributed::{ClusterParts, ClusterStores, MemoryTopics};
use wasmconnect::herder::standalone::StandaloneParts;
use wasmconnect::herder::{DistributedHerder, Herder, StandaloneHerder};
use wasmconnect::store::memory::MemoryTopic;
use wasmconnect::worker::kafka::Kafka;
use wasmconnect::worker::status::State;
use wasmconnect::worker::store::ConnectorStore;
use wasmconnect_tests::{config, plugin_dir, sandbox, work};

const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `check` every 20 ms until it holds; panics naming `what` after
/// [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A worker configuration without `bootstrap.servers` (the embedded mock
/// cluster), the bundled plugins, and `extra`.
fn worker_props(dir: &Path, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let plugins = plugin_dir().display().to_string();
    let store = dir.join("plugin-store").display().to_string();
    let mut props = config(&[
        ("key.converter", "StringConverter"),
        ("value.converter", "StringConverter"),
        ("offset.flush.interval.ms", "100"),
        ("plugin.path", &plugins),
        ("plugin.store.dir", &store),
    ]);
    props.extend(config(extra));
    props
}

fn file_source(dir: &Path, name: &str, tasks: &str) -> Vec<(String, String)> {
    let file = dir.join(format!("{name}.txt"));
    std::fs::write(&file, "a\nb\n").expect("writing the source file");
    config(&[
        ("name", name),
        ("connector.class", "FileStreamSource"),
        ("tasks.max", tasks),
        ("file", &file.display().to_string()),
        ("topic", "herder-test"),
    ])
}

/// A generator of `tasks` tasks (FileStreamSource always makes one).
fn datagen(name: &str, tasks: &str) -> Vec<(String, String)> {
    config(&[
        ("name", name),
        ("connector.class", "Datagen"),
        ("tasks.max", tasks),
        ("topic", "herder-test"),
        ("rate", "20"),
    ])
}

// ---------------------------------------------------------------- standalone

struct Standalone {
    herder: StandaloneHerder,
    store: Arc<ConnectorStore>,
    offsets: MemoryTopic,
    _dir: tempfile::TempDir,
}

/// A standalone herder on an in-memory connector store and an offset store
/// over an in-memory log.
async fn standalone() -> Standalone {
    let dir = tempfile::tempdir().expect("tempdir");
    standalone_with(dir, Arc::new(ConnectorStore::in_memory())).await
}

async fn standalone_with(dir: tempfile::TempDir, store: Arc<ConnectorStore>) -> Standalone {
    let config = WorkerConfig::from_properties(&worker_props(dir.path(), &[])).expect("config");
    let kafka = Kafka::connect(&config.kafka, &config.admin).expect("embedded Kafka");
    let offsets = MemoryTopic::new(25);
    let parts = StandaloneParts {
        config,
        sandbox: sandbox(),
        kafka,
        offsets: Arc::new(
            OffsetStore::over(Box::new(offsets.open()))
                .await
                .expect("offset store"),
        ),
        store: store.clone(),
        plugin_dir: dir.path().join("plugins"),
    };
    Standalone {
        herder: StandaloneHerder::assemble(parts).await,
        store,
        offsets,
        _dir: dir,
    }
}

/// The connector's state and its tasks' states, as the herder reports them.
async fn states(herder: &dyn Herder, name: &str) -> Option<(State, Vec<State>)> {
    let report = herder.connector_status(name).await.ok()?;
    let tasks = report.status.tasks.values().map(|s| s.state).collect();
    Some((report.status.connector.state, tasks))
}

async fn wait_for_states(herder: &dyn Herder, name: &str, want: (State, Vec<State>)) {
    let what = format!("{name} to be {want:?}");
    eventually(&what, || async {
        states(herder, name).await.as_ref() == Some(&want)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_target_states_pause_stop_and_resume_and_are_remembered() {
    let s = standalone().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let h: &dyn Herder = &s.herder;
    h.create_connector(file_source(dir.path(), "src", "1"), None)
        .await
        .expect("created");
    wait_for_states(h, "src", (State::Running, vec![State::Running])).await;

    h.set_target("src", TargetState::Paused)
        .await
        .expect("paused");
    wait_for_states(h, "src", (State::Paused, vec![State::Paused])).await;
    assert_eq!(s.store.all()["src"].target, TargetState::Paused);

    // Stopped: the connector reports STOPPED and has no tasks at all.
    h.set_target("src", TargetState::Stopped)
        .await
        .expect("stopped");
    wait_for_states(h, "src", (State::Stopped, vec![])).await;
    assert_eq!(h.summary("src").await.expect("summary").tasks, 0);
    assert_eq!(s.store.all()["src"].target, TargetState::Stopped);

    h.set_target("src", TargetState::Started)
        .await
        .expect("resumed");
    wait_for_states(h, "src", (State::Running, vec![State::Running])).await;
    assert_eq!(s.store.all()["src"].target, TargetState::Started);

    let missing = h.set_target("nope", TargetState::Paused).await.unwrap_err();
    assert_eq!(
        (missing.status, missing.message.as_str()),
        (404, "Unknown connector nope")
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_restart_plans_restart_what_the_flags_select() {
    // A task failure remembered from before a restart of the worker: the
    // task comes back FAILED with its trace.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(ConnectorStore::in_memory());
    let source = datagen("src", "2");
    store
        .update("src", |e| {
            *e = Some(wasmconnect::worker::store::StoredConnector {
                config: source.clone(),
                target: TargetState::Started,
                connector_failure: None,
                task_failures: Default::default(),
            })
        })
        .expect("stored");
    store.task_failed("src", 1, "boom");
    let s = standalone_with(dir, store).await;
    let h: &dyn Herder = &s.herder;
    wait_for_states(
        h,
        "src",
        (State::Running, vec![State::Running, State::Failed]),
    )
    .await;

    // Only failed, connector only: nothing failed at that level, so nothing
    // restarts and the plan says so.
    let plan = h.restart("src", false, true).await.expect("restart");
    assert_eq!(plan.connector.state, State::Running);
    assert_eq!(plan.tasks[&1].state, State::Failed);

    // Only failed, with tasks: exactly the failed task restarts.
    let plan = h.restart("src", true, true).await.expect("restart");
    assert_eq!(plan.connector.state, State::Running);
    assert_eq!(plan.tasks[&0].state, State::Running);
    assert_eq!(plan.tasks[&1].state, State::Restarting);
    assert_eq!(plan.tasks[&1].trace, None);
    wait_for_states(
        h,
        "src",
        (State::Running, vec![State::Running, State::Running]),
    )
    .await;
    assert!(
        s.store.task_failure("src", 1).is_none(),
        "the failure is forgotten"
    );

    // Everything.
    let plan = h.restart("src", true, false).await.expect("restart");
    assert_eq!(plan.connector.state, State::Restarting);
    assert!(plan.tasks.values().all(|t| t.state == State::Restarting));
    wait_for_states(
        h,
        "src",
        (State::Running, vec![State::Running, State::Running]),
    )
    .await;

    let unknown = h.restart_task("src", 7).await.unwrap_err();
    assert_eq!(unknown.status, 404);
    assert!(unknown.redirect.is_none());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_never_redirects_and_offsets_change_only_when_stopped() {
    let s = standalone().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let h: &dyn Herder = &s.herder;
    assert!(
        h.require_leader().is_ok(),
        "a standalone worker leads itself"
    );
    h.create_connector(
        file_source(dir.path(), "src", "1"),
        Some(TargetState::Stopped),
    )
    .await
    .expect("created stopped");
    wait_for_states(h, "src", (State::Stopped, vec![])).await;
    h.restart_task("src", 0)
        .await
        .expect_err("a stopped connector has no task 0");

    let partition =
        serde_json::json!({"filename": dir.path().join("src.txt").display().to_string()});
    let entry = wasmconnect::worker::offsets::OffsetEntry {
        partition,
        offset: serde_json::json!({"position": 2}),
    };
    h.alter_offsets("src", Some(vec![entry]))
        .await
        .expect("altered while stopped");
    let written = s.offsets.records();
    assert_eq!(written.len(), 1, "one record in the offsets log");
    assert_eq!(written[0].value.as_deref(), Some(&br#"{"position":2}"#[..]));

    h.set_target("src", TargetState::Started)
        .await
        .expect("resumed");
    let refused = h.reset_offsets("src").await.unwrap_err();
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .message
            .starts_with("Connectors must be in the STOPPED state")
    );
    assert!(refused.redirect.is_none());
    h.shutdown().await;
}

// --------------------------------------------------------------- distributed

/// One member of an in-memory cluster, its REST URL and its scripted group.
struct Member {
    herder: Arc<DistributedHerder>,
    group: ScriptedGroup,
    url: String,
    id: String,
}

async fn member(topics: &MemoryTopics, dir: &Path, port: u16) -> Member {
    let props = worker_props(
        dir,
        &[
            ("group.id", "herder-test"),
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
        ],
    );
    let config = WorkerConfig::from_properties(&props).expect("config");
    let settings =
        DistributedConfig::from_properties(&props, "http", port, "127.0.0.1").expect("settings");
    let (url, id) = (settings.url(), settings.worker_id());
    let kafka = Kafka::connect(&config.kafka, &config.admin).expect("embedded Kafka");
    let parts = ClusterParts {
        config,
        settings,
        sandbox: sandbox(),
        kafka,
        stores: ClusterStores::in_memory(topics).await.expect("stores"),
    };
    let (membership, group) = Membership::scripted();
    let herder = DistributedHerder::assemble(parts, move |_| membership).await;
    Member {
        herder,
        group,
        url,
        id,
    }
}

/// Completes a round for `m`: `leader` leads, `m` now runs `allocation`.
fn round(m: &Member, generation: i32, leader: &Member, before: &Work, allocation: Work) {
    m.group.complete(Round {
        generation,
        member_id: m.id.clone(),
        leader: m.url == leader.url,
        leader_url: leader.url.clone(),
        config_offset: -1,
        assigned: allocation.minus(before),
        revoked: before.minus(&allocation),
        allocation,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_followers_redirect_writes_to_the_leader_and_tasks_to_their_owner() {
    let topics = MemoryTopics::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = member(&topics, dir.path(), 18301).await;
    let b = member(&topics, dir.path(), 18302).await;

    // Before any round nobody may write, and nobody knows where to send it.
    let early = a.herder.require_leader().unwrap_err();
    assert_eq!(early.status, 409);
    assert_eq!(early.redirect.map(|r| r.url), Some(None));

    let none = Work::default();
    round(&a, 1, &a, &none, none.clone());
    round(&b, 1, &a, &none, none.clone());
    eventually("a to lead", || async { a.herder.require_leader().is_ok() }).await;
    eventually("b to know its leader", || async {
        b.herder
            .require_leader()
            .err()
            .and_then(|e| e.redirect)
            .and_then(|r| r.url)
            == Some(a.url.clone())
    })
    .await;

    // A write on the follower names the leader; on the leader it lands in
    // the config log, every member reads it, and the leader asks the group
    // for a new round.
    let refused = b
        .herder
        .create_connector(file_source(dir.path(), "src", "1"), None)
        .await
        .unwrap_err();
    assert_eq!(refused.status, 409);
    assert_eq!(refused.redirect.and_then(|r| r.url), Some(a.url.clone()));
    a.herder
        .create_connector(file_source(dir.path(), "src", "1"), None)
        .await
        .expect("created on the leader");
    assert!(!topics.config.records().is_empty());
    eventually("b to read the new connector", || async {
        b.herder.connector_info("src").await.is_ok()
    })
    .await;
    eventually("a rejoin request", || {
        let asked = a.group.rejoin_requested();
        async move { asked }
    })
    .await;

    // The connector goes to a (it publishes the task configurations as
    // leader); its task to b.
    round(&a, 2, &a, &none, work(&["src"], &[]));
    eventually("the task configurations", || async {
        a.herder.task_configs("src").await.map(|t| t.len()) == Ok(1)
    })
    .await;
    round(&a, 3, &a, &work(&["src"], &[]), work(&["src"], &[]));
    round(&b, 3, &a, &none, work(&[], &[("src", 0)]));
    for m in [&a, &b] {
        wait_for_states(
            m.herder.as_ref(),
            "src",
            (State::Running, vec![State::Running]),
        )
        .await;
    }
    let report = a.herder.connector_status("src").await.expect("status");
    assert_eq!(
        report.status.connector.worker.as_deref(),
        Some(a.id.as_str())
    );
    assert_eq!(
        report.status.tasks[&0].worker.as_deref(),
        Some(b.id.as_str())
    );

    // A task restart goes to the worker running the task.
    let elsewhere = a.herder.restart_task("src", 0).await.unwrap_err();
    assert_eq!(elsewhere.status, 409);
    assert_eq!(elsewhere.redirect.and_then(|r| r.url), Some(b.url.clone()));
    b.herder
        .restart_task("src", 0)
        .await
        .expect("restarted by its owner");
    a.herder.shutdown().await;
    b.herder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_rebalances_move_tasks_and_target_states_reach_every_owner() {
    let topics = MemoryTopics::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = member(&topics, dir.path(), 18311).await;
    let b = member(&topics, dir.path(), 18312).await;
    let none = Work::default();
    round(&a, 1, &a, &none, none.clone());
    round(&b, 1, &a, &none, none.clone());
    eventually("a to lead", || async { a.herder.require_leader().is_ok() }).await;
    a.herder
        .create_connector(datagen("src", "2"), None)
        .await
        .expect("created");
    let both = work(&["src"], &[("src", 0), ("src", 1)]);
    round(&a, 2, &a, &none, work(&["src"], &[]));
    eventually("the task configurations", || async {
        a.herder.task_configs("src").await.map(|t| t.len()) == Ok(2)
    })
    .await;
    round(&a, 3, &a, &work(&["src"], &[]), both.clone());
    wait_for_states(
        a.herder.as_ref(),
        "src",
        (State::Running, vec![State::Running; 2]),
    )
    .await;

    // Task 1 moves to b: a stops it, confirms the revocation, b runs it.
    let kept = work(&["src"], &[("src", 0)]);
    round(&a, 4, &a, &both, kept.clone());
    assert_eq!(a.group.revocations_done().await, Some(4));
    round(&b, 4, &a, &none, work(&[], &[("src", 1)]));
    eventually("task 1 on b", || async {
        a.herder
            .connector_status("src")
            .await
            .ok()
            .and_then(|r| r.status.tasks.get(&1).cloned())
            .is_some_and(|t| t.state == State::Running && t.worker.as_deref() == Some(&b.id))
    })
    .await;

    // Paused on the leader: each owner pauses what it runs.
    a.herder
        .set_target("src", TargetState::Paused)
        .await
        .expect("paused");
    for m in [&a, &b] {
        wait_for_states(
            m.herder.as_ref(),
            "src",
            (State::Paused, vec![State::Paused; 2]),
        )
        .await;
    }
    // Any member writes pause and resume, as Kafka's do; stopping also
    // empties the task configurations, which only the leader writes.
    b.herder
        .set_target("src", TargetState::Started)
        .await
        .expect("resumed from a follower");
    for m in [&a, &b] {
        wait_for_states(
            m.herder.as_ref(),
            "src",
            (State::Running, vec![State::Running; 2]),
        )
        .await;
    }
    let refused = b
        .herder
        .set_target("src", TargetState::Stopped)
        .await
        .unwrap_err();
    assert_eq!(refused.redirect.and_then(|r| r.url), Some(a.url.clone()));
    a.herder.shutdown().await;
    b.herder.shutdown().await;
    assert!(a.group.left() && b.group.left(), "both left the group");
}
