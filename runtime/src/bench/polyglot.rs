//! The polyglot table: every bundled connector written outside Rust,
//! measured the same way, beside a Rust component doing the same job.
//!
//! For each component: its size, the median time to instantiate it from
//! the precompiled artifact (a fresh store and instance, as a task start
//! does), and its records per second through the worker's task loop:
//!
//! - sources (C CsvSource, Go RateSource; reference: Rust datagen) run
//!   until `n` records are in Kafka;
//! - transforms (Zig Filter, JavaScript MaskField) run as the chain of the
//!   Go source; the reference is the same source without a chain;
//! - sinks (Python JsonLinesSink; reference: Rust FileStreamSink) consume
//!   the `n` JSON events the Go source wrote, until their group committed
//!   them all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Env, median, throughput};
use crate::convert::Converter;
use crate::instance::{InstanceSpec, SinkTaskInstance, SourceTaskInstance, TransformInstance};
use crate::plugin::{Plugin, World};
use crate::worker::transforms::StageSpec;

/// Fresh instances timed per component (the median is shown).
const INSTANTIATIONS: usize = 20;

/// One row of the table.
struct Subject {
    language: &'static str,
    /// `<plugin_dir>/<file>.wasm`.
    file: &'static str,
    /// What it is measured against: the index of the reference row.
    reference: Option<usize>,
}

const SUBJECTS: [Subject; 7] = [
    Subject {
        language: "Rust",
        file: "datagen",
        reference: None,
    },
    Subject {
        language: "C",
        file: "c-csv-source",
        reference: Some(0),
    },
    Subject {
        language: "Go",
        file: "go-rate-source",
        reference: Some(0),
    },
    Subject {
        language: "Zig",
        file: "zig-filter",
        reference: Some(2),
    },
    Subject {
        language: "JavaScript",
        file: "js-mask-field",
        reference: Some(2),
    },
    Subject {
        language: "Rust",
        file: "file-sink",
        reference: None,
    },
    Subject {
        language: "Python",
        file: "python-json-lines-sink",
        reference: Some(5),
    },
];

fn pairs(items: &[(&str, String)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Runs the table: `n` records per run, `repeats` runs, medians.
pub async fn run(env: &Env, n: u64, repeats: usize) -> Result<(), String> {
    let mut plugins = Vec::new();
    for s in &SUBJECTS {
        plugins.push(env.load(s.file).await?);
    }
    let csv = env.dir.join("bench.csv");
    write_csv(&csv, n)?;
    let tag = std::process::id();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); SUBJECTS.len()];
    for rep in 0..repeats {
        let topic = |i: usize| format!("bench-poly-{}-{tag}-{rep}", SUBJECTS[i].file);
        for i in 0..SUBJECTS.len() {
            env.kafka.ensure_topic(&topic(i), 1, 1).await?;
        }
        let events = topic(2);
        for (i, subject) in SUBJECTS.iter().enumerate() {
            eprintln!(
                "[bench] polyglot run {}/{repeats}: {} {}",
                rep + 1,
                subject.language,
                subject.file
            );
            let name = format!("bench-poly-{}-{rep}", subject.file);
            let out = env.dir.join(format!("{name}.out"));
            let took = match plugins[i].info().world {
                World::Source => {
                    let config = source_config(i, &topic(i), n, &csv);
                    let mut ctx = env.task_context(&name, plugins[i].clone(), config)?;
                    if i != 0 {
                        ctx.value_converter = Converter::json(false);
                    }
                    throughput::run_source(env, ctx, &topic(i), n, None).await?
                }
                World::Transform => {
                    let config = source_config(2, &topic(i), n, &csv);
                    let mut ctx = env.task_context(&name, plugins[2].clone(), config)?;
                    ctx.value_converter = Converter::json(false);
                    ctx.transforms = Arc::from([StageSpec {
                        alias: "t".into(),
                        plugin: plugins[i].clone(),
                        config: transform_config(i),
                        predicate: None,
                    }]);
                    throughput::run_source(env, ctx, &topic(i), n, None).await?
                }
                World::Sink => {
                    let config = pairs(&[
                        ("connector.class", plugins[i].info().name.clone()),
                        ("name", name.clone()),
                        ("topics", events.clone()),
                        ("file", out.display().to_string()),
                    ]);
                    let mut ctx = env.task_context(&name, plugins[i].clone(), config)?;
                    ctx.value_converter = Converter::json(false);
                    throughput::run_sink(env, ctx, &events, n).await?
                }
            };
            times[i].push(took);
            let _ = std::fs::remove_file(&out);
        }
    }
    let timed = (n - throughput::warm_up(n)) as f64;
    let rates: Vec<f64> = times
        .iter_mut()
        .map(|t| timed / median(t).as_secs_f64().max(1e-9))
        .collect();
    println!();
    println!(
        "Connectors by language, {n} records per run (the first {} untimed), medians of {repeats}",
        throughput::warm_up(n)
    );
    println!(
        "| {:<10} | {:<22} | {:<9} | {:>10} | {:>15} | {:>10} | {:>13} |",
        "language", "component", "role", "size (KB)", "instantiate µs", "records/s", "vs reference"
    );
    println!(
        "|{:-<12}|{:-<24}|{:-<11}|{:->12}|{:->17}|{:->12}|{:->15}|",
        "", "", "", "", "", "", ""
    );
    for (i, subject) in SUBJECTS.iter().enumerate() {
        let plugin = &plugins[i];
        let size = std::fs::metadata(env.component_path(subject.file))
            .map(|m| m.len())
            .unwrap_or(0);
        let config = match plugin.info().world {
            World::Source => source_config(i, "bench-instantiate", n, &csv),
            World::Transform => transform_config(i),
            World::Sink => pairs(&[(
                "file",
                env.dir.join("instantiate.out").display().to_string(),
            )]),
        };
        let micros = instantiate_micros(plugin, &config).await?;
        let vs = subject.reference.map_or("reference".to_string(), |r| {
            format!("{:.1} %", 100.0 * rates[i] / rates[r])
        });
        println!(
            "| {:<10} | {:<22} | {:<9} | {:>10.0} | {:>15.0} | {:>10.0} | {:>13} |",
            subject.language,
            subject.file,
            match plugin.info().world {
                World::Source => "source",
                World::Sink => "sink",
                World::Transform => "transform",
            },
            size as f64 / 1024.0,
            micros,
            rates[i],
            vs
        );
    }
    println!("transforms run as the chain of go-rate-source: their reference is that source alone");
    Ok(())
}

/// The settings of source row `i`.
fn source_config(i: usize, topic: &str, n: u64, csv: &std::path::Path) -> Vec<(String, String)> {
    let topic = topic.to_string();
    match SUBJECTS[i].file {
        "datagen" => pairs(&[
            ("topic", topic),
            ("record.bytes", "100".into()),
            ("key.cardinality", "100".into()),
            ("iterations", n.to_string()),
            ("batch.size", "500".into()),
            ("task.index", "0".into()),
        ]),
        "c-csv-source" => pairs(&[
            ("topic", topic),
            ("file", csv.display().to_string()),
            ("batch.size", "500".into()),
        ]),
        _ => pairs(&[
            ("topic", topic),
            ("rate", "0".into()),
            ("iterations", n.to_string()),
            ("batch.size", "500".into()),
            ("task.index", "0".into()),
        ]),
    }
}

/// The settings of transform row `i`: both keep every record, so the
/// whole stream passes through the chain.
fn transform_config(i: usize) -> Vec<(String, String)> {
    match SUBJECTS[i].file {
        "zig-filter" => pairs(&[("pattern", "\"user\":\"nobody\"".into())]),
        _ => pairs(&[("fields", "amount".into())]),
    }
}

/// `n` rows shaped like the Go source's events.
fn write_csv(path: &std::path::Path, n: u64) -> Result<(), String> {
    use std::fmt::Write;
    let mut text = String::from("seq,user,amount\n");
    for seq in 0..n {
        let _ = writeln!(
            text,
            "{seq},user-{},{}.{:02}",
            seq % 100,
            seq % 1000,
            seq % 100
        );
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Median time to create a fresh instance (store, instance, memory) from
/// the precompiled artifact.
async fn instantiate_micros(
    plugin: &Arc<Plugin>,
    config: &[(String, String)],
) -> Result<f64, String> {
    let mut samples = Vec::with_capacity(INSTANTIATIONS);
    for _ in 0..INSTANTIATIONS {
        let spec = InstanceSpec::new("bench-instantiate", Some(0), config.to_vec());
        let started = Instant::now();
        let created = match plugin.info().world {
            World::Source => SourceTaskInstance::new(plugin, spec).await.map(drop),
            World::Sink => SinkTaskInstance::new(plugin, spec).await.map(drop),
            World::Transform => TransformInstance::new(plugin, spec).await.map(drop),
        };
        samples.push(started.elapsed());
        created.map_err(|e| format!("{}: {e}", plugin.info().name))?;
    }
    Ok(median(&mut samples).as_secs_f64() * 1e6)
}
