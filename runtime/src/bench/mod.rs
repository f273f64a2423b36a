//! `wasmconnect bench`: how close the worker comes to the physical limit.
//!
//! One run against a real broker measures, side by side and for 100-byte
//! and 1 KiB records:
//!
//! 1. raw rdkafka producer throughput with the worker's producer settings
//!    (the baseline for sources);
//! 2. the `datagen` component through a source task;
//! 3. the same datagen logic compiled natively through the same task loop
//!    (the difference to 2 is the sandbox's cost);
//! 4. raw rdkafka consumer throughput (the baseline for sinks), and the
//!    `null-sink` component through a sink task;
//!
//! then the footprint of a worker process: time to ready, idle RSS, RSS
//! with 1, 100 and 1,000 running tasks, and the time to start a task from
//! a precompiled artifact. The other suites: the connectors of each
//! language ([`polyglot`]), the JDBC connectors against PostgreSQL's `COPY`
//! ([`jdbc`]), the Elasticsearch, S3 and HDFS sinks against plain client
//! loops to the same servers ([`sinks`]) and the comparison with Kafka Connect ([`kafka_connect`]).
//! Every figure is the median of `--repeats` runs
//! and every throughput is printed with its ratio to the baseline measured
//! in the same run. See `docs/benchmarks.md`.

mod footprint;
mod jdbc;
pub mod kafka_connect;
pub mod native_datagen;
mod polyglot;
mod process;
mod sinks;
mod throughput;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datagen_core::Shape;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::properties;
use crate::config::worker::WorkerConfig;
use crate::plugin::Plugin;
use crate::sandbox::Sandbox;
use crate::worker::TaskContext;
use crate::worker::kafka::Kafka;
use crate::worker::offset_file::OffsetFile;
use crate::worker::settings::TaskSettings;
use crate::worker::status::StatusBoard;
use crate::worker::store::ConnectorStore;
use throughput::Generator;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The broker.
    pub bootstrap: String,
    /// Where `datagen.wasm` and `null-sink.wasm` are.
    pub plugin_dir: PathBuf,
    /// Records per run for each record size.
    pub runs: Vec<(usize, u64)>,
    /// How many times each run is repeated (the median is shown).
    pub repeats: usize,
    /// Running-task counts at which the worker's RSS is measured.
    pub task_counts: Vec<u32>,
    /// Whether to run the core suite (baselines, sandbox tax, footprint).
    pub core: bool,
    /// Records per run of the polyglot suite, when it runs.
    pub polyglot: Option<u64>,
    /// Where the polyglot components are.
    pub polyglot_dir: PathBuf,
    /// Rows per run of the JDBC suite, when it runs.
    pub jdbc: Option<u64>,
    /// Records per run of the outbound-HTTP sinks suite, when it runs.
    pub sinks: Option<u64>,
    /// Where `opensearch.sh` and `hdfs.sh` are.
    pub scripts_dir: PathBuf,
    /// The comparison with Kafka Connect, when it runs.
    pub kafka_connect: Option<kafka_connect::KafkaConnectOptions>,
}

/// What every run shares: one sandbox, one Kafka connection, the worker's
/// configuration, the two plugins, and a scratch directory.
pub struct Env {
    sandbox: Sandbox,
    worker: Arc<WorkerConfig>,
    kafka: Arc<Kafka>,
    offsets: Arc<OffsetFile>,
    status: Arc<StatusBoard>,
    store: Arc<ConnectorStore>,
    datagen: Arc<Plugin>,
    null_sink: Arc<Plugin>,
    plugin_dir: PathBuf,
    polyglot_dir: PathBuf,
    dir: PathBuf,
}

async fn load(sandbox: &Sandbox, path: &std::path::Path) -> Result<Arc<Plugin>, String> {
    Plugin::load_file(sandbox, path)
        .await
        .map(Arc::new)
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl Env {
    async fn new(opts: &BenchOptions, sandbox: Sandbox) -> Result<Env, String> {
        let dir = std::env::temp_dir().join(format!("wasmconnect-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let props = properties::parse(
            format!(
                "bootstrap.servers={}\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.converters.ByteArrayConverter\n\
             offset.storage.file.filename={}\n\
             offset.flush.interval.ms=100\n",
                opts.bootstrap,
                dir.join("bench.offsets").display()
            )
            .as_bytes(),
        )
        .map_err(|(line, e)| format!("bench worker settings, line {line:?}: {e}"))?;
        let worker = WorkerConfig::from_properties(&props)?;
        let kafka = Kafka::connect(&worker.kafka, &worker.admin)?;
        kafka.check_reachable(Duration::from_secs(10)).await?;
        let offsets = OffsetFile::open(&dir.join("bench.offsets"))?;
        let store = ConnectorStore::beside(&dir.join("bench.offsets"))?;
        let datagen = load(&sandbox, &opts.plugin_dir.join("datagen.wasm")).await?;
        let null_sink = load(&sandbox, &opts.plugin_dir.join("null-sink.wasm")).await?;
        Ok(Env {
            sandbox,
            worker: Arc::new(worker),
            kafka: Arc::new(kafka),
            offsets: Arc::new(offsets),
            status: Arc::new(StatusBoard::default()),
            store: Arc::new(store),
            datagen,
            null_sink,
            plugin_dir: opts.plugin_dir.clone(),
            polyglot_dir: opts.polyglot_dir.clone(),
            dir,
        })
    }

    /// Loads `<name>.wasm` from the plugin directory, or else from the
    /// polyglot directory.
    async fn load(&self, name: &str) -> Result<Arc<Plugin>, String> {
        load(&self.sandbox, &self.component_path(name)).await
    }

    /// Where `<name>.wasm` is.
    fn component_path(&self, name: &str) -> PathBuf {
        let file = format!("{name}.wasm");
        let bundled = self.plugin_dir.join(&file);
        if bundled.exists() {
            bundled
        } else {
            self.polyglot_dir.join(file)
        }
    }

    fn task_context(
        &self,
        name: &str,
        plugin: Arc<Plugin>,
        config: Vec<(String, String)>,
    ) -> Result<TaskContext, String> {
        let settings = Arc::new(TaskSettings::parse(&config, &self.worker)?);
        // Counted, not shown: a benchmark has no REST server.
        let kind = match plugin.info().world {
            crate::plugin::World::Sink => crate::metrics::TaskKind::Sink,
            _ => crate::metrics::TaskKind::Source,
        };
        Ok(TaskContext {
            connector: name.to_string(),
            task: 0,
            config: config.clone(),
            connector_config: config,
            plugin,
            key_converter: self.worker.key_converter,
            value_converter: self.worker.value_converter,
            kafka: self.kafka.clone(),
            offsets: self.offsets.clone(),
            worker: self.worker.clone(),
            status: self.status.clone(),
            store: self.store.clone(),
            limits: None,
            transforms: Arc::from([]),
            settings,
            secrets: Default::default(),
            metrics: crate::metrics::TaskMetrics::detached(kind),
        })
    }

    /// Records in partition 0 of `topic` so far (its high watermark), read
    /// with a blocking broker round trip: a progress reader for runs.
    fn high_watermark(&self, topic: &str) -> Result<impl FnMut() -> u64 + Send + 'static, String> {
        let reader: BaseConsumer = crate::config::clients::consumer(
            self.kafka.bootstrap(),
            "bench-watermarks",
            0,
            &self.worker.consumer,
            &[],
        )
        .create()
        .map_err(|e| format!("watermark reader: {e}"))?;
        let topic = topic.to_string();
        Ok(move || {
            reader
                .fetch_watermarks(&topic, 0, Duration::from_secs(5))
                .map(|(_, high)| high.max(0) as u64)
                .unwrap_or(0)
        })
    }

    /// The offset connector `connector`'s group (`connect-<connector>`)
    /// committed for partition 0 of `topic`, read with a blocking broker
    /// round trip: a progress reader for sink runs.
    fn committed(
        &self,
        connector: &str,
        topic: &str,
    ) -> Result<impl FnMut() -> u64 + Send + 'static, String> {
        let group: BaseConsumer = crate::config::clients::consumer(
            self.kafka.bootstrap(),
            connector,
            0,
            &self.worker.consumer,
            &[],
        )
        .create()
        .map_err(|e| format!("offset reader: {e}"))?;
        let mut partitions = TopicPartitionList::new();
        partitions.add_partition(topic, 0);
        Ok(move || {
            match group
                .committed_offsets(partitions.clone(), Duration::from_secs(5))
                .ok()
                .and_then(|c| c.elements().first().map(|e| e.offset()))
            {
                Some(Offset::Offset(x)) => x.max(0) as u64,
                _ => 0,
            }
        })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One measured throughput row.
struct Row {
    label: &'static str,
    per_second: f64,
    bytes: usize,
    baseline: Option<f64>,
}

/// Runs every measurement and prints the tables.
pub async fn run(opts: &BenchOptions, sandbox: Sandbox) -> Result<(), String> {
    let mut opts = opts.clone();
    // The footprint worker runs in a directory of its own.
    opts.plugin_dir = std::fs::canonicalize(&opts.plugin_dir)
        .map_err(|e| format!("{}: {e}", opts.plugin_dir.display()))?;
    let opts = &opts;
    let env = Env::new(opts, sandbox).await?;
    println!(
        "wasmconnect bench: broker {}, {} repeats, medians; {} cores",
        opts.bootstrap,
        opts.repeats,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if opts.core {
        core(&env, opts).await?;
    }
    if let Some(n) = opts.polyglot {
        polyglot::run(&env, n, opts.repeats).await?;
    }
    if let Some(rows) = opts.jdbc {
        jdbc::run(&env, rows, opts.repeats).await?;
    }
    if let Some(records) = opts.sinks {
        sinks::run(&env, records, opts.repeats, &opts.scripts_dir).await?;
    }
    if let Some(kc) = &opts.kafka_connect {
        kafka_connect::run(&env, opts, kc).await?;
    }
    Ok(())
}

/// Baselines, wasm and native datagen, the null sink, then the footprint.
async fn core(env: &Env, opts: &BenchOptions) -> Result<(), String> {
    let tag = std::process::id();
    for &(size, n) in &opts.runs {
        let shape = Shape {
            record_bytes: size,
            key_cardinality: 1000,
        };
        let mut times: [Vec<Duration>; 5] = Default::default();
        for rep in 0..opts.repeats {
            let topic = |kind: &str| format!("bench-{kind}-{size}-{tag}-{rep}");
            for kind in ["raw", "wasm", "native"] {
                env.kafka.ensure_topic(&topic(kind), 1, 1).await?;
            }
            eprintln!(
                "[bench] {size} B, run {}/{}: raw producer",
                rep + 1,
                opts.repeats
            );
            let raw_topic = topic("raw");
            let took = tokio::task::block_in_place(|| {
                throughput::raw_producer(env, &raw_topic, n, &shape)
            })?;
            times[0].push(took);
            eprintln!(
                "[bench] {size} B, run {}/{}: datagen (wasm) source task",
                rep + 1,
                opts.repeats
            );
            times[1].push(
                throughput::source_task(env, Generator::Wasm, &topic("wasm"), n, &shape).await?,
            );
            eprintln!(
                "[bench] {size} B, run {}/{}: datagen (native) source task",
                rep + 1,
                opts.repeats
            );
            times[2].push(
                throughput::source_task(env, Generator::Native, &topic("native"), n, &shape)
                    .await?,
            );
            eprintln!(
                "[bench] {size} B, run {}/{}: raw consumer",
                rep + 1,
                opts.repeats
            );
            times[3].push(tokio::task::block_in_place(|| {
                throughput::raw_consumer(env, &raw_topic, n)
            })?);
            eprintln!(
                "[bench] {size} B, run {}/{}: null sink task",
                rep + 1,
                opts.repeats
            );
            times[4].push(throughput::sink_task(env, &raw_topic, n).await?);
        }
        let timed = n - throughput::warm_up(n);
        let mut rate = |i: usize| {
            let records = if i == 3 { n - 1 } else { timed };
            records as f64 / median(&mut times[i]).as_secs_f64()
        };
        let r: Vec<f64> = (0..5).map(&mut rate).collect();
        let (produce, consume) = (r[0], r[3]);
        let rows = [
            Row {
                label: "raw rdkafka producer (baseline)",
                per_second: produce,
                bytes: size,
                baseline: None,
            },
            Row {
                label: "datagen (wasm) -> Kafka, source task",
                per_second: r[1],
                bytes: size,
                baseline: Some(produce),
            },
            Row {
                label: "datagen (native) -> Kafka, same loop",
                per_second: r[2],
                bytes: size,
                baseline: Some(produce),
            },
            Row {
                label: "raw rdkafka consumer (baseline)",
                per_second: consume,
                bytes: size,
                baseline: None,
            },
            Row {
                label: "Kafka -> null sink (wasm), sink task",
                per_second: r[4],
                bytes: size,
                baseline: Some(consume),
            },
        ];
        println!();
        println!(
            "{size}-byte records, {n} per run (the first {} untimed: start-up)",
            throughput::warm_up(n)
        );
        println!(
            "| {:<38} | {:>12} | {:>8} | {:>11} |",
            "run", "records/s", "MB/s", "vs baseline"
        );
        println!("|{:-<40}|{:->14}|{:->10}|{:->13}|", "", "", "", "");
        for r in &rows {
            let ratio = r.baseline.map_or("-".to_string(), |b| {
                format!("{:.1} %", 100.0 * r.per_second / b)
            });
            println!(
                "| {:<38} | {:>12.0} | {:>8.1} | {:>11} |",
                r.label,
                r.per_second,
                r.per_second * r.bytes as f64 / 1e6,
                ratio
            );
        }
        println!(
            "sandbox tax (wasm vs native through the same loop): {:.1} %",
            100.0 * (1.0 - rows[1].per_second / rows[2].per_second)
        );
    }
    println!();
    footprint::run(env, opts).await
}

/// The median of `samples` (sorted in place); zero when empty.
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}
