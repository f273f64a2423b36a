//! The REST API against a running standalone worker, real connectors and a
//! real broker: exact status codes and JSON bodies, error cases included.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, append, free_port, line_count, start_worker, wait_for_lines,
};

/// JSON converters, a file config provider and an advertised host name on
/// top of the harness's worker settings.
fn worker_props(bootstrap: &str, port: u16) -> String {
    wasmconnect_tests::worker_props(
        bootstrap,
        port,
        "config.providers=file\n\
         config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         rest.advertised.host.name=worker-a\n",
    )
}

struct Setup {
    _broker: Broker,
    dir: tempfile::TempDir,
    worker: WorkerProcess,
    rest: Rest,
    props: String,
    port: u16,
    /// Distributed mode: the other members, and every member's worker id.
    cluster: Option<(Vec<WorkerProcess>, Vec<String>)>,
}

impl Setup {
    /// `body` with every cluster member's worker id shown as the worker
    /// asked (`worker-a:<port>`), so one expectation serves both modes.
    fn same_worker(&self, mut body: Value) -> Value {
        if let Some((_, ids)) = &self.cluster {
            let asked = json!(format!("worker-a:{}", self.port));
            let fix = |v: &mut Value| {
                if let Some(id) = v.get_mut("worker_id")
                    && id.as_str().is_some_and(|id| ids.iter().any(|m| m == id))
                {
                    *id = asked.clone();
                }
            };
            fix(&mut body);
            if let Some(connector) = body.get_mut("connector") {
                fix(connector);
            }
            if let Some(tasks) = body.get_mut("tasks").and_then(Value::as_array_mut) {
                tasks.iter_mut().for_each(fix);
            }
        }
        body
    }
}

/// A two-worker distributed cluster with the same settings; requests go to
/// the second worker, so that writes are forwarded when it does not lead.
async fn setup_cluster() -> Setup {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("external.properties"),
        "topic.external=test\n",
    )
    .unwrap();
    let mut processes = Vec::new();
    let mut ids = Vec::new();
    let mut last = (String::new(), 0);
    for i in 0..2 {
        let member = dir.path().join(format!("member-{i}"));
        std::fs::create_dir(&member).unwrap();
        let port = free_port();
        let props = format!(
            "{}group.id=rest-cluster\nconfig.storage.topic=c-configs\noffset.storage.topic=c-offsets\n\
             status.storage.topic=c-status\nconfig.storage.replication.factor=1\n\
             offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n\
             offset.storage.partitions=3\nstatus.storage.partitions=3\nsession.timeout.ms=6000\n\
             heartbeat.interval.ms=1000\nrest.advertised.host.name=127.0.0.1\n\
             plugin.store.dir={}\n",
            worker_props(broker.bootstrap(), port),
            member.join("plugins").display()
        );
        let process = WorkerProcess::distributed(&member, &props);
        let rest = Rest::new(port);
        rest.wait_ready(&process).await;
        rest.wait_for("/health", "the worker in the group", |r| r.status == 200)
            .await;
        processes.push(process);
        ids.push(format!("127.0.0.1:{port}"));
        last = (props, port);
    }
    let worker = processes.pop().unwrap();
    Setup {
        _broker: broker,
        dir,
        worker,
        rest: Rest::new(last.1),
        props: last.0,
        port: last.1,
        cluster: Some((processes, ids)),
    }
}

async fn setup() -> Setup {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props(broker.bootstrap(), port);
    std::fs::write(
        dir.path().join("external.properties"),
        "topic.external=test\n",
    )
    .unwrap();
    let (worker, rest) = start_worker(dir.path(), &props, port).await;
    Setup {
        _broker: broker,
        dir,
        worker,
        rest,
        props,
        port,
        cluster: None,
    }
}

/// The topic as ducktape names it: through the file config provider.
fn external_topic(dir: &Path) -> String {
    format!(
        "${{file:{}:topic.external}}",
        dir.join("external.properties").display()
    )
}

fn source_config(dir: &Path, file: &str) -> Value {
    json!({
        "name": "local-file-source",
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": dir.join(file).to_str().unwrap(),
        "topic": external_topic(dir),
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.tolerance": "none",
    })
}

fn sink_config(dir: &Path) -> Value {
    json!({
        "name": "local-file-sink",
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "file": dir.join("out.txt").to_str().unwrap(),
        "topics": external_topic(dir),
        "key.converter.schemas.enable": "True",
        "value.converter.schemas.enable": "True",
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.tolerance": "none",
    })
}

fn names(r: &Value) -> BTreeSet<String> {
    r["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["definition"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The framework keys every connector's validation lists (spec §7.1).
const COMMON_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "connector.plugin.version",
    "tasks.max",
    "tasks.max.enforce",
    "key.converter",
    "key.converter.plugin.version",
    "value.converter",
    "value.converter.plugin.version",
    "header.converter",
    "header.converter.plugin.version",
    "transforms",
    "predicates",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
];

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

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

async fn lifecycle(s: &Setup) {
    let (rest, dir) = (&s.rest, s.dir.path());
    let clustered = s.cluster.is_some();

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_kafkas_codes_and_messages_and_nothing_crashes_the_worker() {
    let s = setup().await;
    let (rest, dir) = (&s.rest, s.dir.path());
    let err = |code: u16, message: &str| json!({"error_code": code, "message": message});

    let r = rest.call("GET", "/no/such/path", None).await;
    assert_eq!((r.status, r.body), (404, err(404, "HTTP 404 Not Found")));
    let r = rest.call("DELETE", "/connector-plugins", None).await;
    assert_eq!(
        (r.status, r.body),
        (405, err(405, "HTTP 405 Method Not Allowed"))
    );
    let r = rest
        .send(
            rest.raw("POST", "/connectors")
                .header("content-type", "text/plain")
                .body("name=x"),
        )
        .await;
    assert_eq!((r.status, r.body["error_code"].clone()), (415, json!(415)));
    let r = rest
        .send(
            rest.raw("POST", "/connectors")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!((r.status, r.body["error_code"].clone()), (500, json!(500)));
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "x", "config": {}, "bogus": 1})),
        )
        .await;
    assert_eq!(r.status, 500);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized field \"bogus\"")
    );

    let r = rest.call("GET", "/connectors/missing", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Connector missing not found"))
    );
    let r = rest.call("GET", "/connectors/missing/status", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "No status found for connector missing"))
    );
    let r = rest.call("PUT", "/connectors/missing/pause", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown connector missing"))
    );
    let r = rest.call("POST", "/connectors/missing/restart", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown connector: missing"))
    );
    let r = rest
        .call("GET", "/connectors/missing/tasks/zero/status", None)
        .await;
    assert_eq!(r.status, 404);
    let r = rest.call("GET", "/connectors/missing/offsets", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Connector missing not found"))
    );
    let r = rest
        .call("GET", "/connector-plugins/NoSuchPlugin/config", None)
        .await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown plugin NoSuchPlugin."))
    );
    let r = rest
        .call("GET", "/connector-plugins/FileStreamSource/config", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["name"], "file");
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(source_config(dir, "in.txt")),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            err(
                400,
                "Included connector type org.apache.kafka.connect.file.FileStreamSourceConnector does not match request type FileStreamSink"
            )
        )
    );

    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "m", "config": {"connector.class": "NoSuchConnector"}})),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "Kafka Connect answers an unknown class on create with 400"
    );
    assert!(r.body["message"].as_str().unwrap().starts_with(
        "Failed to find any class that implements Connector and which name matches NoSuchConnector"
    ));
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "m", "config": {"topic": "t"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("contains no connector type")
    );
    let r = rest
        .call("POST", "/connectors", Some(json!({"name": "nofile", "config": {"connector.class": "FileStreamSource", "topic": "t"}})))
        .await;
    assert_eq!(r.status, 400);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.starts_with("Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"file\""), "{msg}");
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "a", "config": {"name": "b"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            err(
                400,
                "Connector name configuration (b) doesn't match connector name in the URL (a)"
            )
        )
    );
    let r = rest.call("POST", "/connectors", Some(json!({"name": "  ", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/x"}}))).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("Invalid value  for configuration name: String may not be empty")
    );

    // Numbers and booleans in a config body are accepted as text; odd names
    // work, and Location encodes them as one path segment.
    let odd = "my sink/with?odd#chars ü";
    let cfg = json!({"connector.class": "FileStreamSink", "tasks.max": 2, "topics": "t", "file": dir.join("o.txt").to_str().unwrap(), "errors.log.enable": false});
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": odd, "config": cfg, "initial_state": "PAUSED"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["config"]["tasks.max"], "2");
    assert_eq!(r.body["config"]["errors.log.enable"], "false");
    let location = r.location.unwrap();
    assert_eq!(
        location,
        "/connectors/my%20sink%2Fwith%3Fodd%23chars%20%C3%BC"
    );
    let r = rest.call("GET", &format!("{location}/status"), None).await;
    assert_eq!(r.body["connector"]["state"], "PAUSED");
    assert_eq!(r.body["tasks"].as_array().unwrap().len(), 2);
    assert!(
        r.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "PAUSED")
    );
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "stopped", "config": cfg, "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!((r.status, r.body["tasks"].clone()), (201, json!([])));
    assert_eq!(
        rest.call("GET", "/connectors/stopped/status", None)
            .await
            .body["connector"]["state"],
        "STOPPED"
    );
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "z", "config": cfg, "initial_state": "SLEEPY"})),
        )
        .await;
    assert_eq!(r.status, 500);

    // Offsets may only change while the connector is stopped.
    let r = rest
        .call("DELETE", &format!("{location}/offsets"), None)
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Connectors must be in the STOPPED state")
    );

    // A volley of malformed requests; the worker answers throughout.
    let bodies = [
        "",
        "[]",
        "null",
        "{\"name\":1}",
        "{\"config\":[]}",
        "\u{0}\u{1}",
        "{\"name\":\"q\",\"config\":{\"a\":{\"b\":1}}}",
    ];
    for (i, b) in bodies.iter().enumerate() {
        for (m, p) in [
            ("POST", "/connectors"),
            ("PUT", "/connectors/q/config"),
            ("PATCH", "/connectors/q/config"),
            ("PATCH", "/connectors/q/offsets"),
            ("PUT", "/admin/loggers/x"),
            ("PUT", "/connector-plugins/FileStreamSink/config/validate"),
        ] {
            let r = rest
                .send(
                    rest.raw(m, p)
                        .header("content-type", "application/json")
                        .body(b.to_string()),
                )
                .await;
            assert!(
                r.status < 600 && r.body["error_code"].as_u64() == Some(r.status as u64)
                    || r.status < 300,
                "{m} {p} body #{i}: {r:?}"
            );
        }
    }
    let info = rest.call("GET", "/", None).await.body;
    assert_eq!(info["version"], "3.9.0");
    assert!(info["commit"].as_str().unwrap().starts_with("wasmconnect-"));
    assert!(
        info["kafka_cluster_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{info}"
    );
    assert_eq!(
        rest.call("GET", "/health", None).await.body,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_of_stopped_connectors_can_be_read_altered_and_reset() {
    let s = setup().await;
    let (rest, dir) = (&s.rest, s.dir.path());
    std::fs::write(dir.join("in.txt"), "a\nb\nc\n").unwrap();
    let src = source_config(dir, "in.txt");
    let snk = sink_config(dir);
    for cfg in [&src, &snk] {
        let r = rest.create(cfg["name"].as_str().unwrap(), cfg).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    wait_for_lines(&dir.join("out.txt"), 3, Duration::from_secs(60), &s.worker);
    let filename = dir.join("in.txt").to_str().unwrap().to_string();
    let r = rest
        .wait_for(
            "/connectors/local-file-source/offsets",
            "source offsets",
            |r| !r.body["offsets"].as_array().unwrap().is_empty(),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": 6}}]})
    );
    let r = rest
        .wait_for("/connectors/local-file-sink/offsets", "sink offsets", |r| {
            r.body["offsets"].as_array().is_some_and(|o| !o.is_empty())
        })
        .await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"kafka_topic": "test", "kafka_partition": 0}, "offset": {"kafka_offset": 3}}]})
    );

    let patch =
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": 2}}]});
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, 400, "must be stopped first");

    for name in ["local-file-source", "local-file-sink"] {
        assert_eq!(
            rest.call("PUT", &format!("/connectors/{name}/stop"), None)
                .await
                .status,
            204
        );
    }
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(json!({"offsets": []})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            400,
            json!("Partitions / offsets need to be provided for an alter offsets request")
        )
    );
    let bad =
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": -1}}]});
    let r = rest
        .call("PATCH", "/connectors/local-file-source/offsets", Some(bad))
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            500,
            json!("The value for the 'position' key in the offset should be a non-negative value")
        )
    );
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(patch),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            200,
            json!({"message": "The offsets for this connector have been altered successfully"})
        )
    );
    let r = rest
        .call("GET", "/connectors/local-file-source/offsets", None)
        .await;
    assert_eq!(r.body["offsets"][0]["offset"], json!({"position": 2}));

    let sink_patch = json!({"offsets": [{"partition": {"kafka_topic": "test", "kafka_partition": "0"}, "offset": {"kafka_offset": 1}}]});
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-sink/offsets",
            Some(sink_patch),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = rest
        .call("GET", "/connectors/local-file-sink/offsets", None)
        .await;
    assert_eq!(r.body["offsets"][0]["offset"], json!({"kafka_offset": 1}));
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-sink/offsets",
            Some(json!({"offsets": [{"partition": null, "offset": null}]})),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            400,
            json!({"error_code": 400, "message": "The partition for a sink connector offset cannot be null or missing"})
        )
    );

    // Resumed, the source re-reads from byte 2 ("b", "c") and the sink
    // re-delivers from offset 1 ("b", "c"), then the re-read lines.
    for name in ["local-file-source", "local-file-sink"] {
        assert_eq!(
            rest.call("PUT", &format!("/connectors/{name}/resume"), None)
                .await
                .status,
            202
        );
    }
    wait_for_lines(&dir.join("out.txt"), 7, Duration::from_secs(60), &s.worker);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "a\nb\nc\nb\nc\nb\nc\n"
    );

    // Reset: stop, delete offsets, the source's are gone.
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/stop", None)
            .await
            .status,
        204
    );
    let r = rest
        .call("DELETE", "/connectors/local-file-source/offsets", None)
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            200,
            json!({"message": "The offsets for this connector have been reset successfully"})
        )
    );
    assert_eq!(
        rest.call("GET", "/connectors/local-file-source/offsets", None)
            .await
            .body,
        json!({"offsets": []})
    );
    assert!(line_count(&dir.join("out.txt")) >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_levels_change_at_run_time() {
    let s = setup().await;
    let rest = &s.rest;
    let r = rest.call("GET", "/admin/loggers", None).await;
    assert_eq!(
        r.body,
        json!({"root": {"level": "INFO", "last_modified": null}})
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/wasmconnect::worker",
            Some(json!({"level": "debug"})),
        )
        .await;
    assert_eq!((r.status, r.body), (200, json!(["wasmconnect::worker"])));
    let r = rest
        .call("GET", "/admin/loggers/wasmconnect::worker", None)
        .await;
    assert_eq!(r.body["level"], "DEBUG");
    let first = r.body["last_modified"].as_i64().expect("last_modified set");
    // The same level again leaves last_modified alone.
    rest.call(
        "PUT",
        "/admin/loggers/wasmconnect::worker",
        Some(json!({"level": "DEBUG"})),
    )
    .await;
    assert_eq!(
        rest.call("GET", "/admin/loggers/wasmconnect::worker", None)
            .await
            .body["last_modified"],
        first
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/wasmconnect::worker",
            Some(json!({"level": "LOUD"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (404, json!("invalid log level 'LOUD'."))
    );
    let r = rest.call("PUT", "/admin/loggers/x", Some(json!({}))).await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            400,
            json!("Desired 'level' parameter was not specified in request.")
        )
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/root?scope=cluster",
            Some(json!({"level": "WARN"})),
        )
        .await;
    assert_eq!((r.status, r.body), (204, Value::Null));
    assert_eq!(
        rest.call("GET", "/admin/loggers/ROOT", None).await.body["level"],
        "WARN"
    );
    assert_eq!(
        rest.call("GET", "/admin/loggers/never.set", None)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_created_connectors_and_their_states_survive_a_restart() {
    let mut s = setup().await;
    let dir = s.dir.path().to_path_buf();
    let snk = sink_config(&dir);
    let failing = json!({"connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector", "mode": "fail-fatal"});
    for (name, cfg, state) in [
        ("paused-sink", &snk, "PAUSED"),
        ("failing", &failing, "RUNNING"),
        ("stopped", &snk, "STOPPED"),
    ] {
        let mut cfg = cfg.clone();
        cfg["name"] = json!(name);
        let r = s
            .rest
            .call(
                "POST",
                "/connectors",
                Some(json!({"name": name, "config": cfg, "initial_state": state})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let failed = s
        .rest
        .wait_for("/connectors/failing/status", "the task to fail", |r| {
            r.body["tasks"][0]["state"] == "FAILED"
        })
        .await;
    let trace = failed.body["tasks"][0]["trace"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        trace,
        "poll failed: the source system rejected our credentials"
    );

    assert_eq!(s.worker.terminate(Duration::from_secs(30)), Some(0));
    let worker = WorkerProcess::start(&dir, &s.props, &[]);
    let rest = Rest::new(s.port);
    rest.wait_ready(&worker).await;
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
        BTreeSet::from(["failing", "paused-sink", "stopped"])
    );
    let r = rest
        .call("GET", "/connectors/paused-sink/status", None)
        .await;
    assert_eq!(
        (
            r.body["connector"]["state"].clone(),
            r.body["tasks"][0]["state"].clone()
        ),
        (json!("PAUSED"), json!("PAUSED"))
    );
    assert_eq!(
        rest.call("GET", "/connectors/stopped/status", None)
            .await
            .body["connector"]["state"],
        "STOPPED"
    );
    let r = rest.call("GET", "/connectors/failing/status", None).await;
    assert_eq!(
        (
            r.body["tasks"][0]["state"].clone(),
            r.body["tasks"][0]["trace"].clone()
        ),
        (json!("FAILED"), json!(trace))
    );
    assert_eq!(
        rest.call("GET", "/connectors/paused-sink/config", None)
            .await
            .body["file"],
        snk["file"]
    );
}

#[test]
fn the_openapi_document_lists_exactly_the_served_routes() {
    let doc: Value = serde_json::from_str(wasmconnect::rest::OPENAPI).unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = wasmconnect::rest::routes::ENDPOINTS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
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
