//! Kafka's REST system test (`connect_rest_test`, spec §12.1) and the rest
//! of a connector's lifecycle, step by step, against a standalone worker
//! and a two-worker cluster, with real connectors and a real broker.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::rest_setup::{
    COMMON_KEYS, Setup, external_topic, names, set, setup, setup_cluster, sink_config,
    source_config,
};
use wasmconnect_tests::{Rest, append, wait_for_lines};

/// Kafka's `connect_rest_test` (spec §12.1), step by step, then the rest of
/// the connector lifecycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_rest_test_steps_and_the_connector_lifecycle() {
    lifecycle(&setup().await).await;
}

/// The same steps against a distributed cluster, asked through a worker
/// that forwards its writes when it does not lead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_rest_test_steps_and_the_connector_lifecycle_on_a_cluster() {
    lifecycle(&setup_cluster().await).await;
}

/// Kafka's REST system test steps and the whole connector lifecycle, step
/// by step; each step leaves the state the next one starts from.
async fn lifecycle(s: &Setup) {
    nothing_configured_and_the_plugins_listed(s).await;
    validation_answers_with_kafkas_config_names(s).await;
    created_connectors_move_data(s).await;
    info_tasks_and_status_read_back(s).await;
    pause_and_resume(s).await;
    a_config_update_moves_the_source(s).await;
    restarts_answer_with_their_plan(s).await;
    patch_and_put_change_configs_and_task_counts(s).await;
    stop_then_delete(s).await;
}

/// Steps 1-2: no connectors yet; plugins listed, with the trailing slash
/// the ducktape client uses.
async fn nothing_configured_and_the_plugins_listed(s: &Setup) {
    let rest = &s.rest;
    // 1. No connectors.
    let r = rest.call("GET", "/connectors", None).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([])));

    // 2. Plugins, with the trailing slash the ducktape client uses.
    let r = rest.call("GET", "/connector-plugins/", None).await;
    assert_eq!(r.status, 200);
    let classes: BTreeSet<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_str().unwrap())
        .collect();
    assert!(classes.contains("org.apache.kafka.connect.file.FileStreamSourceConnector"));
    assert!(classes.contains("org.apache.kafka.connect.file.FileStreamSinkConnector"));
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["type"] == "source" || p["type"] == "sink")
    );
    let all = rest
        .call("GET", "/connector-plugins?connectorsOnly=false", None)
        .await;
    assert!(all.body.as_array().unwrap().iter().any(|p| p["class"]
        == "org.apache.kafka.connect.json.JsonConverter"
        && p["type"] == "converter"));
}

/// Steps 3-4: validation returns exactly Kafka's sets of config names.
async fn validation_answers_with_kafkas_config_names(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    // 3-4. Validation returns exactly Kafka's sets of config names.
    let src = source_config(dir, "in.txt");
    let r = rest
        .call("PUT", "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate", Some(src.clone()))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["name"],
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    );
    assert_eq!(r.body["error_count"], 0, "{:#}", r.body);
    assert_eq!(
        r.body["groups"],
        json!([
            "Common",
            "Transforms",
            "Predicates",
            "Error Handling",
            "Topic Creation",
            "Exactly Once Support",
            "offsets.topic"
        ])
    );
    assert_eq!(
        names(&r.body),
        set(&[
            COMMON_KEYS,
            &[
                "topic.creation.groups",
                "exactly.once.support",
                "transaction.boundary",
                "transaction.boundary.interval.ms",
                "offsets.storage.topic",
                "file",
                "topic",
                "batch.size",
            ],
        ]
        .concat())
    );
    let name_entry = &r.body["configs"][0];
    assert_eq!(
        name_entry["definition"],
        json!({"name":"name","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
               "documentation":"Globally unique name to use for this connector.","group":"Common","width":"MEDIUM",
               "display_name":"Connector name","dependents":[],"order_in_group":1})
    );
    assert_eq!(
        name_entry["value"],
        json!({"name":"name","value":"local-file-source","recommended_values":[],"errors":[],"visible":true})
    );
    let snk = sink_config(dir);
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(snk.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_count"].clone()),
        (200, json!(0)),
        "{:#}",
        r.body
    );
    assert_eq!(
        r.body["groups"],
        json!(["Common", "Transforms", "Predicates", "Error Handling"])
    );
    assert_eq!(
        names(&r.body),
        set(&[
            COMMON_KEYS,
            &[
                "topics",
                "topics.regex",
                "errors.deadletterqueue.topic.name",
                "errors.deadletterqueue.topic.replication.factor",
                "errors.deadletterqueue.context.headers.enable",
                "file",
            ],
        ]
        .concat())
    );
    // A config missing `topic` reports exactly that error.
    let mut no_topic = src.clone();
    no_topic.as_object_mut().unwrap().remove("topic");
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/FileStreamSourceConnector/config/validate",
            Some(no_topic),
        )
        .await;
    assert_eq!(r.body["error_count"], 1);
    let topic = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "topic")
        .unwrap();
    assert_eq!(
        topic["value"]["errors"],
        json!(["Missing required configuration \"topic\" which has no default value."])
    );
}

/// Steps 5-7: both created, data flows, a duplicate is a conflict.
async fn created_connectors_move_data(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    let src = source_config(dir, "in.txt");
    let snk = sink_config(dir);
    // 5. Create both.
    for cfg in [&src, &snk] {
        let name = cfg["name"].as_str().unwrap();
        let r = rest.create(name, cfg).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/connectors/{name}").as_str())
        );
    }
    let r = rest.call("GET", "/connectors", None).await;
    let listed: BTreeSet<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from(["local-file-source", "local-file-sink"])
    );

    // 6. Data flows.
    append(&dir.join("in.txt"), "foo\nbar\nbaz\n");
    wait_for_lines(&dir.join("out.txt"), 3, Duration::from_secs(60), &s.worker);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "foo\nbar\nbaz\n"
    );

    // 7. A duplicate is a conflict.
    let r = rest.create("local-file-source", &src).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            409,
            json!({"error_code": 409, "message": "Connector local-file-source already exists"})
        )
    );
}

/// Steps 8-9: info, config, task configs and status read back.
async fn info_tasks_and_status_read_back(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    let clustered = s.cluster.is_some();
    let src = source_config(dir, "in.txt");
    let snk = sink_config(dir);
    // 8. Info and config are the submitted map, verbatim.
    let r = rest
        .call("GET", "/connectors/local-file-source", None)
        .await;
    assert_eq!(
        r.body,
        json!({"name": "local-file-source", "config": src, "tasks": [{"connector": "local-file-source", "task": 0}], "type": "source"})
    );
    assert_eq!(
        rest.call("GET", "/connectors/local-file-sink/config", None)
            .await
            .body,
        snk
    );

    // 9. Task configs: the connector config plus task.class.
    let mut task_cfg = src.clone();
    task_cfg["task.class"] = json!("org.apache.kafka.connect.file.FileStreamSourceTask");
    let r = rest
        .call("GET", "/connectors/local-file-source/tasks", None)
        .await;
    assert_eq!(
        r.body,
        json!([{"id": {"connector": "local-file-source", "task": 0}, "config": task_cfg}])
    );
    let r = rest
        .call("GET", "/connectors/local-file-source/tasks-config", None)
        .await;
    assert_eq!(r.body, json!({"local-file-source-0": task_cfg}));

    // Status, with the advertised worker id.
    // Resource usage is an extra field, known where a task runs (so a
    // cluster leaves it out); the rest is Kafka's shape exactly.
    let mut r = rest
        .wait_for("/connectors/local-file-source/status", "RUNNING", |r| {
            r.body["tasks"][0]["state"] == "RUNNING"
                && (clustered || r.body["tasks"][0].get("resources").is_some())
        })
        .await;
    if !clustered {
        let usage = r.body["tasks"][0]
            .as_object_mut()
            .unwrap()
            .remove("resources")
            .unwrap();
        assert!(
            usage["calls"].as_u64().unwrap() > 0 && usage["faults"] == 0,
            "{usage}"
        );
    }
    assert_eq!(
        s.same_worker(r.body),
        json!({"name": "local-file-source", "connector": {"state": "RUNNING", "worker_id": format!("worker-a:{}", s.port), "version": "0.1.0"},
               "tasks": [{"id": 0, "state": "RUNNING", "worker_id": format!("worker-a:{}", s.port), "version": "0.1.0"}], "type": "source"})
    );
    let mut r = rest
        .call("GET", "/connectors/local-file-source/tasks/0/status", None)
        .await;
    let resources = r.body.as_object_mut().unwrap().remove("resources");
    assert_eq!(resources.is_some(), !clustered);
    assert_eq!(
        s.same_worker(r.body),
        json!({"id": 0, "state": "RUNNING", "worker_id": format!("worker-a:{}", s.port), "version": "0.1.0"})
    );
    let r = rest
        .call("GET", "/connectors?expand=status&expand=info", None)
        .await;
    assert_eq!(r.body["local-file-sink"]["info"]["type"], "sink");
    assert_eq!(
        r.body["local-file-source"]["status"]["connector"]["state"],
        "RUNNING"
    );

    // Topics used (a cluster's workers know only what their own tasks
    // used: skipped there).
    if !clustered {
        topics_used(rest).await;
    }
}

/// Paused, nothing flows; resumed, it catches up.
async fn pause_and_resume(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    // Pause and resume.
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/pause", None)
            .await
            .status,
        202
    );
    rest.wait_for("/connectors/local-file-source/status", "PAUSED", |r| {
        r.body["connector"]["state"] == "PAUSED" && r.body["tasks"][0]["state"] == "PAUSED"
    })
    .await;
    append(&dir.join("in.txt"), "while-paused\n");
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/resume", None)
            .await
            .status,
        202
    );
    wait_for_lines(&dir.join("out.txt"), 4, Duration::from_secs(60), &s.worker);
}

/// Steps 10-11: a config update moves the source to a new file, read from
/// its start.
async fn a_config_update_moves_the_source(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    let src = source_config(dir, "in.txt");
    // 10-11. A config update moves the source to a new file, read from its start.
    let mut src2 = src.clone();
    src2["file"] = json!(dir.join("in2.txt").to_str().unwrap());
    let r = rest
        .call(
            "PUT",
            "/connectors/local-file-source/config",
            Some(src2.clone()),
        )
        .await;
    assert_eq!((r.status, r.body["config"].clone()), (200, src2.clone()));
    append(&dir.join("in2.txt"), "razz\nma\ntazz\n");
    wait_for_lines(&dir.join("out.txt"), 7, Duration::from_secs(60), &s.worker);
    assert!(
        std::fs::read_to_string(dir.join("out.txt"))
            .unwrap()
            .ends_with("razz\nma\ntazz\n")
    );
}

/// Restarts: 204 without parameters, 202 with the plan otherwise.
async fn restarts_answer_with_their_plan(s: &Setup) {
    let rest = &s.rest;
    // Restarts: 204 without parameters, 202 with the plan otherwise.
    let r = rest
        .call("POST", "/connectors/local-file-source/restart", None)
        .await;
    assert_eq!((r.status, r.body.clone()), (204, Value::Null));
    let r = rest
        .call(
            "POST",
            "/connectors/local-file-source/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["connector"]["state"], "RESTARTING");
    assert_eq!(r.body["tasks"][0]["state"], "RESTARTING");
    // The reply to the next restart shows the states at that moment, so the
    // restart above must have finished first.
    rest.wait_for(
        "/connectors/local-file-source/status",
        "RUNNING after the full restart",
        |r| r.body["connector"]["state"] == "RUNNING" && r.body["tasks"][0]["state"] == "RUNNING",
    )
    .await;
    let r = rest
        .call(
            "POST",
            "/connectors/local-file-source/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["connector"]["state"].clone()),
        (202, json!("RUNNING")),
        "nothing failed, nothing restarts"
    );
    assert_eq!(
        rest.call(
            "POST",
            "/connectors/local-file-source/tasks/0/restart",
            None
        )
        .await
        .status,
        204
    );
    rest.wait_for(
        "/connectors/local-file-source/status",
        "RUNNING after restart",
        |r| r.body["tasks"][0]["state"] == "RUNNING",
    )
    .await;
}

/// PATCH changes one key; PUT changes a task count or creates.
async fn patch_and_put_change_configs_and_task_counts(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    let clustered = s.cluster.is_some();
    let snk = sink_config(dir);
    // PATCH changes one key and keeps the rest.
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/config",
            Some(json!({"batch.size": 100, "errors.log.enable": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["config"]["batch.size"], "100");
    assert!(r.body["config"].get("errors.log.enable").is_none());

    // A task count change through PUT; PUT of a new name creates (201).
    let mut snk2 = snk.clone();
    snk2["tasks.max"] = json!("2");
    let r = rest
        .call("PUT", "/connectors/local-file-sink/config", Some(snk2))
        .await;
    assert_eq!(r.status, 200);
    let two = json!([{"connector": "local-file-sink", "task": 0}, {"connector": "local-file-sink", "task": 1}]);
    if clustered {
        // The connector's owner generates the new task configurations after
        // the reply, as in Kafka's distributed mode.
        rest.wait_for("/connectors/local-file-sink", "two tasks", |r| {
            r.body["tasks"] == two
        })
        .await;
    } else {
        assert_eq!(r.body["tasks"], two);
    }
    let tasks = rest
        .call("GET", "/connectors/local-file-sink/tasks", None)
        .await
        .body;
    assert_eq!(
        tasks[1]["config"]["topics"],
        json!(external_topic(dir)),
        "placeholders stay raw in task configs"
    );
    let r = rest
        .call("GET", "/connectors/local-file-sink/tasks/7/status", None)
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (404, json!("No status found for task local-file-sink-7"))
    );
    let mut other = snk.clone();
    other["name"] = json!("second-sink");
    let r = rest
        .call("PUT", "/connectors/second-sink/config", Some(other))
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (201, Some("/connectors/second-sink"))
    );
    assert_eq!(
        rest.call("DELETE", "/connectors/second-sink", None)
            .await
            .status,
        204
    );
}

/// Stopped: no tasks; step 12: both deleted.
async fn stop_then_delete(s: &Setup) {
    let rest = &s.rest;
    // Stop: STOPPED with no tasks.
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/stop", None)
            .await
            .status,
        204
    );
    // At once standalone; a cluster's owner stops it after the write.
    rest.wait_for("/connectors/local-file-source/status", "STOPPED", |r| {
        (&r.body["connector"]["state"], &r.body["tasks"]) == (&json!("STOPPED"), &json!([]))
    })
    .await;
    rest.wait_for("/connectors/local-file-source/tasks", "no tasks", |r| {
        r.body == json!([])
    })
    .await;
    assert_eq!(
        rest.call("GET", "/connectors/local-file-source", None)
            .await
            .body["tasks"],
        json!([])
    );

    // 12. Delete both.
    for name in ["local-file-source", "local-file-sink"] {
        assert_eq!(
            rest.call("DELETE", &format!("/connectors/{name}"), None)
                .await
                .status,
            204
        );
    }
    assert_eq!(rest.call("GET", "/connectors", None).await.body, json!([]));
    assert_eq!(
        rest.call("GET", "/connectors/local-file-sink", None)
            .await
            .status,
        404
    );
}

/// `GET /connectors/{name}/topics` and its reset.
async fn topics_used(rest: &Rest) {
    let r = rest
        .call("GET", "/connectors/local-file-source/topics", None)
        .await;
    assert_eq!(r.body, json!({"local-file-source": {"topics": ["test"]}}));
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/topics/reset", None)
            .await
            .status,
        202
    );
    assert_eq!(
        rest.call("GET", "/connectors/local-file-source/topics", None)
            .await
            .body,
        json!({"local-file-source": {"topics": []}})
    );
}
