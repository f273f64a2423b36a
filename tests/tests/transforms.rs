//! Kafka's built-in transforms and predicates, side by side with Apache
//! Kafka Connect: one table of cases, each = input records + a transform
//! chain, run through Kafka Connect (its own transforms, a Java replay
//! source, `tests/java/ReplaySourceConnector.java`) and through us (the
//! `kafka-transforms` components, the `replay-source` component), on one
//! broker. Every output topic of a case is read back on both sides and
//! compared: topic, key and value (parsed JSON), headers, timestamp, and
//! whether the task failed. Then a few bad configurations are validated by
//! both, comparing error counts and the erring keys' messages.
//!
//! Topics are `<side>.<case>.<suffix>` (`kc` Kafka Connect, `wc` us), so
//! routers' renamed topics stay per case and per side; the side prefix is
//! removed before comparing. Differences are printed per case, and the
//! test fails when there is any.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use serde_json::{Value, json};
use wasmconnect_tests::replay::{install, kafka_replay_plugin_dir};
use wasmconnect_tests::transform_cases::{CLASS, Case, T, bad_configs, cases};
use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, free_port, plugin_dir, plugin_path, sandbox_dirs,
};

// ---- running one side ---------------------------------------------------------

struct Side {
    prefix: &'static str,
    rest: Rest,
    dir: PathBuf,
    process: WorkerProcess,
    _dir: tempfile::TempDir,
}

fn worker_props(bootstrap: &str, port: u16, dir: &Path, plugins: &Path) -> String {
    format!(
        "bootstrap.servers={bootstrap}\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         key.converter.schemas.enable=true\nvalue.converter.schemas.enable=true\n\
         offset.storage.file.filename={}\noffset.flush.interval.ms=100\n\
         listeners=http://127.0.0.1:{port}\nplugin.path={}\n",
        dir.join("connect.offsets").display(),
        plugins.display()
    )
}

/// Our plugin directory: the replay source and the transform components
/// (`smt-*` in `build/plugins`; the connectors there would only slow the
/// start).
fn our_plugins(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    install(
        &plugin_path("replay-source"),
        &plugins,
        "replay-source.wasm",
    );
    for entry in std::fs::read_dir(plugin_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("smt-") && name.ends_with(".wasm") {
            install(&entry.path(), &plugins, &name);
        }
    }
    plugins
}

fn connector_config(side: &Side, case: &Case) -> Value {
    let mut config = json!({
        "connector.class": CLASS, "tasks.max": "1",
        "file": side.dir.join(format!("{}.jsonl", case.name)).display().to_string(),
    });
    if case.schemaless {
        for (k, v) in [
            ("schemas.enable", "false"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "false"),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("value.converter.schemas.enable", "false"),
        ] {
            config[k] = json!(v);
        }
    }
    for (k, v) in &case.chain {
        config[*k] = json!(v);
    }
    config
}

/// What a case came to on one side.
#[derive(Debug, PartialEq, Clone)]
struct Outcome {
    /// `None` when created; else the refusal's status and message.
    created: Option<(u16, String)>,
    /// Whether the task failed.
    failed: bool,
    /// Output topic suffix → records.
    topics: BTreeMap<String, Vec<Value>>,
}

/// Writes the input files and creates every case's connector.
async fn create_all(side: &Side, cases: &[Case]) -> Vec<Option<(u16, String)>> {
    let mut out = Vec::new();
    for case in cases {
        let mut text = String::new();
        for r in &case.records {
            let mut r = r.clone();
            r["topic"] = json!(format!(
                "{}.{}.{}",
                side.prefix,
                case.name,
                r["topic"].as_str().unwrap()
            ));
            text.push_str(&r.to_string());
            text.push('\n');
        }
        std::fs::write(side.dir.join(format!("{}.jsonl", case.name)), text).unwrap();
        let reply = side
            .rest
            .create(case.name, &connector_config(side, case))
            .await;
        out.push((reply.status != 201).then(|| {
            (
                reply.status,
                reply.body["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        }));
    }
    out
}

/// Polls until each created case's task failed or committed the offset of
/// its last line; returns which failed (with the trace's first line).
async fn wait_all(
    side: &Side,
    cases: &[Case],
    created: &[Option<(u16, String)>],
    deadline: Instant,
) -> BTreeMap<&'static str, Option<String>> {
    let mut done = BTreeMap::new();
    loop {
        for (case, refused) in cases.iter().zip(created) {
            if refused.is_some() {
                done.insert(case.name, None);
            }
            if done.contains_key(case.name) {
                continue;
            }
            let status = side
                .rest
                .call("GET", &format!("/connectors/{}/status", case.name), None)
                .await;
            let task = &status.body["tasks"][0];
            if task["state"] == "FAILED" {
                let trace = task["trace"].as_str().unwrap_or_default();
                done.insert(
                    case.name,
                    Some(trace.lines().next().unwrap_or_default().to_string()),
                );
                continue;
            }
            // Kafka commits no offset for a dropped record: its replay
            // source marks the end itself. Ours commits them all.
            let reached = if side.prefix == "kc" {
                side.dir.join(format!("{}.jsonl.done", case.name)).exists()
            } else {
                let offsets = side
                    .rest
                    .call("GET", &format!("/connectors/{}/offsets", case.name), None)
                    .await;
                let last = case.records.len() as i64 - 1;
                offsets.body["offsets"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|e| e["offset"]["line"].as_i64() == Some(last)))
            };
            if reached {
                done.insert(case.name, None);
            }
        }
        if done.len() == cases.len() {
            return done;
        }
        if Instant::now() > deadline {
            let pending: Vec<&str> = cases
                .iter()
                .map(|c| c.name)
                .filter(|n| !done.contains_key(n))
                .collect();
            panic!(
                "{}: cases not finished in time: {pending:?}\n{}",
                side.prefix,
                tail(&side.process.log())
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Every record of every topic named `<prefix>.*`, by topic.
fn read_topics(bootstrap: &str, prefix: &str) -> BTreeMap<String, Vec<Value>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "transforms-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata");
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut want = 0i64;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for topic in metadata
        .topics()
        .iter()
        .filter(|t| t.name().starts_with(&format!("{prefix}.")))
    {
        for p in topic.partitions() {
            let (low, high) = consumer
                .fetch_watermarks(topic.name(), p.id(), Duration::from_secs(10))
                .expect("watermarks");
            if high > low {
                want += high - low;
                tpl.add_partition_offset(topic.name(), p.id(), rdkafka::Offset::Beginning)
                    .unwrap();
            }
        }
        out.entry(topic.name().to_string()).or_default();
    }
    consumer.assign(&tpl).expect("assign");
    let mut got = 0;
    while got < want {
        let msg = consumer
            .poll(Duration::from_secs(10))
            .expect("a record within 10 s")
            .expect("record");
        let parse = |b: Option<&[u8]>| match b {
            None => Value::Null,
            Some(b) => serde_json::from_slice(b)
                .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(b)})),
        };
        let headers: Vec<Value> = msg
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        json!([
                            h.key,
                            h.value.map(|v| String::from_utf8_lossy(v).into_owned())
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        let record = json!({"key": parse(msg.key()), "value": parse(msg.payload()),
                            "headers": headers, "timestamp": msg.timestamp().to_millis()});
        out.entry(msg.topic().to_string()).or_default().push(record);
        got += 1;
    }
    out
}

/// `value` with the side's prefix (`kc.`, `wc.`) removed from the start of
/// every string in it.
fn strip_side(value: &Value, prefix: &str) -> Value {
    match value {
        Value::String(s) => json!(s.strip_prefix(&format!("{prefix}.")).unwrap_or(s)),
        Value::Array(a) => Value::Array(a.iter().map(|v| strip_side(v, prefix)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), strip_side(v, prefix)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Kafka's messages for bad regular expressions come from Java's parser;
/// ours from the `regex` crate: compared up to "Invalid regex:".
fn normalise_message(m: &str) -> String {
    match m.find("Invalid regex:") {
        Some(i) => m[..i + "Invalid regex:".len()].to_string(),
        None => m.to_string(),
    }
}

/// `error_count` and the erring keys' messages of a validate reply.
fn validation_summary(body: &Value) -> Value {
    let mut errors = BTreeMap::new();
    for c in body["configs"].as_array().into_iter().flatten() {
        let messages: Vec<String> = c["value"]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str().map(normalise_message))
            .collect();
        if !messages.is_empty() {
            errors.insert(
                c["value"]["name"].as_str().unwrap_or_default().to_string(),
                messages,
            );
        }
    }
    json!({"error_count": body["error_count"], "errors": errors})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kafkas_transforms_and_predicates_match_kafka_connect() {
    let started = Instant::now();
    let broker = tokio::task::spawn_blocking(Broker::start);
    let jar = tokio::task::spawn_blocking(kafka_replay_plugin_dir);
    let broker = broker.await.unwrap();
    let kafka_plugins = jar.await.unwrap();
    let cases = cases();

    let mut sides = Vec::new();
    for prefix in ["kc", "wc"] {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let port = free_port();
        let props = if prefix == "kc" {
            worker_props(broker.bootstrap(), port, &dir, &kafka_plugins)
                + "plugin.discovery=service_load\n"
        } else {
            let plugins = our_plugins(&dir);
            worker_props(broker.bootstrap(), port, &dir, &plugins) + &sandbox_dirs()
        };
        let process = if prefix == "kc" {
            WorkerProcess::kafka_connect(&dir, false, &props, &[])
        } else {
            WorkerProcess::start(&dir, &props, &[])
        };
        sides.push(Side {
            prefix,
            rest: Rest::new(port),
            dir,
            process,
            _dir: temp,
        });
    }
    for side in &sides {
        side.rest.wait_ready(&side.process).await;
    }
    eprintln!("workers up after {:?}", started.elapsed());

    let deadline = Instant::now() + Duration::from_secs(90);
    let (kc, wc) = (&sides[0], &sides[1]);
    let (kc_created, wc_created) = tokio::join!(create_all(kc, &cases), create_all(wc, &cases));
    let (kc_failed, wc_failed) = tokio::join!(
        wait_all(kc, &cases, &kc_created, deadline),
        wait_all(wc, &cases, &wc_created, deadline)
    );
    eprintln!("all cases finished after {:?}", started.elapsed());

    let outcomes = |side: &Side,
                    created: &[Option<(u16, String)>],
                    failed: &BTreeMap<&str, Option<String>>| {
        let topics = read_topics(broker.bootstrap(), side.prefix);
        cases
            .iter()
            .zip(created)
            .map(|(case, created)| {
                let own = format!("{}.{}.", side.prefix, case.name);
                // Topic names reach values too (InsertField's topic.field).
                let topics = topics
                    .iter()
                    .filter_map(|(t, r)| {
                        let records = r.iter().map(|v| strip_side(v, side.prefix)).collect();
                        Some((t.strip_prefix(&own)?.to_string(), records))
                    })
                    .collect();
                Outcome {
                    created: created.clone(),
                    failed: failed[case.name].is_some(),
                    topics,
                }
            })
            .collect::<Vec<_>>()
    };
    let kc_out = outcomes(kc, &kc_created, &kc_failed);
    let wc_out = outcomes(wc, &wc_created, &wc_failed);

    let mut differences = Vec::new();
    let mut report = String::new();
    for (i, case) in cases.iter().enumerate() {
        let (k, w) = (&kc_out[i], &wc_out[i]);
        let same = k == w;
        let records: usize = k.topics.values().map(Vec::len).sum();
        report += &format!(
            "  {:<28} {} (kafka: {} record(s) in {:?}{})\n",
            case.name,
            if same { "same" } else { "DIFFERENT" },
            records,
            k.topics.keys().collect::<BTreeSet<_>>(),
            if k.failed { ", task FAILED" } else { "" },
        );
        if !same {
            differences.push(format!(
                "case {}: chain {:?}\n  kafka connect: created {:?}, failed {:?} {:?}\n    {}\n  wasmconnect:   created {:?}, failed {:?} {:?}\n    {}",
                case.name, case.chain, k.created, k.failed, kc_failed[case.name],
                serde_json::to_string(&k.topics).unwrap(),
                w.created, w.failed, wc_failed[case.name],
                serde_json::to_string(&w.topics).unwrap(),
            ));
        }
    }

    // Validation of bad configurations.
    for (name, pairs) in bad_configs() {
        let mut config = json!({"connector.class": CLASS, "name": name, "file": "/tmp/x.jsonl"});
        for (k, v) in pairs {
            config[k] = json!(v);
        }
        let path = format!("/connector-plugins/{CLASS}/config/validate");
        let k = kc.rest.call("PUT", &path, Some(config.clone())).await;
        let w = wc.rest.call("PUT", &path, Some(config)).await;
        let (ks, ws) = (validation_summary(&k.body), validation_summary(&w.body));
        let same = k.status == w.status && ks == ws;
        report += &format!(
            "  validate {:<19} {} (kafka: {} {ks})\n",
            name,
            if same { "same" } else { "DIFFERENT" },
            k.status
        );
        if !same {
            differences.push(format!(
                "validate {name}:\n  kafka connect: {} {ks}\n  wasmconnect:   {} {ws}",
                k.status, w.status
            ));
        }
    }
    // The one deliberate difference (docs/transforms.md): a transform
    // component never sees a record's Kafka offset, so InsertField's
    // `offset.field` is refused when the connector is validated, where
    // Kafka accepts it and then fails every source record (and fills it
    // in for sink records).
    let mut config = json!({"connector.class": CLASS, "name": "offset-field", "file": "/tmp/x.jsonl",
        "transforms": "i", "transforms.i.type": format!("{T}InsertField$Value"),
        "transforms.i.offset.field": "off"});
    let refused = wc
        .rest
        .call(
            "PUT",
            &format!("/connector-plugins/{CLASS}/config/validate"),
            Some(config.take()),
        )
        .await;
    assert_eq!(
        validation_summary(&refused.body),
        json!({"error_count": 1, "errors": {"transforms.i.offset.field": [
            "Invalid value off for configuration offset.field: offset.field is not supported by this worker: transforms do not see the record's Kafka offset"
        ]}}),
        "{refused:?}"
    );
    eprintln!("results after {:?}:\n{report}", started.elapsed());
    assert!(
        differences.is_empty(),
        "{} difference(s) from Kafka Connect:\n\n{}",
        differences.len(),
        differences.join("\n\n")
    );
}
