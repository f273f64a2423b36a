//! The footprint rows: a real `wasmconnect standalone` process, started
//! and loaded through its REST API, measured from outside (`/proc`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{BenchOptions, Env, median};
use crate::instance::{InstanceSpec, SourceTaskInstance};

/// How long RSS is left to settle after a change before it is read.
const SETTLE: Duration = Duration::from_secs(2);

/// A worker process, killed when dropped.
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl WorkerProcess {
    /// A numeric field of the worker's `/proc/<pid>/status`.
    fn status_field(&self, field: &str) -> Result<f64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))
            .map_err(|e| format!("worker status: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .ok_or_else(|| format!("no {field} in /proc status"))
    }

    fn rss_mib(&self) -> Result<f64, String> {
        Ok(self.status_field("VmRSS")? / 1024.0)
    }

    fn threads(&self) -> Result<u64, String> {
        Ok(self.status_field("Threads")? as u64)
    }
}

/// Measures start-up, memory per running task and task start time.
pub async fn run(env: &Env, opts: &BenchOptions) -> Result<(), String> {
    println!("footprint");
    let start_us = task_start_times(env, 50).await?;
    println!(
        "| task start from a precompiled artifact (instantiate + start, median of 50) | {:.2} ms |",
        start_us / 1000.0
    );
    warm_artifact_cache(env, opts).await;
    let max_tasks = opts.task_counts.iter().copied().max().unwrap_or(0);
    let port = free_port()?;
    let dir = env.dir.join("footprint");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let props = format!(
        "bootstrap.servers={}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.converters.ByteArrayConverter\n\
         offset.storage.file.filename={}\nlisteners=http://127.0.0.1:{port}\nplugin.path={}\n\
         wasm.max.instances={}\n",
        opts.bootstrap,
        dir.join("fp.offsets").display(),
        opts.plugin_dir.display(),
        max_tasks + 64
    );
    let props_file = dir.join("worker.properties");
    std::fs::write(&props_file, props).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let worker = WorkerProcess(
        Command::new(exe)
            .arg("standalone")
            .arg(&props_file)
            .current_dir(&dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?,
    );
    loop {
        if let Ok(r) = http.get(format!("{base}/connectors")).send().await
            && r.status().is_success()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the worker's REST API did not come up in 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready = started.elapsed();
    println!(
        "| worker time to ready (spawn to first REST answer) | {} ms |",
        ready.as_millis()
    );
    tokio::time::sleep(SETTLE).await;
    let idle = worker.rss_mib()?;
    println!(
        "| worker RSS, idle | {idle:.1} MiB ({} threads) |",
        worker.threads()?
    );
    let mut running = 0u32;
    let mut last = (0u32, idle);
    for (i, &target) in opts.task_counts.iter().enumerate() {
        let more = target.saturating_sub(running);
        if more == 0 {
            continue;
        }
        eprintln!("[bench] footprint: starting {more} more datagen tasks ({target} in all)");
        let name = format!("fp-{i}");
        let config = json!({
            "connector.class": "Datagen", "topic": format!("fp-{}", std::process::id()),
            "tasks.max": more.to_string(), "rate": "1", "wasm.memory.bytes": "16777216",
        });
        let r = http
            .post(format!("{base}/connectors"))
            .json(&json!({"name": name, "config": config}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().as_u16() != 201 {
            return Err(format!(
                "creating {name}: {}",
                r.text().await.unwrap_or_default()
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let status: serde_json::Value = http
                .get(format!("{base}/connectors/{name}/status"))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
            let up = tasks.iter().filter(|t| t["state"] == "RUNNING").count() as u32;
            if let Some(failed) = tasks.iter().find(|t| t["state"] == "FAILED") {
                return Err(format!("a footprint task failed: {}", failed["trace"]));
            }
            if up >= more {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("only {up} of {more} tasks running after 600 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        running = target;
        tokio::time::sleep(SETTLE).await;
        let rss = worker.rss_mib()?;
        let per_task = (rss - last.1) / f64::from(running - last.0);
        println!(
            "| worker RSS, {running} running tasks | {rss:.1} MiB ({per_task:.2} MiB per task added; {} threads) |",
            worker.threads()?
        );
        last = (running, rss);
    }
    Ok(())
}

/// Loads every plugin the worker will scan, so that it finds each one
/// precompiled: the figures are for a worker with a warm artifact cache (a
/// first start compiles, which takes longer and more memory once).
async fn warm_artifact_cache(env: &Env, opts: &BenchOptions) {
    let Ok(entries) = std::fs::read_dir(&opts.plugin_dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|x| x == "wasm") {
            let _ = crate::plugin::Plugin::load_file(&env.sandbox, &path).await;
        }
    }
}

/// Median microseconds to instantiate the datagen component from its
/// loaded (precompiled) artifact and call `start`.
async fn task_start_times(env: &Env, n: usize) -> Result<f64, String> {
    let config = vec![
        ("topic".to_string(), "unused".to_string()),
        ("task.index".to_string(), "0".to_string()),
    ];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let spec = InstanceSpec {
            offsets: Some(env.offsets.clone()),
            ..InstanceSpec::new("bench-start", Some(0), config.clone())
        };
        let t = Instant::now();
        let mut task = SourceTaskInstance::new(&env.datagen, spec)
            .await
            .map_err(|e| e.to_string())?;
        task.start(&config).await.map_err(|e| e.to_string())?;
        times.push(t.elapsed());
    }
    Ok(median(&mut times).as_secs_f64() * 1e6)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
