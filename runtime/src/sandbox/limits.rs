//! Per-instance resource limits and the limiter that enforces them.

use std::time::Duration;

/// What one instance has used: memory, time inside the guest, calls and
/// faults (traps, limits, missed deadlines). Shown in task status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Current linear memory, bytes.
    pub memory_bytes: usize,
    /// Largest linear memory so far, bytes.
    pub peak_memory_bytes: usize,
    /// Wall-clock time spent inside guest calls.
    pub guest_time: Duration,
    /// Calls into the guest.
    pub calls: u64,
    /// Calls that ended in a trap, a limit or a missed deadline.
    pub faults: u64,
    /// Log lines (stdout, stderr, `logging`) dropped by the log rate limit.
    pub log_lines_dropped: u64,
    /// Outbound HTTP requests sent (`wasi:http`), whatever their answer.
    pub http_requests: u64,
    /// Request bytes sent over HTTP: bodies, not headers.
    pub http_bytes_sent: u64,
    /// Response bytes received over HTTP: bodies, not headers.
    pub http_bytes_received: u64,
}

/// What one instance may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory, in bytes, summed over the instance's memories.
    pub memory_bytes: usize,
    /// Wall-clock time one call into the guest may take.
    pub call_deadline: Duration,
    /// Log lines per second the guest may write (stdout, stderr and the
    /// `logging` import together); a burst of one second's worth is allowed
    /// and the rest is dropped and counted.
    pub log_lines_per_second: u32,
    /// Records one `poll` may return.
    pub batch_records: u32,
    /// How long an outbound HTTP request may take to connect (TCP and TLS).
    pub http_connect_timeout: Duration,
    /// How long an outbound HTTP request may wait for its response to
    /// start, and then between two pieces of its body.
    pub http_response_timeout: Duration,
    /// The largest outbound HTTP response body, in bytes.
    pub http_response_bytes: u64,
}

impl Default for Limits {
    /// The defaults a connector gets when it asks for nothing.
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            call_deadline: Duration::from_secs(60),
            log_lines_per_second: 1_000,
            batch_records: 100_000,
            http_connect_timeout: Duration::from_secs(10),
            http_response_timeout: Duration::from_secs(30),
            http_response_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// The built-in worker maximums.
    pub fn default_maximums() -> Self {
        Limits {
            memory_bytes: 1 << 30,
            call_deadline: Duration::from_secs(600),
            log_lines_per_second: 100_000,
            batch_records: 1_000_000,
            http_connect_timeout: Duration::from_secs(600),
            http_response_timeout: Duration::from_secs(600),
            http_response_bytes: 1 << 30,
        }
    }

    /// These limits, each capped at `max`.
    pub fn capped_at(mut self, max: Limits) -> Limits {
        for key in LIMIT_KEYS {
            let capped = (key.get)(&self).min((key.get)(&max));
            (key.set)(&mut self, capped);
        }
        self
    }

    /// These limits with every key of [`LIMIT_KEYS`] that `lookup` finds
    /// (connector keys, or with `maximums` the worker's `*.max.*` keys)
    /// parsed and applied. Returns the key and its problem for values that
    /// are not positive whole numbers.
    pub fn overridden<'a>(
        mut self,
        maximums: bool,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Limits, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        for key in LIMIT_KEYS {
            let name = if maximums { key.max_key } else { key.key };
            let Some(raw) = lookup(name) else { continue };
            match parse_positive(raw) {
                Some(v) => (key.set)(&mut self, v),
                None => problems.push((
                    name,
                    format!("Invalid value {raw} for configuration {name}: Value must be a positive whole number"),
                )),
            }
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }
}

fn parse_positive(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok().filter(|v| *v > 0)
}

/// One configurable limit: the connector key that asks for it, the worker
/// key that caps it, and where it lives in [`Limits`].
pub struct LimitKey {
    /// Connector configuration key.
    pub key: &'static str,
    /// Worker configuration key of the maximum.
    pub max_key: &'static str,
    /// The value in the key's unit.
    pub get: fn(&Limits) -> u64,
    /// Sets the value from the key's unit.
    pub set: fn(&mut Limits, u64),
}

/// Every per-connector limit. A worker configuration may also set a key
/// itself (without `.max`) to change the default for all its connectors.
pub const LIMIT_KEYS: &[LimitKey] = &[
    LimitKey {
        key: "wasm.memory.bytes",
        max_key: "wasm.memory.max.bytes",
        get: |l| l.memory_bytes as u64,
        set: |l, v| l.memory_bytes = usize::try_from(v).unwrap_or(usize::MAX),
    },
    LimitKey {
        key: "wasm.call.timeout.ms",
        max_key: "wasm.call.timeout.max.ms",
        get: |l| millis(l.call_deadline),
        set: |l, v| l.call_deadline = Duration::from_millis(v),
    },
    LimitKey {
        key: "wasm.log.lines.per.second",
        max_key: "wasm.log.lines.per.second.max",
        get: |l| l.log_lines_per_second.into(),
        set: |l, v| l.log_lines_per_second = u32::try_from(v).unwrap_or(u32::MAX),
    },
    LimitKey {
        key: "wasm.poll.max.records",
        max_key: "wasm.poll.max.records.max",
        get: |l| l.batch_records.into(),
        set: |l, v| l.batch_records = u32::try_from(v).unwrap_or(u32::MAX),
    },
    LimitKey {
        key: "wasm.http.connect.timeout.ms",
        max_key: "wasm.http.connect.timeout.max.ms",
        get: |l| millis(l.http_connect_timeout),
        set: |l, v| l.http_connect_timeout = Duration::from_millis(v),
    },
    LimitKey {
        key: "wasm.http.response.timeout.ms",
        max_key: "wasm.http.response.timeout.max.ms",
        get: |l| millis(l.http_response_timeout),
        set: |l, v| l.http_response_timeout = Duration::from_millis(v),
    },
    LimitKey {
        key: "wasm.http.response.bytes",
        max_key: "wasm.http.response.max.bytes",
        get: |l| l.http_response_bytes,
        set: |l, v| l.http_response_bytes = v,
    },
];

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Most table elements one instance may have: far above what real guests
/// use, low enough that a runaway `table.grow` cannot eat the host.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Enforces [`Limits::memory_bytes`] and remembers a refused growth, so the
/// resulting trap can be reported as "memory limit exceeded" rather than as
/// an anonymous trap.
#[derive(Debug)]
pub struct MemoryLimiter {
    /// Checked per memory: components built by today's toolchains keep all
    /// their data in one main memory.
    limit: usize,
    refused: Option<usize>,
    current: usize,
    peak: usize,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes.
    pub fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            refused: None,
            current: 0,
            peak: 0,
        }
    }

    /// The configured limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The size a refused growth asked for, if any growth was refused.
    pub fn refused(&self) -> Option<usize> {
        self.refused
    }

    /// The largest memory size granted so far.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// The size of the most recent memory growth granted (linear memory
    /// never shrinks, so this is the current size of the main memory).
    pub fn current(&self) -> usize {
        self.current
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = Some(desired);
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} bytes exceeded (asked for {desired})",
                self.limit
            )));
        }
        self.current = desired;
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn refuses_growth_past_the_limit_and_remembers_it() {
        let mut l = MemoryLimiter::new(1 << 20);
        assert!(l.memory_growing(0, 1 << 20, None).unwrap());
        assert!(l.memory_growing(1 << 20, 2 << 20, None).is_err());
        assert_eq!(l.refused(), Some(2 << 20));
        assert_eq!(l.peak(), 1 << 20);
    }

    #[test]
    fn capped_at_takes_the_smaller_of_each() {
        let asked = Limits {
            memory_bytes: 8 << 30,
            call_deadline: Duration::from_secs(1),
            log_lines_per_second: 10,
            batch_records: 5_000_000,
            http_response_bytes: 4 << 30,
            ..Limits::default()
        };
        let max = Limits::default_maximums();
        assert_eq!(
            asked.capped_at(max),
            Limits {
                memory_bytes: 1 << 30,
                call_deadline: Duration::from_secs(1),
                log_lines_per_second: 10,
                batch_records: 1_000_000,
                http_response_bytes: 1 << 30,
                ..Limits::default()
            }
        );
    }

    #[test]
    fn overrides_parse_each_key_and_name_the_bad_ones() {
        let config = [
            ("wasm.memory.bytes", "1048576"),
            ("wasm.call.timeout.ms", "250"),
            ("wasm.log.lines.per.second", "0"),
            ("wasm.poll.max.records.max", "7"),
        ];
        let lookup = |k: &str| config.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let problems = Limits::default().overridden(false, lookup).unwrap_err();
        assert_eq!(
            problems,
            vec![(
                "wasm.log.lines.per.second",
                "Invalid value 0 for configuration wasm.log.lines.per.second: Value must be a positive whole number".to_string()
            )]
        );
        let max = Limits::default().overridden(true, lookup).unwrap();
        assert_eq!(max.batch_records, 7);
        assert_eq!(max.memory_bytes, Limits::default().memory_bytes);
        let config = &config[..2];
        let lookup = |k: &str| config.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let l = Limits::default().overridden(false, lookup).unwrap();
        assert_eq!(l.memory_bytes, 1 << 20);
        assert_eq!(l.call_deadline, Duration::from_millis(250));
    }
}
