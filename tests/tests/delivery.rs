//! Delivery on a real broker when tasks move: a sink commits what it wrote
//! of the partitions it gives up before they go (incrementally, with
//! cooperative-sticky assignment), and a task that will not stop is
//! interrupted, so no two generations of one task ever write side by side.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, start_worker, wait_for_lines, worker_props,
};

/// Creates `topic` with `partitions` partitions.
async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(|r| r.is_ok()), "{created:?}");
}

/// Writes `values` to `topic`, value `i` to partition `i % partitions`.
fn produce(bootstrap: &str, topic: &str, partitions: i32, values: &[String]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for (i, v) in values.iter().enumerate() {
        let partition = i as i32 % partitions;
        producer
            .send(
                BaseRecord::<(), _>::to(topic)
                    .partition(partition)
                    .payload(v),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// A standalone worker with `extra` properties in a directory of its own
/// (kept while the first value lives; the second is its canonical path).
async fn worker(broker: &Broker, extra: &str) -> (tempfile::TempDir, PathBuf, WorkerProcess, Rest) {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let port = free_port();
    let props = worker_props(broker.bootstrap(), port, extra);
    let (w, rest) = start_worker(&dir_path, &props, port).await;
    (dir, dir_path, w, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_commits_the_partitions_it_gives_up_before_they_go() {
    let broker = Broker::start();
    create_topic(broker.bootstrap(), "moving", 4).await;
    let values: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
    produce(broker.bootstrap(), "moving", 4, &values);

    // No periodic commit within the test: only a revocation commits.
    let (_dir, dir_path, w, rest) = worker(&broker, "offset.flush.interval.ms=600000\n").await;
    let out = dir_path.join("out.txt");
    let r = rest
        .create(
            "moving-sink",
            &json!({
                "connector.class": "FileStreamSink",
                "tasks.max": "1",
                "topics": "moving",
                "file": out.display().to_string(),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    wait_for_lines(&out, 40, Duration::from_secs(90), &w);

    // A second member joins the task's group and is given partitions the
    // task held: they must arrive committed up to where the task wrote.
    let member: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "connect-moving-sink")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    member.subscribe(&["moving"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let assigned = loop {
        let _ = member.poll(Duration::from_millis(200));
        let assigned = member.assignment().unwrap();
        if assigned.count() > 0 {
            break assigned;
        }
        assert!(
            Instant::now() < deadline,
            "the second member got no partition in 60 s; worker log:\n{}",
            w.log()
        );
    };
    let committed = member
        .committed_offsets(assigned, Duration::from_secs(10))
        .unwrap();
    let offsets: Vec<(i32, Offset)> = committed
        .elements()
        .iter()
        .map(|e| (e.partition(), e.offset()))
        .collect();
    assert_eq!(
        offsets.len(),
        2,
        "cooperative-sticky splits 4 partitions 2 and 2: {offsets:?}"
    );
    assert!(
        offsets.iter().all(|(_, o)| *o == Offset::Offset(10)),
        "each partition given up holds 10 records, all written: {offsets:?}; worker log:\n{}",
        w.log()
    );
    // Incremental: the task gave up two partitions and kept two, instead of
    // revoking all four and being given two back.
    let log = w.log();
    let revocations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("partitions revoked"))
        .collect();
    assert_eq!(revocations.len(), 1, "{log}");
    assert!(revocations[0].contains("partitions=2"), "{log}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 40);
}

/// `path`'s lines.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Polls until `path` holds `want` lines.
async fn wait_for_content(path: &Path, want: &[&str], w: &WorkerProcess) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while lines(path) != want {
        assert!(
            Instant::now() < deadline,
            "{} holds {:?}, not {want:?}; worker log:\n{}",
            path.display(),
            lines(path),
            w.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_will_not_stop_is_interrupted_and_never_writes_beside_its_successor() {
    const BLOCK: Duration = Duration::from_secs(20);
    let broker = Broker::start();
    let values: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    produce(broker.bootstrap(), "slow", 1, &values);

    let (_dir, dir_path, w, rest) =
        worker(&broker, "task.shutdown.graceful.timeout.ms=500\n").await;
    let (switch, out) = (dir_path.join("switch"), dir_path.join("out.txt"));
    std::fs::write(&switch, "on").unwrap();
    let r = rest
        .create(
            "slow-sink",
            &json!({
                "connector.class": "io.wasmconnect.testing.MisbehavingSinkConnector",
                "tasks.max": "1",
                "topics": "slow",
                "mode": "block-in-put",
                "sleep.ms": BLOCK.as_millis().to_string(),
                "fault.switch": switch.display().to_string(),
                "output": out.display().to_string(),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    wait_for_content(&out, &["blocking"], &w).await;
    let blocked_at = Instant::now();

    // The first generation sleeps inside `put`; its successor is healthy.
    std::fs::write(&switch, "off").unwrap();
    let r = rest
        .call("POST", "/connectors/slow-sink/tasks/0/restart", None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let written = ["blocking", "a", "b", "c", "d", "e"];
    wait_for_content(&out, &written, &w).await;
    // The successor wrote them, not the first generation on waking: it ran
    // without waiting for the blocked one to return.
    assert!(
        blocked_at.elapsed() < BLOCK,
        "the batch was written {:?} after the first generation blocked, not before its sleep \
         ended; worker log:\n{}",
        blocked_at.elapsed(),
        w.log()
    );
    assert!(
        w.log().contains("Graceful stop of task slow-sink-0 failed"),
        "{}",
        w.log()
    );

    // Had the first generation run on, it would wake when its sleep ends
    // and write the batch a second time. Waiting past that moment is the
    // only way to see that it does not.
    tokio::time::sleep_until((blocked_at + BLOCK + Duration::from_secs(3)).into()).await;
    assert_eq!(lines(&out), written, "worker log:\n{}", w.log());
    let status = rest.call("GET", "/connectors/slow-sink/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{:?}",
        status.body
    );
    // The successor's periodic commit (every 200 ms) covers the batch.
    let deadline = Instant::now() + Duration::from_secs(30);
    while group_offsets(broker.bootstrap(), "connect-slow-sink", "slow", 1) != [Offset::Offset(5)] {
        assert!(Instant::now() < deadline, "worker log:\n{}", w.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The offsets `group` holds for `topic`'s first `partitions`.
fn group_offsets(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<Offset> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    c.committed_offsets(tpl, Duration::from_secs(10))
        .unwrap()
        .elements()
        .iter()
        .map(|e| e.offset())
        .collect()
}
