//! Chaos: a source and a verifying sink through three distributed workers
//! on a three-node Apache Kafka, while workers are killed with SIGKILL
//! (random ones, and the one running source task 0), restarted cleanly,
//! and brokers go away for a while. It reports records lost (must be 0),
//! duplicates, and how long a killed worker's work took to run again. See
//! docs/delivery.md.
//!
//! wasmconnect runs datagen into FileStreamSink, each line checked against
//! datagen's bytes. With `CHAOS_KAFKA_CONNECT=1` the same events then hit
//! three Kafka Connect workers running its own VerifiableSourceConnector
//! into its VerifiableSinkConnector (which prints each record it committed
//! to standard output, marked `flushed`), on the same brokers, and both
//! reports print.
//!
//! CI runs a bounded form: two kills and one clean restart, wasmconnect
//! only. The full run:
//!
//! ```text
//! CHAOS_FULL=1 CHAOS_KAFKA_CONNECT=1 cargo test -p wasmconnect-tests --test chaos -- --nocapture
//! ```
//!
//! (twenty kills, five clean restarts, a 30-second outage of one broker and
//! then of all three); `CHAOS_KILLS`, `CHAOS_RESTARTS`, `CHAOS_BROKER_OUTAGE`
//! (`none`, `one`, `all` or `both`), `CHAOS_OUTAGE_SECONDS` and `CHAOS_SEED`
//! set the parts one by one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use wasmconnect_tests::cluster_setup::{
    Member, ONE_CLUSTER, all_in, datagen, owners, start_cluster, start_kafka_connect_cluster,
    wait_status,
};
use wasmconnect_tests::{Broker, Reply, plugin_dir};

/// What one run does.
#[derive(Debug, Clone)]
struct Plan {
    kills: usize,
    restarts: usize,
    one_broker_down: bool,
    all_brokers_down: bool,
    outage: Duration,
    seed: u64,
}

impl Plan {
    fn from_env() -> Plan {
        let full = std::env::var("CHAOS_FULL").is_ok_and(|v| v == "1");
        let number = |key: &str, default: u64| -> u64 {
            std::env::var(key)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let outages = std::env::var("CHAOS_BROKER_OUTAGE")
            .unwrap_or_else(|_| if full { "both" } else { "none" }.to_string());
        Plan {
            kills: number("CHAOS_KILLS", if full { 20 } else { 2 }) as usize,
            restarts: number("CHAOS_RESTARTS", if full { 5 } else { 1 }) as usize,
            one_broker_down: matches!(outages.as_str(), "one" | "both"),
            all_brokers_down: matches!(outages.as_str(), "all" | "both"),
            outage: Duration::from_secs(number("CHAOS_OUTAGE_SECONDS", 30)),
            seed: number("CHAOS_SEED", 18),
        }
    }

    /// How long the stream must last to outlive every event (a kill takes
    /// the session timeout and the rebalance delay to notice, then a
    /// restart).
    fn seconds(&self) -> u64 {
        let outages = u64::from(self.one_broker_down) + u64::from(self.all_brokers_down);
        20 + self.kills as u64 * 20
            + self.restarts as u64 * 12
            + outages * (self.outage.as_secs() + 30)
    }
}

/// A small deterministic generator (xorshift), so a seed replays a run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const SOURCE: &str = "chaos-source";
const SINK: &str = "chaos-sink";
const TASKS: usize = 3;
/// Records per second per source task.
const RATE: u64 = 100;

/// Which worker runs the cluster, and how its records read.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Wasmconnect,
    KafkaConnect,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Wasmconnect => "wasmconnect",
            Kind::KafkaConnect => "Kafka Connect",
        }
    }

    fn topic(self) -> &'static str {
        match self {
            Kind::Wasmconnect => "chaos",
            Kind::KafkaConnect => "kc-chaos",
        }
    }

    /// The source: `per_task` records per task for ours (datagen stops
    /// there); Kafka's Verifiable source runs until it is paused.
    fn source(self, per_task: u64) -> Value {
        match self {
            Kind::Wasmconnect => datagen(self.topic(), TASKS as u32, RATE as u32, per_task as u32),
            Kind::KafkaConnect => json!({
                "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
                "tasks.max": TASKS.to_string(),
                "topic": self.topic(),
                "throughput": RATE.to_string(),
            }),
        }
    }

    /// (task, sequence number) of a record in the topic: datagen's value
    /// bytes, or the Verifiable source's key (its task) and value (the
    /// sequence number).
    fn of_record(self, key: &[u8], value: &[u8]) -> (u32, u64) {
        match self {
            Kind::Wasmconnect => datagen_core::check_value(value).unwrap_or_else(|e| panic!("{e}")),
            Kind::KafkaConnect => {
                let number = |b: &[u8]| -> u64 {
                    let text = String::from_utf8_lossy(b);
                    text.trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("not a number: {text}"))
                };
                (number(key) as u32, number(value))
            }
        }
    }

    /// The (task, sequence number) of every record the sink wrote: lines of
    /// datagen's bytes in `out`, or the JSON lines Kafka's Verifiable sink
    /// printed for what it committed, in the workers' standard output
    /// under `root`.
    fn sunk(self, out: &Path, root: &Path) -> Vec<(u32, u64)> {
        match self {
            Kind::Wasmconnect => std::fs::read_to_string(out)
                .unwrap_or_default()
                .lines()
                .map(|l| self.of_record(&[], l.as_bytes()))
                .collect(),
            Kind::KafkaConnect => {
                let mut found = Vec::new();
                for member in std::fs::read_dir(root).into_iter().flatten().flatten() {
                    for file in std::fs::read_dir(member.path())
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        if file.path().extension().is_none_or(|e| e != "stdout") {
                            continue;
                        }
                        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
                        for line in text.lines().filter(|l| l.starts_with('{')) {
                            // Each record is printed when `put` takes it and
                            // again, marked `flushed`, once it is committed:
                            // only the second counts.
                            let Ok(v) = serde_json::from_str::<Value>(line) else {
                                continue;
                            };
                            if v["flushed"] != true {
                                continue;
                            }
                            // The key (the source task) and the value as the
                            // sink saw them: a string and a number.
                            let task = v["task"]
                                .as_u64()
                                .or_else(|| v["task"].as_str().and_then(|t| t.parse().ok()))
                                .map(|t| t as u32);
                            if let (Some(task), Some(seqno)) = (task, v["seqno"].as_u64()) {
                                found.push((task, seqno));
                            }
                        }
                    }
                }
                found
            }
        }
    }

    fn sink(self, out: &Path) -> Value {
        match self {
            Kind::Wasmconnect => json!({"connector.class": "FileStreamSink",
                "topics": self.topic(), "file": out.to_str().unwrap(), "tasks.max": "1"}),
            Kind::KafkaConnect => json!({
                "connector.class": "org.apache.kafka.connect.tools.VerifiableSinkConnector",
                "topics": self.topic(), "tasks.max": "1"}),
        }
    }
}

/// Waits until both connectors and all their tasks run on members other
/// than `gone`; returns how long that took from `since`.
async fn recovered(members: &[Member], gone: Option<&str>, since: Instant) -> Duration {
    let ask = members
        .iter()
        .find(|m| Some(m.id().as_str()) != gone)
        .expect("a live member");
    let elsewhere = |r: &Reply| {
        let (connector, tasks) = owners(&r.body);
        gone.is_none_or(|g| connector != g && !tasks.iter().any(|t| t == g))
    };
    wait_status(&ask.rest, SOURCE, "the source running", |r| {
        all_in(r, "RUNNING", TASKS) && elsewhere(r)
    })
    .await;
    wait_status(&ask.rest, SINK, "the sink running", |r| {
        all_in(r, "RUNNING", 1) && elsewhere(r)
    })
    .await;
    since.elapsed()
}

/// Every record's key and value in `topic`, read from the beginning up to
/// the end offsets as they are now.
fn topic_records(bootstrap: &str, topic: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("chaos-reader-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata.topics()[0].partitions().len() as i32;
    let mut tpl = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
        let (_, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        ends.insert(p, high);
    }
    consumer.assign(&tpl).unwrap();
    let mut next: BTreeMap<i32, i64> = (0..partitions).map(|p| (p, 0)).collect();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ends.iter().any(|(p, end)| next[p] < *end) {
        assert!(
            Instant::now() < deadline,
            "could not read {topic} to its end"
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            next.insert(m.partition(), m.offset() + 1);
            out.push((
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    out
}

/// What one run found.
struct Report {
    kind: Kind,
    records: usize,
    lost_by_source: usize,
    lost_by_sink: usize,
    duplicates: usize,
    recoveries: Vec<Duration>,
}

impl Report {
    fn print(&mut self, plan: &Plan) {
        self.recoveries.sort();
        let median = self.recoveries.get(self.recoveries.len() / 2).copied();
        let worst = self.recoveries.last().copied();
        println!(
            "chaos ({}): {} kills, {} clean restarts, one broker down: {}, all brokers down: {}; \
             {} records, {} lost by the source side, {} lost by the sink side, {} duplicates \
             ({:.2} %); a killed worker's work ran again after {:.1} s (median), {:.1} s (worst)",
            self.kind.name(),
            plan.kills,
            plan.restarts,
            plan.one_broker_down,
            plan.all_brokers_down,
            self.records,
            self.lost_by_source,
            self.lost_by_sink,
            self.duplicates,
            self.duplicates as f64 * 100.0 / self.records.max(1) as f64,
            median.unwrap_or_default().as_secs_f64(),
            worst.unwrap_or_default().as_secs_f64()
        );
    }
}

/// Starts the cluster of `kind`, runs the plan's events while its source
/// streams into its sink, and counts what arrived.
async fn run(kind: Kind, broker: &Broker, root: &Path, plan: &Plan) -> Report {
    // Every internal topic and the data topic on all three nodes, so one
    // node may go.
    let replicated = "config.storage.replication.factor=3\noffset.storage.replication.factor=3\n\
                      status.storage.replication.factor=3\n";
    let mut members = match kind {
        Kind::Wasmconnect => start_cluster(broker, root, 3, &plugin_dir(), replicated).await,
        Kind::KafkaConnect => start_kafka_connect_cluster(broker, root, 3, replicated).await,
    };
    let per_task = RATE * plan.seconds();
    let out = root.join(format!("{}-verified.txt", kind.topic()));
    let mut source = kind.source(per_task);
    source["topic.creation.default.partitions"] = json!("3");
    source["topic.creation.default.replication.factor"] = json!("3");
    let r = members[0].rest.create(SOURCE, &source).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = members[1].rest.create(SINK, &kind.sink(&out)).await;
    assert_eq!(r.status, 201, "{r:?}");
    recovered(&members, None, Instant::now()).await;
    let started = Instant::now();
    let recoveries = events(&mut members, broker, plan).await;

    // The stream ends: datagen after its records; Kafka's source when
    // paused once the planned time has passed.
    tokio::time::sleep_until((started + Duration::from_secs(plan.seconds())).into()).await;
    if kind == Kind::KafkaConnect {
        let r = members[0]
            .rest
            .call("PUT", &format!("/connectors/{SOURCE}/pause"), None)
            .await;
        assert_eq!(r.status, 202, "{r:?}");
        wait_status(&members[0].rest, SOURCE, "the source paused", |r| {
            all_in(r, "PAUSED", TASKS)
        })
        .await;
    }
    let in_topic = || -> BTreeSet<(u32, u64)> {
        topic_records(broker.bootstrap(), kind.topic())
            .iter()
            .map(|(k, v)| kind.of_record(k, v))
            .collect()
    };
    // Wait until the topic stops growing, then until the sink has what it
    // holds.
    let mut produced = in_topic();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = in_topic();
        if now.len() == produced.len()
            && (kind == Kind::KafkaConnect || stream_ended(&now, per_task))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the source never finished");
        produced = now;
    }
    let lost_by_source: usize = (0..TASKS as u32)
        .map(|t| {
            let seqs: Vec<u64> = produced
                .iter()
                .filter(|(pt, _)| *pt == t)
                .map(|(_, s)| *s)
                .collect();
            let top = seqs.iter().max().map_or(0, |m| m + 1);
            (top as usize).saturating_sub(seqs.len())
        })
        .sum();
    let deadline = Instant::now() + Duration::from_secs(180);
    let lines = loop {
        let lines = kind.sunk(&out, root);
        let got: BTreeSet<&(u32, u64)> = lines.iter().collect();
        if produced.iter().all(|k| got.contains(k)) || Instant::now() >= deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let got: BTreeSet<(u32, u64)> = lines.iter().copied().collect();
    let lost_by_sink = produced.iter().filter(|k| !got.contains(k)).count();
    Report {
        kind,
        records: produced.len(),
        lost_by_source,
        lost_by_sink,
        duplicates: lines.len() - got.len(),
        recoveries,
    }
}

/// Whether datagen wrote its last record of every task.
fn stream_ended(produced: &BTreeSet<(u32, u64)>, per_task: u64) -> bool {
    (0..TASKS as u32).all(|t| produced.contains(&(t, per_task - 1)))
}

/// Kills, clean restarts and broker outages, in that order; returns how
/// long each killed worker's work took to run again.
async fn events(members: &mut [Member], broker: &Broker, plan: &Plan) -> Vec<Duration> {
    let mut dice = Dice(plan.seed.max(1));
    let mut recoveries = Vec::new();
    for kill in 0..plan.kills {
        // Every other kill takes the worker running source task 0.
        let victim = if kill % 2 == 0 {
            let r = members[0]
                .rest
                .call("GET", &format!("/connectors/{SOURCE}/status"), None)
                .await;
            let owner = owners(&r.body).1.first().cloned().unwrap_or_default();
            members.iter().position(|m| m.id() == owner).unwrap_or(0)
        } else {
            dice.below(members.len())
        };
        let id = members[victim].id();
        members[victim].process.kill9();
        let took = recovered(members, Some(&id), Instant::now()).await;
        println!(
            "kill {}: {id} killed; its work ran elsewhere after {:.1} s",
            kill + 1,
            took.as_secs_f64()
        );
        recoveries.push(took);
        members[victim].restart().await;
    }
    for restart in 0..plan.restarts {
        let victim = dice.below(members.len());
        let id = members[victim].id();
        members[victim].process.terminate(Duration::from_secs(60));
        members[victim].restart().await;
        let took = recovered(members, None, Instant::now()).await;
        println!(
            "restart {}: {id} stopped and started; all running after {:.1} s",
            restart + 1,
            took.as_secs_f64()
        );
    }
    if plan.one_broker_down {
        let node = dice.below(3) + 1;
        outage(broker, &[node], plan.outage).await;
        let took = recovered(members, None, Instant::now()).await;
        println!(
            "broker node {node} back; all running after {:.1} s",
            took.as_secs_f64()
        );
    }
    if plan.all_brokers_down {
        outage(broker, &[1, 2, 3], plan.outage).await;
        let took = recovered(members, None, Instant::now()).await;
        println!(
            "all broker nodes back; all running after {:.1} s",
            took.as_secs_f64()
        );
    }
    recoveries
}

/// Kills broker `nodes`, waits `length`, and starts them again.
async fn outage(broker: &Broker, nodes: &[usize], length: Duration) {
    for node in nodes {
        broker.kill_node(*node);
    }
    println!("broker nodes {nodes:?} down for {} s", length.as_secs());
    tokio::time::sleep(length).await;
    broker.restart_nodes(nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_while_workers_die_and_brokers_go_away() {
    let _one = ONE_CLUSTER.lock().await;
    let plan = Plan::from_env();
    println!("chaos plan: {plan:?}");
    let broker = Broker::cluster(3);
    let root = tempfile::tempdir().unwrap();
    let mut ours = run(Kind::Wasmconnect, &broker, &root.path().join("ours"), &plan).await;
    ours.print(&plan);
    if std::env::var("CHAOS_KAFKA_CONNECT").is_ok_and(|v| v == "1") {
        let mut theirs = run(
            Kind::KafkaConnect,
            &broker,
            &root.path().join("kafka-connect"),
            &plan,
        )
        .await;
        theirs.print(&plan);
    }
    assert_eq!(ours.records as u64, RATE * plan.seconds() * TASKS as u64);
    assert_eq!(ours.lost_by_source, 0);
    assert_eq!(ours.lost_by_sink, 0);
}
