//! The polyglot table: every bundled connector written outside Rust,
//! measured the same way, beside a Rust component doing the same job.
//!
//! For each component: its size, the median time to instantiate it from
//! the precompiled artifact (a fresh store and instance, as a task start
//! does), and its records per second through the worker's task loop:
//!
//! - sources (reference: Rust datagen) run until `n` records are in Kafka,
//!   each reading its own kind of input from [`fixtures`]: a CSV file (C),
//!   nothing (Go's generated events), a text file (Zig), pages of JSON over
//!   HTTP (Python), a SQLite table (JavaScript);
//! - transforms run as the chain of the Go source; the reference is the
//!   same source without a chain;
//! - sinks (reference: Rust FileStreamSink) consume the `n` JSON events the
//!   Go source wrote, until their group committed them all: into files, a
//!   SQLite table, or POSTs to the fixtures' HTTP server.

mod fixtures;

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Env, median, throughput};
use crate::convert::Converter;
use crate::instance::{InstanceSpec, SinkTaskInstance, SourceTaskInstance, TransformInstance};
use crate::plugin::{Plugin, World};
use crate::worker::transforms::StageSpec;
use fixtures::Fixtures;

/// Fresh instances timed per component (the median is shown).
const INSTANTIATIONS: usize = 20;

/// The source whose events feed every transform and sink row.
const EVENTS: &str = "go-rate-source";

/// One row of the table.
struct Subject {
    language: &'static str,
    /// `<plugin_dir>/<file>.wasm`.
    file: &'static str,
    /// The row it is measured against, by file; `None` for a reference.
    reference: Option<&'static str>,
}

const fn row(
    language: &'static str,
    file: &'static str,
    reference: Option<&'static str>,
) -> Subject {
    Subject {
        language,
        file,
        reference,
    }
}

/// Sources first (the Go source's topic feeds the later rows), then
/// transforms, then sinks.
const SUBJECTS: [Subject; 17] = [
    row("Rust", "datagen", None),
    row("C", "c-csv-source", Some("datagen")),
    row("Go", EVENTS, Some("datagen")),
    row("Zig", "zig-lines-source", Some("datagen")),
    row("Python", "python-http-poll-source", Some("datagen")),
    row("JavaScript", "js-sql-source", Some("datagen")),
    row("Zig", "zig-filter", Some(EVENTS)),
    row("JavaScript", "js-mask-field", Some(EVENTS)),
    row("C", "c-redact", Some(EVENTS)),
    row("Go", "go-json-transform", Some(EVENTS)),
    row("Python", "python-json-extract", Some(EVENTS)),
    row("Rust", "file-sink", None),
    row("Python", "python-json-lines-sink", Some("file-sink")),
    row("C", "c-csv-sink", Some("file-sink")),
    row("Zig", "zig-file-sink", Some("file-sink")),
    row("JavaScript", "js-webhook-sink", Some("file-sink")),
    row("Go", GO_SINK, Some("file-sink")),
];

/// The Go sink row.
const GO_SINK: &str = "go-sql-sink";

fn pairs(items: &[(&str, String)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn index_of(file: &str) -> Result<usize, String> {
    SUBJECTS
        .iter()
        .position(|s| s.file == file)
        .ok_or_else(|| format!("no polyglot row {file}"))
}

/// Runs the table: `n` records per run, `repeats` runs, medians.
pub async fn run(env: &Env, n: u64, repeats: usize) -> Result<(), String> {
    let mut plugins = Vec::new();
    for s in &SUBJECTS {
        plugins.push(env.load(s.file).await?);
    }
    let fixtures = Fixtures::create(&env.dir, n).await?;
    let events_row = index_of(EVENTS)?;
    let tag = std::process::id();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); SUBJECTS.len()];
    for rep in 0..repeats {
        let topic = |i: usize| format!("bench-poly-{}-{tag}-{rep}", SUBJECTS[i].file);
        for i in 0..SUBJECTS.len() {
            env.kafka.ensure_topic(&topic(i), 1, 1).await?;
        }
        let events = topic(events_row);
        for (i, subject) in SUBJECTS.iter().enumerate() {
            eprintln!(
                "[bench] polyglot run {}/{repeats}: {} {}",
                rep + 1,
                subject.language,
                subject.file
            );
            let name = format!("bench-poly-{}-{tag}-{rep}", subject.file);
            let out = env.dir.join(format!("{name}.out"));
            let took = match plugins[i].info().world {
                World::Source => {
                    let config = source_config(subject.file, &topic(i), n, &fixtures);
                    let mut ctx = env.task_context(&name, plugins[i].clone(), config)?;
                    if subject.reference.is_some() {
                        ctx.value_converter = Converter::json(false);
                    }
                    throughput::run_source(env, ctx, &topic(i), n, None).await?
                }
                World::Transform => {
                    let config = source_config(EVENTS, &topic(i), n, &fixtures);
                    let mut ctx = env.task_context(&name, plugins[events_row].clone(), config)?;
                    ctx.value_converter = Converter::json(false);
                    ctx.transforms = Arc::from([StageSpec {
                        alias: "t".into(),
                        plugin: plugins[i].clone(),
                        config: transform_config(subject.file),
                        predicate: None,
                    }]);
                    throughput::run_source(env, ctx, &topic(i), n, None).await?
                }
                World::Sink => {
                    let mut config = pairs(&[
                        ("connector.class", plugins[i].info().name.clone()),
                        ("name", name.clone()),
                        ("topics", events.clone()),
                    ]);
                    config.extend(sink_config(subject.file, &out, &fixtures, &name));
                    let mut ctx = env.task_context(&name, plugins[i].clone(), config)?;
                    ctx.value_converter = Converter::json(false);
                    throughput::run_sink(env, ctx, &events, n).await?
                }
            };
            times[i].push(took);
            let _ = std::fs::remove_file(&out);
        }
    }
    eprintln!(
        "[bench] polyglot: the webhook endpoint received {} records",
        fixtures.posted()
    );
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
        "| {:<10} | {:<23} | {:<9} | {:>10} | {:>15} | {:>14} | {:>10} | {:>13} |",
        "language",
        "component",
        "role",
        "size (KB)",
        "instantiate µs",
        "first task µs",
        "records/s",
        "vs reference"
    );
    println!(
        "|{:-<12}|{:-<25}|{:-<11}|{:->12}|{:->17}|{:->16}|{:->12}|{:->15}|",
        "", "", "", "", "", "", "", ""
    );
    for (i, subject) in SUBJECTS.iter().enumerate() {
        let plugin = &plugins[i];
        let size = std::fs::metadata(env.component_path(subject.file))
            .map(|m| m.len())
            .unwrap_or(0);
        let out = env.dir.join("instantiate.out");
        let config = match plugin.info().world {
            World::Source => source_config(subject.file, "bench-instantiate", n, &fixtures),
            World::Transform => transform_config(subject.file),
            World::Sink => sink_config(subject.file, &out, &fixtures, "bench-instantiate"),
        };
        let (warm, cold) = instantiate_micros(plugin, &config).await?;
        let vs = match subject.reference {
            None => "reference".to_string(),
            Some(r) => format!("{:.1} %", 100.0 * rates[i] / rates[index_of(r)?]),
        };
        println!(
            "| {:<10} | {:<23} | {:<9} | {:>10.0} | {:>15.0} | {:>14.0} | {:>10.0} | {:>13} |",
            subject.language,
            subject.file,
            match plugin.info().world {
                World::Source => "source",
                World::Sink => "sink",
                World::Transform => "transform",
            },
            size as f64 / 1024.0,
            warm,
            cold,
            rates[i],
            vs
        );
    }
    println!("transforms run as the chain of {EVENTS}: their reference is that source alone");
    Ok(())
}

/// The settings of a source row.
fn source_config(file: &str, topic: &str, n: u64, fixtures: &Fixtures) -> Vec<(String, String)> {
    let topic = topic.to_string();
    match file {
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
            ("file", fixtures.csv.display().to_string()),
            ("batch.size", "500".into()),
        ]),
        "zig-lines-source" => pairs(&[
            ("topic", topic),
            ("file", fixtures.lines.display().to_string()),
            ("batch.size", "500".into()),
        ]),
        "python-http-poll-source" => pairs(&[
            ("topic", topic),
            ("http.url", format!("{}/events", fixtures.http)),
            ("id.field", "id".into()),
            ("cursor.field", "id".into()),
            ("cursor.param", "since".into()),
        ]),
        "js-sql-source" => pairs(&[
            ("topic", topic),
            (
                "connection.url",
                format!("jdbc:sqlite:{}", fixtures.sqlite.display()),
            ),
            ("table", "events".into()),
            ("incrementing.column.name", "id".into()),
            ("batch.max.rows", "500".into()),
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

/// The settings of a transform row: each keeps every record, so the whole
/// stream passes through the chain, and each does its usual work on it.
fn transform_config(file: &str) -> Vec<(String, String)> {
    match file {
        "zig-filter" => pairs(&[("pattern", "\"user\":\"nobody\"".into())]),
        "c-redact" => pairs(&[("min.digits", "4".into()), ("keep.last", "2".into())]),
        "go-json-transform" => pairs(&[("rename", "user:customer".into())]),
        "python-json-extract" => pairs(&[
            ("key.path", "$.user".into()),
            ("header.paths", "$.seq".into()),
        ]),
        _ => pairs(&[("fields", "amount".into())]),
    }
}

/// The settings of a sink row writing to `out` (a file, or a table named
/// after `name` in the fixtures' SQLite file).
fn sink_config(
    file: &str,
    out: &std::path::Path,
    fixtures: &Fixtures,
    name: &str,
) -> Vec<(String, String)> {
    let out = out.display().to_string();
    match file {
        "c-csv-sink" => pairs(&[("file", out), ("fields", "task,seq,user,amount,ts".into())]),
        "zig-file-sink" => pairs(&[("file", out), ("format", "{offset} {value}".into())]),
        "js-webhook-sink" => pairs(&[
            ("webhook.url", format!("{}/hook", fixtures.http)),
            ("batch.size", "500".into()),
        ]),
        GO_SINK => pairs(&[
            (
                "connection.url",
                format!("jdbc:sqlite:{}", fixtures.sqlite.display()),
            ),
            ("table", name.replace('-', "_")),
        ]),
        _ => pairs(&[("file", out)]),
    }
}

/// Median times to create a fresh instance (store, instance, memory) of
/// `plugin`, in microseconds: `.0` while another instance holds the
/// compiled code (a connector's second task, or any task while one runs),
/// `.1` when none does and the code is loaded from the artifact cache first
/// (a connector's first task on a worker where nothing else uses it; see
/// `plugin::code`).
async fn instantiate_micros(
    plugin: &Arc<Plugin>,
    config: &[(String, String)],
) -> Result<(f64, f64), String> {
    let spec = || InstanceSpec::new("bench-instantiate", Some(0), config.to_vec());
    let mut cold = Vec::with_capacity(INSTANTIATIONS);
    let mut warm = Vec::with_capacity(INSTANTIATIONS);
    for _ in 0..INSTANTIATIONS {
        let started = Instant::now();
        let holder = new_instance(plugin, spec()).await?;
        cold.push(started.elapsed());
        let started = Instant::now();
        let second = new_instance(plugin, spec()).await?;
        warm.push(started.elapsed());
        drop((second, holder));
    }
    let micros = |t: &mut Vec<Duration>| median(t).as_secs_f64() * 1e6;
    Ok((micros(&mut warm), micros(&mut cold)))
}

/// A fresh instance of any world, kept only to be dropped.
type Instance = Box<dyn std::any::Any + Send>;

async fn new_instance(plugin: &Arc<Plugin>, spec: InstanceSpec) -> Result<Instance, String> {
    let created = match plugin.info().world {
        World::Source => SourceTaskInstance::new(plugin, spec)
            .await
            .map(|i| Box::new(i) as Instance),
        World::Sink => SinkTaskInstance::new(plugin, spec)
            .await
            .map(|i| Box::new(i) as Instance),
        World::Transform => TransformInstance::new(plugin, spec)
            .await
            .map(|i| Box::new(i) as Instance),
    };
    created.map_err(|e| format!("{}: {e}", plugin.info().name))
}
