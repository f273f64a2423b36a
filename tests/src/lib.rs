//! # wasmconnect end-to-end test harness
//!
//! What the tests in `tests/tests/` share:
//!
//! * [`plugin_path`]: the bundled components built by
//!   `scripts/build-plugins.sh` (into `build/plugins/`, or
//!   `$WASMCONNECT_PLUGIN_DIR`);
//! * [`sandbox`] / [`load`]: one sandbox per test binary, with an artifact
//!   cache that survives between runs;
//! * [`Broker`]: Apache Kafka itself (KRaft, from the jars
//!   `scripts/kafka.sh install` caches) on free loopback ports, one node or
//!   a cluster, killed when dropped;
//! * [`wait_until`]: polling a condition with a deadline (tests never sleep
//!   to synchronise);
//! * [`tls::TestPki`]: certificates for HTTPS listeners;
//! * [`databases`]: PostgreSQL and MariaDB servers of a test's own, and
//!   SQL run through their clients (and SQLite's);
//! * [`search`]: an OpenSearch node of a test's own ([`scripted`]: what
//!   it shares with [`hdfs`], a server a repository script runs);
//! * [`objects`]: an S3-compatible server (s3s-fs) of a test's own;
//! * [`hdfs`]: an HDFS (MiniDFSCluster with WebHDFS) of a test's own;
//! * [`receiver`]: small HTTP(S) endpoints that record what they get.
//! * [`replay`]: the JSON-lines replay sources (a Java one for Kafka
//!   Connect, a component for us) the transforms comparison runs.

pub mod cluster_setup;
pub mod compat;
pub mod databases;
pub mod hdfs;
pub mod objects;
pub mod receiver;
pub mod replay;
pub mod rest_client;
pub mod rest_setup;
pub mod scripted;
pub mod search;
pub mod tls;
pub mod transform_cases;

pub use rest_client::{Reply, Rest};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use wasmconnect::{Plugin, Sandbox, SandboxConfig};

/// The sandbox settings a worker file with
/// `sandbox.allowed.hosts=127.0.0.1` and `sandbox.allowed.dirs=<allowed>`
/// gives, sharing the test binaries' artifact cache (a Python component
/// compiles once, about 10 s, then loads in milliseconds).
pub fn worker_sandbox_config(allowed: &Path) -> SandboxConfig {
    let allowed = allowed.to_str().expect("UTF-8 temporary directory");
    let policy = wasmconnect::sandbox::GrantPolicy::from_worker(
        &config(&[
            ("sandbox.allowed.hosts", "127.0.0.1"),
            ("sandbox.allowed.dirs", allowed),
        ]),
        Path::new(allowed),
        Vec::new(),
    )
    .expect("worker grant policy");
    // target/<profile>/deps/<test> → target/<profile>/test-artifacts, as
    // sandbox() does.
    let cache = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|p| p.join("test-artifacts")));
    SandboxConfig {
        cache_dir: cache,
        max_instances: 8,
        grant_policy: policy,
        ..SandboxConfig::default()
    }
}

/// A sandbox with [`worker_sandbox_config`].
pub fn worker_sandbox(allowed: &Path) -> Sandbox {
    Sandbox::new(worker_sandbox_config(allowed)).expect("sandbox")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The directory holding the built plugins.
pub fn plugin_dir() -> PathBuf {
    std::env::var_os("WASMCONNECT_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/plugins"))
}

/// The directory holding the test-only connectors (`misbehaving-source`,
/// …), built from `guest-connectors/testing/` apart from the bundled ones
/// so that a user's worker never lists them.
pub fn test_connector_dir() -> PathBuf {
    std::env::var_os("WASMCONNECT_TEST_CONNECTOR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/test-connectors"))
}

/// The built component `name` (for example `file-source`), bundled or
/// test-only; panics with the command to run when it is missing.
pub fn plugin_path(name: &str) -> PathBuf {
    let file = format!("{name}.wasm");
    let bundled = plugin_dir().join(&file);
    let path = if bundled.exists() {
        bundled
    } else {
        test_connector_dir().join(&file)
    };
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/build-plugins.sh` first",
        path.display()
    );
    path
}

/// A program of the test tools' Python venv (`venv/bin/<name>`: `python`,
/// `schemathesis`), which `scripts/setup.sh` installs from
/// `tests/requirements-tools.txt` into `$WASMCONNECT_TEST_TOOLS` (default
/// `~/.cache/wasmconnect/test-tools`); panics with the command to run when
/// it is missing.
pub fn test_tool(name: &str) -> PathBuf {
    let tools = std::env::var_os("WASMCONNECT_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache")
                });
            cache.join("wasmconnect/test-tools")
        });
    let bin = tools.join("venv/bin").join(name);
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup.sh, which installs tests/requirements-tools.txt",
        bin.display()
    );
    bin
}

/// The directory holding the C, Zig, Go, Python and JavaScript components
/// (`build/polyglot`, or `$WASMCONNECT_POLYGLOT_PLUGIN_DIR`).
pub fn polyglot_dir() -> PathBuf {
    std::env::var_os("WASMCONNECT_POLYGLOT_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/polyglot"))
}

/// `dir/plugins`, holding copies of the named polyglot components only, so
/// a worker given it as its `plugin.path` compiles just those.
pub fn polyglot_plugins(dir: &Path, names: &[&str]) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("a plugin directory");
    for name in names {
        let built = polyglot_dir().join(format!("{name}.wasm"));
        assert!(
            built.exists(),
            "{} is missing: run `bash scripts/build-plugins.sh`",
            built.display()
        );
        std::fs::copy(&built, plugins.join(format!("{name}.wasm"))).expect("copy a component");
    }
    plugins
}

/// One sandbox per test binary. Its artifact cache lives in the cargo
/// target directory, so components compile once across runs.
pub fn sandbox() -> Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            // target/<profile>/deps/<test> → target/<profile>/test-artifacts
            let cache = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent()?.parent().map(|p| p.join("test-artifacts")));
            Sandbox::new(SandboxConfig {
                cache_dir: cache,
                max_instances: 64,
                ..SandboxConfig::default()
            })
            .expect("sandbox")
        })
        .clone()
}

/// Loads the bundled plugin `name` into the shared sandbox.
pub async fn load(name: &str) -> Plugin {
    Plugin::load_file(&sandbox(), plugin_path(name))
        .await
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// A `Work` of `connectors` and `(connector, task)` pairs.
pub fn work(
    connectors: &[&str],
    tasks: &[(&str, i32)],
) -> wasmconnect::distributed::protocol::Work {
    use wasmconnect::distributed::protocol::{TaskId, Work};
    Work {
        connectors: connectors.iter().map(|c| c.to_string()).collect(),
        tasks: tasks
            .iter()
            .map(|(c, t)| TaskId {
                connector: c.to_string(),
                task: *t,
            })
            .collect(),
    }
}

/// A configuration map from pairs.
pub fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Polls `condition` every 20 ms until it holds; panics naming `what` when
/// `timeout` passes first.
pub async fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Apache Kafka (KRaft, each node broker and controller) on free loopback
/// ports, started by `scripts/kafka.sh start` in a directory of its own and
/// killed when dropped.
pub struct Broker {
    dir: tempfile::TempDir,
    bootstrap: String,
}

impl Broker {
    /// One node, the usual test broker; waits until a metadata request
    /// succeeds.
    pub fn start() -> Broker {
        Broker::cluster(1)
    }

    /// `nodes` nodes in one cluster (internal topics replicated up to three
    /// times, transactions needing two in sync when there are three).
    pub fn cluster(nodes: usize) -> Broker {
        let ports: Vec<u16> = (0..nodes).map(|_| free_port()).collect();
        let controllers: Vec<u16> = (0..nodes).map(|_| free_port()).collect();
        let join = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
        let dir = tempfile::tempdir().expect("broker dir");
        let out = kafka_sh(dir.path())
            .arg("start")
            .env("KAFKA_PORTS", join(&ports))
            .env("KAFKA_CONTROLLER_PORTS", join(&controllers))
            .output()
            .expect("run scripts/kafka.sh");
        let broker = Broker {
            bootstrap: ports
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(","),
            dir,
        };
        assert!(
            out.status.success(),
            "scripts/kafka.sh start failed (install the jars with `bash scripts/setup.sh`):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        broker.wait_ready(Duration::from_secs(60));
        broker
    }

    /// `host:port[,host:port…]` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Kills node `n` (from 1) with SIGKILL: a broker crash under load.
    pub fn kill_node(&self, n: usize) {
        let pid_file = self.dir.path().join(format!("node-{n}/pid"));
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
        let status = Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -KILL {pid}");
    }

    /// Starts `nodes` (from 1) again after [`Broker::kill_node`], from
    /// their data, all at once (a quorum needs a majority to start), and
    /// waits until each has started.
    pub fn restart_nodes(&self, nodes: &[usize]) {
        let mut args = vec!["start-node".to_string()];
        args.extend(nodes.iter().map(usize::to_string));
        kafka_sh_ok(self.dir.path(), &args);
    }

    /// The log of node `n` (from 1).
    pub fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node-{n}/server.log")))
            .unwrap_or_default()
    }

    fn wait_ready(&self, timeout: Duration) {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("metadata client");
        let nodes = self.bootstrap.split(',').count();
        let deadline = Instant::now() + timeout;
        loop {
            match consumer.fetch_metadata(None, Duration::from_secs(2)) {
                Ok(md) if md.brokers().len() == nodes => return,
                other => assert!(
                    Instant::now() < deadline,
                    "broker at {} not ready after {timeout:?}: {:?}\n{}",
                    self.bootstrap,
                    other.map(|md| md.brokers().len()),
                    self.log(1)
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // SIGKILL: a test's broker holds nothing worth a controlled shutdown.
        let _ = kafka_sh(self.dir.path()).arg("kill").status();
    }
}

/// Polls `fetch` until what it returns equals `want` (two minutes at
/// most); otherwise fails naming the keys missing, extra and different,
/// with `context()` (a worker's log, say).
pub async fn wait_for_contents<V: PartialEq>(
    what: &str,
    want: &std::collections::BTreeMap<String, V>,
    mut fetch: impl AsyncFnMut() -> std::collections::BTreeMap<String, V>,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got = fetch().await;
    while &got != want {
        if Instant::now() > deadline {
            let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
            let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
            let differ: Vec<&String> = want
                .iter()
                .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
                .map(|(k, _)| k)
                .collect();
            panic!(
                "{what} did not reach the {} expected: {} there, missing {missing:?}, extra {extra:?}, different {differ:?}\n{}",
                want.len(),
                got.len(),
                context()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        got = fetch().await;
    }
}

/// Runs `wasmconnect plugin test` (the conformance kit) on the bundled
/// plugin `name` in `dir`, with each `settings` item `key=value` as a
/// `--config` and each of `values` as a `--value`; fails the test unless
/// every check passes and the report contains `expected`.
pub fn conformance_kit(
    dir: &Path,
    name: &str,
    settings: &[String],
    values: &[String],
    expected: &str,
) {
    let mut command = Command::new(worker_bin());
    command
        .current_dir(dir)
        .args(["plugin", "test"])
        .arg(plugin_dir().join(format!("{name}.wasm")));
    for setting in settings {
        command.arg("--config").arg(setting);
    }
    for value in values {
        command.arg("--value").arg(value);
    }
    let output = command.output().expect("run wasmconnect plugin test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" 0 failed") && stdout.contains(expected),
        "{name} failed the conformance kit:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The jar of Kafka's `connect-test-plugins` (its Verifiable source and
/// sink), installed by `scripts/kafka.sh` beside the jars but off Kafka
/// Connect's default classpath.
pub fn kafka_test_plugins() -> PathBuf {
    let out = kafka_sh_ok(&std::env::temp_dir(), &["test-plugins".to_string()]);
    PathBuf::from(out.trim())
        .join("connect-test-plugins")
        .join("*")
}

/// Runs `scripts/kafka.sh args…` with its data in `dir` and returns what it
/// printed; a failure fails the test with what it said.
fn kafka_sh_ok(dir: &Path, args: &[String]) -> String {
    let out = kafka_sh(dir)
        .args(args)
        .output()
        .expect("run scripts/kafka.sh");
    assert!(
        out.status.success(),
        "scripts/kafka.sh {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bash scripts/kafka.sh` with its data in `dir`. Test JVMs compile with
/// C1 only: they start in about half the time, and tests are not
/// throughput runs.
fn kafka_sh(dir: &Path) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts/kafka.sh"))
        .env("KAFKA_DIR", dir)
        .env("KAFKA_HEAP_OPTS", "-Xms64m -Xmx384m")
        .env("KAFKA_JVM_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .stdin(Stdio::null());
    cmd
}

/// The records in `topic` (partition 0) up to its high watermark, as text.
pub fn topic_values(bootstrap: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let (_, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    while (out.len() as i64) < high {
        let msg = consumer
            .poll(Duration::from_secs(10))
            .expect("record within 10 s")
            .unwrap();
        out.push(
            String::from_utf8(rdkafka::Message::payload(&msg).unwrap_or_default().to_vec())
                .unwrap(),
        );
    }
    out
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The `wasmconnect` binary built beside the test binaries
/// (`scripts/test.sh` builds it), or `$WASMCONNECT_BIN`.
pub fn worker_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("WASMCONNECT_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/wasmconnect
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("wasmconnect"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p wasmconnect --bin wasmconnect --features bench` first",
        bin.display()
    );
    bin
}

/// A standalone worker's properties for tests: `bootstrap`, String
/// converters, offsets in `connect.offsets` flushed every 200 ms, a 6 s
/// consumer session, REST on `port`, the bundled and the test-only
/// connectors, file grants
/// allowed beneath the temporary directory (a cluster member's working
/// directory is a subdirectory of the test's, where its files are); then
/// `extra` (later keys win).
pub fn worker_props(bootstrap: &str, port: u16, extra: &str) -> String {
    let plugins = format!(
        "{},{}",
        plugin_dir().display(),
        test_connector_dir().display()
    );
    worker_props_with_plugins(bootstrap, port, Path::new(&plugins), extra)
}

/// As [`worker_props`], with `plugin.path` set to `plugins`.
pub fn worker_props_with_plugins(
    bootstrap: &str,
    port: u16,
    plugins: &Path,
    extra: &str,
) -> String {
    format!(
        "bootstrap.servers={bootstrap}\nkey.converter=StringConverter\nvalue.converter=StringConverter\n\
         offset.storage.file.filename=connect.offsets\noffset.flush.interval.ms=200\n\
         consumer.session.timeout.ms=6000\nlisteners=http://127.0.0.1:{port}\nplugin.path={}\n{}{extra}",
        plugins.display(),
        sandbox_dirs()
    )
}

/// `sandbox.allowed.dirs` set to the temporary directory every test works
/// in (canonical, as the worker compares resolved paths).
pub fn sandbox_dirs() -> String {
    let tmp = std::env::temp_dir();
    let tmp = std::fs::canonicalize(&tmp).unwrap_or(tmp);
    format!("sandbox.allowed.dirs={}\n", tmp.display())
}

/// Starts a worker in `dir` with `props` (REST on `port`, no connector
/// files) and waits until its REST API answers.
pub async fn start_worker(dir: &Path, props: &str, port: u16) -> (WorkerProcess, Rest) {
    let worker = WorkerProcess::start(dir, props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    (worker, rest)
}

/// A worker process (`wasmconnect standalone|distributed`, or Kafka Connect
/// itself), its files in a directory of its own.
pub struct WorkerProcess {
    child: Child,
    log: PathBuf,
}

impl WorkerProcess {
    /// Starts `wasmconnect standalone worker.properties connectors…` in
    /// `dir`, writing `worker` and each `(file name, contents)` there first.
    /// The log (stderr) goes to `dir/worker-<n>.log`.
    pub fn start(dir: &Path, worker: &str, connectors: &[(&str, &str)]) -> WorkerProcess {
        let args = Self::write_files(dir, worker, connectors);
        Self::spawn(dir, "standalone", &args)
    }

    /// Starts `wasmconnect distributed worker.properties` in `dir`.
    pub fn distributed(dir: &Path, worker: &str) -> WorkerProcess {
        std::fs::write(dir.join("worker.properties"), worker).expect("worker file");
        Self::spawn(dir, "distributed", &[dir.join("worker.properties")])
    }

    /// Starts Apache Kafka Connect itself in `dir`, from the jars
    /// `scripts/kafka.sh` installs: `ConnectStandalone worker.properties
    /// connectors…`, or `ConnectDistributed worker.properties` when
    /// `distributed`. The reference the compatibility tests compare with.
    pub fn kafka_connect(
        dir: &Path,
        distributed: bool,
        worker: &str,
        connectors: &[(&str, &str)],
    ) -> WorkerProcess {
        let args = Self::write_files(dir, worker, connectors);
        let main = if distributed {
            "org.apache.kafka.connect.cli.ConnectDistributed"
        } else {
            "org.apache.kafka.connect.cli.ConnectStandalone"
        };
        let mut cmd = kafka_sh(dir);
        cmd.args(["java", main]).args(&args);
        Self::spawn_command(dir, cmd)
    }

    /// As [`WorkerProcess::kafka_connect`] in distributed mode, with
    /// `classpath` added to Kafka Connect's (Kafka's test plugins).
    pub fn kafka_connect_with(dir: &Path, worker: &str, classpath: &Path) -> WorkerProcess {
        let args = Self::write_files(dir, worker, &[]);
        let mut cmd = kafka_sh(dir);
        cmd.env("KAFKA_EXTRA_CLASSPATH", classpath)
            .args(["java", "org.apache.kafka.connect.cli.ConnectDistributed"])
            .args(&args);
        Self::spawn_command(dir, cmd)
    }

    fn write_files(dir: &Path, worker: &str, connectors: &[(&str, &str)]) -> Vec<PathBuf> {
        std::fs::write(dir.join("worker.properties"), worker).expect("worker file");
        let mut args = vec![dir.join("worker.properties")];
        for (name, contents) in connectors {
            std::fs::write(dir.join(name), contents).expect("connector file");
            args.push(dir.join(name));
        }
        args
    }

    fn spawn(dir: &Path, mode: &str, args: &[PathBuf]) -> WorkerProcess {
        let mut cmd = Command::new(worker_bin());
        cmd.arg(mode).args(args).env("RUST_LOG", "info");
        Self::spawn_command(dir, cmd)
    }

    fn spawn_command(dir: &Path, mut cmd: Command) -> WorkerProcess {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let log = dir.join(format!("worker-{n}.log"));
        // Kept apart from the log: Kafka's Verifiable sink prints what it
        // committed there (tests/tests/chaos.rs reads it).
        let stdout = dir.join(format!("worker-{n}.stdout"));
        let child = cmd
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start the worker");
        WorkerProcess { child, log }
    }

    /// Everything the worker logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The worker's resident set size, from `/proc/<pid>/status`.
    pub fn rss_bytes(&self) -> u64 {
        self.status_field("VmRSS") * 1024
    }

    /// Threads the worker process runs now.
    pub fn threads(&self) -> u64 {
        self.status_field("Threads")
    }

    /// The worker's threads by name, with how many of each.
    pub fn thread_names(&self) -> std::collections::BTreeMap<String, usize> {
        let mut names = std::collections::BTreeMap::new();
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        for task in tasks.into_iter().flatten().flatten() {
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            *names.entry(name.trim().to_string()).or_insert(0) += 1;
        }
        names
    }

    /// A numeric field of the worker's `/proc/<pid>/status` (kB for sizes).
    fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the worker's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Kills the worker with SIGKILL: no flush, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait_exit(timeout)
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit on its own; returns the exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "worker still running after {timeout:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Number of complete lines in `path` (0 when it does not exist).
pub fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Polls (blocking) until `path` holds at least `lines` lines.
pub fn wait_for_lines(path: &Path, lines: usize, timeout: Duration, worker: &WorkerProcess) {
    let deadline = Instant::now() + timeout;
    loop {
        let have = line_count(path);
        if have >= lines {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {have} of {lines} lines after {timeout:?}; worker log:\n{}",
            path.display(),
            worker.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A test-only artifact built by `scripts/build-plugins.sh` into
/// `build/test-plugins/` (or `$WASMCONNECT_TEST_PLUGIN_DIR`).
pub fn test_plugin_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("WASMCONNECT_TEST_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/test-plugins"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/build-plugins.sh` first",
        path.display()
    );
    path
}

/// Appends `text` to `path`, creating the file if needed.
pub fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("appending to {}: {e}", path.display()));
}
