//! The standalone worker and two-worker cluster the REST tests
//! (`tests/rest.rs`, `tests/lifecycle.rs`) run against, and the FileStream
//! configurations they use, named as in Kafka's `connect_rest_test`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::{Broker, Rest, WorkerProcess, free_port, start_worker};

/// JSON converters, a file config provider and an advertised host name on
/// top of the harness's worker settings.
pub fn worker_props(bootstrap: &str, port: u16) -> String {
    crate::worker_props(
        bootstrap,
        port,
        "config.providers=file\n\
         config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         rest.advertised.host.name=worker-a\n",
    )
}

pub struct Setup {
    pub _broker: Broker,
    pub dir: tempfile::TempDir,
    pub worker: WorkerProcess,
    pub rest: Rest,
    pub props: String,
    pub port: u16,
    /// Distributed mode: the other members, and every member's worker id.
    pub cluster: Option<(Vec<WorkerProcess>, Vec<String>)>,
}

impl Setup {
    /// `body` with every cluster member's worker id shown as the worker
    /// asked (`worker-a:<port>`), so one expectation serves both modes.
    pub fn same_worker(&self, mut body: Value) -> Value {
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
pub async fn setup_cluster() -> Setup {
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

pub async fn setup() -> Setup {
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
pub fn external_topic(dir: &Path) -> String {
    format!(
        "${{file:{}:topic.external}}",
        dir.join("external.properties").display()
    )
}

pub fn source_config(dir: &Path, file: &str) -> Value {
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

pub fn sink_config(dir: &Path) -> Value {
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

pub fn names(r: &Value) -> BTreeSet<String> {
    r["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["definition"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The framework keys every connector's validation lists (spec §7.1).
pub const COMMON_KEYS: &[&str] = &[
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

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
