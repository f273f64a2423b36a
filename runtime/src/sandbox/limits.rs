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
}

/// What one instance may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory, in bytes, summed over the instance's memories.
    pub memory_bytes: usize,
    /// Wall-clock time one call into the guest may take.
    pub call_deadline: Duration,
}

impl Limits {
    /// These limits, each capped at `max`.
    pub fn capped_at(self, max: Limits) -> Limits {
        Limits {
            memory_bytes: self.memory_bytes.min(max.memory_bytes),
            call_deadline: self.call_deadline.min(max.call_deadline),
        }
    }
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
        };
        let max = Limits {
            memory_bytes: 1 << 30,
            call_deadline: Duration::from_secs(60),
        };
        assert_eq!(
            asked.capped_at(max),
            Limits {
                memory_bytes: 1 << 30,
                call_deadline: Duration::from_secs(1)
            }
        );
    }
}
