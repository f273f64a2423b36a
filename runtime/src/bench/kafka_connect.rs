//! The comparison with Apache Kafka Connect itself (`wasmconnect bench
//! --suite kafka-connect`, part of `all`): our worker and Kafka Connect,
//! each a real standalone process on the same broker, driven through the
//! same REST calls, measured from outside the same way (`/proc`, the
//! topic's high watermark, the sink group's committed offsets).
//!
//! The pairs: our `datagen` and Kafka's `VerifiableSourceConnector`, our
//! `null-sink` and Kafka's `VerifiableSinkConnector` (from Kafka's
//! connect-test-plugins jar), and the FileStream source and sink on both
//! sides. Kafka Connect runs from the jars `scripts/kafka.sh` installs, with
//! the heap its own `connect-standalone.sh` sets (`-Xms256M -Xmx2G`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::process::{
    SETTLE, WorkerProcess, create_connector, delete_connector, free_port, wait_ready, wait_running,
};
use super::{BenchOptions, Env};

/// The Kafka classes compared with.
const VERIFIABLE_SOURCE: &str = "org.apache.kafka.connect.tools.VerifiableSourceConnector";
const VERIFIABLE_SINK: &str = "org.apache.kafka.connect.tools.VerifiableSinkConnector";

/// Bytes per line of the FileStream source's input file (newline included).
const LINE_BYTES: usize = 100;

/// How long one flow may take before the run is given up.
const FLOW_TIMEOUT: Duration = Duration::from_secs(600);

/// What the comparison needs besides the shared options.
#[derive(Debug, Clone)]
pub struct KafkaConnectOptions {
    /// `scripts/kafka.sh`, which runs Kafka's main classes on its jars.
    pub kafka_sh: PathBuf,
    /// Records per flow.
    pub records: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wasmconnect,
    KafkaConnect,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Wasmconnect => "wasmconnect",
            Kind::KafkaConnect => "Kafka Connect",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Kind::Wasmconnect => "wc",
            Kind::KafkaConnect => "kc",
        }
    }

    /// The generating source: unthrottled, or at `rate` records/s a task.
    fn generator(self, topic: &str, tasks: u32, rate: Option<u32>) -> Value {
        match self {
            Kind::Wasmconnect => json!({
                "connector.class": "Datagen", "topic": topic, "tasks.max": tasks.to_string(),
                "record.bytes": "100", "rate": rate.unwrap_or(0).to_string(),
                "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
                "wasm.memory.bytes": "16777216",
            }),
            Kind::KafkaConnect => json!({
                "connector.class": VERIFIABLE_SOURCE, "topic": topic,
                "tasks.max": tasks.to_string(),
                "throughput": rate.map_or(-1, i64::from).to_string(),
            }),
        }
    }

    /// The sink that reads what [`Kind::generator`] wrote.
    fn checking_sink(self, topic: &str) -> Value {
        match self {
            Kind::Wasmconnect => json!({
                "connector.class": "NullSink", "topics": topic, "tasks.max": "1",
                "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
            }),
            Kind::KafkaConnect => json!({
                "connector.class": VERIFIABLE_SINK, "topics": topic, "tasks.max": "1",
            }),
        }
    }
}

/// One flow's figures.
#[derive(Default, Clone, Copy)]
struct Flow {
    /// From the connector's creation to the first record through.
    first: Duration,
    /// Records a second, from the 10 % point to the last.
    per_second: f64,
    /// The worker's CPU seconds per million records, over the same span.
    cpu_per_million: f64,
}

impl Flow {
    /// Each figure's median over `runs` (zero when there are none).
    fn median(runs: &[Flow]) -> Flow {
        let of = |f: fn(&Flow) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        Flow {
            first: Duration::from_secs_f64(of(|f| f.first.as_secs_f64())),
            per_second: of(|f| f.per_second),
            cpu_per_million: of(|f| f.cpu_per_million),
        }
    }
}

/// Everything measured of one worker.
#[derive(Default)]
struct Figures {
    ready: Duration,
    idle_rss: f64,
    generator: Flow,
    checking_sink: Flow,
    file_source: Flow,
    file_sink: Flow,
    /// (running tasks, RSS MiB, threads)
    loaded: Vec<(u32, f64, u64)>,
}

/// Measures both workers and prints the table.
pub async fn run(env: &Env, opts: &BenchOptions, kc: &KafkaConnectOptions) -> Result<(), String> {
    // Kafka Connect starts in a directory of its own.
    let kc = &KafkaConnectOptions {
        kafka_sh: std::fs::canonicalize(&kc.kafka_sh)
            .map_err(|e| format!("{}: {e}", kc.kafka_sh.display()))?,
        records: kc.records,
    };
    let n = kc.records.max(10);
    let input = env.dir.join("compare-input.txt");
    write_lines(&input, n)?;
    let ours = measure(env, opts, kc, Kind::Wasmconnect, &input, n).await?;
    let theirs = measure(env, opts, kc, Kind::KafkaConnect, &input, n).await?;
    print(&ours, &theirs, n, opts.repeats);
    Ok(())
}

fn write_lines(path: &Path, n: u64) -> Result<(), String> {
    let mut text = String::with_capacity(n as usize * LINE_BYTES);
    for i in 0..n {
        let head = format!("line {i:012} ");
        text.push_str(&head);
        text.extend(std::iter::repeat_n('x', LINE_BYTES - 1 - head.len()));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A worker of `kind` started in a directory of its own.
struct Contender {
    kind: Kind,
    process: WorkerProcess,
    http: reqwest::Client,
    base: String,
    dir: PathBuf,
}

async fn start(
    env: &Env,
    opts: &BenchOptions,
    kc: &KafkaConnectOptions,
    kind: Kind,
) -> Result<(Contender, Duration), String> {
    let port = free_port()?;
    let dir = env.dir.join(format!("compare-{}", kind.tag()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut props = format!(
        "bootstrap.servers={}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n\
         offset.storage.file.filename={}\nlisteners=http://127.0.0.1:{port}\n\
         offset.flush.interval.ms=100\n",
        opts.bootstrap,
        dir.join("offsets").display(),
    );
    if kind == Kind::Wasmconnect {
        let max = opts.task_counts.iter().copied().max().unwrap_or(0);
        props.push_str(&format!(
            "plugin.path={}\nwasm.max.instances={}\n",
            opts.plugin_dir.display(),
            max + 64
        ));
    }
    let props_file = dir.join("worker.properties");
    std::fs::write(&props_file, props).map_err(|e| e.to_string())?;
    let mut cmd = match kind {
        Kind::Wasmconnect => {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            c.arg("standalone").env("RUST_LOG", "warn");
            c
        }
        Kind::KafkaConnect => {
            let plugins = kafka_test_plugins(&kc.kafka_sh)?;
            let mut c = Command::new("bash");
            c.arg(&kc.kafka_sh)
                .args(["java", "org.apache.kafka.connect.cli.ConnectStandalone"])
                .env("KAFKA_HEAP_OPTS", "-Xms256M -Xmx2G")
                .env("KAFKA_EXTRA_CLASSPATH", plugins.join("*"));
            c
        }
    };
    cmd.arg(&props_file)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("worker.log")).map_err(|e| e.to_string())?,
        ));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let process = WorkerProcess(
        cmd.spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.label()))?,
    );
    wait_ready(&http, &base, started, Duration::from_secs(120))
        .await
        .map_err(|e| {
            format!(
                "{}: {e} (see {})",
                kind.label(),
                dir.join("worker.log").display()
            )
        })?;
    let ready = started.elapsed();
    Ok((
        Contender {
            kind,
            process,
            http,
            base,
            dir,
        },
        ready,
    ))
}

/// The directory holding Kafka's connect-test-plugins jar.
fn kafka_test_plugins(kafka_sh: &Path) -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(kafka_sh)
        .arg("test-plugins")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", kafka_sh.display()))?;
    if !out.status.success() {
        return Err(format!("{} test-plugins failed", kafka_sh.display()));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("connect-test-plugins"))
}

async fn measure(
    env: &Env,
    opts: &BenchOptions,
    kc: &KafkaConnectOptions,
    kind: Kind,
    input: &Path,
    n: u64,
) -> Result<Figures, String> {
    eprintln!("[bench] kafka-connect: starting {}", kind.label());
    let (c, ready) = start(env, opts, kc, kind).await?;
    let mut figures = Figures {
        ready,
        ..Figures::default()
    };
    tokio::time::sleep(SETTLE).await;
    figures.idle_rss = c.process.rss_mib()?;
    let tag = format!("{}-{}", kind.tag(), std::process::id());

    let generated = format!("cmp-gen-{tag}");
    env.kafka.ensure_topic(&generated, 1, 1).await?;
    let lines = format!("cmp-file-{tag}");
    env.kafka.ensure_topic(&lines, 1, 1).await?;
    let copy = c.dir.join("input.txt");
    std::fs::copy(input, &copy).map_err(|e| e.to_string())?;
    let mut runs: [Vec<Flow>; 4] = Default::default();
    for r in 0..opts.repeats {
        let of = |flow: &str| format!("{flow}-{r}");
        eprintln!(
            "[bench] kafka-connect: {}, run {}/{}: generating source, checking sink, FileStream source and sink",
            kind.label(),
            r + 1,
            opts.repeats
        );
        let config = kind.generator(&generated, 1, None);
        runs[0].push(source_flow(env, &c, &of("gen"), config, &generated, n).await?);
        let config = kind.checking_sink(&generated);
        runs[1].push(sink_flow(env, &c, &of("check"), config, &generated, n).await?);
        let config = json!({"connector.class": "FileStreamSource", "file": copy, "topic": lines});
        runs[2].push(source_flow(env, &c, &of("file-source"), config, &lines, n).await?);
        let output = c.dir.join(format!("output-{r}.txt"));
        let config = json!({"connector.class": "FileStreamSink", "file": output, "topics": lines});
        runs[3].push(sink_flow(env, &c, &of("file-sink"), config, &lines, n).await?);
    }
    let [generator, checking_sink, file_source, file_sink] = runs.map(|r| Flow::median(&r));
    figures.generator = generator;
    figures.checking_sink = checking_sink;
    figures.file_source = file_source;
    figures.file_sink = file_sink;

    let idle_topic = format!("cmp-idle-{tag}");
    env.kafka.ensure_topic(&idle_topic, 1, 1).await?;
    let mut running = 0;
    for (i, &target) in opts.task_counts.iter().enumerate() {
        let more = target.saturating_sub(running);
        if more == 0 {
            continue;
        }
        eprintln!(
            "[bench] kafka-connect: {} with {target} tasks",
            kind.label()
        );
        let name = format!("load-{i}");
        create_connector(
            &c.http,
            &c.base,
            &name,
            kind.generator(&idle_topic, more, Some(1)),
        )
        .await?;
        wait_running(&c.http, &c.base, &name, more, FLOW_TIMEOUT).await?;
        running = target;
        tokio::time::sleep(SETTLE).await;
        figures
            .loaded
            .push((running, c.process.rss_mib()?, c.process.threads()?));
    }
    Ok(figures)
}

/// Runs a source connector until it has added `n` records to its topic.
async fn source_flow(
    env: &Env,
    c: &Contender,
    name: &str,
    config: Value,
    topic: &str,
    n: u64,
) -> Result<Flow, String> {
    let mut high = env.high_watermark(topic)?;
    // Earlier runs wrote to the same topic.
    let before = high();
    flow(c, name, config, n, move || high().saturating_sub(before)).await
}

/// Runs a sink connector until its group has committed `n` records of
/// `topic`.
async fn sink_flow(
    env: &Env,
    c: &Contender,
    name: &str,
    config: Value,
    topic: &str,
    n: u64,
) -> Result<Flow, String> {
    // Named as both workers name the connector's group: connect-<name>.
    let progress = env.committed(name, topic)?;
    flow(c, name, config, n, progress).await
}

/// Creates connector `name`, follows `progress` (records through so far)
/// until `n`, and deletes it again.
async fn flow(
    c: &Contender,
    name: &str,
    config: Value,
    n: u64,
    mut progress: impl FnMut() -> u64 + Send + 'static,
) -> Result<Flow, String> {
    let pid = c.process.0.id();
    let created = Instant::now();
    create_connector(&c.http, &c.base, name, config).await?;
    let label = name.to_string();
    // Broker round trips, kept off the async threads.
    let watched = tokio::task::spawn_blocking(move || -> Result<Flow, String> {
        let cpu = || super::process::cpu_seconds(pid);
        let mut first = None;
        let mut warm: Option<(Instant, f64)> = None;
        loop {
            let through = progress();
            if through >= 1 {
                first.get_or_insert_with(|| created.elapsed());
            }
            if through >= n / 10 && warm.is_none() {
                warm = Some((Instant::now(), cpu()?));
            }
            if through >= n {
                let (at, cpu_then) = warm.unwrap_or((created, 0.0));
                let records = (n - n / 10).max(1) as f64;
                return Ok(Flow {
                    first: first.unwrap_or_default(),
                    per_second: records / at.elapsed().as_secs_f64().max(1e-9),
                    cpu_per_million: (cpu()? - cpu_then) / records * 1e6,
                });
            }
            if created.elapsed() > FLOW_TIMEOUT {
                return Err(format!(
                    "{label}: {through} of {n} records in {FLOW_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
    .await
    .map_err(|e| format!("{name}: the progress watcher failed: {e}"))?;
    let figures = watched.map_err(|e| format!("{} {e}", c.kind.label()))?;
    delete_connector(&c.http, &c.base, name).await?;
    Ok(figures)
}

fn print(ours: &Figures, theirs: &Figures, n: u64, repeats: usize) {
    println!();
    println!(
        "against Kafka Connect (standalone workers on the same broker, {n} records a flow, one task, medians of {repeats})"
    );
    println!(
        "| {:<52} | {:>12} | {:>13} | {:>9} |",
        "measure", "wasmconnect", "Kafka Connect", "ratio"
    );
    println!("|{:-<54}|{:->14}|{:->15}|{:->11}|", "", "", "", "");
    // `better_high`: whether a larger figure is better (ratio ours/theirs),
    // or a smaller one (theirs/ours), so every ratio reads "times better".
    let row = |label: &str, a: f64, b: f64, unit: &str, better_high: bool| {
        let ratio = if better_high { a / b } else { b / a };
        println!(
            "| {:<52} | {:>12} | {:>13} | {:>8.1}x |",
            label,
            format!("{a:.1}{unit}"),
            format!("{b:.1}{unit}"),
            if ratio.is_finite() { ratio } else { 0.0 }
        );
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    row(
        "start to REST ready",
        ms(ours.ready),
        ms(theirs.ready),
        " ms",
        false,
    );
    // The generator's first record, counted from the worker's start (the
    // settling pause between the two is left out).
    row(
        "start to first record (ready + creation to first)",
        ms(ours.ready + ours.generator.first),
        ms(theirs.ready + theirs.generator.first),
        " ms",
        false,
    );
    row("RSS, idle", ours.idle_rss, theirs.idle_rss, " MiB", false);
    let flows = [
        (
            "datagen / VerifiableSource",
            ours.generator,
            theirs.generator,
            true,
        ),
        (
            "null sink / VerifiableSink",
            ours.checking_sink,
            theirs.checking_sink,
            false,
        ),
        (
            "FileStreamSource",
            ours.file_source,
            theirs.file_source,
            true,
        ),
        ("FileStreamSink", ours.file_sink, theirs.file_sink, false),
    ];
    for (label, a, b, source) in flows {
        if source {
            row(
                &format!("{label}: creation to first record"),
                ms(a.first),
                ms(b.first),
                " ms",
                false,
            );
        }
        row(
            &format!("{label}: records/s per task"),
            a.per_second,
            b.per_second,
            "",
            true,
        );
        row(
            &format!("{label}: CPU s per million records"),
            a.cpu_per_million,
            b.cpu_per_million,
            "",
            false,
        );
    }
    for (a, b) in ours.loaded.iter().zip(&theirs.loaded) {
        row(
            &format!("RSS, {} running source tasks", a.0),
            a.1,
            b.1,
            " MiB",
            false,
        );
        row(
            &format!("threads, {} running source tasks", a.0),
            a.2 as f64,
            b.2 as f64,
            "",
            false,
        );
    }
}
