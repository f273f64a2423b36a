//! A source connector that misbehaves on purpose, for the worker's tests.
//! **Test only.** Its `mode` setting picks the fault:
//!
//! * `healthy`: emits `batch` records numbered from 0 on each poll;
//! * `panic-in-poll`: panics in `poll` with the message in `message`;
//! * `trap-in-start`: executes `unreachable` in `start`;
//! * `loop-in-poll`: never returns from `poll`;
//! * `grow-memory`: allocates without bound in `poll`;
//! * `probe-files`: tries to read the path in `target` through WASI
//!   (`std::fs`) and through the `files` import, and through `files` the path
//!   in `granted`, and reports each outcome as one text record;
//! * `fail-fatal` / `fail-retriable`: returns that error from `poll`
//!   (`fail-retriable` only `failures` times when that is set, then healthy);
//! * `stack-overflow`: recurses without end in `poll`;
//! * `enormous-batch`: returns `enormous.batch` records (default 1,000,000)
//!   from one poll;
//! * `read-file`: reads `target` through WASI and through `files`, and fails
//!   fatally with both errors when both are denied;
//! * `connect`: sends an HTTP request over TCP to `endpoint` (granted) or
//!   `address` (not granted), returns the reply's first line as a record,
//!   and fails fatally with the error when the connection is refused;
//! * `sleep-in-poll`: sleeps `sleep.ms` (default an hour) inside `poll`;
//! * `flood-output`: writes to stdout and stderr in a loop that never ends;
//! * `extra-task-configs`: the connector returns two more task
//!   configurations than `max-tasks` allows;
//! * `malformed-offset`: `poll` returns a record whose source offset is not
//!   a JSON object;
//! * `invalid-json`: the first `poll` returns four JSON records, positions
//!   1 to 4, of which the second and fourth hold invalid JSON (`{"n":`);
//!   later polls return nothing.
//!
//! With `fault.switch` set, the fault happens only while that file says
//! `on` (see `common/fault_switch.rs`).

#[path = "../../common/fault_switch.rs"]
mod fault_switch;

use std::io::{Read, Write};

use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, Connector, JsonPayload, Key, OpenMode, Payload,
    Plugin, PluginKind, PluginMetadata, ResourceKind, SourceRecord, SourceTask, TaskError, fatal,
    open_file, retriable,
};

/// Connector role: one task per `tasks.max`.
pub struct Misbehaving {
    config: Config,
}

impl Plugin for Misbehaving {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.wasmconnect.testing.MisbehavingSourceConnector".into(),
            aliases: vec![],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Source,
            description: "Misbehaves on purpose (tests only)".into(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new("mode", ConfigType::String)
                .default_value("healthy")
                .doc("Which fault to commit")
                .into(),
            Key::new("message", ConfigType::String)
                .default_value("boom")
                .doc("Panic message")
                .into(),
            Key::new("target", ConfigType::String)
                .doc("A path to try to read (not granted)")
                .into(),
            Key::new("granted", ConfigType::String)
                .doc("A path the host grants for reading")
                .resource(ResourceKind::ReadFile)
                .into(),
            Key::new("batch", ConfigType::Int)
                .default_value("10")
                .doc("Records per healthy poll")
                .into(),
            Key::new("enormous.batch", ConfigType::Int)
                .default_value("1000000")
                .doc("Records per enormous-batch poll")
                .into(),
            Key::new("failures", ConfigType::Int)
                .doc("fail-retriable: how many times to fail before recovering")
                .into(),
            Key::new("endpoint", ConfigType::String)
                .doc("A host:port the host grants for connect")
                .resource(ResourceKind::NetworkEndpoint)
                .into(),
            Key::new("address", ConfigType::String)
                .doc("A host:port to try to connect to (not granted)")
                .into(),
            Key::new("sleep.ms", ConfigType::Long)
                .default_value("3600000")
                .into(),
            fault_switch::key().into(),
        ]
    }
}

impl Connector for Misbehaving {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(Misbehaving { config })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        // Breaks the contract on purpose, for the conformance kit's tests.
        let extra = if self.config.value("mode") == Some("extra-task-configs") {
            2
        } else {
            0
        };
        Ok(vec![self.config.clone(); max_tasks as usize + extra])
    }
}

/// The task whose `mode` decides what goes wrong.
pub struct MisbehavingTask {
    config: Config,
    mode: String,
    next: u64,
    failed: u64,
}

impl SourceTask for MisbehavingTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let mode = config.value("mode").unwrap_or("healthy").to_string();
        if fault_switch::mode(&config) == "trap-in-start" {
            core::arch::wasm32::unreachable();
        }
        Ok(MisbehavingTask {
            config,
            mode,
            next: 0,
            failed: 0,
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let mode = if self.config.value("fault.switch").is_some() {
            fault_switch::mode(&self.config)
        } else {
            self.mode.clone()
        };
        match mode.as_str() {
            "healthy" | "trap-in-start" | "extra-task-configs" => self.healthy(),
            "enormous-batch" => {
                let count = self.config.parse_or("enormous.batch", 1_000_000)?;
                Ok(self.numbered(count))
            }
            "panic-in-poll" => panic!("{}", self.config.value("message").unwrap_or("boom")),
            "loop-in-poll" => {
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "grow-memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "stack-overflow" => Ok(vec![record(format!("{}", deep(u64::MAX)), 1)]),
            "probe-files" => Ok(self.probe_files()),
            "malformed-offset" => {
                let mut r = record("not a json offset".into(), 1);
                r.source_offset = "position 7".into();
                Ok(vec![r])
            }
            "read-file" => self.read_file(),
            "invalid-json" => Ok(self.invalid_json()),
            "connect" => self.connect(),
            "sleep-in-poll" => {
                let ms: u64 = self.config.parse_or("sleep.ms", 3_600_000)?;
                std::thread::sleep(std::time::Duration::from_millis(ms));
                self.healthy()
            }
            "flood-output" => {
                let mut n = 0u64;
                loop {
                    println!("flooding stdout, line {n}");
                    eprintln!("flooding stderr, line {n}");
                    n += 1;
                }
            }
            "fail-fatal" => Err(fatal("the source system rejected our credentials")),
            "fail-retriable" => {
                let limit: u64 = self.config.parse_or("failures", u64::MAX)?;
                if self.failed < limit {
                    self.failed += 1;
                    Err(retriable("the source system is busy", Some(250)))
                } else {
                    self.healthy()
                }
            }
            other => Err(fatal(format!("unknown mode {other}"))),
        }
    }
}

/// Recursion the compiler cannot turn into a loop: each frame's result
/// feeds a computation after the call returns.
#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    deep(n - 1).wrapping_mul(31) ^ n
}

impl MisbehavingTask {
    /// `batch` records (default 10) numbered on from the last poll.
    fn healthy(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let batch = self.config.parse_or("batch", 10)?;
        Ok(self.numbered(batch))
    }

    /// Four JSON records, every other one invalid, once.
    fn invalid_json(&mut self) -> Vec<SourceRecord> {
        if self.next > 0 {
            wasmconnect_sdk::sleep_unless_stopped(std::time::Duration::from_millis(100));
            return Vec::new();
        }
        self.next = 4;
        (0..4u64)
            .map(|n| {
                let document = if n % 2 == 0 {
                    format!(r#"{{"n":{n}}}"#)
                } else {
                    r#"{"n":"#.to_string()
                };
                let mut r = record(String::new(), n + 1);
                r.value = Some(Payload::Json(JsonPayload {
                    document,
                    schema: None,
                }));
                r
            })
            .collect()
    }

    /// `count` records numbered on from the last poll.
    fn numbered(&mut self, count: u64) -> Vec<SourceRecord> {
        let records = (self.next..self.next + count)
            .map(|n| record(format!("{n}"), n + 1))
            .collect();
        self.next += count;
        records
    }

    fn read_file(&self) -> Result<Vec<SourceRecord>, TaskError> {
        let target = self.config.value("target").unwrap_or("/etc/passwd");
        let wasi = match std::fs::read(target) {
            Ok(bytes) => {
                return Ok(vec![record(
                    format!("wasi read {target}: ALLOWED ({} bytes)", bytes.len()),
                    1,
                )]);
            }
            Err(e) => e.to_string(),
        };
        let files = match open_file(target, OpenMode::Read) {
            Ok(_) => return Ok(vec![record(format!("files open {target}: ALLOWED"), 1)]),
            Err(e) => e.to_string(),
        };
        Err(fatal(format!(
            "could not read {target}: through WASI: {wasi}; through files: {files}"
        )))
    }

    fn connect(&self) -> Result<Vec<SourceRecord>, TaskError> {
        let target = self
            .config
            .value("endpoint")
            .or(self.config.value("address"))
            .ok_or_else(|| fatal("connect needs endpoint or address"))?;
        let exchange = || -> std::io::Result<String> {
            let mut stream = std::net::TcpStream::connect(target)?;
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut reply = String::new();
            stream.read_to_string(&mut reply)?;
            Ok(reply.lines().next().unwrap_or_default().to_string())
        };
        match exchange() {
            Ok(status) => Ok(vec![record(format!("connected to {target}: {status}"), 1)]),
            Err(e) => Err(fatal(format!("could not connect to {target}: {e}"))),
        }
    }

    fn probe_files(&self) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        if let Some(target) = self.config.value("target") {
            out.push(match std::fs::read(target) {
                Ok(bytes) => format!("wasi read {target}: ALLOWED ({} bytes)", bytes.len()),
                Err(e) => format!("wasi read {target}: denied: {e}"),
            });
            out.push(match open_file(target, OpenMode::Read) {
                Ok(_) => format!("files open {target}: ALLOWED"),
                Err(e) => format!("files open {target}: denied: {e}"),
            });
        }
        if let Some(granted) = self.config.value("granted") {
            out.push(
                match open_file(granted, OpenMode::Read).and_then(|f| f.read(0, 1 << 16)) {
                    Ok(bytes) => {
                        format!("files read {granted}: {}", String::from_utf8_lossy(&bytes))
                    }
                    Err(e) => format!("files read {granted}: denied: {e}"),
                },
            );
            out.push(match open_file(granted, OpenMode::Append) {
                Ok(_) => format!("files append {granted}: ALLOWED"),
                Err(e) => format!("files append {granted}: denied: {e}"),
            });
        }
        out.into_iter()
            .enumerate()
            .map(|(i, text)| record(text, i as u64 + 1))
            .collect()
    }
}

fn record(text: String, position: u64) -> SourceRecord {
    SourceRecord::new(
        r#"{"source":"misbehaving"}"#,
        format!(r#"{{"position":{position}}}"#),
        "misbehaving",
        Some(Payload::text(text)),
    )
}

wasmconnect_sdk::export_source!(Misbehaving, MisbehavingTask);
