//! A distributed test cluster: `wasmconnect distributed` workers on
//! loopback ports in one group, the status checks the cluster tests make,
//! and reading back what a datagen source wrote (tests/tests/cluster.rs,
//! tests/tests/chaos.rs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::{Value, json};

use crate::{Broker, Reply, Rest, WorkerProcess, free_port};

/// `session.timeout.ms` and `scheduled.rebalance.max.delay.ms` of the test
/// clusters: a dead worker's share moves within their sum.
pub const SESSION: Duration = Duration::from_secs(6);
pub const MAX_DELAY: Duration = Duration::from_secs(3);

/// One cluster at a time: three workers and a broker already share the
/// machine's two cores, and the failover test times itself.
pub static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One worker process of a test cluster.
pub struct Member {
    pub dir: PathBuf,
    pub port: u16,
    pub props: String,
    pub process: WorkerProcess,
    pub rest: Rest,
    /// Kafka Connect itself rather than wasmconnect.
    pub kafka_connect: bool,
}

impl Member {
    /// The worker id the status API reports for this member.
    pub fn id(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the member again (after it was killed or stopped) and waits
    /// until it is in the group.
    pub async fn restart(&mut self) {
        self.process = launch(&self.dir, &self.props, self.kafka_connect);
        self.rest.wait_ready(&self.process).await;
        self.rest
            .wait_for("/health", "the worker in the group", |r| r.status == 200)
            .await;
    }
}

/// Starts `n` workers of the group `connect-cluster`, with `plugins` as
/// their `plugin.path`, each in a directory of its own under `root`;
/// `extra` is added to each worker's properties.
pub async fn start_cluster(
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
        let props = crate::worker_props_with_plugins(
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
        members.push((dir, port, props));
    }
    join(members, false).await
}

/// Starts `n` Kafka Connect workers of the group `kafka-connect-cluster`
/// (internal topics `kc-*`), as [`start_cluster`] starts ours, with the
/// same timeouts and flush interval, JSON values without schemas, Kafka's
/// test plugins (the Verifiable connectors) and `extra` properties.
pub async fn start_kafka_connect_cluster(
    broker: &Broker,
    root: &Path,
    n: usize,
    extra: &str,
) -> Vec<Member> {
    let mut members = Vec::new();
    for i in 0..n {
        let dir = root.join(format!("kafka-connect-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let props = format!(
            "bootstrap.servers={}\ngroup.id=kafka-connect-cluster\n\
             config.storage.topic=kc-configs\noffset.storage.topic=kc-offsets\n\
             status.storage.topic=kc-status\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter.schemas.enable=false\noffset.flush.interval.ms=200\n\
             listeners=http://127.0.0.1:{port}\nrest.advertised.host.name=127.0.0.1\n\
             session.timeout.ms={}\nheartbeat.interval.ms=1000\n\
             scheduled.rebalance.max.delay.ms={}\n{extra}",
            broker.bootstrap(),
            SESSION.as_millis(),
            MAX_DELAY.as_millis(),
        );
        members.push((dir, port, props));
    }
    join(members, true).await
}

/// Starts a worker process of either kind.
fn launch(dir: &Path, props: &str, kafka_connect: bool) -> WorkerProcess {
    if kafka_connect {
        WorkerProcess::kafka_connect_with(dir, props, &crate::kafka_test_plugins())
    } else {
        WorkerProcess::distributed(dir, props)
    }
}

/// Starts each (directory, port, properties) and waits until all are in
/// the group.
async fn join(specs: Vec<(PathBuf, u16, String)>, kafka_connect: bool) -> Vec<Member> {
    let mut members = Vec::new();
    for (dir, port, props) in specs {
        let process = launch(&dir, &props, kafka_connect);
        let rest = Rest::new(port);
        rest.wait_ready(&process).await;
        members.push(Member {
            dir,
            port,
            props,
            process,
            rest,
            kafka_connect,
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
pub fn field(status: &Value, key: &str) -> (String, Vec<String>) {
    let text = |v: &Value| v[key].as_str().unwrap_or_default().to_string();
    let tasks = status["tasks"]
        .as_array()
        .map(|t| t.iter().map(text).collect())
        .unwrap_or_default();
    (text(&status["connector"]), tasks)
}

/// The worker ids a status reports for the connector and each task.
pub fn owners(status: &Value) -> (String, Vec<String>) {
    field(status, "worker_id")
}

pub fn states(status: &Value) -> (String, Vec<String>) {
    field(status, "state")
}

/// Whether the connector and exactly `tasks` tasks are in `state`.
pub fn all_in(r: &Reply, state: &str, tasks: usize) -> bool {
    let (c, t) = states(&r.body);
    r.status == 200 && c == state && t.len() == tasks && t.iter().all(|s| s == state)
}

/// Waits until `GET /connectors/<name>/status` satisfies `check`.
pub async fn wait_status(
    rest: &Rest,
    name: &str,
    what: &str,
    check: impl Fn(&Reply) -> bool,
) -> Value {
    rest.wait_for(&format!("/connectors/{name}/status"), what, check)
        .await
        .body
}

/// The topic's record count (sum of high watermarks).
pub fn topic_size(bootstrap: &str, topic: &str) -> i64 {
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
pub fn datagen_records(
    bootstrap: &str,
    topic: &str,
    isolation: &str,
    want: usize,
) -> Vec<(u32, u64)> {
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
pub fn duplicates_in(file: &Path) -> usize {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines.len() - lines.iter().collect::<BTreeSet<_>>().len()
}

pub fn datagen(topic: &str, tasks: u32, rate: u32, iterations: u32) -> Value {
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
