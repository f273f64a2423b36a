//! How a task retries a plugin's retriable errors: `errors.retry.timeout`
//! and `errors.retry.delay.max.ms` (spec §7.1).
//!
//! Kafka Connect retries a task's `RetriableException` from `poll`/`put`
//! without end; its retry keys bound only the framework's own operations.
//! Here the keys bound the plugin's retriable errors too, when set:
//!
//! * `errors.retry.timeout` unset or `-1`: retry without end, as Kafka does;
//! * `0`: fail the task at the first retriable error;
//! * `N` ms: retry for up to N ms since the first failure of the run, then
//!   fail the task with a trace naming the error and how long it was tried.
//!
//! Between attempts the task waits for the plugin's `backoff-ms` hint if it
//! gave one, else 300 ms doubling per attempt (Kafka's schedule); either way
//! at most `errors.retry.delay.max.ms` (default 60 s) and never past the
//! timeout. A success starts a fresh run.

use std::time::{Duration, Instant};

use super::settings::long;
use crate::GuestError;

/// The first wait when the plugin gives no hint (Kafka's
/// `RetryWithToleranceOperator` starts at 300 ms).
const FIRST_DELAY: Duration = Duration::from_millis(300);
/// `errors.retry.delay.max.ms`'s default.
const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(60);

/// A connector's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long retries may go on; `None` without end.
    timeout: Option<Duration>,
    /// The longest wait between two attempts.
    max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            timeout: None,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

impl RetryPolicy {
    /// The policy a connector configuration asks for
    /// (`errors.retry.timeout`, `errors.retry.delay.max.ms`); a value that
    /// is not a whole number is an error naming the key.
    pub fn parse(config: &[(String, String)]) -> Result<RetryPolicy, String> {
        let mut policy = RetryPolicy::default();
        if let Some(t) = long(config, "errors.retry.timeout")? {
            // Negative: without end, as Kafka's -1.
            policy.timeout = u64::try_from(t).ok().map(Duration::from_millis);
        }
        if let Some(d) = long(config, "errors.retry.delay.max.ms")? {
            policy.max_delay = Duration::from_millis(u64::try_from(d).unwrap_or(0));
        }
        Ok(policy)
    }

    /// A fresh run of attempts under this policy.
    pub fn start(self) -> Retrier {
        Retrier {
            policy: self,
            first_failure: None,
            attempts: 0,
        }
    }
}

/// One run of retries: counts attempts since the last success.
#[derive(Debug)]
pub struct Retrier {
    policy: RetryPolicy,
    first_failure: Option<Instant>,
    attempts: u32,
}

impl Retrier {
    /// After a retriable `error`: how long to wait before the next attempt,
    /// or the task's failure trace when the policy allows no more.
    pub fn after(&mut self, error: &GuestError) -> Result<Duration, String> {
        let now = Instant::now();
        let first = *self.first_failure.get_or_insert(now);
        self.attempts += 1;
        let hint = match error {
            GuestError::Retriable {
                backoff: Some(b), ..
            } => Some(*b),
            _ => None,
        };
        let schedule = FIRST_DELAY.saturating_mul(1u32 << (self.attempts - 1).min(16));
        let delay = hint.unwrap_or(schedule).min(self.policy.max_delay);
        let Some(timeout) = self.policy.timeout else {
            return Ok(delay);
        };
        let spent = now.duration_since(first);
        if timeout.is_zero() {
            return Err(format!("{error}; not retried (errors.retry.timeout=0)"));
        }
        if spent >= timeout {
            return Err(format!(
                "{error}; gave up after {} attempts over {} ms (errors.retry.timeout={})",
                self.attempts,
                spent.as_millis(),
                timeout.as_millis()
            ));
        }
        Ok(delay.min(timeout - spent))
    }

    /// The call succeeded: the next failure starts a new run.
    pub fn succeeded(&mut self) {
        self.first_failure = None;
        self.attempts = 0;
    }
}

/// Sleeps for `delay`, or less if the task is asked to stop meanwhile.
pub async fn wait_unless_stopped(stop: &mut tokio::sync::watch::Receiver<bool>, delay: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retriable(backoff: Option<u64>) -> GuestError {
        GuestError::Retriable {
            call: "poll",
            message: "busy".into(),
            backoff: backoff.map(Duration::from_millis),
        }
    }

    fn policy(pairs: &[(&str, &str)]) -> RetryPolicy {
        let config: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RetryPolicy::parse(&config).unwrap()
    }

    #[test]
    fn unset_retries_without_end_on_kafkas_schedule_capped_at_the_max_delay() {
        let mut r = policy(&[("errors.retry.delay.max.ms", "1000")]).start();
        let delays: Vec<u128> = (0..5)
            .map(|_| r.after(&retriable(None)).unwrap().as_millis())
            .collect();
        assert_eq!(delays, vec![300, 600, 1000, 1000, 1000]);
        let mut r = policy(&[("errors.retry.timeout", "-1")]).start();
        assert_eq!(r.after(&retriable(Some(25))), Ok(Duration::from_millis(25)));
    }

    #[test]
    fn values_that_are_not_numbers_are_refused_by_name() {
        let config = vec![("errors.retry.timeout".to_string(), "soon".to_string())];
        assert_eq!(
            RetryPolicy::parse(&config).unwrap_err(),
            "Invalid value soon for configuration errors.retry.timeout: Not a number of type LONG"
        );
    }

    #[test]
    fn zero_fails_at_the_first_error() {
        let mut r = policy(&[("errors.retry.timeout", "0")]).start();
        assert_eq!(
            r.after(&retriable(None)).unwrap_err(),
            "poll failed with a retriable error: busy; not retried (errors.retry.timeout=0)"
        );
    }

    #[test]
    fn a_timeout_bounds_the_run_and_a_success_resets_it() {
        let mut r = policy(&[("errors.retry.timeout", "50")]).start();
        // The wait never runs past the timeout.
        assert!(r.after(&retriable(Some(10_000))).unwrap() <= Duration::from_millis(50));
        r.first_failure = Some(Instant::now() - Duration::from_millis(60));
        let trace = r.after(&retriable(None)).unwrap_err();
        assert!(
            trace.starts_with(
                "poll failed with a retriable error: busy; gave up after 2 attempts over 6"
            ),
            "{trace}"
        );
        assert!(trace.ends_with("ms (errors.retry.timeout=50)"), "{trace}");
        r.succeeded();
        assert!(r.after(&retriable(None)).is_ok());
    }
}
