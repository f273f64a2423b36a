//! Isolation under hostile and broken plugins: the faults that differ only
//! by data in one table ([`FAULTS`]), the rest one test each.
//!
//! Every scenario runs a real worker against a real broker with a healthy
//! file-source → Kafka → file-sink pipeline streaming a known sequence.
//! Then a misbehaving connector commits its fault, and the test checks that
//!
//! * only its task is FAILED, with a trace naming the cause;
//! * the healthy sink receives the whole sequence, exactly once, in order;
//! * REST answered every probe (one every 20 ms) within 100 ms;
//! * the worker's RSS comes back to within a few MiB of where it was;
//! * once the cause is gone (its `fault.switch` file says `off`),
//!   `POST …/tasks/0/restart` brings the task back to RUNNING.
//!
//! The scenarios run one at a time (see [`SERIAL`]): several of them keep
//! a core busy on purpose, and on a 2-core machine two at once would
//! measure each other rather than the worker.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, append, free_port, line_count, start_worker, wait_for_lines,
    worker_props,
};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The slowest REST answer allowed while a fault happens. A worker that a
/// fault blocked would take seconds; the bound leaves room for a second
/// test binary sharing the two cores (`scripts/lib/run_tests.py`), which
/// once made an answer take 119 ms.
const REST_BOUND: Duration = Duration::from_millis(300);
/// How far above its pre-fault RSS the worker may settle.
const RSS_SLACK: u64 = 8 << 20;

const SOURCE: &str = "io.wasmconnect.testing.MisbehavingSourceConnector";
const SINK: &str = "io.wasmconnect.testing.MisbehavingSinkConnector";

/// A worker with a healthy pipeline, and the sequence it has streamed.
struct Scenario {
    _broker: Broker,
    dir: tempfile::TempDir,
    worker: WorkerProcess,
    rest: Rest,
    input: PathBuf,
    output: PathBuf,
    switch: PathBuf,
    expected: String,
    sent: usize,
    /// Held for the whole scenario; declared last so that it is released
    /// only after the worker and the broker are gone.
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl Scenario {
    /// Waits for its turn (see [`SERIAL`]), starts the broker, the worker
    /// and the healthy pipeline, and waits for a first part of the sequence
    /// to cross it.
    async fn start() -> Scenario {
        let serial = SERIAL.lock().await;
        let broker = Broker::start();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        // The network test grants connections to servers on loopback.
        let props = worker_props(
            broker.bootstrap(),
            port,
            "sandbox.allowed.hosts=127.0.0.1\n",
        );
        let (worker, rest) = start_worker(dir.path(), &props, port).await;
        let (input, output) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
        std::fs::create_dir(dir.path().join("granted")).unwrap();
        let switch = dir.path().join("granted/switch");
        std::fs::write(&switch, "on").unwrap();
        let mut s = Scenario {
            _broker: broker,
            dir,
            worker,
            rest,
            input,
            output,
            switch,
            expected: String::new(),
            sent: 0,
            _serial: serial,
        };
        s.create(
            "src",
            json!({"connector.class": "FileStreamSource", "file": s.input.to_str().unwrap(), "topic": "healthy"}),
        )
        .await;
        s.create(
            "snk",
            json!({"connector.class": "FileStreamSink", "file": s.output.to_str().unwrap(), "topics": "healthy"}),
        )
        .await;
        s.stream(200);
        wait_for_lines(&s.output, s.sent, Duration::from_secs(60), &s.worker);
        s
    }

    async fn create(&self, name: &str, config: Value) {
        let r = self.rest.create(name, &config).await;
        assert_eq!(r.status, 201, "create {name}: {:?}", r.body);
    }

    /// A misbehaving connector's config: `fields` plus the fault switch.
    fn faulty(&self, class: &str, fields: Value) -> Value {
        let mut config =
            json!({"connector.class": class, "fault.switch": self.switch.to_str().unwrap()});
        for (k, v) in fields.as_object().unwrap() {
            config[k] = v.clone();
        }
        config
    }

    /// Appends `n` more lines of the known sequence to the healthy source.
    fn stream(&mut self, n: usize) {
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(&format!("seq {}\n", self.sent));
            self.sent += 1;
        }
        append(&self.input, &text);
        self.expected.push_str(&text);
    }

    /// Streams 1,000 lines in steps while the fault happens, then checks
    /// the healthy sink got every line exactly once and in order.
    async fn stream_through_the_fault(&mut self) {
        for _ in 0..20 {
            self.stream(50);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        wait_for_lines(
            &self.output,
            self.sent,
            Duration::from_secs(60),
            &self.worker,
        );
        let got = std::fs::read_to_string(&self.output).unwrap();
        assert!(
            got == self.expected,
            "the healthy pipeline lost or repeated records: {} lines, expected {}",
            line_count(&self.output),
            self.sent
        );
        self.assert_running("src").await;
        self.assert_running("snk").await;
    }

    async fn status(&self, name: &str) -> Value {
        let r = self
            .rest
            .call("GET", &format!("/connectors/{name}/status"), None)
            .await;
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        r.body
    }

    async fn assert_running(&self, name: &str) {
        let status = self.status(name).await;
        assert_eq!(status["tasks"][0]["state"], "RUNNING", "{name}: {status}");
    }

    /// Waits for the connector's task 0 to fail; returns its trace.
    async fn failed_trace(&self, name: &str) -> String {
        let r = self
            .rest
            .wait_for(
                &format!("/connectors/{name}/status"),
                "a FAILED task",
                |r| r.body["tasks"][0]["state"] == "FAILED",
            )
            .await;
        assert_eq!(
            r.body["connector"]["state"], "RUNNING",
            "only the task fails: {}",
            r.body
        );
        r.body["tasks"][0]["trace"].as_str().unwrap().to_string()
    }

    /// Waits (bounded) for the worker's RSS to settle within
    /// [`RSS_SLACK`] of `before`, and prints both.
    async fn assert_rss_back(&self, before: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.worker.rss_bytes();
            if now <= before + RSS_SLACK {
                println!(
                    "{what}: worker RSS {:.1} MiB before the fault, {:.1} MiB after",
                    mib(before),
                    mib(now)
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: worker RSS stayed at {:.1} MiB, {:.1} MiB before the fault",
                mib(now),
                mib(before)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Turns the cause off and restarts task 0 through REST.
    async fn recover(&self, name: &str) {
        std::fs::write(&self.switch, "off").unwrap();
        let r = self
            .rest
            .call("POST", &format!("/connectors/{name}/tasks/0/restart"), None)
            .await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        self.rest
            .wait_for(
                &format!("/connectors/{name}/status"),
                "the task RUNNING again",
                |r| r.body["tasks"][0]["state"] == "RUNNING",
            )
            .await;
    }

    /// Runs a fault end to end: creates `name` with `config`, streams
    /// through the fault under a REST prober, checks the trace with
    /// `check`, the RSS, and the recovery. Returns the final status.
    async fn contain(&mut self, name: &str, config: Value, check: impl Fn(&str)) -> Value {
        std::fs::write(&self.switch, "on").unwrap();
        let before = self.worker.rss_bytes();
        let prober = Prober::start(self.rest.clone(), format!("/connectors/{name}/status"));
        self.create(name, config).await;
        let trace = self.failed_trace(name).await;
        check(&trace);
        self.stream_through_the_fault().await;
        prober.finish(name).await;
        self.assert_rss_back(before, name).await;
        let failed = self.status(name).await;
        self.recover(name).await;
        failed
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Asks REST for one path every 20 ms and keeps the slowest answer.
struct Prober {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(usize, Duration)>,
}

impl Prober {
    fn start(rest: Rest, path: String) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut n, mut slowest) = (0, Duration::ZERO);
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = rest.call("GET", &path, None).await;
                slowest = slowest.max(t.elapsed());
                assert!(r.status == 200 || r.status == 404, "{r:?}");
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (n, slowest)
        });
        Prober { stop, task }
    }

    async fn finish(self, what: &str) {
        self.stop.store(true, Ordering::Relaxed);
        let (n, slowest) = self.task.await.unwrap();
        println!(
            "{what}: {n} REST probes during the fault, slowest {} ms",
            slowest.as_millis()
        );
        assert!(n > 10, "{what}: only {n} probes");
        assert!(
            slowest < REST_BOUND,
            "{what}: REST took {} ms to answer during the fault",
            slowest.as_millis()
        );
    }
}

/// How a contained fault's trace must read.
enum Trace {
    /// Word for word.
    Is(&'static str),
    /// Begins with the first, and mentions the second somewhere.
    Begins(&'static str, &'static str),
    /// Mentions both.
    Mentions(&'static str, &'static str),
}

impl Trace {
    fn check(&self, fault: &str, trace: &str) {
        let ok = match self {
            Trace::Is(want) => trace == *want,
            Trace::Begins(start, also) => trace.starts_with(start) && trace.contains(also),
            Trace::Mentions(a, b) => trace.contains(a) && trace.contains(b),
        };
        assert!(ok, "{fault}: the trace does not read as it should: {trace}");
    }
}

/// A fault that differs from the others only by data: which connector
/// commits it, with which settings, and the trace it must leave.
struct Fault {
    name: &'static str,
    class: &'static str,
    settings: fn() -> Value,
    trace: Trace,
}

const FAULTS: &[Fault] = &[
    Fault {
        name: "panic in poll",
        class: SOURCE,
        settings: || json!({"mode": "panic-in-poll", "message": "kaboom 42"}),
        trace: Trace::Begins("plugin trapped in poll: wasm trap:", "kaboom 42"),
    },
    Fault {
        name: "panic in put",
        class: SINK,
        settings: || json!({"mode": "panic-in-put", "message": "put went wrong", "topics": "healthy"}),
        trace: Trace::Begins("plugin trapped in put: wasm trap:", "put went wrong"),
    },
    Fault {
        name: "trap in start",
        class: SOURCE,
        settings: || json!({"mode": "trap-in-start"}),
        trace: Trace::Mentions("plugin trapped in start: wasm trap:", "unreachable"),
    },
    Fault {
        name: "endless loop",
        class: SOURCE,
        settings: || json!({"mode": "loop-in-poll", "wasm.call.timeout.ms": "500"}),
        trace: Trace::Is("plugin did not return from poll within its 500 ms call deadline"),
    },
    Fault {
        name: "sleep past the deadline",
        class: SOURCE,
        settings: || json!({"mode": "sleep-in-poll", "wasm.call.timeout.ms": "500"}),
        trace: Trace::Is("plugin did not return from poll within its 500 ms call deadline"),
    },
    Fault {
        name: "stack overflow",
        class: SOURCE,
        settings: || json!({"mode": "stack-overflow"}),
        trace: Trace::Is(
            "plugin overflowed its call stack in poll (recursion deeper than the 512 KiB wasm stack allows)",
        ),
    },
    Fault {
        name: "enormous batch",
        class: SOURCE,
        settings: || json!({"mode": "enormous-batch", "enormous.batch": "200000"}),
        trace: Trace::Is(
            "plugin returned 200000 records from poll, more than its limit of 100000 (wasm.poll.max.records)",
        ),
    },
];

/// Each fault of [`FAULTS`] in a scenario of its own, one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_contained() {
    for fault in FAULTS {
        println!("fault: {}", fault.name);
        let mut s = Scenario::start().await;
        let config = s.faulty(fault.class, (fault.settings)());
        s.contain("bad", config, |trace| fault.trace.check(fault.name, trace))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_memory_growth() {
    let mut s = Scenario::start().await;
    let config = s.faulty(
        SOURCE,
        json!({"mode": "grow-memory", "wasm.memory.bytes": "67108864"}),
    );
    let failed = s
        .contain("bad", config, |trace| {
            assert!(
                trace.starts_with("plugin exceeded its memory limit of 64 MiB in poll"),
                "{trace}"
            );
        })
        .await;
    let usage = &failed["tasks"][0]["resources"];
    assert!(
        usage["peak_memory_bytes"].as_u64().unwrap() > 60 << 20,
        "{usage}"
    );
    assert_eq!(usage["faults"], 1, "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_escapes_are_denied() {
    let mut s = Scenario::start().await;
    let dir = s.dir.path().to_path_buf();
    std::fs::write(dir.join("secret.txt"), "not yours").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("granted/link")).unwrap();
    let targets = [
        ("abs", "/etc/passwd".to_string()),
        ("dotdot", format!("{}/granted/../secret.txt", dir.display())),
        ("symlink", format!("{}/granted/link", dir.display())),
    ];
    for (name, target) in targets {
        let config = s.faulty(SOURCE, json!({"mode": "read-file", "target": target}));
        s.contain(name, config, |trace| {
            assert!(
                trace.starts_with(&format!(
                    "poll failed: could not read {target}: through WASI: "
                )),
                "{trace}"
            );
            assert!(
                trace.contains("is not named by any file setting of this connector"),
                "{trace}"
            );
            assert!(!trace.contains("ALLOWED"), "{trace}");
        })
        .await;
    }
}

/// A loopback listener that counts the connections it accepts and answers
/// each with an HTTP 200.
fn http_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            use std::io::{Read, Write};
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (address, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_access_only_where_granted() {
    let mut s = Scenario::start().await;
    let (forbidden, forbidden_hits) = http_server();
    let (granted, granted_hits) = http_server();

    // A raw IP address the connector was not granted: refused in the sandbox.
    let config = s.faulty(SOURCE, json!({"mode": "connect", "address": forbidden}));
    s.contain("bad", config, |trace| {
        assert!(
            trace.starts_with(&format!("poll failed: could not connect to {forbidden}: ")),
            "{trace}"
        );
    })
    .await;
    assert_eq!(
        forbidden_hits.load(Ordering::SeqCst),
        0,
        "a connection reached the server"
    );

    // The same plugin granted an endpoint reaches it, and only it.
    s.create(
        "granted",
        json!({"connector.class": SOURCE, "mode": "connect", "endpoint": granted}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while granted_hits.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the granted endpoint was never reached"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.assert_running("granted").await;
    assert_eq!(forbidden_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_flood_is_rate_limited() {
    let mut s = Scenario::start().await;
    let config = s.faulty(
        SOURCE,
        json!({"mode": "flood-output", "wasm.call.timeout.ms": "2500", "wasm.log.lines.per.second": "100"}),
    );
    let failed = s
        .contain("bad", config, |trace| {
            assert_eq!(
                trace,
                "plugin did not return from poll within its 2500 ms call deadline"
            );
        })
        .await;
    let dropped = failed["tasks"][0]["resources"]["log_lines_dropped"]
        .as_u64()
        .unwrap();
    let log = s.worker.log();
    let logged = log.lines().filter(|l| l.contains("flooding std")).count();
    println!("flood: {logged} guest lines logged, {dropped} dropped");
    // One second's burst plus 100 a second for 2.5 s, with some slack.
    assert!(logged <= 400, "{logged} flood lines reached the log");
    assert!(dropped > 1000, "only {dropped} lines were dropped");
    assert!(
        log.contains("over this instance's limit of 100 per second (wasm.log.lines.per.second)"),
        "no note about dropped lines in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retriable_errors_retry_within_errors_retry_timeout() {
    let mut s = Scenario::start().await;
    // Three failures, then it recovers: the task keeps RUNNING throughout.
    s.create(
        "flaky",
        json!({"connector.class": SINK, "topics": "healthy", "mode": "fail-retriable", "failures": "3"}),
    )
    .await;
    s.rest
        .wait_for("/connectors/flaky/status", "calls past the failures", |r| {
            // start, open, three failed puts, then one that succeeds.
            r.body["tasks"][0]["resources"]["calls"].as_u64() >= Some(6)
        })
        .await;
    s.assert_running("flaky").await;

    // Always failing: retried for errors.retry.timeout, then FAILED.
    let config = s.faulty(
        SOURCE,
        json!({"mode": "fail-retriable", "errors.retry.timeout": "1500", "errors.retry.delay.max.ms": "200"}),
    );
    let started = Instant::now();
    let failed = s
        .contain("bad", config, |trace| {
            assert!(
                trace.starts_with(
                    "poll failed with a retriable error: the source system is busy; gave up after "
                ),
                "{trace}"
            );
            assert!(trace.ends_with("(errors.retry.timeout=1500)"), "{trace}");
        })
        .await;
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // 200 ms apart (the plugin's 250 ms hint capped by the max delay).
    let calls = failed["tasks"][0]["resources"]["calls"].as_u64().unwrap();
    assert!((7..=12).contains(&calls), "{calls} polls in 1.5 s");

    // Fatal errors fail at once, without retries.
    let config = s.faulty(SOURCE, json!({"mode": "fail-fatal"}));
    s.contain("fatal", config, |trace| {
        assert_eq!(
            trace,
            "poll failed: the source system rejected our credentials"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_restarts_leave_memory_flat() {
    let mut s = Scenario::start().await;
    s.create(
        "crashy",
        json!({"connector.class": SOURCE, "mode": "panic-in-poll"}),
    )
    .await;
    let restart_and_fail = |rest: Rest| async move {
        let r = rest
            .call("POST", "/connectors/crashy/tasks/0/restart", None)
            .await;
        assert_eq!(r.status, 204, "{r:?}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = rest
                .call("GET", "/connectors/crashy/tasks/0/status", None)
                .await;
            if r.body["state"] == "FAILED" {
                break;
            }
            assert!(Instant::now() < deadline, "no failure after restart: {r:?}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    s.failed_trace("crashy").await;
    // Warm up: allocator arenas, caches, connection pools.
    for _ in 0..50 {
        restart_and_fail(s.rest.clone()).await;
    }
    let before = s.worker.rss_bytes();
    let started = Instant::now();
    for _ in 0..1000 {
        restart_and_fail(s.rest.clone()).await;
    }
    let after = s.worker.rss_bytes();
    println!(
        "1000 restarts in {:.1} s: worker RSS {:.1} MiB before, {:.1} MiB after",
        started.elapsed().as_secs_f64(),
        mib(before),
        mib(after)
    );
    assert!(
        after <= before + RSS_SLACK,
        "RSS grew from {:.1} to {:.1} MiB",
        mib(before),
        mib(after)
    );
    s.stream_through_the_fault().await;
}
