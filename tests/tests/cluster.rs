//! Distributed mode end to end: several `wasmconnect distributed` processes
//! on loopback ports against a real nisshi broker, coordinating through its
//! group coordinator and the three internal topics.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{Value, json};
use wasmconnect_tests::cluster_setup::{
    MAX_DELAY, Member, ONE_CLUSTER, SESSION, all_in, datagen, datagen_records, duplicates_in,
    owners, start_cluster, states, topic_size, wait_status,
};
use wasmconnect_tests::{Broker, Reply, plugin_dir, plugin_path};

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

/// `table.poll.interval.ms` in distributed mode: the worker running the
/// JDBC source's connector instance asks it for task configurations again,
/// publishes the changed set to the config topic, and the cluster runs the
/// new task, so a table created while the connector runs reaches Kafka.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_created_while_a_jdbc_source_runs_gets_a_task_in_the_cluster() {
    let _one = ONE_CLUSTER.lock().await;
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    let db = root.path().join("tables.db");
    wasmconnect_tests::databases::sqlite3(
        &db,
        "CREATE TABLE first (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO first VALUES (1, 'a');",
    );
    // JsonConverter for the source's Struct values; the SQLite file is
    // beneath the directory the workers may grant.
    let extra = format!(
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         sandbox.allowed.dirs={}\n",
        root.path().display()
    );
    let members = start_cluster(&broker, root.path(), 2, &plugin_dir(), &extra).await;
    let config = json!({
        "connector.class": "JdbcSourceConnector",
        "connection.url": format!("jdbc:sqlite:{}", db.display()),
        "mode": "incrementing",
        "topic.prefix": "dist-",
        "poll.interval.ms": "200",
        "table.poll.interval.ms": "1000",
        "tasks.max": "2",
    });
    let r = members[0].rest.create("tables", &config).await;
    assert_eq!(r.status, 201, "{r:?}");
    wait_status(&members[0].rest, "tables", "one RUNNING task", |r| {
        all_in(r, "RUNNING", 1)
    })
    .await;

    wasmconnect_tests::databases::sqlite3(
        &db,
        "CREATE TABLE second (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO second VALUES (1, 'x'), (2, 'y');",
    );
    for m in &members {
        wait_status(&m.rest, "tables", "two RUNNING tasks", |r| {
            all_in(r, "RUNNING", 2)
        })
        .await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while topic_size(broker.bootstrap(), "dist-second") < 2 {
        assert!(
            Instant::now() < deadline,
            "the new table's rows never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(topic_size(broker.bootstrap(), "dist-second"), 2);
    assert_eq!(topic_size(broker.bootstrap(), "dist-first"), 1);
}
