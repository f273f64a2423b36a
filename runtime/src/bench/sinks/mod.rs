//! The outbound-HTTP sink rows: Kafka → `ElasticsearchSinkConnector` →
//! OpenSearch, Kafka → `S3SinkConnector` → s3s-fs and Kafka →
//! `HdfsSinkConnector` → HDFS (WebHDFS), each beside its baseline measured
//! in the same run: a plain native client loop (reqwest) writing the same
//! records from memory to the same server in the same units (`_bulk`
//! requests of the batch size, one after another; objects and files of
//! the flush size). The connector rows include consuming from Kafka,
//! converting and the sandbox; the baseline has none of that, so the
//! ratio is what the whole pipeline costs against the server's own pace.
//! The servers are the bench's own ([`servers`]).

mod servers;

use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use super::throughput::{run_sink, send, warm_up};
use super::{Env, median};
use crate::convert::Converter;
use servers::{S3Fs, Scripted};

/// Records a `_bulk` request carries.
const BATCH: usize = 2000;
const BUCKET: &str = "bench-bucket";

/// The record values: JSON objects of about 100 bytes.
fn value(i: u64) -> String {
    format!(
        r#"{{"id":{i},"customer":"customer-{}","amount":{}.{:02},"region":"eu-west","active":{}}}"#,
        i % 10_000,
        i % 1000,
        i % 100,
        i.is_multiple_of(2)
    )
}

/// Runs the rows, `records` a run, `repeats` times each, and prints them.
pub async fn run(env: &Env, records: u64, repeats: usize, scripts: &Path) -> Result<(), String> {
    // The storage sinks commit a file at a time, so a run's progress moves
    // in files: ten files make the untimed first tenth one file.
    let records = records.div_ceil(10) * 10;
    let file_records = (records / 10) as usize;
    let tag = std::process::id();
    let topic = format!("bench-sinks-{tag}");
    env.kafka.ensure_topic(&topic, 1, 1).await?;
    eprintln!("[bench] sinks: producing {records} records to {topic}");
    produce(env, &topic, records)?;
    let values: Vec<String> = (0..records).map(value).collect();
    let client = reqwest::Client::new();

    eprintln!("[bench] sinks: starting OpenSearch, s3s-fs and HDFS");
    let search = Scripted::opensearch(scripts)?;
    let s3 = S3Fs::start(BUCKET)?;
    let hdfs = Scripted::hdfs(scripts)?;
    let (nn, dn) = (hdfs.urls[0].clone(), hdfs.urls[1].clone());
    let mut times: [Vec<Duration>; 6] = Default::default();
    for rep in 0..repeats {
        let progress = |what: &str| eprintln!("[bench] sinks, run {}/{repeats}: {what}", rep + 1);
        progress("_bulk requests, plain client (baseline)");
        times[0]
            .push(bulk_plain(&client, &search.urls[0], &format!("plain-{rep}"), &values).await?);
        progress("Kafka -> ElasticsearchSinkConnector -> OpenSearch");
        let config = vec![
            (
                "connector.class".into(),
                "ElasticsearchSinkConnector".into(),
            ),
            ("topics".into(), topic.clone()),
            ("connection.url".into(), search.urls[0].clone()),
            ("key.ignore".into(), "true".into()),
            ("schema.ignore".into(), "true".into()),
            ("batch.size".into(), BATCH.to_string()),
            ("max.in.flight.requests".into(), "1".into()),
            ("behavior.on.null.values".into(), "ignore".into()),
        ];
        times[1].push(
            sink_run(
                env,
                &format!("bench-es-{tag}-{rep}"),
                "elasticsearch-sink",
                config,
                &topic,
                records,
            )
            .await?,
        );

        progress("object PUTs, plain client (baseline)");
        times[2].push(
            put_plain(
                &client,
                &format!("{}/{BUCKET}/plain-{rep}", s3.url),
                &values,
                file_records,
            )
            .await?,
        );
        progress("Kafka -> S3SinkConnector -> s3s-fs");
        let config = vec![
            ("connector.class".into(), "S3SinkConnector".into()),
            ("topics".into(), topic.clone()),
            ("s3.bucket.name".into(), BUCKET.into()),
            ("store.url".into(), s3.url.clone()),
            ("flush.size".into(), file_records.to_string()),
            ("topics.dir".into(), format!("connector-{rep}")),
        ];
        times[3].push(
            sink_run(
                env,
                &format!("bench-s3-{tag}-{rep}"),
                "s3-sink",
                config,
                &topic,
                records,
            )
            .await?,
        );

        progress("WebHDFS CREATE + RENAME, plain client (baseline)");
        times[4].push(
            hdfs_plain(
                &client,
                &nn,
                &format!("/plain-{rep}"),
                &values,
                file_records,
            )
            .await?,
        );
        progress("Kafka -> HdfsSinkConnector -> HDFS");
        let config = vec![
            ("connector.class".into(), "HdfsSinkConnector".into()),
            ("topics".into(), topic.clone()),
            ("hdfs.url".into(), nn.clone()),
            ("webhdfs.datanode.urls".into(), dn.clone()),
            ("flush.size".into(), file_records.to_string()),
            ("topics.dir".into(), format!("connector-{rep}")),
            ("logs.dir".into(), format!("logs-{rep}")),
        ];
        times[5].push(
            sink_run(
                env,
                &format!("bench-hdfs-{tag}-{rep}"),
                "hdfs-sink",
                config,
                &topic,
                records,
            )
            .await?,
        );
    }
    let timed = (records - warm_up(records)) as f64;
    let whole = records as f64;
    let mut rate = |i: usize, n: f64| n / median(&mut times[i]).as_secs_f64();
    let rates = [
        rate(0, whole),
        rate(1, timed),
        rate(2, whole),
        rate(3, timed),
        rate(4, whole),
        rate(5, timed),
    ];
    println!();
    println!(
        "Sinks over outbound HTTP ({records} records of about 100 bytes a run, the first {} of a connector run untimed; _bulk of {BATCH}, files of {file_records})",
        warm_up(records)
    );
    println!(
        "| {:<54} | {:>10} | {:>11} |",
        "run", "records/s", "vs baseline"
    );
    println!("|{:-<56}|{:->12}|{:->13}|", "", "", "");
    let labels = [
        "_bulk requests to OpenSearch, plain client (baseline)",
        "Kafka -> ElasticsearchSinkConnector -> OpenSearch",
        "object PUTs to s3s-fs, plain client (baseline)",
        "Kafka -> S3SinkConnector -> s3s-fs",
        "WebHDFS CREATE + RENAME, plain client (baseline)",
        "Kafka -> HdfsSinkConnector -> HDFS",
    ];
    for (i, label) in labels.iter().enumerate() {
        let ratio = if i % 2 == 1 {
            format!("{:.1} %", 100.0 * rates[i] / rates[i - 1])
        } else {
            "-".into()
        };
        println!("| {label:<54} | {:>10.0} | {ratio:>11} |", rates[i]);
    }
    Ok(())
}

/// `records` values into partition 0 of `topic`.
fn produce(env: &Env, topic: &str, records: u64) -> Result<(), String> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", env.kafka.bootstrap())
        .set("linger.ms", "5")
        .create()
        .map_err(|e| format!("producer: {e}"))?;
    for i in 0..records {
        let v = value(i);
        send(
            &producer,
            BaseRecord::<(), str>::to(topic)
                .partition(0)
                .payload(v.as_str()),
        )
        .map_err(|e| format!("producing to {topic}: {e}"))?;
    }
    producer
        .flush(Duration::from_secs(60))
        .map_err(|e| format!("producing to {topic}: {e}"))
}

async fn sink_run(
    env: &Env,
    name: &str,
    plugin: &str,
    mut config: Vec<(String, String)>,
    topic: &str,
    records: u64,
) -> Result<Duration, String> {
    config.push(("name".into(), name.into()));
    let mut ctx = env.task_context(name, env.load(plugin).await?, config)?;
    ctx.value_converter = Converter::json(false);
    run_sink(env, ctx, topic, records).await
}

async fn check(r: reqwest::Response, what: &str) -> Result<reqwest::Response, String> {
    if r.status().is_success() {
        Ok(r)
    } else {
        let status = r.status();
        Err(format!(
            "{what}: HTTP {status}: {}",
            r.text().await.unwrap_or_default()
        ))
    }
}

/// `_bulk` index requests of [`BATCH`] documents, one after another.
async fn bulk_plain(
    client: &reqwest::Client,
    url: &str,
    index: &str,
    values: &[String],
) -> Result<Duration, String> {
    let started = Instant::now();
    for (n, chunk) in values.chunks(BATCH).enumerate() {
        let mut body = String::new();
        for (i, v) in chunk.iter().enumerate() {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"{}\"}}}}\n{v}\n",
                n * BATCH + i
            ));
        }
        let r = client
            .post(format!("{url}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("_bulk: {e}"))?;
        let r = check(r, "_bulk").await?;
        let text = r.text().await.map_err(|e| format!("_bulk: {e}"))?;
        if text.contains("\"errors\":true") {
            return Err(format!(
                "_bulk refused documents: {}",
                &text[..text.len().min(300)]
            ));
        }
    }
    Ok(started.elapsed())
}

/// One JSON-lines body of `per_file` records a file.
fn files(values: &[String], per_file: usize) -> impl Iterator<Item = (usize, String)> + '_ {
    values.chunks(per_file).enumerate().map(|(n, chunk)| {
        let mut body = String::with_capacity(chunk.len() * 110);
        for v in chunk {
            body.push_str(v);
            body.push('\n');
        }
        (n, body)
    })
}

/// One object PUT a file, one after another.
async fn put_plain(
    client: &reqwest::Client,
    prefix: &str,
    values: &[String],
    per_file: usize,
) -> Result<Duration, String> {
    let started = Instant::now();
    for (n, body) in files(values, per_file) {
        let r = client
            .put(format!("{prefix}/{n:010}.json"))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("PUT: {e}"))?;
        check(r, "PUT").await?;
    }
    Ok(started.elapsed())
}

/// A file a time: CREATE (the namenode's redirect, then the datanode),
/// then RENAME into place, as the connector writes.
async fn hdfs_plain(
    client: &reqwest::Client,
    namenode: &str,
    dir: &str,
    values: &[String],
    per_file: usize,
) -> Result<Duration, String> {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let started = Instant::now();
    let mkdirs = client
        .put(format!("{namenode}/webhdfs/v1{dir}?op=MKDIRS"))
        .send()
        .await
        .map_err(|e| format!("MKDIRS: {e}"))?;
    check(mkdirs, "MKDIRS").await?;
    for (n, body) in files(values, per_file) {
        let temp = format!("{dir}/{n:010}.json.tmp");
        let asked = no_redirects
            .put(format!(
                "{namenode}/webhdfs/v1{temp}?op=CREATE&overwrite=true"
            ))
            .send()
            .await
            .map_err(|e| format!("CREATE: {e}"))?;
        let location = asked
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or("CREATE: no redirect to a datanode")?
            .to_string();
        let written = client
            .put(location)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("CREATE: {e}"))?;
        check(written, "CREATE").await?;
        let renamed = client
            .put(format!(
                "{namenode}/webhdfs/v1{temp}?op=RENAME&destination={dir}/{n:010}.json"
            ))
            .send()
            .await
            .map_err(|e| format!("RENAME: {e}"))?;
        check(renamed, "RENAME").await?;
    }
    Ok(started.elapsed())
}
