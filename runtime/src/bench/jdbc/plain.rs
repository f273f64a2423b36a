//! The like-for-like baselines of the JDBC rows: the same work as each
//! connector, written directly against tokio-postgres and rdkafka in the
//! worker's process, with no sandbox, converter or task loop. The source's
//! is keyset-paged `SELECT`s, each row written as a JSON object and
//! produced; the sink's is the prepared `INSERT` the sink uses, a batch's
//! rows pipelined inside one transaction, as the host's `execute-batch`
//! sends them.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use super::super::Env;
use super::super::throughput::send;
use crate::config::clients::producer;

/// How long the produced rows may take to be acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(120);

/// One row of the bench table, as a client reads it.
pub struct Row {
    id: i64,
    name: String,
    amount: String,
    created: SystemTime,
    flag: Option<bool>,
}

const SELECT: &str = "SELECT id, name, amount::text, created, flag FROM bench_src";

fn row_of(r: &tokio_postgres::Row) -> Row {
    Row {
        id: r.get(0),
        name: r.get(1),
        amount: r.get(2),
        created: r.get(3),
        flag: r.get(4),
    }
}

/// Every row of the table, read before the sink baseline is timed.
pub async fn read_all(client: &Client) -> Result<Vec<Row>, String> {
    let rows = client
        .query(&format!("{SELECT} ORDER BY id"), &[])
        .await
        .map_err(|e| format!("reading bench_src: {e}"))?;
    Ok(rows.iter().map(row_of).collect())
}

/// Pages through the table `batch` rows at a time and produces each row
/// to `topic` as a JSON object; the time until the last is acknowledged.
pub async fn select_and_produce(
    env: &Env,
    client: &Client,
    topic: &str,
    batch: i64,
) -> Result<Duration, String> {
    let started = Instant::now();
    let p: BaseProducer = producer(
        env.kafka.bootstrap(),
        "bench-jdbc-plain",
        0,
        &env.worker.producer,
        &[],
    )
    .create()
    .map_err(|e| format!("plain producer: {e}"))?;
    let page = client
        .prepare(&format!("{SELECT} WHERE id > $1 ORDER BY id LIMIT $2"))
        .await
        .map_err(|e| format!("preparing the page query: {e}"))?;
    let mut last = 0_i64;
    loop {
        let rows = client
            .query(&page, &[&last, &batch])
            .await
            .map_err(|e| format!("paging bench_src: {e}"))?;
        let Some(end) = rows.last() else {
            break;
        };
        last = end.get(0);
        for r in rows.iter().map(row_of) {
            let millis = r
                .created
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let value = json!({"id": r.id, "name": r.name, "amount": r.amount,
                               "created": millis, "flag": r.flag})
            .to_string();
            send(&p, BaseRecord::<(), str>::to(topic).payload(value.as_str()))
                .map_err(|e| format!("plain producer: {e}"))?;
        }
        p.poll(Duration::ZERO);
    }
    tokio::task::block_in_place(|| p.flush(FLUSH_TIMEOUT))
        .map_err(|e| format!("plain producer flush: {e}"))?;
    Ok(started.elapsed())
}

/// Inserts `rows` into `table` with one prepared `INSERT`, `batch` rows a
/// transaction, each transaction's rows pipelined.
pub async fn pipelined_inserts(
    client: &Client,
    table: &str,
    rows: &[Row],
    batch: usize,
) -> Result<Duration, String> {
    let started = Instant::now();
    let insert = client
        .prepare(&format!(
            "INSERT INTO {table} (id, name, amount, created, flag) \
             VALUES ($1, $2, $3::text::numeric, $4, $5)"
        ))
        .await
        .map_err(|e| format!("preparing the insert: {e}"))?;
    let fail = |e: tokio_postgres::Error| format!("inserting into {table}: {e}");
    for chunk in rows.chunks(batch.max(1)) {
        client.batch_execute("BEGIN").await.map_err(fail)?;
        let pending = chunk.iter().map(|r| {
            let params: [&(dyn ToSql + Sync); 5] = [&r.id, &r.name, &r.amount, &r.created, &r.flag];
            client.execute_raw(&insert, params)
        });
        for result in futures::future::join_all(pending).await {
            result.map_err(fail)?;
        }
        client.batch_execute("COMMIT").await.map_err(fail)?;
    }
    Ok(started.elapsed())
}
