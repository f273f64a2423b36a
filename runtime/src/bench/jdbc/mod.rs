//! The JDBC rows: PostgreSQL → Kafka through the `JdbcSourceConnector`
//! component and Kafka → PostgreSQL through the `JdbcSinkConnector`
//! component, each beside two references measured in the same run:
//! PostgreSQL's own `COPY` over one connection (the fastest way the server
//! hands rows out or takes them in; a connector that queries and inserts
//! cannot come near it) and the baseline, the same queries and inserts
//! from a plain native client loop ([`plain`]).
//!
//! The table has a typical row: a `BIGSERIAL` key, text, a `NUMERIC`, a
//! timestamp and a nullable boolean (about 60 bytes as text). The source
//! reads it in `incrementing` mode into a topic as JsonConverter records
//! with schemas; the sink writes that topic back into a table it creates
//! (`auto.create`), so both rows move the same records. The server is a
//! throwaway cluster of the bench's own ([`server`]).

mod plain;
mod server;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio_postgres::{Client, NoTls};

use super::throughput::{run_sink, run_source, warm_up};
use super::{Env, median};
use crate::convert::Converter;
use server::LocalPostgres;

/// `batch.max.rows` for the source and `batch.size` for the sink: larger
/// than Confluent's defaults (100 and 3,000), as a user tuning for
/// throughput sets them, and the same on both sides.
const BATCH_ROWS: &str = "2000";

/// How much COPY data the baseline sends in one message.
const COPY_CHUNK: usize = 256 * 1024;

/// Runs the rows, `rows` a run, `repeats` times each, and prints them.
pub async fn run(env: &Env, rows: u64, repeats: usize) -> Result<(), String> {
    eprintln!("[bench] jdbc: starting a PostgreSQL cluster");
    let pg = LocalPostgres::start()?;
    let client = connect(&pg.url()).await?;
    eprintln!("[bench] jdbc: filling a table with {rows} rows");
    sql(
        &client,
        &format!(
            "CREATE TABLE bench_src (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, \
               amount NUMERIC(12,2) NOT NULL, created TIMESTAMP NOT NULL, flag BOOLEAN);
             INSERT INTO bench_src (name, amount, created, flag)
               SELECT 'customer-' || i, (i % 100000) / 100.0,
                      TIMESTAMP '2024-01-01' + i * INTERVAL '1 second',
                      CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END
               FROM generate_series(1, {rows}) AS i;
             CREATE TABLE bench_copy (LIKE bench_src);"
        ),
    )
    .await?;
    let url = format!("jdbc:postgresql://127.0.0.1:{}/postgres", pg.port());
    let tag = std::process::id();
    let source_rows = plain::read_all(&client).await?;
    let mut times: [Vec<Duration>; 6] = Default::default();
    for rep in 0..repeats {
        let progress = |what: &str| {
            eprintln!("[bench] jdbc, run {}/{repeats}: {what}", rep + 1);
        };
        progress("COPY TO STDOUT (baseline)");
        let (took, text) = copy_out(&client).await?;
        times[0].push(took);
        progress("SELECT -> JSON -> rdkafka, plain client (baseline)");
        let plain_topic = format!("bench-jdbc-plain-{tag}-{rep}");
        env.kafka.ensure_topic(&plain_topic, 1, 1).await?;
        times[4].push(plain::select_and_produce(env, &client, &plain_topic, batch_rows()).await?);
        progress("JdbcSourceConnector -> Kafka");
        let prefix = format!("bench-jdbc-{tag}-{rep}-");
        let topic = format!("{prefix}bench_src");
        env.kafka.ensure_topic(&topic, 1, 1).await?;
        let name = format!("bench-jdbc-source-{tag}-{rep}");
        let config = vec![
            ("connector.class".into(), "JdbcSourceConnector".into()),
            ("name".into(), name.clone()),
            ("connection.url".into(), url.clone()),
            ("connection.user".into(), "postgres".into()),
            ("mode".into(), "incrementing".into()),
            ("incrementing.column.name".into(), "id".into()),
            ("table.whitelist".into(), "bench_src".into()),
            ("topic.prefix".into(), prefix),
            ("batch.max.rows".into(), BATCH_ROWS.into()),
            ("poll.interval.ms".into(), "1".into()),
            ("tables".into(), r#"[["public","bench_src"]]"#.into()),
        ];
        let mut ctx = env.task_context(&name, env.load("jdbc-source").await?, config)?;
        ctx.value_converter = Converter::json(true);
        times[1].push(run_source(env, ctx, &topic, rows, None).await?);

        progress("COPY FROM STDIN (baseline)");
        sql(&client, "TRUNCATE bench_copy").await?;
        times[2].push(copy_in(&client, text).await?);
        progress("pipelined INSERTs, plain client (baseline)");
        sql(&client, "TRUNCATE bench_copy").await?;
        times[5].push(
            plain::pipelined_inserts(&client, "bench_copy", &source_rows, batch_rows() as usize)
                .await?,
        );
        progress("Kafka -> JdbcSinkConnector");
        let name = format!("bench-jdbc-sink-{tag}-{rep}");
        let config = vec![
            ("connector.class".into(), "JdbcSinkConnector".into()),
            ("name".into(), name.clone()),
            ("topics".into(), topic.clone()),
            ("connection.url".into(), url.clone()),
            ("connection.user".into(), "postgres".into()),
            ("insert.mode".into(), "insert".into()),
            ("auto.create".into(), "true".into()),
            ("table.name.format".into(), format!("bench_sink_{rep}")),
            ("batch.size".into(), BATCH_ROWS.into()),
        ];
        let mut ctx = env.task_context(&name, env.load("jdbc-sink").await?, config)?;
        ctx.value_converter = Converter::json(true);
        times[3].push(run_sink(env, ctx, &topic, rows).await?);
        let written = count(&client, &format!("bench_sink_{rep}")).await?;
        if written != rows {
            return Err(format!(
                "the sink wrote {written} rows of {rows} into bench_sink_{rep}"
            ));
        }
    }
    let timed = (rows - warm_up(rows)) as f64;
    let whole = rows as f64;
    let mut rate = |i: usize, n: f64| n / median(&mut times[i]).as_secs_f64();
    let copy_out_rate = rate(0, whole);
    let source_rate = rate(1, timed);
    let copy_in_rate = rate(2, whole);
    let sink_rate = rate(3, timed);
    let plain_source_rate = rate(4, whole);
    let plain_sink_rate = rate(5, whole);
    println!();
    println!(
        "JDBC connectors and PostgreSQL {} ({rows} rows a run, the first {} of a connector run untimed; batches of {BATCH_ROWS} rows)",
        pg.version,
        warm_up(rows)
    );
    println!(
        "| {:<50} | {:>10} | {:>11} | {:>8} |",
        "run", "rows/s", "vs baseline", "vs COPY"
    );
    println!("|{:-<52}|{:->12}|{:->13}|{:->10}|", "", "", "", "");
    let line = |label: &str, rate: f64, baseline: Option<f64>, copy: Option<f64>| {
        let ratio =
            |b: Option<f64>| b.map_or("-".to_string(), |b| format!("{:.1} %", 100.0 * rate / b));
        println!(
            "| {label:<50} | {rate:>10.0} | {:>11} | {:>8} |",
            ratio(baseline),
            ratio(copy)
        );
    };
    line("PostgreSQL COPY TO STDOUT", copy_out_rate, None, None);
    line(
        "SELECT -> JSON -> rdkafka, plain client (baseline)",
        plain_source_rate,
        None,
        Some(copy_out_rate),
    );
    line(
        "PostgreSQL -> JdbcSourceConnector -> Kafka",
        source_rate,
        Some(plain_source_rate),
        Some(copy_out_rate),
    );
    line("PostgreSQL COPY FROM STDIN", copy_in_rate, None, None);
    line(
        "pipelined INSERTs, plain client (baseline)",
        plain_sink_rate,
        None,
        Some(copy_in_rate),
    );
    line(
        "Kafka -> JdbcSinkConnector -> PostgreSQL",
        sink_rate,
        Some(plain_sink_rate),
        Some(copy_in_rate),
    );
    Ok(())
}

/// [`BATCH_ROWS`] as a number.
fn batch_rows() -> i64 {
    BATCH_ROWS.parse().unwrap_or(2000)
}

async fn connect(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("connecting to the bench's PostgreSQL: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("[bench] jdbc: the PostgreSQL connection ended: {e}");
        }
    });
    Ok(client)
}

async fn sql(client: &Client, text: &str) -> Result<(), String> {
    client
        .batch_execute(text)
        .await
        .map_err(|e| format!("{text}: {e}"))
}

async fn count(client: &Client, table: &str) -> Result<u64, String> {
    let row = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .map_err(|e| format!("counting {table}: {e}"))?;
    Ok(row.get::<_, i64>(0).max(0) as u64)
}

/// The whole source table through `COPY … TO STDOUT`: how long it took,
/// and the text (which the other baseline copies back in).
async fn copy_out(client: &Client) -> Result<(Duration, Vec<Bytes>), String> {
    let started = Instant::now();
    let stream = client
        .copy_out("COPY bench_src TO STDOUT")
        .await
        .map_err(|e| format!("COPY TO STDOUT: {e}"))?;
    let chunks: Vec<Bytes> = stream
        .map(|chunk| chunk.map_err(|e| format!("COPY TO STDOUT: {e}")))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok((started.elapsed(), chunks))
}

/// `text` into `bench_copy` through `COPY … FROM STDIN`.
async fn copy_in(client: &Client, text: Vec<Bytes>) -> Result<Duration, String> {
    let started = Instant::now();
    let sink = client
        .copy_in::<_, Bytes>("COPY bench_copy FROM STDIN")
        .await
        .map_err(|e| format!("COPY FROM STDIN: {e}"))?;
    futures::pin_mut!(sink);
    // The server sent a message a row; sent back that way, each would be
    // flushed on its own. A client loads COPY data in large buffers.
    let mut buffer = Vec::with_capacity(COPY_CHUNK);
    for chunk in text {
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= COPY_CHUNK {
            sink.send(Bytes::from(std::mem::take(&mut buffer)))
                .await
                .map_err(|e| format!("COPY FROM STDIN: {e}"))?;
        }
    }
    if !buffer.is_empty() {
        sink.send(Bytes::from(buffer))
            .await
            .map_err(|e| format!("COPY FROM STDIN: {e}"))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| format!("COPY FROM STDIN: {e}"))?;
    Ok(started.elapsed())
}
