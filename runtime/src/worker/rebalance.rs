//! A sink task's partition assignment, from librdkafka's rebalance
//! callbacks to the task loop in [`super::sink_task`]: assignments are
//! relayed as they happen; a revocation waits inside the callback until
//! the loop has run `pre-commit` and `close` for the partitions, and
//! commits the offsets it answers with before the partitions go, as
//! Kafka's `WorkerSinkTask.onPartitionsRevoked` does. The outcomes of the
//! loop's periodic asynchronous commits come back here too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{ClientContext, TopicPartitionList};
use tokio::sync::mpsc;

use crate::bindings::types::TopicPartition;
use crate::metrics::TaskMetrics;

/// A change of partition assignment, relayed from librdkafka's rebalance
/// callback (on the polling thread) to the loop.
pub(super) enum Assignment {
    Assigned(Vec<TopicPartition>),
    /// Partitions about to be taken away. The loop asks the task what of
    /// them is safe to commit, closes them, and answers with the offsets;
    /// the callback commits those before it lets the partitions go, as
    /// Kafka's `WorkerSinkTask.onPartitionsRevoked` does.
    Revoking(
        Vec<TopicPartition>,
        std::sync::mpsc::SyncSender<TopicPartitionList>,
    ),
}

/// Relays librdkafka's rebalance callbacks (run inside the consumer's
/// `poll`, on the sink task's poller thread, [`super::sink_poll`]) to the
/// loop.
pub(super) struct RebalanceContext {
    pub(super) events: mpsc::UnboundedSender<Assignment>,
    /// Raised once the task has committed and closed everything on stop:
    /// the revocation that leaving the group brings has nothing to do.
    pub(super) closing: Arc<AtomicBool>,
    /// Revocations relayed so far; the poller tags each batch with it.
    pub(super) revocations: Arc<AtomicU64>,
    /// The task, for the log.
    pub(super) connector: String,
    pub(super) task: u32,
    /// Where commits are counted (`offset-commit-*`).
    pub(super) metrics: Arc<TaskMetrics>,
}

/// How long a revocation waits for the loop's answer. The loop answers as
/// soon as the task's `pre-commit` and `close` return, each under the
/// call deadline; and if the loop ends, the answer channel closes and the
/// wait ends with it. This only bounds a wait nothing else bounds.
const REVOCATION_WAIT: Duration = Duration::from_secs(300);

impl ClientContext for RebalanceContext {
    /// A subscribed topic that does not exist yet is normal while its
    /// source starts (the quickstart's sink subscribes before the file
    /// source's first record creates the topic); Kafka's consumer logs it
    /// as a warning and keeps waiting, and so do we. Everything else keeps
    /// librdkafka's ERROR.
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if error.rdkafka_error_code()
            == Some(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)
        {
            tracing::warn!(connector = %self.connector, task = self.task, "waiting for a subscribed topic: {reason}");
        } else {
            tracing::error!(connector = %self.connector, task = self.task, "librdkafka: {error}: {reason}");
        }
    }
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        if tpl.count() == 0 || self.closing.load(Ordering::Acquire) {
            return;
        }
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        // Counted before the loop can see it, so a batch tagged with the
        // old count is known to predate this revocation.
        self.revocations.fetch_add(1, Ordering::AcqRel);
        if self
            .events
            .send(Assignment::Revoking(partitions(tpl), reply))
            .is_err()
        {
            return;
        }
        match answer.recv_timeout(REVOCATION_WAIT) {
            Ok(offsets) if offsets.count() > 0 => {
                // Partitions already lost (the session expired) refuse the
                // commit; their records are read again by their new owner.
                let started = std::time::Instant::now();
                let committed = consumer.commit(&offsets, CommitMode::Sync);
                self.metrics.committed(committed.is_ok(), started.elapsed());
                if let Err(e) = committed {
                    tracing::warn!(connector = %self.connector, task = self.task, error = %e, "offset commit before revocation failed");
                }
            }
            Ok(_) => {}
            Err(_) => {
                tracing::warn!(connector = %self.connector, task = self.task, "partitions revoked without a commit: the task did not answer")
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let _ = self.events.send(Assignment::Assigned(partitions(tpl)));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                tracing::warn!(connector = %self.connector, task = self.task, error = %e, "consumer group rebalance failed")
            }
        }
    }

    /// The outcome of a periodic (asynchronous) commit, served inside the
    /// consumer's poll: a refused one is logged, and the next commit covers
    /// its offsets again (the loop keeps them until a commit succeeds
    /// or the partition goes), as Kafka's `WorkerSinkTask` does with its
    /// asynchronous commits.
    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::warn!(connector = %self.connector, task = self.task, partitions = offsets.count(), error = %e, "offset commit failed; the next commit covers these offsets");
        }
    }
}

pub(super) fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition {
            topic: e.topic().to_string(),
            partition: e.partition(),
        })
        .collect()
}
