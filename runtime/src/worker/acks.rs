//! Which source records Kafka acknowledged, and which source offsets may
//! be stored because of it: [`AckTracker`] marks records as librdkafka's
//! delivery reports arrive (through [`AckContext`], on its delivery thread,
//! routed by each record's [`Ticket`]) and releases offsets strictly in
//! sequence order, so a stored offset never runs ahead of an
//! unacknowledged record.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message};

use crate::bindings::source_task::{AckStatus, RecordAck};
use crate::metrics::TaskMetrics;

/// Records handed to the producer, in order, until their offsets are stored.
#[derive(Debug, Default)]
pub struct AckTracker {
    first_seq: u64,
    entries: VecDeque<Pending>,
    unacked: usize,
    failure: Option<String>,
    guest_acks: Vec<RecordAck>,
    /// Where Kafka's answers are counted (`source-record-write-total`):
    /// here, under the lock each answer already takes.
    metrics: Option<Arc<TaskMetrics>>,
}

#[derive(Debug)]
struct Pending {
    partition: String,
    offset: String,
    token: Option<u64>,
    acked: bool,
}

impl AckTracker {
    /// A tracker that counts Kafka's answers in `metrics`.
    pub fn with_metrics(metrics: Arc<TaskMetrics>) -> AckTracker {
        AckTracker {
            metrics: Some(metrics),
            ..AckTracker::default()
        }
    }

    /// Registers a record about to be sent; returns its sequence number.
    pub fn push(&mut self, partition: String, offset: String, token: Option<u64>) -> u64 {
        let seq = self.first_seq + self.entries.len() as u64;
        self.entries.push_back(Pending {
            partition,
            offset,
            token,
            acked: false,
        });
        self.unacked += 1;
        seq
    }

    /// Registers a record a transformation dropped: nothing to wait for,
    /// so its offset is released with the run it belongs to, and the task
    /// hears it was filtered.
    pub fn push_filtered(&mut self, partition: String, offset: String, token: Option<u64>) {
        self.entries.push_back(Pending {
            partition,
            offset,
            token: None,
            acked: true,
        });
        if let Some(token) = token {
            self.guest_acks.push(RecordAck {
                token,
                status: AckStatus::Filtered,
            });
        }
    }

    /// Records Kafka's answer for record `seq`.
    pub fn acknowledge(&mut self, seq: u64, outcome: Result<(i32, i64), String>) {
        let Some(idx) = seq.checked_sub(self.first_seq) else {
            return;
        };
        let Some(entry) = self.entries.get_mut(idx as usize) else {
            return;
        };
        if entry.acked {
            return;
        }
        match outcome {
            Ok((partition, offset)) => {
                entry.acked = true;
                self.unacked -= 1;
                if let Some(m) = &self.metrics {
                    m.written();
                }
                if let Some(token) = entry.token {
                    self.guest_acks.push(RecordAck {
                        token,
                        status: AckStatus::Written((partition, offset)),
                    });
                }
            }
            Err(e) => {
                if let Some(m) = &self.metrics {
                    m.write_failed();
                }
                self.failure.get_or_insert(e);
            }
        }
    }

    /// Pops the acknowledged prefix; returns the latest offset per source
    /// partition within it, as the task gave it (not yet canonical: only
    /// the offsets that get stored are parsed).
    pub fn drain_committable(&mut self) -> Vec<(String, String)> {
        let mut latest = BTreeMap::new();
        while self.entries.front().is_some_and(|e| e.acked) {
            if let Some(e) = self.entries.pop_front() {
                latest.insert(e.partition, e.offset);
            }
            self.first_seq += 1;
        }
        latest.into_iter().collect()
    }

    /// Records sent but not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.unacked
    }

    /// The first delivery failure, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure.clone()
    }

    /// Acknowledgements the guest asked for, since the last call.
    pub fn take_guest_acks(&mut self) -> Vec<RecordAck> {
        std::mem::take(&mut self.guest_acks)
    }
}

/// What a record sent to a producer carries to its delivery report: the
/// tracker of the task that sent it and its sequence number there. A
/// producer may serve several tasks (see [`super::producers`]), so the
/// report finds its task through the record, not the producer.
pub struct Ticket {
    tracker: Arc<Mutex<AckTracker>>,
    seq: u64,
}

impl Ticket {
    /// The ticket of record `seq` of `tracker`.
    pub fn new(tracker: &Arc<Mutex<AckTracker>>, seq: u64) -> Box<Ticket> {
        Box::new(Ticket {
            tracker: tracker.clone(),
            seq,
        })
    }

    /// The ticket of a record no source record stands behind (an offsets
    /// record written in a transaction): its report marks nothing.
    pub fn unrouted(tracker: &Arc<Mutex<AckTracker>>) -> Box<Ticket> {
        // No sequence number reaches u64::MAX, so `acknowledge` finds no
        // entry for it.
        Ticket::new(tracker, u64::MAX)
    }
}

/// Feeds librdkafka's delivery reports into the tracker each record's
/// [`Ticket`] names.
pub struct AckContext;

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Box<Ticket>;

    fn delivery(&self, result: &DeliveryResult<'_>, ticket: Box<Ticket>) {
        let outcome = match result {
            Ok(msg) => Ok((msg.partition(), msg.offset())),
            Err((e, msg)) => Err(format!(
                "Kafka did not accept a record for topic {}: {e}",
                msg.topic()
            )),
        };
        if let Ok(mut t) = ticket.tracker.lock() {
            t.acknowledge(ticket.seq, outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_released_only_behind_an_unbroken_run_of_acks() {
        let mut t = AckTracker::default();
        let a = t.push("p1".into(), "1".into(), None);
        let b = t.push("p2".into(), "1".into(), Some(7));
        let c = t.push("p1".into(), "2".into(), None);
        t.acknowledge(c, Ok((0, 12)));
        assert!(t.drain_committable().is_empty(), "c is acked but a is not");
        t.acknowledge(a, Ok((0, 10)));
        assert_eq!(t.drain_committable(), [("p1".to_string(), "1".to_string())]);
        t.acknowledge(b, Ok((0, 11)));
        assert_eq!(
            t.drain_committable(),
            [
                ("p1".to_string(), "2".to_string()),
                ("p2".to_string(), "1".to_string())
            ]
        );
        assert_eq!(t.unacked(), 0);
        assert_eq!(
            t.take_guest_acks(),
            [RecordAck {
                token: 7,
                status: AckStatus::Written((0, 11))
            }]
        );
    }

    #[test]
    fn an_unrouted_report_marks_nothing() {
        let tracker = Arc::new(Mutex::new(AckTracker::default()));
        let a = tracker.lock().unwrap().push("p".into(), "1".into(), None);
        let ticket = Ticket::unrouted(&tracker);
        tracker.lock().unwrap().acknowledge(ticket.seq, Ok((0, 1)));
        assert_eq!(tracker.lock().unwrap().unacked(), 1);
        tracker.lock().unwrap().acknowledge(a, Ok((0, 2)));
        assert_eq!(tracker.lock().unwrap().unacked(), 0);
    }

    #[test]
    fn a_failed_delivery_is_kept_and_blocks_its_offset() {
        let mut t = AckTracker::default();
        let a = t.push("p".into(), "1".into(), None);
        t.acknowledge(a, Err("rejected".into()));
        assert_eq!(t.failure().as_deref(), Some("rejected"));
        assert!(t.drain_committable().is_empty());
    }
}
