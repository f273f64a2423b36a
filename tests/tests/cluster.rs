//! Distributed mode end to end: several `wasmconnect distributed` processes
//! on loopback ports against a real nisshi broker, coordinating through its
//! group coordinator and the three internal topics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{Value, json};
use wasmconnect_tests::{Broker, Reply, Rest, WorkerProcess, free_port, plugin_dir, plugin_path};

/// `session.timeout.ms` and `scheduled.rebalance.max.delay.ms` of the test
/// clusters: a dead worker's share moves within their sum.
const SESSION: Duration = Duration::from_secs(6);
const MAX_DELAY: Duration = Duration::from_secs(3);

/// One cluster at a time: three workers and a broker already share the
/// machine's two cores, and the failover test times itself.
static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One worker process of a test cluster.
struct Member {
    dir: PathBuf,
    port: u16,
    props: String,
    process: WorkerProcess,
    rest: Rest,
}

impl Member {
    fn id(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) {
        self.process = WorkerProcess::distributed(&self.dir, &self.props);
        self.rest.wait_ready(&self.process).await;
        self.rest
            .wait_for("/health", "the worker in the group", |r| r.status == 200)
            .await;
    }
}

/// Starts `n` workers of the group `connect-cluster`, with `plugins` as
/// their `plugin.path`, each in a directory of its own under `root`;
/// `extra` is added to each worker's properties.
async fn start_cluster(
    broker: &Broker,
    root: &Path,
    n: usize,
    plugins: &Path,
    extra: &str,
) -> Vec<Member> {
    let mut members = Vec::new();
    for i in 0..n {
        let dir = root.join(format!("worker-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let props = wasmconnect_tests::worker_props_with_plugins(
            broker.bootstrap(),
            port,
            plugins,
            &format!(
                "group.id=connect-cluster\n\
                 config.storage.topic=connect-configs\n\
                 offset.storage.topic=connect-offsets\n\
                 status.storage.topic=connect-status\n\
                 config.storage.replication.factor=1\n\
                 offset.storage.replication.factor=1\n\
                 status.storage.replication.factor=1\n\
                 offset.storage.partitions=5\n\
                 status.storage.partitions=3\n\
                 session.timeout.ms={}\n\
                 heartbeat.interval.ms=1000\n\
                 scheduled.rebalance.max.delay.ms={}\n\
                 rest.advertised.host.name=127.0.0.1\n\
                 plugin.store.dir={}\n{extra}",
                SESSION.as_millis(),
                MAX_DELAY.as_millis(),
                dir.join("plugins").display()
            ),
        );
        let process = WorkerProcess::distributed(&dir, &props);
        let rest = Rest::new(port);
        rest.wait_ready(&process).await;
        members.push(Member {
            dir,
            port,
            props,
            process,
            rest,
        });
    }
    for m in &members {
        m.rest
            .wait_for("/health", "the worker in the group", |r| r.status == 200)
            .await;
    }
    members
}

/// One field (`worker_id`, `state`) of a status: the connector's, and each
/// task's in order.
fn field(status: &Value, key: &str) -> (String, Vec<String>) {
    let text = |v: &Value| v[key].as_str().unwrap_or_default().to_string();
    let tasks = status["tasks"]
        .as_array()
        .map(|t| t.iter().map(text).collect())
        .unwrap_or_default();
    (text(&status["connector"]), tasks)
}

/// The worker ids a status reports for the connector and each task.
fn owners(status: &Value) -> (String, Vec<String>) {
    field(status, "worker_id")
}

fn states(status: &Value) -> (String, Vec<String>) {
    field(status, "state")
}

/// Whether the connector and exactly `tasks` tasks are in `state`.
fn all_in(r: &Reply, state: &str, tasks: usize) -> bool {
    let (c, t) = states(&r.body);
    r.status == 200 && c == state && t.len() == tasks && t.iter().all(|s| s == state)
}

/// Waits until `GET /connectors/<name>/status` satisfies `check`.
async fn wait_status(rest: &Rest, name: &str, what: &str, check: impl Fn(&Reply) -> bool) -> Value {
    rest.wait_for(&format!("/connectors/{name}/status"), what, check)
        .await
        .body
}

/// The topic's record count (sum of high watermarks).
fn topic_size(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0);
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum()
}

/// Every datagen (task, sequence number) in `topic`, in the order a
/// consumer with `isolation.level=isolation` reads them from the
/// beginning: until `want` have arrived (or 120 s passed), then until two
/// seconds pass without another.
fn datagen_records(bootstrap: &str, topic: &str, isolation: &str, want: usize) -> Vec<(u32, u64)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{isolation}"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut out = Vec::new();
    let mut quiet = 0;
    while quiet < 4 && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(msg)) => {
                quiet = 0;
                let value = rdkafka::Message::payload(&msg).unwrap_or_default();
                out.push(datagen_core::check_value(value).unwrap());
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None if out.len() >= want => quiet += 1,
            None => {}
        }
    }
    out
}

/// How many lines of a datagen sink file repeat an earlier one.
fn duplicates_in(file: &Path) -> usize {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines.len() - lines.iter().collect::<BTreeSet<_>>().len()
}

fn datagen(topic: &str, tasks: u32, rate: u32, iterations: u32) -> Value {
    json!({
        "connector.class": "Datagen",
        "topic": topic,
        "tasks.max": tasks.to_string(),
        "rate": rate.to_string(),
        "iterations": iterations.to_string(),
        "record.bytes": "40",
        "batch.size": "50",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_created_through_one_worker_is_seen_alike_by_all_and_its_tasks_spread() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let members = start_cluster(&broker, root.path(), 3, &plugin_dir(), "").await;
    let (a, b, c) = (&members[0], &members[1], &members[2]);

    let r = a.rest.create("gen", &datagen("gen", 3, 20, 0)).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.location.as_deref(), Some("/connectors/gen"));
    assert_eq!(r.body["tasks"], json!([]));
    let ids: BTreeSet<String> = members.iter().map(Member::id).collect();
    // Once the group has settled, each worker runs one of the three tasks.
    let status = wait_status(
        &a.rest,
        "gen",
        "three RUNNING tasks on three workers",
        |r| {
            let (_, tasks) = owners(&r.body);
            all_in(r, "RUNNING", 3) && tasks.iter().collect::<BTreeSet<_>>().len() == 3
        },
    )
    .await;
    let (connector, tasks) = owners(&status);
    assert!(ids.contains(&connector), "{status}");
    assert_eq!(tasks.iter().cloned().collect::<BTreeSet<_>>(), ids);
    for other in [b, c] {
        other
            .rest
            .wait_for("/connectors/gen/status", "the same status", |r| {
                r.body == status
            })
            .await;
        let listed = other.rest.call("GET", "/connectors", None).await;
        assert_eq!(listed.body, json!(["gen"]));
        let here = other.rest.call("GET", "/connectors/gen/tasks", None).await;
        let there = a.rest.call("GET", "/connectors/gen/tasks", None).await;
        assert_eq!((here.status, &here.body), (200, &there.body));
        assert_eq!(here.body.as_array().map(Vec::len), Some(3));
    }

    // Writes through any worker reach the leader.
    let r = b.rest.create("gen", &datagen("gen", 3, 20, 0)).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            409,
            json!({"error_code": 409, "message": "Connector gen already exists"})
        )
    );
    let r = c
        .rest
        .call(
            "PUT",
            "/connectors/gen/config",
            Some(datagen("gen", 2, 20, 0)),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    for m in &members {
        m.rest
            .wait_for("/connectors/gen/tasks", "two task configurations", |r| {
                r.body.as_array().map(Vec::len) == Some(2)
            })
            .await;
    }
    wait_status(&b.rest, "gen", "two RUNNING tasks", |r| {
        all_in(r, "RUNNING", 2)
    })
    .await;
    let r = a.rest.call("GET", "/connectors/gen/config", None).await;
    assert_eq!(r.body["tasks.max"], "2");
    let r = b
        .rest
        .call("POST", "/connectors/gen/restart?includeTasks=true", None)
        .await;
    assert_eq!(r.status, 202, "{r:?}");
    let (connector, tasks) = states(&r.body);
    assert_eq!(
        (connector.as_str(), tasks.len()),
        ("RESTARTING", 2),
        "{r:?}"
    );
    wait_status(&c.rest, "gen", "RUNNING after the restart", |r| {
        all_in(r, "RUNNING", 2)
    })
    .await;
    // A task restart goes to the worker that runs the task.
    let r = c
        .rest
        .call("POST", "/connectors/gen/tasks/1/restart", None)
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    let r = a.rest.call("DELETE", "/connectors/gen", None).await;
    assert_eq!(r.status, 204, "{r:?}");
    for m in &members {
        m.rest
            .wait_for("/connectors", "the connector gone", |r| r.body == json!([]))
            .await;
        let r = m.rest.call("GET", "/connectors/gen/status", None).await;
        assert_eq!(
            (r.status, r.body),
            (
                404,
                json!({"error_code": 404, "message": "No status found for connector gen"})
            )
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_tasks_run_elsewhere_and_no_sequence_number_is_lost() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let mut members = start_cluster(&broker, root.path(), 3, &plugin_dir(), "").await;
    let (per_task, tasks) = (4_000u64, 3usize);
    let per_task_count = per_task;
    let out = root.path().join("verified.txt");
    let r = members[0]
        .rest
        .create("seq", &datagen("seq", tasks as u32, 200, per_task as u32))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let sink = json!({"connector.class": "FileStreamSink", "topics": "seq", "file": out.to_str().unwrap(), "tasks.max": "1"});
    let r = members[1].rest.create("verify", &sink).await;
    assert_eq!(r.status, 201, "{r:?}");
    let status = wait_status(&members[2].rest, "seq", "tasks on three workers", |r| {
        let (_, owners) = owners(&r.body);
        all_in(r, "RUNNING", tasks) && owners.iter().collect::<BTreeSet<_>>().len() == 3
    })
    .await;
    wait_status(&members[2].rest, "verify", "the sink RUNNING", |r| {
        all_in(r, "RUNNING", 1)
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while wasmconnect_tests::line_count(&out) < 1_000 {
        assert!(Instant::now() < deadline, "the sink writes nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Kill -9 the worker running task 0: no flush, no goodbye.
    let victim_id = owners(&status).1[0].clone();
    let victim = members.iter().position(|m| m.id() == victim_id).unwrap();
    let before_kill = duplicates_in(&out);

    members[victim].process.kill9();
    let killed = Instant::now();
    let survivor = &members[(victim + 1) % 3];
    let moved = |r: &Reply| {
        let (connector, tasks) = owners(&r.body);
        r.status == 200
            && connector != victim_id
            && !tasks.contains(&victim_id)
            && states(&r.body).1.iter().all(|s| s == "RUNNING")
    };
    wait_status(
        &survivor.rest,
        "seq",
        "the killed worker's tasks elsewhere",
        |r| all_in(r, "RUNNING", tasks) && moved(r),
    )
    .await;
    wait_status(&survivor.rest, "verify", "the sink elsewhere", |r| {
        all_in(r, "RUNNING", 1) && moved(r)
    })
    .await;
    let took = killed.elapsed();
    println!(
        "the killed worker's work ran elsewhere after {:.1} s (session {} s + delay {} s)",
        took.as_secs_f64(),
        SESSION.as_secs(),
        MAX_DELAY.as_secs()
    );
    assert!(
        took < SESSION + MAX_DELAY + Duration::from_secs(10),
        "took {took:?}"
    );

    // Every sequence number of every task arrives; duplicates are counted.
    let expected = per_task * tasks as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    let (seen, lines) = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let seen: BTreeSet<(u32, u64)> = lines
            .iter()
            .map(|l| datagen_core::check_value(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if seen.len() as u64 == expected {
            break (seen, lines.len());
        }
        if Instant::now() >= deadline {
            let missing: Vec<(u32, u64)> = (0..tasks as u32)
                .flat_map(|t| (0..per_task).map(move |s| (t, s)))
                .filter(|k| !seen.contains(k))
                .take(20)
                .collect();
            // Where were they lost? In the topic: the sink side lost them;
            // not in it: the source side or the broker did.
            let in_topic: BTreeSet<(u32, u64)> = datagen_records(
                broker.bootstrap(),
                "seq",
                "read_uncommitted",
                expected as usize,
            )
            .into_iter()
            .collect();
            let sink_side: Vec<&(u32, u64)> =
                missing.iter().filter(|k| in_topic.contains(*k)).collect();
            let source_side: Vec<&(u32, u64)> =
                missing.iter().filter(|k| !in_topic.contains(*k)).collect();
            panic!(
                "{} of {expected} sequence numbers after 120 s; missing {missing:?}, of which \
                 {sink_side:?} are in the topic (lost by the sink side) and {source_side:?} are \
                 not (lost by the source side or the broker); the killed worker ran task 0 \
                 (killed {:?} into the stream)\nlogs:\n{}",
                seen.len(),
                killed.elapsed(),
                members
                    .iter()
                    .map(|m| m.process.log())
                    .collect::<Vec<_>>()
                    .join("\n=====\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for t in 0..tasks as u32 {
        assert!(
            (0..per_task).all(|s| seen.contains(&(t, s))),
            "task {t} has gaps"
        );
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let mut per_task = BTreeMap::<u32, u64>::new();
    for line in text.lines() {
        if let Ok((t, _)) = datagen_core::check_value(line.as_bytes()) {
            *per_task.entry(t).or_default() += 1;
        }
    }
    let duplicates: Vec<String> = per_task
        .iter()
        .map(|(t, n)| format!("task {t}: {}", n - per_task_count))
        .collect();
    println!(
        "{expected} sequence numbers, all present; {} duplicates ({}; the killed worker ran task 0), {before_kill} of them before the kill; {} records in the topic",
        lines as u64 - expected,
        duplicates.join(", "),
        topic_size(broker.bootstrap(), "seq")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_survives_a_restart_of_the_whole_cluster_and_any_worker_resumes() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let mut members = start_cluster(&broker, root.path(), 3, &plugin_dir(), "").await;
    let r = members[0]
        .rest
        .create("gen", &datagen("paced", 2, 50, 0))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    wait_status(&members[0].rest, "gen", "RUNNING", |r| {
        all_in(r, "RUNNING", 2)
    })
    .await;

    let r = members[1]
        .rest
        .call("PUT", "/connectors/gen/pause", None)
        .await;
    assert_eq!((r.status, r.body.clone()), (202, Value::Null));
    for m in &members {
        wait_status(&m.rest, "gen", "PAUSED", |r| all_in(r, "PAUSED", 2)).await;
    }
    for m in members.iter_mut() {
        assert_eq!(m.process.terminate(Duration::from_secs(30)), Some(0));
    }
    for m in members.iter_mut() {
        m.restart().await;
    }
    // Back paused: every worker says so once the new group has settled,
    // and nothing is produced.
    for m in &members {
        wait_status(&m.rest, "gen", "PAUSED after the restart", |r| {
            all_in(r, "PAUSED", 2)
        })
        .await;
    }
    let before = topic_size(broker.bootstrap(), "paced");
    let still = Instant::now() + Duration::from_secs(2);
    while Instant::now() < still {
        assert_eq!(
            topic_size(broker.bootstrap(), "paced"),
            before,
            "records while paused"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let r = members[2]
        .rest
        .call("PUT", "/connectors/gen/resume", None)
        .await;
    assert_eq!(r.status, 202, "{r:?}");
    wait_status(&members[0].rest, "gen", "RUNNING again", |r| {
        all_in(r, "RUNNING", 2)
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while topic_size(broker.bootstrap(), "paced") <= before {
        assert!(Instant::now() < deadline, "nothing produced after resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_uploaded_to_one_worker_runs_on_another() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("no-plugins");
    std::fs::create_dir(&empty).unwrap();
    let members = start_cluster(&broker, root.path(), 3, &empty, "").await;
    let (a, c) = (&members[0], &members[2]);

    let bytes = std::fs::read(plugin_path("datagen")).unwrap();
    let r = a
        .rest
        .send(
            a.rest
                .raw("POST", "/wasmconnect/plugins")
                .header("content-type", "application/wasm")
                .body(bytes),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    c.rest
        .wait_for("/connector-plugins", "the shared plugin on C", |r| {
            r.body.as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["class"] == "io.wasmconnect.datagen.DatagenConnector")
            })
        })
        .await;
    let r = members[1]
        .rest
        .create("gen", &datagen("shared", 3, 20, 0))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let status = wait_status(&c.rest, "gen", "a task RUNNING on C", |r| {
        all_in(r, "RUNNING", 3) && owners(&r.body).1.contains(&c.id())
    })
    .await;
    let on_c: BTreeMap<usize, &Value> = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, t)| t["worker_id"] == c.id())
        .collect();
    assert!(!on_c.is_empty(), "{status}");
    // C runs it from the bytes it read from Kafka, not from a shared disk.
    assert!(
        c.process
            .log()
            .contains("installed a plugin shared by the cluster")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_sources_write_each_record_once_across_hard_kills() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let mut members = start_cluster(
        &broker,
        root.path(),
        2,
        &plugin_dir(),
        "exactly.once.source.support=enabled\n",
    )
    .await;

    // Kafka's preflight checks, in its words: a connector that cannot
    // answer them (no connector can yet) is refused `required` and
    // connector-defined boundaries.
    let mut refused = datagen("eos", 1, 1, 1);
    refused["exactly.once.support"] = json!("required");
    refused["transaction.boundary"] = json!("connector");
    refused["name"] = json!("eos");
    let r = members[0]
        .rest
        .call(
            "PUT",
            "/connector-plugins/Datagen/config/validate",
            Some(refused),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["error_count"], 2, "{:?}", r.body);
    let errors = |key: &str| -> Vec<String> {
        r.body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["value"]["name"] == key)
            .map(|c| serde_json::from_value(c["value"]["errors"].clone()).unwrap())
            .unwrap_or_default()
    };
    assert!(
        errors("exactly.once.support")[0].starts_with(
            "The connector does not implement the API required for preflight validation of exactly-once source support."
        ),
        "{:?}",
        r.body
    );
    assert!(
        errors("transaction.boundary")[0].starts_with(
            "The connector does not support connector-defined transaction boundaries with the given configuration."
        ),
        "{:?}",
        r.body
    );

    // Two tasks, 4,000 records each at 100 a second: long enough for two
    // hard kills of the worker running task 0, each followed by its
    // restart.
    let (per_task, tasks) = (4_000u64, 2usize);
    let r = members[0]
        .rest
        .create("eos", &datagen("eos", tasks as u32, 100, per_task as u32))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    for kill in 1..=2 {
        let status = wait_status(&members[1].rest, "eos", "both tasks RUNNING", |r| {
            all_in(r, "RUNNING", tasks)
        })
        .await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while topic_size(broker.bootstrap(), "eos") < 1_000 * kill {
            assert!(Instant::now() < deadline, "the source writes nothing");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let victim_id = owners(&status).1[0].clone();
        let victim = members.iter().position(|m| m.id() == victim_id).unwrap();
        members[victim].process.kill9();
        let survivor = &members[(victim + 1) % 2];
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = survivor
                .rest
                .call("GET", "/connectors/eos/status", None)
                .await;
            if all_in(&r, "RUNNING", tasks) && !owners(&r.body).1.contains(&victim_id) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "kill {kill}: the tasks did not run elsewhere in 60 s: {:?}\nsurvivor's log:\n{}",
                r.body,
                survivor.process.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        members[victim].restart().await;
    }

    let expected = per_task as usize * tasks;
    let committed = datagen_records(broker.bootstrap(), "eos", "read_committed", expected);
    let distinct: BTreeSet<(u32, u64)> = committed.iter().copied().collect();
    let missing: Vec<(u32, u64)> = (0..tasks as u32)
        .flat_map(|t| (0..per_task).map(move |s| (t, s)))
        .filter(|k| !distinct.contains(k))
        .take(20)
        .collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?}; read {} records, {} distinct",
        committed.len(),
        distinct.len()
    );
    assert_eq!(
        committed.len(),
        expected,
        "{} duplicates seen by a read_committed consumer",
        committed.len() - distinct.len()
    );
    let all = datagen_records(broker.bootstrap(), "eos", "read_uncommitted", expected);
    println!(
        "exactly once: {expected} records, each once under read_committed across two hard \
         kills; the log holds {} (aborted transactions of the killed tasks included)",
        all.len()
    );

    // A zombie of task 1 (its transactional id in a producer, as a worker
    // cut off from the group would hold it) has a transaction open when the
    // connector shrinks to one task: the shrink fences it before the new
    // task configurations are written, and its transaction is aborted.
    let zombie: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("transactional.id", "connect-cluster-eos-1")
        .create()
        .unwrap();
    zombie.init_transactions(Duration::from_secs(30)).unwrap();
    zombie.begin_transaction().unwrap();
    zombie
        .send(BaseRecord::<(), _>::to("eos").payload("zombie"))
        .unwrap();
    zombie.flush(Duration::from_secs(30)).unwrap();
    let r = members[0]
        .rest
        .call(
            "PUT",
            "/connectors/eos/config",
            Some(datagen("eos", 1, 100, per_task as u32)),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    wait_status(&members[1].rest, "eos", "one task", |r| {
        all_in(r, "RUNNING", 1)
    })
    .await;
    let fenced = zombie
        .commit_transaction(Duration::from_secs(30))
        .expect_err("the zombie's transaction must not commit");
    assert!(
        matches!(
            fenced.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::Fenced
                    | RDKafkaErrorCode::ProducerFenced
                    | RDKafkaErrorCode::InvalidProducerEpoch
            )
        ),
        "{fenced}"
    );
}
