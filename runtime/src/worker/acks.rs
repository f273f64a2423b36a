//! Which source records Kafka acknowledged, and which source offsets may
//! be stored because of it: [`AckTracker`] marks records as librdkafka's
//! delivery reports arrive (through [`AckContext`], on its delivery thread)
//! and releases offsets strictly in sequence order, so a stored offset
//! never runs ahead of an unacknowledged record.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message};

use crate::bindings::source_task::{AckStatus, RecordAck};

/// Records handed to the producer, in order, until their offsets are stored.
#[derive(Debug, Default)]
pub struct AckTracker {
    first_seq: u64,
    entries: VecDeque<Pending>,
    unacked: usize,
    failure: Option<String>,
    guest_acks: Vec<RecordAck>,
}

#[derive(Debug)]
struct Pending {
    partition: String,
    offset: String,
    token: Option<u64>,
    acked: bool,
}

impl AckTracker {
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
                if let Some(token) = entry.token {
                    self.guest_acks.push(RecordAck {
                        token,
                        status: AckStatus::Written((partition, offset)),
                    });
                }
            }
            Err(e) => {
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

/// The delivery opaque of an offsets record written in a transaction: no
/// source record stands behind it, so the tracker finds nothing to mark.
pub(crate) const OFFSETS_RECORD: usize = usize::MAX;

/// Feeds librdkafka's delivery reports into the tracker.
pub(crate) struct AckContext {
    pub(crate) tracker: Arc<Mutex<AckTracker>>,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let outcome = match result {
            Ok(msg) => Ok((msg.partition(), msg.offset())),
            Err((e, msg)) => Err(format!(
                "Kafka did not accept a record for topic {}: {e}",
                msg.topic()
            )),
        };
        if let Ok(mut t) = self.tracker.lock() {
            t.acknowledge(seq as u64, outcome);
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
    fn a_failed_delivery_is_kept_and_blocks_its_offset() {
        let mut t = AckTracker::default();
        let a = t.push("p".into(), "1".into(), None);
        t.acknowledge(a, Err("rejected".into()));
        assert_eq!(t.failure().as_deref(), Some("rejected"));
        assert!(t.drain_committable().is_empty());
    }
}
