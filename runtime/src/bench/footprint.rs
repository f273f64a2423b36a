//! The footprint rows: a real `wasmconnect standalone` process, started
//! and loaded through its REST API, measured from outside (`/proc`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::process::{
    SETTLE, WorkerProcess, create_connector, free_port, wait_ready, wait_running,
};
use super::{BenchOptions, Env, median};
use crate::instance::{InstanceSpec, SourceTaskInstance};

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
    wait_ready(&http, &base, started, Duration::from_secs(60)).await?;
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
        create_connector(&http, &base, &name, config).await?;
        wait_running(&http, &base, &name, more, Duration::from_secs(600)).await?;
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
