//! A sink task's consumer poller: one thread per sink task that polls the
//! consumer and converts what it fetched into batches of up to
//! `max.poll.records`, handing them to the task loop in
//! [`super::sink_task`] through a channel one batch deep.
//!
//! Why a thread of its own: the loop used to hop to a blocking thread for
//! every batch, and on two cores each hop left the batch waiting for a
//! scheduler slice (about 3 ms a batch, most of the sink's time; see
//! docs/benchmarks.md). Polling ahead on a thread that stays awake lets
//! the next batch be fetched and converted while the guest's `put` runs.
//! librdkafka's rebalance callbacks run inside this thread's `poll`, as
//! they ran inside the blocking thread's before: a revocation waits there
//! for the loop's answer (see [`super::rebalance`]).
//!
//! A batch never spans a rebalance: librdkafka's `poll` returns nothing
//! when it served a rebalance, which ends the batch. Each batch carries
//! the number of revocations begun before its polling started, so the loop
//! can drop the records of partitions revoked since.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use tokio::sync::{mpsc, oneshot};

use super::consumed::{as_consumed, convert, headers_of};
use super::errors::{Consumed, Stage};
use super::rebalance::RebalanceContext;
use crate::bindings::types::{SinkRecord, TopicPartition};
use crate::convert::Converter;

/// How long a poll waits for a first record before it looks at the halt
/// flag again.
const RECV_WAIT: Duration = Duration::from_millis(100);

/// What one round of polling gave.
#[derive(Default)]
pub(super) struct Polled {
    /// Converted records, in order.
    pub(super) records: Vec<SinkRecord>,
    /// Records that failed to convert, as consumed, with the failure.
    pub(super) failed: Vec<(Consumed, Stage, String)>,
    /// Each converted record as consumed, index for index, when a
    /// transformation may refuse one and a dead letter queue wants it.
    pub(super) raw: Option<Vec<Consumed>>,
    /// What the consumer reported instead of a record, if anything.
    pub(super) error: Option<KafkaError>,
    /// Revocations begun before this batch's polling started.
    pub(super) revocations: u64,
}

impl Polled {
    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty() && self.failed.is_empty()
    }

    /// Drops the records of the partitions in `revoked`: fetched before a
    /// revocation, they belong to the partition's new owner (or to this
    /// task again, from the committed offset, if the partition comes back),
    /// which reads them from the offset committed on revocation.
    pub(super) fn drop_partitions(&mut self, revoked: &[TopicPartition]) {
        let kept = |topic: &str, partition: i32| {
            !revoked
                .iter()
                .any(|r| r.partition == partition && r.topic == topic)
        };
        match &mut self.raw {
            Some(raw) => {
                let mut records = std::mem::take(&mut self.records).into_iter();
                let mut kept_raw = Vec::with_capacity(raw.len());
                for r in std::mem::take(raw) {
                    let record = records.next();
                    if kept(&r.topic, r.partition) {
                        self.records.extend(record);
                        kept_raw.push(r);
                    }
                }
                *raw = kept_raw;
            }
            None => self.records.retain(|r| kept(&r.topic, r.partition)),
        }
        self.failed.retain(|(r, _, _)| kept(&r.topic, r.partition));
    }
}

/// The poller thread, as the loop sees it.
pub(super) struct Poller {
    batches: mpsc::Receiver<Polled>,
    halt: Arc<AtomicBool>,
    exited: Option<oneshot::Receiver<()>>,
}

/// What the poller needs to make batches.
pub(super) struct PollerSpec {
    pub(super) consumer: Arc<BaseConsumer<RebalanceContext>>,
    pub(super) converters: (Converter, Converter),
    pub(super) max_batch: usize,
    /// Whether to keep each record as consumed (see [`Polled::raw`]).
    pub(super) keep_raw: bool,
    /// Revocations begun so far, counted by the rebalance callback.
    pub(super) revocations: Arc<AtomicU64>,
}

impl Poller {
    /// Starts the thread.
    pub(super) fn start(spec: PollerSpec) -> Result<Poller, String> {
        // One batch waits while the next is polled: enough to overlap
        // fetching with `put`, and little to drop on a revocation.
        let (tx, batches) = mpsc::channel(1);
        let halt = Arc::new(AtomicBool::new(false));
        let (exited_tx, exited) = oneshot::channel();
        let flag = halt.clone();
        std::thread::Builder::new()
            .name("sink-poller".into())
            .spawn(move || {
                poll_until_halted(&spec, &tx, &flag);
                // Dropped on this thread, not the loop's: the last
                // reference to the consumer may be this one, and closing a
                // consumer blocks.
                drop(spec);
                let _ = exited_tx.send(());
            })
            .map_err(|e| format!("cannot start the consumer's polling thread: {e}"))?;
        Ok(Poller {
            batches,
            halt,
            exited: Some(exited),
        })
    }

    /// The next batch; `None` once the thread has ended.
    pub(super) async fn next(&mut self) -> Option<Polled> {
        self.batches.recv().await
    }

    /// Asks the thread to end after its current poll; batches not yet taken
    /// are dropped (their offsets were never committed).
    pub(super) fn halt(&mut self) {
        self.halt.store(true, Ordering::Release);
        self.batches.close();
    }

    /// Resolves once the thread has ended (at once if it was awaited
    /// before). A revocation the thread is waiting in must be answered
    /// meanwhile, so callers serve assignment events while they wait.
    pub(super) async fn exited(&mut self) {
        if let Some(exited) = self.exited.as_mut() {
            let _ = exited.await;
            self.exited = None;
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.halt.store(true, Ordering::Release);
    }
}

fn poll_until_halted(spec: &PollerSpec, tx: &mpsc::Sender<Polled>, halt: &AtomicBool) {
    while !halt.load(Ordering::Acquire) {
        let polled = poll_batch(spec);
        if (polled.is_empty() && polled.error.is_none()) || halt.load(Ordering::Acquire) {
            continue;
        }
        if tx.blocking_send(polled).is_err() {
            return;
        }
    }
}

/// Up to `max_batch` records: waits briefly for the first, then takes
/// whatever is already fetched. A poll that served a rebalance returns
/// nothing, which ends the batch there.
fn poll_batch(spec: &PollerSpec) -> Polled {
    let mut polled = Polled {
        records: Vec::new(),
        failed: Vec::new(),
        raw: spec.keep_raw.then(Vec::new),
        error: None,
        revocations: spec.revocations.load(Ordering::Acquire),
    };
    let mut wait = RECV_WAIT;
    while polled.records.len() + polled.failed.len() < spec.max_batch {
        match spec.consumer.poll(wait) {
            None => break,
            Some(Err(e)) => {
                polled.error = Some(e);
                break;
            }
            Some(Ok(msg)) => match convert(spec.converters, &msg) {
                Ok(record) => {
                    if let Some(raw) = &mut polled.raw {
                        raw.push(as_consumed(&msg, &record.headers));
                    }
                    polled.records.push(record);
                }
                Err((stage, e)) => {
                    let headers = headers_of(&msg);
                    polled.failed.push((as_consumed(&msg, &headers), stage, e));
                }
            },
        }
        wait = Duration::ZERO;
    }
    polled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::TimestampType;

    fn consumed(topic: &str, partition: i32, offset: i64) -> Consumed {
        Consumed {
            topic: topic.into(),
            partition,
            offset,
            timestamp: None,
            timestamp_type: TimestampType::NoTimestamp,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn dropping_revoked_partitions_keeps_records_and_their_raw_copies_paired() {
        let mut polled = Polled {
            records: vec![
                SinkRecord::bare("a", 0, 1),
                SinkRecord::bare("a", 1, 1),
                SinkRecord::bare("b", 0, 7),
            ],
            failed: vec![(consumed("a", 1, 2), Stage::ValueConverter, "bad".into())],
            raw: Some(vec![
                consumed("a", 0, 1),
                consumed("a", 1, 1),
                consumed("b", 0, 7),
            ]),
            error: None,
            revocations: 0,
        };
        polled.drop_partitions(&[TopicPartition {
            topic: "a".into(),
            partition: 1,
        }]);
        let kept: Vec<_> = polled
            .records
            .iter()
            .map(|r| (r.topic.as_str(), r.partition))
            .collect();
        assert_eq!(kept, [("a", 0), ("b", 0)]);
        let raw: Vec<_> = polled
            .raw
            .unwrap()
            .iter()
            .map(|r| (r.topic.clone(), r.offset))
            .collect();
        assert_eq!(raw, [("a".to_string(), 1), ("b".to_string(), 7)]);
        assert!(polled.failed.is_empty());
    }
}
