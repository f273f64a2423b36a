//! Exactly-once source support (KIP-618): the worker's
//! `exactly.once.source.support`, a source connector's
//! `exactly.once.support`, `transaction.boundary` and
//! `transaction.boundary.interval.ms`, checked in Kafka Connect's words, and
//! [`Transactions`], which a source task's loop drives when they are on.
//!
//! With support enabled (distributed mode), each source task's producer is
//! transactional, with Kafka Connect's id `<group.id>-<connector>-<task>`.
//! Starting it fences every earlier producer with that id: a zombie of the
//! task on a worker that lost the group can no longer commit. Records and
//! the offsets they advance are written in one transaction, the offsets to
//! the worker's offsets topic, so a `read_committed` consumer sees each
//! record once whatever happens to the worker, and a restarted task resumes
//! exactly after the last committed record.
//!
//! A connector-specific `offsets.storage.topic` is refused: every
//! connector's offsets live in the worker's offsets topic.
//!
//! What Kafka asks of the connector through Java methods
//! (`SourceConnector.exactlyOnceSupport`, `canDefineTransactionBoundaries`)
//! our contract does not have yet; so Kafka's answers for a connector that
//! does not implement them apply: `exactly.once.support=required` fails the
//! preflight check and `transaction.boundary=connector` is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext, ThreadedProducer};

use crate::config::WorkerConfig;
use crate::config::clients::{describe_client_error, producer};

pub use crate::config::worker::ExactlyOnceSource as WorkerSupport;
use crate::config::worker::lookup;

/// When an exactly-once source task commits its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// After every batch `poll` returned.
    Poll,
    /// Once this long has passed since the last commit.
    Interval(Duration),
}

/// Kafka's message when a connector cannot answer the preflight check.
const NO_PREFLIGHT: &str = "The connector does not implement the API required for preflight \
    validation of exactly-once source support. Please consult the documentation for the \
    connector to determine whether it supports exactly-once semantics, and then consider \
    reconfiguring the connector to use the value \"requested\" for this property (which will \
    disable this preflight check and allow the connector to be created).";

/// Kafka's message when a connector cannot define transaction boundaries.
const NO_CONNECTOR_BOUNDARIES: &str = "The connector does not support connector-defined \
    transaction boundaries with the given configuration. Please reconfigure it to use a \
    different transaction boundary definition.";

/// A source connector configuration's problems with these keys, as
/// Kafka's distributed herder reports them.
pub fn problems(config: &[(String, String)], worker: WorkerSupport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |key: &str, message: String| out.push((key.to_string(), message));
    if let Some(v) = lookup(config, "exactly.once.support") {
        match v.trim().to_ascii_lowercase().as_str() {
            "requested" => {}
            "required" => {
                if !worker.enabled() {
                    add(
                        "exactly.once.support",
                        "This worker does not have exactly-once source support enabled.".into(),
                    );
                }
                add("exactly.once.support", NO_PREFLIGHT.into());
            }
            _ => add(
                "exactly.once.support",
                format!(
                    "Invalid value {v} for configuration exactly.once.support: \
                     String must be one of (case insensitive): requested, required"
                ),
            ),
        }
    }
    if let Some(v) = lookup(config, "transaction.boundary") {
        match v.trim().to_ascii_lowercase().as_str() {
            "poll" | "interval" => {}
            "connector" => add("transaction.boundary", NO_CONNECTOR_BOUNDARIES.into()),
            _ => add(
                "transaction.boundary",
                format!(
                    "Invalid value {v} for configuration transaction.boundary: \
                     String must be one of (case insensitive): poll, interval, connector"
                ),
            ),
        }
    }
    // KIP-618's connector-specific offsets topic is not built: refused,
    // never silently replaced by the worker's topic.
    if let Some(v) = lookup(config, "offsets.storage.topic").filter(|v| !v.trim().is_empty()) {
        add(
            "offsets.storage.topic",
            format!(
                "Invalid value {v} for configuration offsets.storage.topic: this worker keeps \
                 every connector's offsets in its own offsets topic; leave it unset"
            ),
        );
    }
    if let Some(v) = lookup(config, "transaction.boundary.interval.ms") {
        match v.trim().parse::<i64>() {
            Ok(n) if n >= 0 => {}
            Ok(_) => add(
                "transaction.boundary.interval.ms",
                format!(
                    "Invalid value {v} for configuration transaction.boundary.interval.ms: \
                     Value must be at least 0"
                ),
            ),
            Err(_) => add(
                "transaction.boundary.interval.ms",
                format!(
                    "Invalid value {v} for configuration transaction.boundary.interval.ms: \
                     Not a number of type LONG"
                ),
            ),
        }
    }
    out
}

/// The boundary a source connector's tasks commit at, `None` when the
/// worker does not run sources exactly once. `flush_interval` is the
/// worker's `offset.flush.interval.ms`, the interval's default.
pub fn boundary(
    config: &[(String, String)],
    worker: WorkerSupport,
    flush_interval: Duration,
) -> Result<Option<Boundary>, String> {
    if !worker.enabled() {
        return Ok(None);
    }
    // Validated at creation; a configuration stored by an older worker
    // fails here with the same words.
    if let Some((_, message)) = problems(config, worker)
        .into_iter()
        .find(|(key, _)| key != "exactly.once.support")
    {
        return Err(message);
    }
    let interval = lookup(config, "transaction.boundary.interval.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(flush_interval);
    Ok(Some(
        match lookup(config, "transaction.boundary").map(|v| v.trim().to_ascii_lowercase()) {
            Some(b) if b == "interval" => Boundary::Interval(interval),
            _ => Boundary::Poll,
        },
    ))
}

/// Kafka Connect's transactional id of a source task's producer.
pub fn transactional_id(group: &str, connector: &str, task: u32) -> String {
    format!("{group}-{connector}-{task}")
}

/// Fences the transactional producers of `connector`'s tasks numbered
/// `ids`: a connector whose task count shrank leaves producers with ids no
/// task of the new generation starts (and so fences) itself. Initialising
/// a producer with each id bumps its epoch, which aborts what a zombie
/// left open and refuses its further writes; Kafka's leader does the same
/// through `Admin.fenceProducers`.
pub async fn fence(
    worker: &WorkerConfig,
    bootstrap: &str,
    connector: &str,
    ids: std::ops::Range<u32>,
) -> Result<(), String> {
    let group = worker.get("group.id").unwrap_or_default().to_string();
    for task in ids {
        let mut settings = producer(bootstrap, connector, task, &worker.producer, &[]);
        let id = transactional_id(&group, connector, task);
        settings.set("transactional.id", &id);
        tracing::info!(connector, task, transactional_id = %id, "fencing the producer of a retired task");
        tokio::task::spawn_blocking(move || {
            let fencer: BaseProducer = settings
                .create()
                .map_err(|e| describe_client_error("producer", &e))?;
            fencer
                .init_transactions(TRANSACTION_TIMEOUT)
                .map_err(|e| format!("cannot fence transactional id {id}: {e}"))
        })
        .await
        .map_err(|e| format!("fencing did not finish: {e}"))??;
    }
    Ok(())
}

/// How long a transaction call may take before the task fails.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The transaction state of one exactly-once source task.
pub(crate) struct Transactions {
    boundary: Boundary,
    open: bool,
    last_commit: Instant,
}

impl Transactions {
    /// Starts the task's transactional producer: fences every earlier
    /// producer with its id and aborts what they left open.
    pub(crate) async fn start<C: ProducerContext + 'static>(
        boundary: Boundary,
        producer: &Arc<ThreadedProducer<C>>,
    ) -> Result<Transactions, String> {
        let p = producer.clone();
        tokio::task::spawn_blocking(move || p.init_transactions(TRANSACTION_TIMEOUT))
            .await
            .map_err(|e| format!("starting the transactional producer did not finish: {e}"))?
            .map_err(|e| format!("cannot start the task's transactional producer: {e}"))?;
        Ok(Transactions {
            boundary,
            open: false,
            last_commit: Instant::now(),
        })
    }

    /// Opens a transaction unless one is open; call before every send.
    pub(crate) fn begin<C: ProducerContext + 'static>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), String> {
        if !self.open {
            producer
                .begin_transaction()
                .map_err(|e| format!("cannot begin a producer transaction: {e}"))?;
            self.open = true;
        }
        Ok(())
    }

    /// Whether the open transaction should be committed now, after a poll.
    pub(crate) fn due(&self) -> bool {
        self.open
            && match self.boundary {
                Boundary::Poll => true,
                Boundary::Interval(every) => self.last_commit.elapsed() >= every,
            }
    }

    /// Whether a transaction is open.
    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    /// Waits until every record sent in the open transaction is
    /// acknowledged (or failed), so the offsets it advances are known.
    pub(crate) async fn flush<C: ProducerContext + 'static>(
        &self,
        producer: &Arc<ThreadedProducer<C>>,
    ) -> Result<(), String> {
        let p = producer.clone();
        tokio::task::spawn_blocking(move || p.flush(TRANSACTION_TIMEOUT))
            .await
            .map_err(|e| format!("flushing the producer did not finish: {e}"))?
            .map_err(|e| format!("cannot flush the task's records: {e}"))
    }

    /// Writes `offsets` (topic, key, value) into the open transaction and
    /// commits it: the records and their offsets become visible together.
    /// `opaque` marks each offsets record for the producer's delivery
    /// callback, which has no source record to acknowledge for them.
    pub(crate) async fn commit<C: ProducerContext + 'static>(
        &mut self,
        producer: &Arc<ThreadedProducer<C>>,
        offsets: Vec<(String, Vec<u8>, Option<Vec<u8>>)>,
        opaque: impl Fn() -> C::DeliveryOpaque,
    ) -> Result<(), String> {
        if !self.open {
            return Ok(());
        }
        for (topic, key, value) in &offsets {
            let mut record =
                BaseRecord::<[u8], [u8], C::DeliveryOpaque>::with_opaque_to(topic, opaque())
                    .key(key.as_slice());
            if let Some(v) = value {
                record = record.payload(v.as_slice());
            }
            producer
                .send(record)
                .map_err(|(e, _)| format!("cannot write source offsets to {topic}: {e}"))?;
        }
        let p = producer.clone();
        let committed =
            tokio::task::spawn_blocking(move || p.commit_transaction(TRANSACTION_TIMEOUT))
                .await
                .map_err(|e| format!("the transaction commit did not finish: {e}"))?;
        self.open = false;
        self.last_commit = Instant::now();
        committed.map_err(|e| format!("cannot commit the producer transaction: {e}"))
    }

    /// Aborts the open transaction (a failing or stopping task): nothing it
    /// wrote becomes visible to `read_committed` consumers.
    pub(crate) async fn abort<C: ProducerContext + 'static>(
        &mut self,
        producer: &Arc<ThreadedProducer<C>>,
    ) {
        if !self.open {
            return;
        }
        self.open = false;
        let p = producer.clone();
        match tokio::task::spawn_blocking(move || p.abort_transaction(TRANSACTION_TIMEOUT)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("cannot abort the producer transaction: {e}"),
            Err(e) => tracing::warn!("aborting the producer transaction did not finish: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn validation_gives_kafkas_messages() {
        let p = problems(
            &kv(&[
                ("exactly.once.support", "required"),
                ("transaction.boundary", "connector"),
                ("transaction.boundary.interval.ms", "-1"),
            ]),
            WorkerSupport::Disabled,
        );
        let messages: Vec<&str> = p.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "This worker does not have exactly-once source support enabled.",
                NO_PREFLIGHT,
                NO_CONNECTOR_BOUNDARIES,
                "Invalid value -1 for configuration transaction.boundary.interval.ms: Value must be at least 0",
            ]
        );
        assert!(
            problems(
                &kv(&[
                    ("exactly.once.support", "Requested"),
                    ("offsets.storage.topic", "")
                ]),
                WorkerSupport::Enabled
            )
            .is_empty()
        );
        assert!(
            problems(
                &kv(&[("offsets.storage.topic", "mine")]),
                WorkerSupport::Enabled
            )[0]
            .1
            .contains("leave it unset")
        );
        assert_eq!(
            problems(
                &kv(&[("transaction.boundary", "batch")]),
                WorkerSupport::Enabled
            )[0]
            .1,
            "Invalid value batch for configuration transaction.boundary: String must be one of \
             (case insensitive): poll, interval, connector"
        );
    }

    #[test]
    fn the_boundary_is_poll_unless_an_interval_is_asked_for() {
        let flush = Duration::from_secs(60);
        assert_eq!(boundary(&[], WorkerSupport::Disabled, flush), Ok(None));
        assert_eq!(
            boundary(&[], WorkerSupport::Enabled, flush),
            Ok(Some(Boundary::Poll))
        );
        assert_eq!(
            boundary(
                &kv(&[("transaction.boundary", "interval")]),
                WorkerSupport::Enabled,
                flush
            ),
            Ok(Some(Boundary::Interval(flush)))
        );
        assert_eq!(
            boundary(
                &kv(&[
                    ("transaction.boundary", "interval"),
                    ("transaction.boundary.interval.ms", "250")
                ]),
                WorkerSupport::Enabled,
                flush
            ),
            Ok(Some(Boundary::Interval(Duration::from_millis(250))))
        );
        assert!(
            boundary(
                &kv(&[("transaction.boundary", "connector")]),
                WorkerSupport::Enabled,
                flush
            )
            .is_err()
        );
        assert_eq!(
            transactional_id("connect-cluster", "src", 2),
            "connect-cluster-src-2"
        );
    }
}
