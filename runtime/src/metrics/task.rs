//! One task's counters, as its loop updates them: Kafka's
//! `connector-task-metrics`, `source-task-metrics` and `sink-task-metrics`.
//!
//! A task loop holds an `Arc<TaskMetrics>` (in its
//! [`TaskContext`](crate::worker::TaskContext)) and calls the method named
//! after what just happened: [`TaskMetrics::polled`] after a source poll,
//! [`TaskMetrics::written`] when Kafka acknowledged a record, and so on.
//! Every method is a handful of relaxed atomic additions, never a lock, so
//! calling them per record costs nothing a loop would notice. The REST
//! handler reads them through [`super::Metrics::render`].
//!
//! The task error metrics and the guest's resource usage are not here: the
//! status board already keeps them (see `worker::status`), and the
//! renderer reads them there.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use super::window::{Stats, Window, WindowSpec};

/// Which of Kafka's task groups a task has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// `source-task-metrics`.
    Source,
    /// `sink-task-metrics`.
    Sink,
}

/// The worker-wide startup counters (`connect-worker-metrics`), shared by
/// the registry and every task, which reports how its start went.
#[derive(Debug, Default)]
pub struct StartupCounters {
    pub(super) connector_attempts: AtomicU64,
    pub(super) connector_successes: AtomicU64,
    pub(super) connector_failures: AtomicU64,
    pub(super) task_attempts: AtomicU64,
    pub(super) task_successes: AtomicU64,
    pub(super) task_failures: AtomicU64,
}

/// An exact count and its windowed rate.
#[derive(Debug)]
pub(super) struct Counted {
    total: AtomicU64,
    window: Window,
}

impl Counted {
    fn new(spec: WindowSpec) -> Counted {
        Counted {
            total: AtomicU64::new(0),
            window: Window::new(spec),
        }
    }

    fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.window.record(n);
    }

    pub(super) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub(super) fn rate(&self) -> f64 {
        self.window.stats().rate()
    }
}

/// One task's counters. See the module documentation for who calls what.
#[derive(Debug)]
pub struct TaskMetrics {
    pub(super) kind: TaskKind,
    startups: Arc<StartupCounters>,
    // connector-task-metrics
    batch_size: Window,
    /// Offset commit durations, in microseconds.
    commit_time: Window,
    /// 1 per successful commit, 0 per failed one.
    commit_outcome: Window,
    // source-task-metrics
    pub(super) polled: Counted,
    pub(super) written: Counted,
    /// Poll durations, in microseconds.
    poll_time: Window,
    active: AtomicI64,
    // sink-task-metrics
    pub(super) read: Counted,
    pub(super) sent: Counted,
    /// Put durations, in microseconds.
    put_time: Window,
    commit_completions: AtomicU64,
    partitions: AtomicU64,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl TaskMetrics {
    /// Counters for a task of `kind`, reporting its start to `startups`.
    pub(super) fn new(
        kind: TaskKind,
        spec: WindowSpec,
        startups: Arc<StartupCounters>,
    ) -> TaskMetrics {
        TaskMetrics {
            kind,
            startups,
            batch_size: Window::new(spec),
            commit_time: Window::new(spec),
            commit_outcome: Window::new(spec),
            polled: Counted::new(spec),
            written: Counted::new(spec),
            poll_time: Window::new(spec),
            active: AtomicI64::new(0),
            read: Counted::new(spec),
            sent: Counted::new(spec),
            put_time: Window::new(spec),
            commit_completions: AtomicU64::new(0),
            partitions: AtomicU64::new(0),
        }
    }

    /// Counters that belong to no worker's registry: for task loops run
    /// outside a worker (the benchmark), whose counts nobody scrapes.
    pub fn detached(kind: TaskKind) -> Arc<TaskMetrics> {
        Arc::new(TaskMetrics::new(
            kind,
            WindowSpec::default(),
            Arc::default(),
        ))
    }

    /// The task's instance and clients started (`task-startup-success-total`).
    pub fn start_succeeded(&self) {
        self.startups.task_successes.fetch_add(1, Ordering::Relaxed);
    }

    /// The task failed to start (`task-startup-failure-total`).
    pub fn start_failed(&self) {
        self.startups.task_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A source poll returned `records` after `took`
    /// (`source-record-poll-*`, `poll-batch-*-time-ms`, `batch-size-*`).
    pub fn polled(&self, records: usize, took: Duration) {
        let n = records as u64;
        self.polled.add(n);
        self.poll_time.record(micros(took));
        self.batch_size.record(n);
    }

    /// A source record was handed to the producer
    /// (`source-record-active-count` until Kafka answers).
    pub fn sending(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    /// Kafka acknowledged a source record (`source-record-write-*`); called
    /// on librdkafka's delivery thread.
    pub fn written(&self) {
        self.active.fetch_sub(1, Ordering::Relaxed);
        self.written.add(1);
    }

    /// Kafka refused a source record (the task fails).
    pub fn write_failed(&self) {
        self.active.fetch_sub(1, Ordering::Relaxed);
    }

    /// A sink task read `records` from Kafka, those that failed conversion
    /// included (`sink-record-read-*`).
    pub fn read(&self, records: usize) {
        self.read.add(records as u64);
    }

    /// `put` took `records` (after the transformations) in `took`
    /// (`sink-record-send-*`, `put-batch-*-time-ms`, `batch-size-*`).
    pub fn put(&self, records: usize, took: Duration) {
        let n = records as u64;
        self.sent.add(n);
        self.put_time.record(micros(took));
        self.batch_size.record(n);
    }

    /// The sink task holds `n` partitions now (`partition-count`).
    pub fn partitions(&self, n: usize) {
        self.partitions.store(n as u64, Ordering::Relaxed);
    }

    /// An offset commit ended, or (a sink's periodic asynchronous commit)
    /// was handed to librdkafka (`offset-commit-*`).
    pub fn committed(&self, ok: bool, took: Duration) {
        self.commit_time.record(micros(took));
        self.commit_outcome.record(u64::from(ok));
        if ok && self.kind == TaskKind::Sink {
            self.commit_completions.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn batch_size(&self) -> Stats {
        self.batch_size.stats()
    }

    pub(super) fn commit_time(&self) -> Stats {
        self.commit_time.stats()
    }

    pub(super) fn commit_outcome(&self) -> Stats {
        self.commit_outcome.stats()
    }

    pub(super) fn poll_time(&self) -> Stats {
        self.poll_time.stats()
    }

    pub(super) fn put_time(&self) -> Stats {
        self.put_time.stats()
    }

    pub(super) fn active(&self) -> i64 {
        self.active.load(Ordering::Relaxed).max(0)
    }

    pub(super) fn commit_completions(&self) -> u64 {
        self.commit_completions.load(Ordering::Relaxed)
    }

    pub(super) fn partition_count(&self) -> u64 {
        self.partitions.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_task_counts_polls_writes_and_what_is_in_flight() {
        let m = TaskMetrics::detached(TaskKind::Source);
        m.polled(3, Duration::from_millis(4));
        m.polled(0, Duration::from_millis(2));
        for _ in 0..3 {
            m.sending();
        }
        m.written();
        m.written();
        assert_eq!((m.polled.total(), m.written.total(), m.active()), (3, 2, 1));
        assert_eq!(m.poll_time().avg(), 3000.0);
        assert_eq!(m.batch_size().max(), 3.0);
        m.write_failed();
        assert_eq!(m.active(), 0);
    }

    #[test]
    fn a_sink_task_counts_reads_puts_and_commits() {
        let m = TaskMetrics::detached(TaskKind::Sink);
        m.read(5);
        m.put(4, Duration::from_millis(10));
        m.partitions(3);
        m.committed(true, Duration::from_millis(3));
        m.committed(false, Duration::from_millis(1));
        assert_eq!((m.read.total(), m.sent.total()), (5, 4));
        assert_eq!(m.partition_count(), 3);
        assert_eq!(m.commit_completions(), 1);
        assert_eq!(m.commit_outcome().share_of_ones(), 0.5);
        assert_eq!(m.put_time().max(), 10_000.0);
    }

    #[test]
    fn startups_reach_the_shared_counters() {
        let startups = Arc::new(StartupCounters::default());
        let m = TaskMetrics::new(TaskKind::Sink, WindowSpec::default(), startups.clone());
        m.start_succeeded();
        m.start_failed();
        m.start_failed();
        assert_eq!(startups.task_successes.load(Ordering::Relaxed), 1);
        assert_eq!(startups.task_failures.load(Ordering::Relaxed), 2);
    }
}
