//! Throughput runs: the raw rdkafka baselines and the same work through a
//! worker's task loop (datagen as a component, datagen native, null sink).
//!
//! Each run writes to or reads from a topic of its own and is timed from
//! its start to the moment the last record is in Kafka (sources: the
//! partition's high watermark) or committed by the sink's group.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use datagen_core::Shape;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

use super::Env;
use super::native_datagen::NativeDatagen;
use crate::config::clients::{consumer, producer};
use crate::worker::TaskContext;
use crate::worker::{sink_task, source_task};

/// How long one run may take before it is reported as stuck.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Counts delivery reports.
#[derive(Default)]
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
}

struct CountingContext(Arc<Deliveries>);

impl ClientContext for CountingContext {}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.0.ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.0.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Produces `n` datagen records to `topic` with the worker's producer
/// settings, as fast as librdkafka takes them; returns the steady-state
/// time (see [`warm_up`]) until the last one is acknowledged.
pub fn raw_producer(env: &Env, topic: &str, n: u64, shape: &Shape) -> Result<Duration, String> {
    let deliveries = Arc::new(Deliveries::default());
    let p: BaseProducer<CountingContext> = producer(
        env.kafka.bootstrap(),
        "bench-raw",
        0,
        &env.worker.producer,
        &[],
    )
    .create_with_context(CountingContext(deliveries.clone()))
    .map_err(|e| format!("raw producer: {e}"))?;
    let mut value = Vec::with_capacity(shape.record_bytes);
    let mut warm: Option<Instant> = None;
    let warm_at = warm_up(n);
    for seq in 0..n {
        if warm.is_none() && deliveries.ok.load(Ordering::Relaxed) >= warm_at {
            warm = Some(Instant::now());
        }
        let key = datagen_core::key(shape, seq);
        datagen_core::fill_value(shape, 0, seq, &mut value);
        send(
            &p,
            BaseRecord::to(topic).key(key.as_bytes()).payload(&value),
        )
        .map_err(|e| format!("raw producer: {e}"))?;
        if seq % 1024 == 0 {
            p.poll(Duration::ZERO);
        }
    }
    // The rest of the records are delivered while flushing.
    while warm.is_none() {
        p.poll(Duration::from_millis(1));
        if deliveries.ok.load(Ordering::Relaxed) >= warm_at {
            warm = Some(Instant::now());
        }
    }
    p.flush(RUN_TIMEOUT)
        .map_err(|e| format!("raw producer flush: {e}"))?;
    let took = warm.map(|w| w.elapsed()).unwrap_or_default();
    let ok = deliveries.ok.load(Ordering::Relaxed);
    if ok != n {
        return Err(format!(
            "raw producer: {ok} of {n} records acknowledged, {} failed",
            deliveries.failed.load(Ordering::Relaxed)
        ));
    }
    Ok(took)
}

/// Sends `record`, serving delivery reports while librdkafka's queue is
/// full (a loop producing as fast as it can fills it).
pub(super) fn send<C, K, P>(
    p: &BaseProducer<C>,
    mut record: BaseRecord<'_, K, P>,
) -> Result<(), KafkaError>
where
    C: ProducerContext<DeliveryOpaque = ()>,
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                p.poll(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Reads `n` records of `topic` from the beginning with the worker's
/// consumer settings, touching every value; returns the time from the
/// first record to the last (so `n - 1` records are timed).
pub fn raw_consumer(env: &Env, topic: &str, n: u64) -> Result<Duration, String> {
    let c: BaseConsumer = consumer(
        env.kafka.bootstrap(),
        &format!("bench-raw-{topic}"),
        0,
        &env.worker.consumer,
        &[],
    )
    .create()
    .map_err(|e| format!("raw consumer: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| e.to_string())?;
    c.assign(&tpl).map_err(|e| format!("raw consumer: {e}"))?;
    let started = Instant::now();
    let (mut seen, mut bytes) = (0u64, 0u64);
    // Timed from the first record: librdkafka prefetches, so a later start
    // would time records already in memory.
    let mut warm = None;
    while seen < n {
        if seen == 1 {
            warm.get_or_insert_with(Instant::now);
        }
        if started.elapsed() > RUN_TIMEOUT {
            return Err(format!(
                "raw consumer: {seen} of {n} records in {RUN_TIMEOUT:?}"
            ));
        }
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                seen += 1;
                bytes += m.payload().map(|p| p.len() as u64).unwrap_or(0);
            }
            Some(Err(e)) => return Err(format!("raw consumer: {e}")),
            None => {}
        }
    }
    std::hint::black_box(bytes);
    Ok(warm.map(|w: Instant| w.elapsed()).unwrap_or_default())
}

/// Which datagen runs in the task loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// The `datagen` component, in the sandbox.
    Wasm,
    /// The same logic compiled into the worker.
    Native,
}

/// Runs datagen through a source task until `n` records are in `topic`.
pub async fn source_task(
    env: &Env,
    generator: Generator,
    topic: &str,
    n: u64,
    shape: &Shape,
) -> Result<Duration, String> {
    let name = format!("bench-{topic}");
    let config = vec![
        ("connector.class".to_string(), "Datagen".to_string()),
        ("name".to_string(), name.clone()),
        ("topic".to_string(), topic.to_string()),
        ("record.bytes".to_string(), shape.record_bytes.to_string()),
        (
            "key.cardinality".to_string(),
            shape.key_cardinality.to_string(),
        ),
        ("iterations".to_string(), n.to_string()),
        ("task.index".to_string(), "0".to_string()),
    ];
    let ctx = env.task_context(&name, env.datagen.clone(), config)?;
    match generator {
        Generator::Wasm => run_source(env, ctx, topic, n, None).await,
        Generator::Native => {
            let guest = NativeDatagen::new(&name, env.offsets.clone());
            run_source(env, ctx, topic, n, Some(guest)).await
        }
    }
}

/// Runs a source task (the context's plugin, or `native` through the same
/// loop) until `n` records are in `topic`.
pub async fn run_source(
    env: &Env,
    ctx: TaskContext,
    topic: &str,
    n: u64,
    native: Option<NativeDatagen>,
) -> Result<Duration, String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let task = match native {
        None => tokio::spawn(source_task::run(ctx.clone(), stop_rx)),
        Some(guest) => tokio::spawn(source_task::run_native(ctx.clone(), stop_rx, guest, || {})),
    };
    let outcome = wait_until(&ctx, started, n, env.high_watermark(topic)?).await;
    stop_tx.send_replace(true);
    let _ = task.await;
    report_calls(&ctx, n);
    outcome
}

/// Runs the null sink through a sink task until its group has committed
/// all `n` records of `topic`.
pub async fn sink_task(env: &Env, topic: &str, n: u64) -> Result<Duration, String> {
    let name = format!("bench-sink-{topic}");
    let config = vec![
        ("connector.class".to_string(), "NullSink".to_string()),
        ("name".to_string(), name.clone()),
        ("topics".to_string(), topic.to_string()),
    ];
    let ctx = env.task_context(&name, env.null_sink.clone(), config)?;
    run_sink(env, ctx, topic, n).await
}

/// Runs a sink task until its group has committed all `n` records of
/// `topic` (partition 0).
pub async fn run_sink(
    env: &Env,
    ctx: TaskContext,
    topic: &str,
    n: u64,
) -> Result<Duration, String> {
    let name = ctx.connector.clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(sink_task::run(ctx.clone(), stop_rx));
    let outcome = wait_until(&ctx, started, n, env.committed(&name, topic)?).await;
    stop_tx.send_replace(true);
    let _ = task.await;
    report_calls(&ctx, n);
    outcome
}

/// Says how many records each guest call carried (progress output).
pub(super) fn report_calls(ctx: &TaskContext, n: u64) {
    if let Some(usage) = ctx
        .status
        .get(&ctx.connector)
        .and_then(|s| s.usage.get(&ctx.task).copied())
    {
        eprintln!(
            "[bench] {}: {} guest calls, {:.0} records per call, {} ms inside the guest",
            ctx.connector,
            usage.calls,
            n as f64 / usage.calls.max(1) as f64,
            usage.guest_time.as_millis()
        );
    }
}

/// The first records of a run are not timed: they pay for start-up (a
/// producer's first metadata, a sink's group join: seconds on this broker),
/// which says nothing about throughput. Timing starts once this many of `n`
/// records are through.
pub fn warm_up(n: u64) -> u64 {
    n / 10
}

/// Polls `progress` (records through so far) every 2 ms on a thread of its
/// own (the checks are blocking broker round trips, kept off the async
/// threads the task runs on), and returns the time from the warm-up point
/// (see [`warm_up`]) until all `n` are through; fails early when the task
/// fails.
async fn wait_until(
    ctx: &TaskContext,
    started: Instant,
    n: u64,
    mut progress: impl FnMut() -> u64 + Send + 'static,
) -> Result<Duration, String> {
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = cancelled.clone();
    std::thread::spawn(move || {
        let mut warm = None;
        while !flag.load(Ordering::Relaxed) {
            let through = progress();
            if through >= warm_up(n) {
                warm.get_or_insert_with(Instant::now);
            }
            if through >= n {
                let _ = tx.send(warm.map(|w: Instant| w.elapsed()).unwrap_or_default());
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let outcome = loop {
        match tokio::time::timeout(Duration::from_millis(20), &mut rx).await {
            Ok(Ok(took)) => break Ok(took),
            Ok(Err(_)) => break Err("the progress watcher stopped".to_string()),
            Err(_) => {}
        }
        if let Some(status) = ctx.status.get(&ctx.connector)
            && let Some(task) = status.tasks.get(&ctx.task)
            && task.state == crate::worker::status::State::Failed
        {
            break Err(format!(
                "{} failed: {}",
                ctx.connector,
                task.trace.clone().unwrap_or_default()
            ));
        }
        if started.elapsed() > RUN_TIMEOUT {
            break Err(format!(
                "{} did not finish in {RUN_TIMEOUT:?}",
                ctx.connector
            ));
        }
    };
    cancelled.store(true, Ordering::Relaxed);
    outcome
}
