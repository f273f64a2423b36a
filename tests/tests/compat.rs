//! The compatibility suite: one list of REST scenarios replayed against
//! Apache Kafka Connect itself and against wasmconnect, in standalone and
//! in distributed mode, each side on its own Apache Kafka broker, comparing
//! status codes and JSON bodies (see `wasmconnect_tests::compat` for the
//! normalisation). Every remaining difference is listed, with its reason, in
//! `docs/compatibility.md`; an unlisted one fails the test.
//!
//! Also: Kafka's own sample property files, run unchanged but for paths by
//! both, move the same data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::compat::{self, Side, Step};
use wasmconnect_tests::{
    Broker, Reply, Rest, WorkerProcess, append, free_port, plugin_path, repo_root, sandbox_dirs,
    topic_values, wait_for_lines,
};

const SOURCE: &str = "local-file-source";
const SINK: &str = "local-file-sink";
const TOPIC: &str = "compat-lines";

/// One side of the comparison: its broker, worker processes and files.
struct Running {
    side: Side,
    _workers: Vec<WorkerProcess>,
    _broker: Broker,
    _dir: tempfile::TempDir,
}

/// The worker settings both sides share: JSON converters with schemas (as
/// Kafka's sample file), fast offset flushes, REST on `port`.
fn common_props(bootstrap: &str, port: u16) -> String {
    format!(
        "bootstrap.servers={bootstrap}\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         offset.flush.interval.ms=200\n\
         listeners=http://127.0.0.1:{port}\n\
         rest.advertised.host.name=127.0.0.1\n\
         consumer.session.timeout.ms=6000\n"
    )
}

/// Kafka Connect finds its connectors on the classpath (service loader
/// manifests); ours in a plugin directory holding just the two FileStream
/// components, so both list the same connectors.
fn side_props(kafka: bool, dir: &Path) -> String {
    if kafka {
        "plugin.discovery=service_load\n".to_string()
    } else {
        let plugins = dir.join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        for name in ["file-source", "file-sink"] {
            std::fs::copy(plugin_path(name), plugins.join(format!("{name}.wasm"))).unwrap();
        }
        format!("plugin.path={}\n{}", plugins.display(), sandbox_dirs())
    }
}

/// Starts one side: a broker, then one standalone worker or a cluster of
/// three, and waits for every REST API.
async fn start_side(kafka: bool, workers: usize) -> Running {
    let broker = tokio::task::spawn_blocking(Broker::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut processes = Vec::new();
    let mut rests = Vec::new();
    for i in 0..workers {
        let member = if workers == 1 {
            dir.path().to_path_buf()
        } else {
            dir.path().join(format!("worker-{i}"))
        };
        std::fs::create_dir_all(&member).unwrap();
        let port = free_port();
        let mut props = common_props(broker.bootstrap(), port) + &side_props(kafka, &member);
        if workers == 1 {
            props += &format!(
                "offset.storage.file.filename={}\n",
                member.join("connect.offsets").display()
            );
        } else {
            props += "group.id=compat-cluster\n\
                      config.storage.topic=connect-configs\nconfig.storage.replication.factor=1\n\
                      offset.storage.topic=connect-offsets\noffset.storage.replication.factor=1\n\
                      status.storage.topic=connect-status\nstatus.storage.replication.factor=1\n\
                      scheduled.rebalance.max.delay.ms=10000\n";
        }
        let process = match (kafka, workers) {
            (true, n) => WorkerProcess::kafka_connect(&member, n > 1, &props, &[]),
            (false, 1) => WorkerProcess::start(&member, &props, &[]),
            (false, _) => WorkerProcess::distributed(&member, &props),
        };
        processes.push(process);
        rests.push(Rest::new(port));
    }
    for (rest, process) in rests.iter().zip(&processes) {
        rest.wait_ready(process).await;
    }
    // Requests go to the second worker of a cluster, so that writes are
    // forwarded when it does not lead.
    let rest = rests[workers.min(2) - 1].clone();
    Running {
        side: Side {
            name: if kafka {
                "kafka-connect"
            } else {
                "wasmconnect"
            },
            rest,
            dir: dir.path().to_path_buf(),
        },
        _workers: processes,
        _broker: broker,
        _dir: dir,
    }
}

fn source_config() -> Value {
    json!({"connector.class": "FileStreamSource", "tasks.max": "1",
           "file": "{dir}/in.txt", "topic": TOPIC})
}

fn sink_config() -> Value {
    json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
           "tasks.max": "1", "file": "{dir}/out.txt", "topics": TOPIC})
}

fn with(mut config: Value, pairs: &[(&str, Value)]) -> Value {
    for (k, v) in pairs {
        if v.is_null() {
            config.as_object_mut().unwrap().remove(*k);
        } else {
            config[*k] = v.clone();
        }
    }
    config
}

fn state(r: &Reply) -> (&str, Vec<&str>) {
    let tasks = r.body["tasks"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["state"].as_str()).collect())
        .unwrap_or_default();
    (r.body["connector"]["state"].as_str().unwrap_or(""), tasks)
}

/// The connector and its `tasks` tasks are all in `want`.
fn all_in(want: &'static str, tasks: usize) -> impl Fn(&Reply) -> bool + Send + Sync {
    move |r| {
        let (c, t) = state(r);
        r.status == 200 && c == want && t.len() == tasks && t.iter().all(|s| *s == want)
    }
}

fn lines(dir: &Path, text: &str) {
    append(&dir.join("in.txt"), text);
}

/// The scenario, endpoint by endpoint, error paths included.
fn scenario() -> Vec<Step> {
    let src = source_config();
    let s = |p: &str| format!("/connectors/{SOURCE}{p}");
    let k = |p: &str| format!("/connectors/{SINK}{p}");
    vec![
        Step::Act {
            what: "three input lines",
            run: |d| lines(d, "one\ntwo\nthree\n"),
        },
        Step::call("root", "GET", "/"),
        Step::call("list-empty", "GET", "/connectors"),
        Step::call("plugins", "GET", "/connector-plugins"),
        Step::call(
            "plugins-connectors-only",
            "GET",
            "/connector-plugins?connectorsOnly=true",
        ),
        Step::call(
            "plugin-config-alias",
            "GET",
            "/connector-plugins/FileStreamSource/config",
        ),
        Step::call(
            "plugin-config-class",
            "GET",
            "/connector-plugins/org.apache.kafka.connect.file.FileStreamSinkConnector/config",
        ),
        Step::call(
            "plugin-config-unknown",
            "GET",
            "/connector-plugins/NoSuchConnector/config",
        ),
        Step::json(
            "validate-good",
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            with(src.clone(), &[("name", json!(SOURCE))]),
        ),
        Step::json(
            "validate-missing-topic",
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            with(
                src.clone(),
                &[("name", json!(SOURCE)), ("topic", Value::Null)],
            ),
        ),
        Step::json(
            "validate-bad-tasks-max",
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            with(
                src.clone(),
                &[("name", json!(SOURCE)), ("tasks.max", json!("zero"))],
            ),
        ),
        Step::json(
            "validate-class-mismatch",
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            with(src.clone(), &[("name", json!(SOURCE))]),
        ),
        Step::json(
            "validate-sink-errors",
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            with(
                sink_config(),
                &[
                    ("name", json!(SINK)),
                    ("errors.tolerance", json!("some")),
                    ("errors.log.enable", json!("yes")),
                    ("errors.deadletterqueue.topic.name", json!(TOPIC)),
                    (
                        "errors.deadletterqueue.topic.replication.factor",
                        json!("0"),
                    ),
                ],
            ),
        ),
        Step::json(
            "validate-unknown-plugin",
            "PUT",
            "/connector-plugins/NoSuchConnector/config/validate",
            with(
                src.clone(),
                &[("connector.class", json!("NoSuchConnector"))],
            ),
        ),
        Step::raw(
            "create-bad-json",
            "POST",
            "/connectors",
            "application/json",
            "{\"name\": ",
        ),
        Step::raw(
            "create-wrong-content-type",
            "POST",
            "/connectors",
            "text/plain",
            "name=x",
        ),
        Step::json(
            "create-no-name",
            "POST",
            "/connectors",
            json!({"config": src}),
        ),
        Step::json(
            "create-unknown-field",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": src, "tasks": []}),
        ),
        Step::json(
            "create-name-mismatch",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": with(src.clone(), &[("name", json!("other"))])}),
        ),
        Step::json(
            "create-unknown-class",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": with(src.clone(), &[("connector.class", json!("NoSuchConnector"))])}),
        ),
        Step::json(
            "create-invalid-config",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": with(src.clone(), &[("topic", Value::Null)])}),
        ),
        Step::json(
            "create-source",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": src}),
        ),
        Step::json(
            "create-duplicate",
            "POST",
            "/connectors",
            json!({"name": SOURCE, "config": src}),
        ),
        Step::json("create-sink-by-put", "PUT", k("/config"), sink_config()),
        Step::wait("source-running", s("/status"), all_in("RUNNING", 1)),
        Step::wait("sink-running", k("/status"), all_in("RUNNING", 1)),
        Step::call("list", "GET", "/connectors"),
        Step::call("list-expand-status", "GET", "/connectors?expand=status"),
        Step::call("list-expand-info", "GET", "/connectors?expand=info"),
        Step::call(
            "list-expand-both",
            "GET",
            "/connectors?expand=status&expand=info",
        ),
        Step::call("get-connector", "GET", s("")),
        Step::call("get-config", "GET", s("/config")),
        Step::call("get-status", "GET", s("/status")),
        Step::call("get-tasks", "GET", s("/tasks")),
        Step::call("get-task-status", "GET", s("/tasks/0/status")),
        Step::call("get-task-status-unknown", "GET", s("/tasks/7/status")),
        Step::call("get-unknown-connector", "GET", "/connectors/nope"),
        Step::call("status-unknown-connector", "GET", "/connectors/nope/status"),
        Step::wait("source-topics-known", s("/topics"), |r| {
            r.body[SOURCE]["topics"] == json!([TOPIC])
        }),
        Step::call("get-topics", "GET", s("/topics")),
        Step::wait("source-offsets-flushed", s("/offsets"), |r| {
            r.body["offsets"][0]["offset"]["position"] == json!(14)
        }),
        Step::call("offsets-running", "GET", s("/offsets")),
        Step::json(
            "offsets-patch-running",
            "PATCH",
            s("/offsets"),
            json!({"offsets": [{"partition": {"filename": "{dir}/in.txt"}, "offset": {"position": 4}}]}),
        ),
        Step::call("offsets-delete-running", "DELETE", s("/offsets")),
        Step::json(
            "put-config-update",
            "PUT",
            s("/config"),
            with(src.clone(), &[("batch.size", json!("100"))]),
        ),
        Step::json(
            "patch-config",
            "PATCH",
            s("/config"),
            json!({"batch.size": "50", "tasks.max": null}),
        ),
        Step::call("config-after-patch", "GET", s("/config")),
        Step::wait("source-running-again", s("/status"), all_in("RUNNING", 1)),
        Step::call("pause", "PUT", s("/pause")),
        Step::wait("source-paused", s("/status"), all_in("PAUSED", 1)),
        Step::call("status-paused", "GET", s("/status")),
        Step::call("pause-again", "PUT", s("/pause")),
        Step::call("resume", "PUT", s("/resume")),
        Step::wait("source-resumed", s("/status"), all_in("RUNNING", 1)),
        Step::call("restart", "POST", s("/restart")),
        Step::wait("source-restarted", s("/status"), all_in("RUNNING", 1)),
        Step::call(
            "restart-include-tasks",
            "POST",
            s("/restart?includeTasks=true&onlyFailed=false"),
        ),
        Step::wait(
            "source-restarted-with-tasks",
            s("/status"),
            all_in("RUNNING", 1),
        ),
        Step::call(
            "restart-only-failed",
            "POST",
            s("/restart?includeTasks=true&onlyFailed=true"),
        ),
        Step::call("restart-unknown", "POST", "/connectors/nope/restart"),
        Step::call("task-restart", "POST", s("/tasks/0/restart")),
        Step::wait("task-restarted", s("/status"), all_in("RUNNING", 1)),
        Step::call("pause-unknown", "PUT", "/connectors/nope/pause"),
        Step::Act {
            what: "two more lines",
            run: |d| lines(d, "four\nfive\n"),
        },
        Step::wait("sink-consumed-five", k("/offsets"), |r| {
            r.body["offsets"][0]["offset"]["kafka_offset"] == json!(5)
        }),
        Step::call("get-sink-topics", "GET", k("/topics")),
        Step::call("stop", "PUT", s("/stop")),
        Step::wait("source-stopped", s("/status"), all_in("STOPPED", 0)),
        Step::call("status-stopped", "GET", s("/status")),
        Step::call("tasks-stopped", "GET", s("/tasks")),
        Step::call("offsets-stopped", "GET", s("/offsets")),
        Step::json("offsets-patch-empty", "PATCH", s("/offsets"), json!({})),
        Step::json(
            "offsets-patch-bad-partition",
            "PATCH",
            s("/offsets"),
            json!({"offsets": [{"partition": {"file": "x"}, "offset": {"position": 1}}]}),
        ),
        Step::json(
            "offsets-patch",
            "PATCH",
            s("/offsets"),
            json!({"offsets": [{"partition": {"filename": "{dir}/in.txt"}, "offset": {"position": 4}}]}),
        ),
        Step::call("offsets-after-patch", "GET", s("/offsets")),
        Step::call("offsets-delete", "DELETE", s("/offsets")),
        Step::call("offsets-after-delete", "GET", s("/offsets")),
        Step::call("topics-reset", "PUT", s("/topics/reset")),
        Step::call("topics-after-reset", "GET", s("/topics")),
        Step::call(
            "offsets-unknown-connector",
            "GET",
            "/connectors/nope/offsets",
        ),
        Step::call("sink-stop", "PUT", k("/stop")),
        Step::wait("sink-stopped", k("/status"), all_in("STOPPED", 0)),
        Step::wait("sink-offsets-committed", k("/offsets"), |r| {
            r.body["offsets"][0]["offset"]["kafka_offset"] == json!(5)
        }),
        Step::call("sink-offsets", "GET", k("/offsets")),
        Step::json(
            "sink-offsets-patch",
            "PATCH",
            k("/offsets"),
            json!({"offsets": [{"partition": {"kafka_topic": TOPIC, "kafka_partition": 0}, "offset": {"kafka_offset": 2}}]}),
        ),
        Step::call("sink-offsets-after-patch", "GET", k("/offsets")),
        Step::call("sink-offsets-delete", "DELETE", k("/offsets")),
        Step::call("sink-offsets-after-delete", "GET", k("/offsets")),
        Step::call("resume-stopped", "PUT", k("/resume")),
        Step::wait("sink-resumed", k("/status"), all_in("RUNNING", 1)),
        Step::call("logger-root", "GET", "/admin/loggers/root"),
        Step::json(
            "logger-set",
            "PUT",
            "/admin/loggers/org.apache.kafka.connect.runtime.WorkerSinkTask",
            json!({"level": "DEBUG"}),
        ),
        Step::call(
            "logger-get-set",
            "GET",
            "/admin/loggers/org.apache.kafka.connect.runtime.WorkerSinkTask",
        ),
        Step::json(
            "logger-bad-level",
            "PUT",
            "/admin/loggers/root",
            json!({"level": "LOUD"}),
        ),
        Step::json("logger-no-level", "PUT", "/admin/loggers/root", json!({})),
        Step::call("logger-unknown", "GET", "/admin/loggers/no.such.logger"),
        Step::call("unknown-path", "GET", "/no/such/path"),
        Step::call("wrong-method", "DELETE", "/connectors"),
        Step::call("wrong-method-on-connector", "POST", s("")),
        Step::call("task-restart-unknown", "POST", s("/tasks/9/restart")),
        Step::call("status-after-unknown-task-restart", "GET", s("/status")),
        Step::call("delete", "DELETE", s("")),
        Step::call("get-deleted", "GET", s("")),
        Step::call("delete-again", "DELETE", s("")),
        Step::call("list-after-delete", "GET", "/connectors"),
    ]
}

async fn compare(mode: &'static str, workers: usize) {
    let (kafka, ours) = tokio::join!(start_side(true, workers), start_side(false, workers));
    let report = compat::run(mode, &kafka.side, &ours.side, &scenario()).await;
    let doc = std::fs::read_to_string(repo_root().join("docs/compatibility.md"))
        .expect("docs/compatibility.md");
    report.check(&compat::allowed_differences(&doc));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_api_answers_as_kafka_connect_standalone() {
    compare("standalone", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_api_answers_as_a_kafka_connect_cluster() {
    compare("distributed", 3).await;
}

/// Kafka's `config/` sample files for Connect (4.x), kept in
/// `tests/data/kafka-config/`, with only paths, ports and the broker address
/// changed as a user would: the same lines reach the sink file through both
/// workers, as the same JSON records in Kafka.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_standalone_sample_files_move_the_same_data_through_both() {
    samples_through_both(false).await;
}

/// As above with `connect-distributed.properties`, the connectors created
/// over REST from the same connector files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_distributed_sample_file_moves_the_same_data_through_both() {
    samples_through_both(true).await;
}

async fn samples_through_both(distributed: bool) {
    let samples = repo_root().join("tests/data/kafka-config");
    let read = |name: &str| std::fs::read_to_string(samples.join(name)).unwrap();
    let text: String = (0..200).map(|i| format!("sample line {i} ✓\n")).collect();
    let mut outputs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut keep = Vec::new();
    for kafka in [true, false] {
        let broker = tokio::task::spawn_blocking(Broker::start).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        let worker_file = if distributed {
            "connect-distributed.properties"
        } else {
            "connect-standalone.properties"
        };
        let worker = read(worker_file)
            .replace("localhost:9092", broker.bootstrap())
            .replace(
                "/tmp/connect.offsets",
                &d.join("connect.offsets").display().to_string(),
            )
            + &format!("listeners=http://127.0.0.1:{port}\n")
            + &side_props(kafka, d);
        let source = read("connect-file-source.properties").replace(
            "file=test.txt",
            &format!("file={}", d.join("test.txt").display()),
        );
        let sink = read("connect-file-sink.properties").replace(
            "file=test.sink.txt",
            &format!("file={}", d.join("test.sink.txt").display()),
        );
        std::fs::write(d.join("test.txt"), &text).unwrap();
        let files = [
            ("source.properties", source.as_str()),
            ("sink.properties", sink.as_str()),
        ];
        let process = match (kafka, distributed) {
            (true, _) => WorkerProcess::kafka_connect(
                d,
                distributed,
                &worker,
                if distributed { &[] } else { &files },
            ),
            (false, false) => WorkerProcess::start(d, &worker, &files),
            (false, true) => WorkerProcess::distributed(d, &worker),
        };
        if distributed {
            let rest = Rest::new(port);
            rest.wait_ready(&process).await;
            for (_, props) in files {
                let config = properties_json(props);
                let name = config["name"].clone();
                let r = rest
                    .call_settled(
                        "POST",
                        "/connectors",
                        Some(json!({"name": name, "config": config})),
                    )
                    .await;
                assert_eq!(r.status, 201, "{r:?}");
            }
        }
        wait_for_lines(
            &d.join("test.sink.txt"),
            200,
            Duration::from_secs(90),
            &process,
        );
        let records = topic_values(broker.bootstrap(), "connect-test");
        assert_eq!(records.len(), 200, "records in connect-test");
        outputs.push((d.join("test.sink.txt"), records));
        keep.push((process, broker, dir));
    }
    let sink_text = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(sink_text(&outputs[0].0), text, "Kafka Connect's sink file");
    assert_eq!(sink_text(&outputs[1].0), text, "our sink file");
    assert_eq!(outputs[0].1, outputs[1].1, "the records in Kafka differ");
    assert_eq!(
        outputs[1].1[0],
        r#"{"schema":{"type":"string","optional":false},"payload":"sample line 0 ✓"}"#
    );
}

/// A connector properties file as a JSON config (comments and blank lines
/// skipped).
fn properties_json(text: &str) -> Value {
    let config: serde_json::Map<String, Value> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), json!(v.trim())))
        .collect();
    Value::Object(config)
}
