//! The output of `GET /metrics`: [`FAMILIES`], the list of every metric
//! (its exposed name, type, labels and the Kafka Connect attribute it
//! mirrors; `docs/metrics.md` is checked against it), and [`render`], which
//! reads a scrape's values and writes them with `prometheus-client`'s
//! Prometheus text encoder (which escapes label values).
//!
//! Only [`super::Metrics::render`] calls in here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::ConnectorInfo;
use super::task::{StartupCounters, TaskKind, TaskMetrics};
use crate::worker::errors::ErrorCounts;
use crate::worker::status::{ConnectorStatus, State, StatusBoard};

/// The `Content-Type` of the answer: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Counter or gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// Which labels a family's series carry (besides `worker`, which all do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// `worker`.
    Worker,
    /// `connector`, `worker`.
    Connector,
    /// `connector`, `status`, `worker`.
    ConnectorStatus,
    /// `connector`, `connector_class`, `connector_type`,
    /// `connector_version`, `worker`.
    ConnectorInfo,
    /// `connector`, `task`, `worker`.
    Task,
    /// `connector`, `task`, `status`, `worker`.
    TaskStatus,
}

/// One metric as exposed.
#[derive(Debug)]
pub struct Family {
    /// The exposed name (a counter's with its `_total`).
    pub name: &'static str,
    pub kind: Kind,
    pub labels: Labels,
    /// Kafka Connect's MBean type and attribute it mirrors, or "" for ours.
    pub kafka: &'static str,
    pub help: &'static str,
}

macro_rules! families {
    ($($name:literal $kind:ident $labels:ident $kafka:literal $help:literal;)+) => {
        /// Every metric, in output order.
        pub const FAMILIES: &[Family] = &[$(Family {
            name: $name,
            kind: Kind::$kind,
            labels: Labels::$labels,
            kafka: $kafka,
            help: $help,
        }),+];
    };
}

families! {
    "kafka_connect_connect_worker_metrics_connector_count" Gauge Worker "connect-worker-metrics connector-count" "Connectors whose instance this worker runs.";
    "kafka_connect_connect_worker_metrics_task_count" Gauge Worker "connect-worker-metrics task-count" "Tasks this worker runs.";
    "kafka_connect_connect_worker_metrics_connector_startup_attempts_total" Counter Worker "connect-worker-metrics connector-startup-attempts-total" "Connector starts attempted.";
    "kafka_connect_connect_worker_metrics_connector_startup_success_total" Counter Worker "connect-worker-metrics connector-startup-success-total" "Connector starts that succeeded.";
    "kafka_connect_connect_worker_metrics_connector_startup_failure_total" Counter Worker "connect-worker-metrics connector-startup-failure-total" "Connector starts that failed.";
    "kafka_connect_connect_worker_metrics_connector_startup_success_percentage" Gauge Worker "connect-worker-metrics connector-startup-success-percentage" "Share (0-1) of connector starts that succeeded.";
    "kafka_connect_connect_worker_metrics_connector_startup_failure_percentage" Gauge Worker "connect-worker-metrics connector-startup-failure-percentage" "Share (0-1) of connector starts that failed.";
    "kafka_connect_connect_worker_metrics_task_startup_attempts_total" Counter Worker "connect-worker-metrics task-startup-attempts-total" "Task starts attempted.";
    "kafka_connect_connect_worker_metrics_task_startup_success_total" Counter Worker "connect-worker-metrics task-startup-success-total" "Task starts that succeeded.";
    "kafka_connect_connect_worker_metrics_task_startup_failure_total" Counter Worker "connect-worker-metrics task-startup-failure-total" "Task starts that failed.";
    "kafka_connect_connect_worker_metrics_task_startup_success_percentage" Gauge Worker "connect-worker-metrics task-startup-success-percentage" "Share (0-1) of task starts that succeeded.";
    "kafka_connect_connect_worker_metrics_task_startup_failure_percentage" Gauge Worker "connect-worker-metrics task-startup-failure-percentage" "Share (0-1) of task starts that failed.";
    "kafka_connect_connect_worker_metrics_connector_total_task_count" Gauge Connector "connect-worker-metrics connector-total-task-count" "The connector's tasks on this worker.";
    "kafka_connect_connect_worker_metrics_connector_running_task_count" Gauge Connector "connect-worker-metrics connector-running-task-count" "The connector's running tasks on this worker.";
    "kafka_connect_connect_worker_metrics_connector_paused_task_count" Gauge Connector "connect-worker-metrics connector-paused-task-count" "The connector's paused tasks on this worker.";
    "kafka_connect_connect_worker_metrics_connector_failed_task_count" Gauge Connector "connect-worker-metrics connector-failed-task-count" "The connector's failed tasks on this worker.";
    "kafka_connect_connect_worker_metrics_connector_unassigned_task_count" Gauge Connector "connect-worker-metrics connector-unassigned-task-count" "The connector's unassigned tasks on this worker.";
    "kafka_connect_connect_worker_metrics_connector_restarting_task_count" Gauge Connector "connect-worker-metrics connector-restarting-task-count" "The connector's restarting tasks on this worker.";
    "kafka_connect_connector_metrics_status" Gauge ConnectorStatus "connector-metrics status" "1, labelled with the connector's status (running, paused, failed, unassigned, restarting, stopped).";
    "kafka_connect_connector_metrics_info" Gauge ConnectorInfo "connector-metrics connector-class, connector-type, connector-version" "1, labelled with the connector's class, type and plugin version.";
    "kafka_connect_connector_task_metrics_status" Gauge TaskStatus "connector-task-metrics status" "1, labelled with the task's status.";
    "kafka_connect_connector_task_metrics_batch_size_avg" Gauge Task "connector-task-metrics batch-size-avg" "Average records per poll (source) or put (sink) in the window.";
    "kafka_connect_connector_task_metrics_batch_size_max" Gauge Task "connector-task-metrics batch-size-max" "Most records in one poll (source) or put (sink) in the window.";
    "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms" Gauge Task "connector-task-metrics offset-commit-avg-time-ms" "Average offset commit time in the window, ms.";
    "kafka_connect_connector_task_metrics_offset_commit_max_time_ms" Gauge Task "connector-task-metrics offset-commit-max-time-ms" "Longest offset commit in the window, ms.";
    "kafka_connect_connector_task_metrics_offset_commit_success_percentage" Gauge Task "connector-task-metrics offset-commit-success-percentage" "Share (0-1) of offset commits in the window that succeeded.";
    "kafka_connect_connector_task_metrics_offset_commit_failure_percentage" Gauge Task "connector-task-metrics offset-commit-failure-percentage" "Share (0-1) of offset commits in the window that failed.";
    "kafka_connect_source_task_metrics_source_record_poll_total" Counter Task "source-task-metrics source-record-poll-total" "Records the task returned from poll.";
    "kafka_connect_source_task_metrics_source_record_poll_rate" Gauge Task "source-task-metrics source-record-poll-rate" "Records polled per second over the window.";
    "kafka_connect_source_task_metrics_source_record_write_total" Counter Task "source-task-metrics source-record-write-total" "Records written to Kafka (acknowledged), after the transformations.";
    "kafka_connect_source_task_metrics_source_record_write_rate" Gauge Task "source-task-metrics source-record-write-rate" "Records written per second over the window.";
    "kafka_connect_source_task_metrics_poll_batch_avg_time_ms" Gauge Task "source-task-metrics poll-batch-avg-time-ms" "Average poll time in the window, ms.";
    "kafka_connect_source_task_metrics_poll_batch_max_time_ms" Gauge Task "source-task-metrics poll-batch-max-time-ms" "Longest poll in the window, ms.";
    "kafka_connect_source_task_metrics_source_record_active_count" Gauge Task "source-task-metrics source-record-active-count" "Records sent to Kafka and not yet acknowledged.";
    "kafka_connect_sink_task_metrics_sink_record_read_total" Counter Task "sink-task-metrics sink-record-read-total" "Records read from Kafka, those that failed conversion included.";
    "kafka_connect_sink_task_metrics_sink_record_read_rate" Gauge Task "sink-task-metrics sink-record-read-rate" "Records read per second over the window.";
    "kafka_connect_sink_task_metrics_sink_record_send_total" Counter Task "sink-task-metrics sink-record-send-total" "Records put to the task, after the transformations.";
    "kafka_connect_sink_task_metrics_sink_record_send_rate" Gauge Task "sink-task-metrics sink-record-send-rate" "Records put per second over the window.";
    "kafka_connect_sink_task_metrics_put_batch_avg_time_ms" Gauge Task "sink-task-metrics put-batch-avg-time-ms" "Average put time in the window, ms.";
    "kafka_connect_sink_task_metrics_put_batch_max_time_ms" Gauge Task "sink-task-metrics put-batch-max-time-ms" "Longest put in the window, ms.";
    "kafka_connect_sink_task_metrics_offset_commit_completion_total" Counter Task "sink-task-metrics offset-commit-completion-total" "Offset commits that completed successfully.";
    "kafka_connect_sink_task_metrics_offset_commit_skip_total" Counter Task "sink-task-metrics offset-commit-skip-total" "Offset commit answers received too late and ignored (always 0 here).";
    "kafka_connect_sink_task_metrics_partition_count" Gauge Task "sink-task-metrics partition-count" "Partitions assigned to the task.";
    "kafka_connect_task_error_metrics_total_record_errors" Gauge Task "task-error-metrics total-record-errors" "Records that failed (conversion, transformation, errant records).";
    "kafka_connect_task_error_metrics_total_record_failures" Gauge Task "task-error-metrics total-record-failures" "Record processing failures (each is final here: equal to total-record-errors).";
    "kafka_connect_task_error_metrics_total_records_skipped" Gauge Task "task-error-metrics total-records-skipped" "Records skipped under errors.tolerance=all.";
    "kafka_connect_task_error_metrics_total_errors_logged" Gauge Task "task-error-metrics total-errors-logged" "Errors logged (errors.log.enable).";
    "kafka_connect_task_error_metrics_deadletterqueue_produce_requests" Gauge Task "task-error-metrics deadletterqueue-produce-requests" "Records sent to the dead letter queue.";
    "kafka_connect_task_error_metrics_deadletterqueue_produce_failures" Gauge Task "task-error-metrics deadletterqueue-produce-failures" "Records the dead letter queue did not take.";
    "kafka_connect_task_error_metrics_last_error_timestamp" Gauge Task "task-error-metrics last-error-timestamp" "When the last record error happened, ms since the epoch (0: never).";
    "wasmconnect_task_guest_memory_bytes" Gauge Task "" "The task's guest linear memory now, bytes.";
    "wasmconnect_task_guest_memory_peak_bytes" Gauge Task "" "The task's largest guest linear memory so far, bytes.";
    "wasmconnect_task_guest_time_seconds_total" Counter Task "" "Wall-clock time spent inside guest calls, seconds.";
    "wasmconnect_task_guest_calls_total" Counter Task "" "Calls into the guest.";
    "wasmconnect_task_guest_faults_total" Counter Task "" "Guest calls that ended in a trap, a limit or a missed deadline.";
    "wasmconnect_task_log_lines_dropped_total" Counter Task "" "Guest log lines dropped by the log rate limit.";
    "wasmconnect_task_http_requests_total" Counter Task "" "Outbound HTTP requests the guest sent.";
    "wasmconnect_task_http_request_bytes_total" Counter Task "" "Outbound HTTP request body bytes sent.";
    "wasmconnect_task_http_response_bytes_total" Counter Task "" "Outbound HTTP response body bytes received.";
}

impl Family {
    /// The name as given to the encoder, which adds `_total` to counters.
    fn base_name(&self) -> &'static str {
        match self.kind {
            Kind::Counter => self.name.strip_suffix("_total").unwrap_or(self.name),
            Kind::Gauge => self.name,
        }
    }
}

/// What one scrape reads.
pub(super) struct Scrape<'a> {
    pub worker: &'a str,
    pub startups: &'a StartupCounters,
    pub connectors: &'a [(String, Arc<ConnectorInfo>)],
    pub tasks: &'a [((String, u32), Arc<TaskMetrics>)],
    pub status: &'a StatusBoard,
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

type LabelSet = Vec<(&'static str, String)>;

/// The series of one scrape, by family name; encoded in [`FAMILIES`] order.
#[derive(Debug, Default)]
struct Series(BTreeMap<&'static str, Vec<(LabelSet, Value)>>);

impl Series {
    fn add(&mut self, name: &'static str, labels: &LabelSet, value: impl Into<Value>) {
        debug_assert!(
            FAMILIES.iter().any(|f| f.name == name),
            "{name} is not in FAMILIES"
        );
        self.0
            .entry(name)
            .or_default()
            .push((labels.clone(), value.into()));
    }
}

/// A share that is 0 (not NaN) before anything happened, as Kafka's
/// startup percentages.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A window of microseconds as milliseconds.
fn ms(us: f64) -> f64 {
    us / 1000.0
}

fn status_name(state: State) -> String {
    state.as_str().to_ascii_lowercase()
}

/// Renders a scrape in the Prometheus text format.
pub(super) fn render(scrape: &Scrape<'_>) -> String {
    let series = collect(scrape);
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Encoded(series)));
    let mut out = String::new();
    // Writing to a String cannot fail; an encoder error would be a bug in
    // the encoder, and an empty answer says so better than a panic.
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
        tracing::error!("encoding the metrics failed: {e}");
        out.clear();
    }
    out
}

fn collect(scrape: &Scrape<'_>) -> Series {
    let mut s = Series::default();
    let w = scrape.worker.to_string();
    let worker: LabelSet = vec![("worker", w.clone())];
    let su = scrape.startups;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let (ca, cs, cf) = (
        load(&su.connector_attempts),
        load(&su.connector_successes),
        load(&su.connector_failures),
    );
    let (ta, ts, tf) = (
        load(&su.task_attempts),
        load(&su.task_successes),
        load(&su.task_failures),
    );
    macro_rules! worker_metric {
        ($suffix:literal, $value:expr) => {
            s.add(
                concat!("kafka_connect_connect_worker_metrics_", $suffix),
                &worker,
                $value,
            )
        };
    }
    worker_metric!("connector_count", scrape.connectors.len() as u64);
    worker_metric!("task_count", scrape.tasks.len() as u64);
    worker_metric!("connector_startup_attempts_total", ca);
    worker_metric!("connector_startup_success_total", cs);
    worker_metric!("connector_startup_failure_total", cf);
    worker_metric!("connector_startup_success_percentage", share(cs, ca));
    worker_metric!("connector_startup_failure_percentage", share(cf, ca));
    worker_metric!("task_startup_attempts_total", ta);
    worker_metric!("task_startup_success_total", ts);
    worker_metric!("task_startup_failure_total", tf);
    worker_metric!("task_startup_success_percentage", share(ts, ta));
    worker_metric!("task_startup_failure_percentage", share(tf, ta));

    // One status read per connector: a task may run here while its
    // connector's instance runs on another worker.
    let mut names: Vec<&str> = scrape.connectors.iter().map(|(n, _)| n.as_str()).collect();
    names.extend(scrape.tasks.iter().map(|((n, _), _)| n.as_str()));
    names.sort_unstable();
    names.dedup();
    let statuses: BTreeMap<&str, Option<ConnectorStatus>> =
        names.iter().map(|n| (*n, scrape.status.get(n))).collect();
    let task_state = |connector: &str, task: u32| {
        statuses
            .get(connector)
            .and_then(|s| s.as_ref())
            .and_then(|s| s.tasks.get(&task))
            .map_or(State::Unassigned, |t| t.state)
    };

    for (name, info) in scrape.connectors {
        let state = statuses
            .get(name.as_str())
            .and_then(|s| s.as_ref())
            .map_or(State::Unassigned, |s| s.connector.state);
        s.add(
            "kafka_connect_connector_metrics_status",
            &vec![
                ("connector", name.clone()),
                ("status", status_name(state)),
                ("worker", w.clone()),
            ],
            1u64,
        );
        s.add(
            "kafka_connect_connector_metrics_info",
            &vec![
                ("connector", name.clone()),
                ("connector_class", info.class.clone()),
                ("connector_type", info.kind.to_string()),
                ("connector_version", info.version.clone()),
                ("worker", w.clone()),
            ],
            1u64,
        );
    }

    // Kafka's per-connector task counts, over the tasks running here.
    let mut per_connector: BTreeMap<&str, [u64; 6]> = BTreeMap::new();
    for ((connector, task), _) in scrape.tasks {
        let counts = per_connector.entry(connector.as_str()).or_default();
        counts[0] += 1;
        let slot = match task_state(connector, *task) {
            State::Running => 1,
            State::Paused => 2,
            State::Failed => 3,
            State::Unassigned | State::Stopped => 4,
            State::Restarting => 5,
        };
        counts[slot] += 1;
    }
    for (connector, counts) in per_connector {
        let labels: LabelSet = vec![("connector", connector.to_string()), ("worker", w.clone())];
        for (i, what) in [
            "kafka_connect_connect_worker_metrics_connector_total_task_count",
            "kafka_connect_connect_worker_metrics_connector_running_task_count",
            "kafka_connect_connect_worker_metrics_connector_paused_task_count",
            "kafka_connect_connect_worker_metrics_connector_failed_task_count",
            "kafka_connect_connect_worker_metrics_connector_unassigned_task_count",
            "kafka_connect_connect_worker_metrics_connector_restarting_task_count",
        ]
        .into_iter()
        .enumerate()
        {
            s.add(what, &labels, counts[i]);
        }
    }

    for ((connector, task), m) in scrape.tasks {
        let status = statuses.get(connector.as_str()).and_then(|s| s.as_ref());
        task_series(
            &mut s,
            connector,
            *task,
            m,
            status,
            &w,
            task_state(connector, *task),
        );
    }
    s
}

fn task_series(
    s: &mut Series,
    connector: &str,
    task: u32,
    m: &TaskMetrics,
    status: Option<&ConnectorStatus>,
    worker: &str,
    state: State,
) {
    let labels: LabelSet = vec![
        ("connector", connector.to_string()),
        ("task", task.to_string()),
        ("worker", worker.to_string()),
    ];
    s.add(
        "kafka_connect_connector_task_metrics_status",
        &vec![
            ("connector", connector.to_string()),
            ("task", task.to_string()),
            ("status", status_name(state)),
            ("worker", worker.to_string()),
        ],
        1u64,
    );
    let batch = m.batch_size();
    s.add(
        "kafka_connect_connector_task_metrics_batch_size_avg",
        &labels,
        batch.avg(),
    );
    s.add(
        "kafka_connect_connector_task_metrics_batch_size_max",
        &labels,
        batch.max(),
    );
    let commit = m.commit_time();
    s.add(
        "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms",
        &labels,
        ms(commit.avg()),
    );
    s.add(
        "kafka_connect_connector_task_metrics_offset_commit_max_time_ms",
        &labels,
        ms(commit.max()),
    );
    let outcome = m.commit_outcome();
    s.add(
        "kafka_connect_connector_task_metrics_offset_commit_success_percentage",
        &labels,
        outcome.share_of_ones(),
    );
    s.add(
        "kafka_connect_connector_task_metrics_offset_commit_failure_percentage",
        &labels,
        outcome.share_of_zeros(),
    );
    match m.kind {
        TaskKind::Source => {
            let poll = m.poll_time();
            s.add(
                "kafka_connect_source_task_metrics_source_record_poll_total",
                &labels,
                m.polled.total(),
            );
            s.add(
                "kafka_connect_source_task_metrics_source_record_poll_rate",
                &labels,
                m.polled.rate(),
            );
            s.add(
                "kafka_connect_source_task_metrics_source_record_write_total",
                &labels,
                m.written.total(),
            );
            s.add(
                "kafka_connect_source_task_metrics_source_record_write_rate",
                &labels,
                m.written.rate(),
            );
            s.add(
                "kafka_connect_source_task_metrics_poll_batch_avg_time_ms",
                &labels,
                ms(poll.avg()),
            );
            s.add(
                "kafka_connect_source_task_metrics_poll_batch_max_time_ms",
                &labels,
                ms(poll.max()),
            );
            s.add(
                "kafka_connect_source_task_metrics_source_record_active_count",
                &labels,
                m.active() as u64,
            );
        }
        TaskKind::Sink => {
            let put = m.put_time();
            s.add(
                "kafka_connect_sink_task_metrics_sink_record_read_total",
                &labels,
                m.read.total(),
            );
            s.add(
                "kafka_connect_sink_task_metrics_sink_record_read_rate",
                &labels,
                m.read.rate(),
            );
            s.add(
                "kafka_connect_sink_task_metrics_sink_record_send_total",
                &labels,
                m.sent.total(),
            );
            s.add(
                "kafka_connect_sink_task_metrics_sink_record_send_rate",
                &labels,
                m.sent.rate(),
            );
            s.add(
                "kafka_connect_sink_task_metrics_put_batch_avg_time_ms",
                &labels,
                ms(put.avg()),
            );
            s.add(
                "kafka_connect_sink_task_metrics_put_batch_max_time_ms",
                &labels,
                ms(put.max()),
            );
            s.add(
                "kafka_connect_sink_task_metrics_offset_commit_completion_total",
                &labels,
                m.commit_completions(),
            );
            // librdkafka answers a consumer's commits in order and the loop
            // never abandons one, so no answer is ever late.
            s.add(
                "kafka_connect_sink_task_metrics_offset_commit_skip_total",
                &labels,
                0u64,
            );
            s.add(
                "kafka_connect_sink_task_metrics_partition_count",
                &labels,
                m.partition_count(),
            );
        }
    }
    let errors: ErrorCounts = status
        .and_then(|c| c.errors.get(&task).copied())
        .unwrap_or_default();
    s.add(
        "kafka_connect_task_error_metrics_total_record_errors",
        &labels,
        errors.record_errors,
    );
    s.add(
        "kafka_connect_task_error_metrics_total_record_failures",
        &labels,
        errors.record_errors,
    );
    s.add(
        "kafka_connect_task_error_metrics_total_records_skipped",
        &labels,
        errors.records_skipped,
    );
    s.add(
        "kafka_connect_task_error_metrics_total_errors_logged",
        &labels,
        errors.errors_logged,
    );
    s.add(
        "kafka_connect_task_error_metrics_deadletterqueue_produce_requests",
        &labels,
        errors.dlq_produce_requests,
    );
    s.add(
        "kafka_connect_task_error_metrics_deadletterqueue_produce_failures",
        &labels,
        errors.dlq_produce_failures,
    );
    s.add(
        "kafka_connect_task_error_metrics_last_error_timestamp",
        &labels,
        errors.last_error_timestamp_ms,
    );
    // Usage is reported after the first poll or put; until then there is
    // nothing true to show.
    if let Some(u) = status.and_then(|c| c.usage.get(&task)) {
        s.add(
            "wasmconnect_task_guest_memory_bytes",
            &labels,
            u.memory_bytes as u64,
        );
        s.add(
            "wasmconnect_task_guest_memory_peak_bytes",
            &labels,
            u.peak_memory_bytes as u64,
        );
        s.add(
            "wasmconnect_task_guest_time_seconds_total",
            &labels,
            u.guest_time.as_secs_f64(),
        );
        s.add("wasmconnect_task_guest_calls_total", &labels, u.calls);
        s.add("wasmconnect_task_guest_faults_total", &labels, u.faults);
        s.add(
            "wasmconnect_task_log_lines_dropped_total",
            &labels,
            u.log_lines_dropped,
        );
        s.add(
            "wasmconnect_task_http_requests_total",
            &labels,
            u.http_requests,
        );
        s.add(
            "wasmconnect_task_http_request_bytes_total",
            &labels,
            u.http_bytes_sent,
        );
        s.add(
            "wasmconnect_task_http_response_bytes_total",
            &labels,
            u.http_bytes_received,
        );
    }
}

/// A scrape's series, handed to the encoder as a collector.
#[derive(Debug)]
struct Encoded(Series);

impl Collector for Encoded {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in FAMILIES {
            let Some(samples) = self.0.0.get(family.name) else {
                continue;
            };
            let metric_type = match family.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
            };
            let mut metric =
                encoder.encode_descriptor(family.base_name(), family.help, None, metric_type)?;
            for (labels, value) in samples {
                let mut series = metric.encode_family(labels)?;
                match (family.kind, *value) {
                    (Kind::Counter, Value::Int(v)) => {
                        series.encode_counter::<NoLabelSet, _, u64>(&v, None)?
                    }
                    (Kind::Counter, Value::Float(v)) => {
                        series.encode_counter::<NoLabelSet, _, f64>(&v, None)?
                    }
                    (Kind::Gauge, Value::Int(v)) => series.encode_gauge(&v)?,
                    (Kind::Gauge, Value::Float(v)) => series.encode_gauge(&v)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Metrics, WindowSpec};
    use super::*;
    use std::time::Duration;

    #[test]
    fn counters_end_in_total_and_gauges_do_not_add_one() {
        for f in FAMILIES {
            assert_eq!(
                f.kind == Kind::Counter,
                f.name.ends_with("_total"),
                "{}",
                f.name
            );
            let kafka_or_ours = f.name.starts_with("kafka_connect_") != f.kafka.is_empty();
            assert!(kafka_or_ours, "{}", f.name);
        }
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len(), "a name is listed twice");
    }

    #[test]
    fn names_follow_the_jmx_exporters_translation() {
        for f in FAMILIES.iter().filter(|f| !f.kafka.is_empty()) {
            // "source-task-metrics source-record-poll-total" →
            // kafka_connect_source_task_metrics_source_record_poll_total
            let (group, attribute) = f.kafka.split_once(' ').unwrap_or_default();
            if attribute.contains(',') || f.name.ends_with("_status") {
                continue;
            }
            let expected = format!("kafka_connect_{group}_{attribute}").replace('-', "_");
            assert_eq!(f.name, expected);
        }
    }

    #[test]
    fn every_metric_is_documented() {
        let doc = include_str!("../../../docs/metrics.md");
        for f in FAMILIES {
            assert!(doc.contains(f.name), "docs/metrics.md lacks {}", f.name);
        }
    }

    fn sample_value(text: &str, line_start: &str) -> String {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn a_task_renders_with_its_labels_and_leaves_when_dropped() {
        let metrics = Metrics::new("host:8083", WindowSpec::default());
        let status = StatusBoard::default();
        let (guard, task) = metrics.task_starting("c", 0, TaskKind::Source);
        task.start_succeeded();
        task.polled(3, Duration::from_millis(2));
        for _ in 0..3 {
            task.sending();
            task.written();
        }
        status.task("c", 0, State::Running, None);
        let text = metrics.render(&status);
        assert!(
            text.contains(
                "# TYPE kafka_connect_source_task_metrics_source_record_write_total counter\n"
            ),
            "{text}"
        );
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_source_task_metrics_source_record_write_total{connector=\"c\",task=\"0\",worker=\"host:8083\"}"
            ),
            "3"
        );
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_source_task_metrics_source_record_write_rate{"
            ),
            "0.1"
        );
        assert!(text.contains("kafka_connect_connector_task_metrics_status{connector=\"c\",task=\"0\",status=\"running\",worker=\"host:8083\"} 1\n"), "{text}");
        assert_eq!(
            sample_value(&text, "kafka_connect_connect_worker_metrics_task_count{"),
            "1"
        );
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_connect_worker_metrics_task_startup_success_percentage{"
            ),
            "1.0"
        );
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_connect_worker_metrics_connector_running_task_count{connector=\"c\""
            ),
            "1"
        );
        // No error yet: zeros, not missing series.
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_task_error_metrics_total_record_errors{"
            ),
            "0"
        );
        // A source task has no sink series, and no usage before its first
        // report.
        assert!(!text.contains("sink_task_metrics") && !text.contains("wasmconnect_task_guest"));
        drop(guard);
        let text = metrics.render(&status);
        assert!(!text.contains("task=\"0\""), "{text}");
        assert_eq!(
            sample_value(&text, "kafka_connect_connect_worker_metrics_task_count{"),
            "0"
        );
    }

    #[test]
    fn a_restarted_task_keeps_its_successors_series() {
        let metrics = Metrics::new("w", WindowSpec::default());
        let status = StatusBoard::default();
        let (old, _) = metrics.task_starting("c", 1, TaskKind::Sink);
        let (_new, task) = metrics.task_starting("c", 1, TaskKind::Sink);
        task.read(2);
        drop(old);
        let text = metrics.render(&status);
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_sink_task_metrics_sink_record_read_total{"
            ),
            "2"
        );
        // Unknown to the status board: unassigned.
        assert!(text.contains("status=\"unassigned\""), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::new("w", WindowSpec::default());
        let status = StatusBoard::default();
        let name = "we\"ird\\na\nme";
        let (_guard, _) = metrics.task_starting(name, 0, TaskKind::Sink);
        let text = metrics.render(&status);
        assert!(
            text.contains(r#"{connector="we\"ird\\na\nme",task="0",worker="w"}"#),
            "{text}"
        );
        // Every line is a comment or one sample: the newline did not split one.
        for line in text.lines() {
            assert!(
                line.starts_with('#') || line.matches('}').count() >= 1,
                "{line}"
            );
        }
    }

    #[test]
    fn empty_windows_are_nan_as_in_kafka() {
        let metrics = Metrics::new("w", WindowSpec::default());
        let (_guard, _) = metrics.task_starting("c", 0, TaskKind::Sink);
        let text = metrics.render(&StatusBoard::default());
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_sink_task_metrics_put_batch_avg_time_ms{"
            ),
            "NaN"
        );
        assert_eq!(
            sample_value(
                &text,
                "kafka_connect_connector_task_metrics_offset_commit_success_percentage{"
            ),
            "0.0"
        );
    }
}
