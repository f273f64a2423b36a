//! Kafka's sampled statistics (`SampledStat`: `Rate`, `Avg`, `Max`,
//! `Frequencies`) over a recent window, kept in atomics so that a task loop
//! or librdkafka's delivery thread records a value without a lock.
//!
//! A [`Window`] holds `metrics.num.samples` samples (Kafka's default 2) of
//! `metrics.sample.window.ms` each (default 30 s), aligned to multiples of
//! the sample length since the process started. A value lands in the
//! sample of its time; a sample older than the window is reset by the first
//! value of its next turn and ignored by readers until then. So every
//! statistic covers the last 30–60 s with Kafka's defaults.
//!
//! Readers ([`Window::stats`]) compute the rate, average and maximum as
//! Kafka does, including its rule that a rate is divided by at least
//! `samples - 1` whole samples, so a task that has just started does not
//! show a burst as a huge rate.
//!
//! Exactness: the reset of a sample and a concurrent value from another
//! thread may race at a sample boundary, losing that one value from the
//! window. Windowed statistics are estimates in Kafka too; every exact
//! count is a separate plain counter (the `_total` metrics).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Kafka's `metrics.sample.window.ms` default.
pub const DEFAULT_SAMPLE_MS: u64 = 30_000;
/// Kafka's `metrics.num.samples` default.
pub const DEFAULT_SAMPLES: usize = 2;

/// The shape of every window of a worker: how many samples of how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Length of one sample, in milliseconds (at least 1).
    pub sample_ms: u64,
    /// Samples kept (at least 1).
    pub samples: usize,
}

impl Default for WindowSpec {
    fn default() -> Self {
        WindowSpec {
            sample_ms: DEFAULT_SAMPLE_MS,
            samples: DEFAULT_SAMPLES,
        }
    }
}

impl WindowSpec {
    /// The spec from Kafka's worker keys `metrics.sample.window.ms` and
    /// `metrics.num.samples` as `lookup` finds them; a missing or invalid
    /// value keeps Kafka's default (the keys are not worth failing a worker
    /// for, and Kafka would have refused them at start).
    pub fn from_lookup<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> WindowSpec {
        let number = |key: &str| {
            lookup(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
        };
        let default = WindowSpec::default();
        WindowSpec {
            sample_ms: number("metrics.sample.window.ms").unwrap_or(default.sample_ms),
            samples: number("metrics.num.samples")
                .and_then(|n| usize::try_from(n).ok())
                // Each sample is four atomics per statistic: a bound keeps a
                // typo from costing memory per task.
                .map(|n| n.min(1_000))
                .unwrap_or(default.samples),
        }
    }

    /// The whole window, in seconds (for documentation and logs).
    pub fn seconds(&self) -> f64 {
        (self.sample_ms as f64 * self.samples as f64) / 1000.0
    }
}

/// Milliseconds since the first call in this process: the clock every
/// window shares (monotonic, so samples never go back).
pub fn now_ms() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, Default)]
struct Sample {
    /// Which turn of the clock the sample holds, counted from 1 (0: never
    /// used): `now / sample_ms + 1`.
    turn: AtomicU64,
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

/// One statistic's samples. Record with [`Window::record`], read with
/// [`Window::stats`].
#[derive(Debug)]
pub struct Window {
    sample_ms: u64,
    /// When the window was made: a rate is never divided by time before it.
    created_ms: u64,
    samples: Box<[Sample]>,
}

/// What a window holds now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Values recorded in the window.
    pub count: u64,
    /// Their sum.
    pub sum: u64,
    /// The largest (0 when none).
    pub max: u64,
    /// The time the window covers, in seconds, as Kafka's `Rate` divides
    /// by it.
    pub seconds: f64,
}

impl Stats {
    /// Kafka's `Rate`: the sum per second.
    pub fn rate(&self) -> f64 {
        self.sum as f64 / self.seconds
    }

    /// Kafka's `Avg` (NaN when nothing was recorded, as Kafka reports it).
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// Kafka's `Max` (NaN when nothing was recorded).
    pub fn max(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.max as f64
        }
    }

    /// The share of recorded values that were 1 when only 0s and 1s are
    /// recorded (Kafka's `Frequencies`; 0 when nothing was recorded).
    pub fn share_of_ones(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The share of 0s, as [`Stats::share_of_ones`].
    pub fn share_of_zeros(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.count - self.sum.min(self.count)) as f64 / self.count as f64
        }
    }
}

impl Window {
    /// An empty window of `spec`'s shape.
    pub fn new(spec: WindowSpec) -> Window {
        Window::new_at(spec, now_ms())
    }

    fn new_at(spec: WindowSpec, now: u64) -> Window {
        Window {
            sample_ms: spec.sample_ms.max(1),
            created_ms: now,
            samples: (0..spec.samples.max(1))
                .map(|_| Sample::default())
                .collect(),
        }
    }

    /// Records `value` now.
    pub fn record(&self, value: u64) {
        self.record_at(now_ms(), value);
    }

    fn record_at(&self, now: u64, value: u64) {
        let turn = now / self.sample_ms + 1;
        let sample = &self.samples[(turn % self.samples.len() as u64) as usize];
        let seen = sample.turn.load(Ordering::Acquire);
        // The first value of a new turn empties the sample; time only goes
        // forward, so `seen < turn` whenever they differ.
        if seen != turn
            && sample
                .turn
                .compare_exchange(seen, turn, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            sample.count.store(0, Ordering::Relaxed);
            sample.sum.store(0, Ordering::Relaxed);
            sample.max.store(0, Ordering::Relaxed);
        }
        sample.count.fetch_add(1, Ordering::Relaxed);
        sample.sum.fetch_add(value, Ordering::Relaxed);
        sample.max.fetch_max(value, Ordering::Relaxed);
    }

    /// The statistics of the samples still in the window.
    pub fn stats(&self) -> Stats {
        self.stats_at(now_ms())
    }

    fn stats_at(&self, now: u64) -> Stats {
        let current = now / self.sample_ms + 1;
        let oldest_kept = current.saturating_sub(self.samples.len() as u64 - 1);
        let mut stats = Stats {
            count: 0,
            sum: 0,
            max: 0,
            seconds: 0.0,
        };
        let mut oldest_start = now;
        for sample in self.samples.iter() {
            let turn = sample.turn.load(Ordering::Acquire);
            if turn == 0 || turn < oldest_kept || turn > current {
                continue;
            }
            stats.count += sample.count.load(Ordering::Relaxed);
            stats.sum += sample.sum.load(Ordering::Relaxed);
            stats.max = stats.max.max(sample.max.load(Ordering::Relaxed));
            let start = ((turn - 1) * self.sample_ms).max(self.created_ms);
            oldest_start = oldest_start.min(start);
        }
        // Kafka's `Rate.windowSize`: the time since the oldest sample began,
        // but at least `samples - 1` whole samples, and at least 1 ms.
        let mut elapsed = now - oldest_start.min(now);
        let at_least = (self.samples.len() as u64 - 1) * self.sample_ms;
        elapsed = elapsed.max(at_least).max(1);
        stats.seconds = elapsed as f64 / 1000.0;
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> WindowSpec {
        WindowSpec::default()
    }

    #[test]
    fn a_rate_is_divided_by_at_least_one_whole_sample_as_kafka_does() {
        let w = Window::new_at(spec(), 0);
        w.record_at(1_000, 300);
        // 1 s in, but Kafka divides by (2 - 1) × 30 s.
        let s = w.stats_at(1_000);
        assert_eq!((s.count, s.sum), (1, 300));
        assert_eq!(s.rate(), 10.0);
        // 45 s in: both samples are kept, 45 s have passed.
        w.record_at(40_000, 150);
        let s = w.stats_at(45_000);
        assert_eq!(s.sum, 450);
        assert_eq!(s.rate(), 10.0);
    }

    #[test]
    fn old_samples_leave_the_window() {
        let w = Window::new_at(spec(), 0);
        w.record_at(10, 5);
        w.record_at(31_000, 7);
        assert_eq!(w.stats_at(59_999).sum, 12);
        // 60 s: the first sample (0–30 s) is out; the second stays.
        let s = w.stats_at(60_000);
        assert_eq!((s.count, s.sum, s.max), (1, 7, 7));
        // Its slot is reused by the third turn, emptied first.
        w.record_at(61_000, 1);
        let s = w.stats_at(61_000);
        assert_eq!((s.count, s.sum, s.max), (2, 8, 7));
        // Long idle: nothing left, the averages are NaN as in Kafka.
        let s = w.stats_at(600_000);
        assert_eq!((s.count, s.sum), (0, 0));
        assert_eq!(s.rate(), 0.0);
        assert!(s.avg().is_nan() && s.max().is_nan());
    }

    #[test]
    fn avg_max_and_shares() {
        let w = Window::new_at(spec(), 0);
        for v in [1, 0, 1, 1] {
            w.record_at(100, v);
        }
        let s = w.stats_at(200);
        assert_eq!(s.avg(), 0.75);
        assert_eq!(s.max(), 1.0);
        assert_eq!(s.share_of_ones(), 0.75);
        assert_eq!(s.share_of_zeros(), 0.25);
        let empty = Window::new_at(spec(), 0).stats_at(5);
        assert_eq!((empty.share_of_ones(), empty.share_of_zeros()), (0.0, 0.0));
    }

    #[test]
    fn a_rate_never_counts_time_before_the_window_was_made() {
        let one = WindowSpec {
            sample_ms: 30_000,
            samples: 1,
        };
        let w = Window::new_at(one, 20_000);
        w.record_at(25_000, 50);
        assert_eq!(w.stats_at(30_000 - 1).seconds, 9.999);
    }

    #[test]
    fn the_spec_reads_kafkas_keys_and_keeps_defaults_for_bad_values() {
        let keys = [
            ("metrics.sample.window.ms", "5000"),
            ("metrics.num.samples", "x"),
        ];
        let spec = WindowSpec::from_lookup(|k| keys.iter().find(|(n, _)| *n == k).map(|p| p.1));
        assert_eq!(
            spec,
            WindowSpec {
                sample_ms: 5000,
                samples: 2
            }
        );
        assert_eq!(spec.seconds(), 10.0);
        assert_eq!(WindowSpec::from_lookup(|_| None), WindowSpec::default());
    }
}
