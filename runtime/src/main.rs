//! The `wasmconnect` command line.
//!
//! * `wasmconnect standalone WORKER.properties [CONNECTOR.properties|.json …]`:
//!   a standalone worker, as Kafka's `connect-standalone`. Exit codes: 1 for
//!   usage errors, 2 when the worker cannot start (bad worker file, no
//!   Kafka). A bad connector file is reported and skipped; the worker runs
//!   the others. SIGINT or SIGTERM stops it gracefully.
//! * `wasmconnect distributed WORKER.properties`: one worker of a cluster, as
//!   Kafka's `connect-distributed` (`group.id`, the three storage topics;
//!   see `config::distributed`). Same exit codes; on SIGINT or SIGTERM it
//!   stops its tasks (flushing offsets) and leaves the group.
//! * `wasmconnect plugin inspect FILE.wasm`: prints the world, metadata and
//!   configuration definition of a plugin, or exactly why the file is not a
//!   valid plugin (exit code 1).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wasmconnect::config::distributed::DistributedConfig;
use wasmconnect::config::worker::ExactlyOnceSource;
use wasmconnect::config::{WorkerConfig, connector_file, properties};
use wasmconnect::herder::{DistributedHerder, Herder, StandaloneHerder};
use wasmconnect::sandbox::GrantPolicy;
use wasmconnect::{Plugin, Sandbox, SandboxConfig};

#[derive(Parser)]
#[command(
    name = "wasmconnect",
    version,
    about = "A Kafka Connect-compatible worker for WebAssembly connectors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a standalone worker with the given connectors.
    Standalone {
        /// The worker properties file.
        worker: PathBuf,
        /// Connector configuration files (properties or JSON).
        connectors: Vec<PathBuf>,
    },
    /// Run one worker of a distributed cluster.
    Distributed {
        /// The worker properties file (with `group.id` and the storage
        /// topics).
        worker: PathBuf,
    },
    /// Measure throughput against raw rdkafka baselines, the sandbox's
    /// cost and the worker's footprint (see docs/benchmarks.md).
    Bench {
        /// The broker (a real one; see scripts/bench.sh).
        #[arg(long, default_value = "127.0.0.1:9092")]
        bootstrap: String,
        /// Where datagen.wasm and null-sink.wasm are.
        #[arg(long, default_value = "build/plugins")]
        plugin_dir: PathBuf,
        /// Records per run of 100-byte records.
        #[arg(long, default_value_t = 500_000)]
        records_100: u64,
        /// Records per run of 1 KiB records.
        #[arg(long, default_value_t = 100_000)]
        records_1k: u64,
        /// Runs per measurement; medians are shown.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Running-task counts at which the worker's RSS is measured.
        #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
        tasks: Vec<u32>,
        /// What to measure: `core` (baselines, sandbox tax, footprint),
        /// `polyglot` (the connectors of each language), `jdbc` (the JDBC
        /// connectors against PostgreSQL's COPY), `sinks` (the
        /// Elasticsearch, S3 and HDFS sinks against plain client loops),
        /// `kafka-connect` (side by side with Apache Kafka Connect), or `all`.
        #[arg(long, default_value = "all", value_parser = ["all", "core", "polyglot", "jdbc", "sinks", "kafka-connect"])]
        suite: String,
        /// Rows per run in the JDBC suite.
        #[arg(long, default_value_t = 100_000)]
        records_jdbc: u64,
        /// Records per run in the sinks suite (rounded up to a multiple of
        /// ten: the storage sinks write ten files of a tenth each).
        #[arg(long, default_value_t = 100_000)]
        records_sinks: u64,
        /// The repository's scripts (`opensearch.sh`, `hdfs.sh`), which
        /// start the sinks suite's servers.
        #[arg(long, default_value = "scripts")]
        scripts_dir: PathBuf,
        /// Records per flow in the comparison with Kafka Connect.
        #[arg(long, default_value_t = 200_000)]
        records_compare: u64,
        /// `scripts/kafka.sh`, which runs Kafka Connect for the comparison.
        #[arg(long, default_value = "scripts/kafka.sh")]
        kafka_sh: PathBuf,
        /// Records per run in the polyglot suite.
        #[arg(long, default_value_t = 200_000)]
        records_polyglot: u64,
        /// Where the polyglot suite finds the C, Zig, Go, Python and
        /// JavaScript components.
        #[arg(long, default_value = "build/polyglot")]
        polyglot_dir: PathBuf,
    },
    /// Work with plugin components.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Print a plugin's world, metadata and configuration definition.
    Inspect {
        /// The component to inspect.
        file: PathBuf,
    },
    /// Run a component through the whole contract (the conformance kit)
    /// and report each check; exits 1 if any fails.
    Test {
        /// The component to test.
        file: PathBuf,
        /// A connector setting, `key=value` (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// The value of a record handed to a sink or transform (repeatable;
        /// `{"schema":…,"payload":…}` is a JSON value with that Connect
        /// schema, as JsonConverter reads it; another JSON object or array
        /// a schemaless JSON value; anything else text). Without it, ten
        /// text records are generated.
        #[arg(long = "value", value_name = "VALUE")]
        values: Vec<String>,
        /// Print what a source polled or what a transform made of each
        /// record (the first five).
        #[arg(long)]
        show: bool,
    },
}

/// mimalloc (see `wasmconnect::allocator`).
#[global_allocator]
static ALLOCATOR: wasmconnect::allocator::MiMalloc = wasmconnect::allocator::MiMalloc;

/// Tunes the allocator before anything allocates: Rust's start-up code
/// allocates before `main`, and mimalloc fixes how it commits memory when
/// it first reserves it. Functions in `.init_array` run before that code.
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

extern "C" fn tune_allocator() {
    wasmconnect::allocator::tune();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Standalone { worker, connectors } => standalone(worker, connectors).await,
            Command::Distributed { worker } => distributed(worker).await,
            #[cfg(not(feature = "bench"))]
            Command::Bench { .. } => not_built_in(
                "the benchmark",
                "cargo build --release --features bench (scripts/bench.sh does)",
            ),
            #[cfg(feature = "bench")]
            Command::Bench {
                bootstrap,
                plugin_dir,
                records_100,
                records_1k,
                repeats,
                tasks,
                suite,
                records_polyglot,
                polyglot_dir,
                records_compare,
                kafka_sh,
                records_jdbc,
                records_sinks,
                scripts_dir,
            } => {
                let runs = |name: &str| suite == "all" || suite == name;
                let opts = wasmconnect::bench::BenchOptions {
                    bootstrap,
                    plugin_dir,
                    runs: vec![(100, records_100), (1024, records_1k)],
                    repeats: repeats.max(1),
                    task_counts: tasks,
                    core: runs("core"),
                    polyglot: runs("polyglot").then_some(records_polyglot.max(10)),
                    polyglot_dir,
                    jdbc: runs("jdbc").then_some(records_jdbc.max(10)),
                    sinks: runs("sinks").then_some(records_sinks.max(10)),
                    scripts_dir,
                    kafka_connect: runs("kafka-connect").then_some(
                        wasmconnect::bench::kafka_connect::KafkaConnectOptions {
                            kafka_sh,
                            records: records_compare,
                        },
                    ),
                };
                bench(opts).await
            }
            Command::Plugin {
                command: PluginCommand::Inspect { file },
            } => inspect(file).await,
            #[cfg(not(feature = "conformance"))]
            Command::Plugin {
                command: PluginCommand::Test { .. },
            } => not_built_in(
                "the conformance kit",
                "cargo build --features conformance (a default feature)",
            ),
            #[cfg(feature = "conformance")]
            Command::Plugin {
                command:
                    PluginCommand::Test {
                        file,
                        config,
                        values,
                        show,
                    },
            } => plugin_test(file, config, &values, show).await,
        }
    })
}

/// The answer to a subcommand whose code this build left out.
#[cfg(not(all(feature = "bench", feature = "conformance")))]
fn not_built_in(what: &str, how: &str) -> ExitCode {
    eprintln!("error: this wasmconnect was built without {what}; build it with: {how}");
    ExitCode::from(2)
}

#[cfg(feature = "conformance")]
async fn plugin_test(
    file: PathBuf,
    settings: Vec<String>,
    values: &[String],
    show: bool,
) -> ExitCode {
    let mut config = Vec::new();
    for s in settings {
        match s.split_once('=') {
            Some((k, v)) => config.push((k.trim().to_string(), v.to_string())),
            None => {
                eprintln!("error: --config {s}: expected KEY=VALUE");
                return ExitCode::from(2);
            }
        }
    }
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let sandbox = match tool_sandbox(8) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let report = wasmconnect::conformance::run(&sandbox, &bytes, config, values).await;
    println!("{}", file.display());
    print!("{}", report.render());
    if show {
        for sample in &report.samples {
            println!("  {sample}");
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(feature = "bench")]
async fn bench(opts: wasmconnect::bench::BenchOptions) -> ExitCode {
    // Unbounded grants (a tool's sandbox): the JDBC rows reach the bench's
    // own PostgreSQL on loopback, the polyglot rows files in its scratch
    // directory.
    let sandbox = match tool_sandbox(64) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match wasmconnect::bench::run(&opts, sandbox).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// A sandbox for a one-shot command (inspect, test, bench), sharing the
/// worker's artifact cache (a large plugin compiles once, not per command);
/// on failure the error is printed and the exit code returned.
fn tool_sandbox(max_instances: u32) -> Result<Sandbox, ExitCode> {
    Sandbox::new(SandboxConfig {
        cache_dir: artifact_cache_dir(),
        max_instances,
        ..SandboxConfig::default()
    })
    .map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}

fn init_logging() {
    wasmconnect::logs::init();
}

async fn inspect(file: PathBuf) -> ExitCode {
    let sandbox = match tool_sandbox(4) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let plugin = match Plugin::load_file(&sandbox, &file).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: not a valid wasmconnect plugin: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let info = plugin.info();
    println!("file:        {}", file.display());
    println!("world:       {}", info.world);
    println!("class:       {}", info.name);
    println!("aliases:     {}", info.aliases.join(", "));
    println!("version:     {}", info.version);
    println!("task class:  {}", info.task_class);
    println!("description: {}", info.description);
    println!("sha256:      {}", info.sha256);
    println!("config:");
    for key in plugin.config_definition() {
        let default = match (&key.required, &key.default_value) {
            (true, _) => "required".to_string(),
            (false, Some(d)) => format!("default {d:?}"),
            (false, None) => "default null".to_string(),
        };
        let resource = key
            .resource
            .map(|r| format!(", grants {r:?}"))
            .unwrap_or_default();
        println!(
            "  {:<20} {:?}, {default}, {:?}{resource}\n  {:<20} {}",
            key.name, key.type_, key.importance, "", key.documentation
        );
    }
    ExitCode::SUCCESS
}

/// Where precompiled plugins are cached between runs.
fn artifact_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("wasmconnect/artifacts"))
}

/// A worker that cannot start: logged, printed, exit code 2.
fn fail(message: String) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The worker file's properties and worker configuration.
fn worker_file_config(
    worker_file: &std::path::Path,
) -> Result<(Vec<(String, String)>, WorkerConfig), String> {
    let props = properties::load(worker_file).map_err(|e| e.to_string())?;
    let config = WorkerConfig::from_properties(&props)
        .map_err(|e| format!("{}: {e}", worker_file.display()))?;
    Ok((props, config))
}

async fn standalone(worker_file: PathBuf, connector_files: Vec<PathBuf>) -> ExitCode {
    let (_, mut config) = match worker_file_config(&worker_file) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if config.exactly_once_source != ExactlyOnceSource::Disabled {
        // Kafka Connect offers exactly-once sources in distributed mode
        // only (their offsets commit with the records, to a topic).
        tracing::warn!(
            "exactly.once.source.support applies to distributed workers only; this standalone \
             worker runs source connectors at least once"
        );
        config.exactly_once_source = ExactlyOnceSource::Disabled;
    }
    let sandbox = match worker_sandbox(&config, &worker_file) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let herder = match StandaloneHerder::start(config, &sandbox).await {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => return fail(e),
    };
    herder.spawn_rechecks();
    for file in &connector_files {
        let created = match connector_file::load(file) {
            Ok(config) => herder
                .create_or_update_from_file(config)
                .await
                .map_err(|e| e.message),
            Err(e) => Err(e),
        };
        if let Err(e) = created {
            tracing::error!(file = %file.display(), "connector not started: {e}");
        }
    }
    if let Err(e) = wasmconnect::rest::serve(herder.clone()).await {
        return fail(e);
    }
    tracing::info!(
        connectors = connector_files.len(),
        "wasmconnect standalone worker started"
    );
    wait_for_shutdown_signal().await;
    tracing::info!("stopping: flushing offsets and stopping tasks");
    herder.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

async fn distributed(worker_file: PathBuf) -> ExitCode {
    let (props, config) = match worker_file_config(&worker_file) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // The advertised address defaults to the advertised listener's.
    let advertised = wasmconnect::config::listeners::advertised_listener(&config);
    let host = match advertised.host.as_str() {
        "" | "0.0.0.0" => wasmconnect::config::listeners::hostname(),
        _ => advertised.host.clone(),
    };
    let settings = match DistributedConfig::from_properties(
        &props,
        &advertised.scheme,
        advertised.port,
        &host,
    ) {
        Ok(s) => s,
        Err(e) => return fail(format!("{}: {e}", worker_file.display())),
    };
    let sandbox = match worker_sandbox(&config, &worker_file) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let group = settings.group_id.clone();
    let herder = match DistributedHerder::start(config, settings, &sandbox).await {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    if let Err(e) = wasmconnect::rest::serve(herder.clone()).await {
        return fail(e);
    }
    tracing::info!(group = %group, worker_id = herder.worker().worker_id(), "wasmconnect distributed worker started");
    wait_for_shutdown_signal().await;
    tracing::info!("stopping: flushing offsets, stopping tasks, leaving the group");
    herder.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// The sandbox a worker file asks for: instance count, limits, maximums.
fn worker_sandbox(config: &WorkerConfig, worker_file: &std::path::Path) -> Result<Sandbox, String> {
    let mut sandbox_config = SandboxConfig {
        cache_dir: artifact_cache_dir(),
        ..SandboxConfig::default()
    };
    // How many instances (connectors and tasks) may be alive at once.
    match config
        .get("wasm.max.instances")
        .map(|v| v.trim().parse::<u32>())
    {
        None => {}
        Some(Ok(n)) if n > 0 => sandbox_config.max_instances = n,
        Some(_) => {
            return Err(format!(
                "{}: wasm.max.instances must be a positive whole number",
                worker_file.display()
            ));
        }
    }
    // Worker maximums that no connector's wasm.* limits may exceed, and
    // the worker's own defaults for connectors that ask for nothing.
    let lookup = |k: &str| config.get(k);
    let limits = sandbox_config
        .max_limits
        .overridden(true, lookup)
        .and_then(|max| {
            let defaults = sandbox_config.default_limits.overridden(false, lookup)?;
            Ok((max, defaults.capped_at(max)))
        });
    match limits {
        Ok((max, defaults)) => {
            sandbox_config.max_limits = max;
            sandbox_config.default_limits = defaults;
        }
        Err(problems) => {
            let text: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
            return Err(format!("{}: {}", worker_file.display(), text.join("; ")));
        }
    }
    // What connector configurations may name: files beneath the allowed
    // directories (by default this one), public hosts unless listed.
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let own = wasmconnect::config::listeners::listener_addrs(&config.listeners);
    sandbox_config.grant_policy = GrantPolicy::from_worker(&config.raw, &cwd, own)
        .map_err(|e| format!("{}: {e}", worker_file.display()))?;
    // Outbound HTTPS trusts the system's roots and the worker's CA file.
    if let Some(ca) = config
        .get("sandbox.http.ca.file")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let tls = wasmconnect::config::tls::outbound_http(Some(std::path::Path::new(ca)))
            .map_err(|e| format!("{}: {e}", worker_file.display()))?;
        sandbox_config.http_tls = std::sync::Arc::new(tls);
    }
    Sandbox::new(sandbox_config).map_err(|e| format!("{e:#}"))
}

async fn wait_for_shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
