//! The per-instance log rate limit: a token bucket shared by a guest's
//! stdout, stderr and `logging` import.
//!
//! A guest that writes in a tight loop must not flood the worker's log (or
//! its disk) and drown the other connectors' lines. Lines over the rate are
//! dropped and counted; the count shows in the task's resource usage, and
//! at most once a second the log says how many were dropped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a "lines dropped" note may be logged.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Log it.
    Log,
    /// Log it, after a note that this many lines were dropped before it.
    LogAfterDropping(u64),
    /// Drop it.
    Drop,
}

/// One instance's log budget. Cheap to clone; clones share the bucket.
#[derive(Debug, Clone)]
pub struct LogBudget(Arc<Mutex<Bucket>>);

#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    refilled: Instant,
    dropped: u64,
    unreported: u64,
    reported: Instant,
}

impl LogBudget {
    /// A budget of `lines_per_second`, starting with one second's burst.
    pub fn new(lines_per_second: u32) -> Self {
        let now = Instant::now();
        let rate = f64::from(lines_per_second.max(1));
        LogBudget(Arc::new(Mutex::new(Bucket {
            rate,
            tokens: rate,
            refilled: now,
            dropped: 0,
            unreported: 0,
            reported: now,
        })))
    }

    /// Takes one line from the budget.
    pub fn admit(&self) -> Admit {
        let Ok(mut b) = self.0.lock() else {
            return Admit::Log;
        };
        let now = Instant::now();
        let earned = now.duration_since(b.refilled).as_secs_f64() * b.rate;
        b.tokens = (b.tokens + earned).min(b.rate);
        b.refilled = now;
        if b.tokens < 1.0 {
            b.dropped += 1;
            b.unreported += 1;
            return Admit::Drop;
        }
        b.tokens -= 1.0;
        if b.unreported > 0 && now.duration_since(b.reported) >= REPORT_EVERY {
            b.reported = now;
            Admit::LogAfterDropping(std::mem::take(&mut b.unreported))
        } else {
            Admit::Log
        }
    }

    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.0.lock().map(|b| b.dropped).unwrap_or(0)
    }

    /// The configured rate.
    pub fn rate(&self) -> u32 {
        self.0.lock().map(|b| b.rate as u32).unwrap_or(0)
    }
}

/// Logs a line through `log` if the budget admits it, with a WARN note
/// first when lines were dropped before it.
pub fn emit(budget: &LogBudget, connector: &str, task: Option<u32>, log: impl FnOnce()) {
    match budget.admit() {
        Admit::Drop => {}
        Admit::Log => log(),
        Admit::LogAfterDropping(n) => {
            tracing::warn!(
                target: crate::host::logging::TARGET,
                connector,
                task,
                dropped = n,
                "dropped {n} guest log lines over this instance's limit of {} per second (wasm.log.lines.per.second)",
                budget.rate()
            );
            log();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_is_dropped_and_counted() {
        let budget = LogBudget::new(100);
        let logged = (0..1000).filter(|_| budget.admit() != Admit::Drop).count();
        // One second's burst, plus whatever trickled in while looping.
        assert!((100..110).contains(&logged), "{logged}");
        assert_eq!(budget.dropped(), 1000 - logged as u64);
    }

    #[test]
    fn drops_are_reported_with_the_next_admitted_line_after_a_second() {
        let budget = LogBudget::new(1);
        assert_eq!(budget.admit(), Admit::Log);
        assert_eq!(budget.admit(), Admit::Drop);
        if let Ok(mut b) = budget.0.lock() {
            // As if a second had passed.
            b.refilled -= Duration::from_secs(1);
            b.reported -= Duration::from_secs(1);
        }
        assert_eq!(budget.admit(), Admit::LogAfterDropping(1));
    }
}
