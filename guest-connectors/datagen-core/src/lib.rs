//! Deterministic, verifiable test data.
//!
//! Shared by three users, so that they agree byte for byte:
//! the `datagen` source component, the `null-sink` component that checks
//! what arrives, and the worker's benchmark, which runs the same generator
//! natively through the same task loop to measure the sandbox's cost.
//!
//! A record of task `t` with sequence number `n` has the key
//! `key-<n mod cardinality>` and a value of exactly `record_bytes` bytes:
//! the header `t=<t>;seq=<n>;` followed by filler that depends on `n`, so a
//! receiver can tell a corrupt record from a good one and count what is
//! missing or repeated without any other state.

use std::time::Duration;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Size of each value in bytes (at least the header's length).
    pub record_bytes: usize,
    /// How many distinct keys there are.
    pub key_cardinality: u64,
}

/// The key of record `seq`.
pub fn key(shape: &Shape, seq: u64) -> String {
    format!("key-{}", seq % shape.key_cardinality.max(1))
}

/// The filler repeats the alphabet; twice over, so that any 26-byte window
/// of it is one slice.
const ALPHABET_TWICE: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

/// Writes the value of record `seq` of task `task` into `out` (cleared
/// first).
pub fn fill_value(shape: &Shape, task: u32, seq: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    out.clear();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "t={task};seq={seq};");
    let mut left = shape.record_bytes.saturating_sub(out.len());
    let mut at = (seq % 26) as usize;
    while left > 0 {
        let take = left.min(26);
        out.extend_from_slice(&ALPHABET_TWICE[at..at + take]);
        left -= take;
        at = (at + take) % 26;
    }
}

/// The value of record `seq` of task `task`.
pub fn value(shape: &Shape, task: u32, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(shape.record_bytes);
    fill_value(shape, task, seq, &mut out);
    out
}

/// Checks a value and returns its task and sequence number.
pub fn check_value(bytes: &[u8]) -> Result<(u32, u64), String> {
    let header_end = bytes
        .iter()
        .take(48)
        .enumerate()
        .filter(|(_, b)| **b == b';')
        .nth(1)
        .map(|(i, _)| i + 1)
        .ok_or_else(|| "the value has no t=<task>;seq=<n>; header".to_string())?;
    let header = std::str::from_utf8(&bytes[..header_end])
        .map_err(|_| "the value's header is not UTF-8".to_string())?;
    let rest = header
        .strip_prefix("t=")
        .ok_or_else(|| "the value does not start with t=".to_string())?;
    let (task, rest) = rest
        .split_once(";seq=")
        .ok_or_else(|| "the value has no ;seq=".to_string())?;
    let seq = rest.trim_end_matches(';');
    let task: u32 = task
        .parse()
        .map_err(|_| format!("bad task number {task}"))?;
    let seq: u64 = seq
        .parse()
        .map_err(|_| format!("bad sequence number {seq}"))?;
    let filler = &bytes[header_end..];
    let mut at = (seq % 26) as usize;
    for (n, chunk) in filler.chunks(26).enumerate() {
        if chunk != &ALPHABET_TWICE[at..at + chunk.len()] {
            let first = chunk
                .iter()
                .zip(&ALPHABET_TWICE[at..])
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(format!(
                "record {seq} of task {task} is corrupt at filler byte {}",
                n * 26 + first
            ));
        }
        at = (at + chunk.len()) % 26;
    }
    Ok((task, seq))
}

/// Spreads records over time at a rate (records per second), or not at all.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    rate: Option<f64>,
}

impl Pacer {
    /// A pacer for `rate` records per second; `0` means unlimited.
    pub fn new(rate: f64) -> Pacer {
        Pacer {
            rate: (rate > 0.0).then_some(rate),
        }
    }

    /// How many records may have been sent `elapsed` after the start.
    pub fn allowed(&self, elapsed: Duration) -> u64 {
        match self.rate {
            None => u64::MAX,
            Some(r) => (elapsed.as_secs_f64() * r) as u64 + 1,
        }
    }

    /// How long after the start record number `sent` (0-based) is due.
    pub fn due(&self, sent: u64) -> Duration {
        match self.rate {
            None => Duration::ZERO,
            Some(r) => Duration::from_secs_f64(sent as f64 / r),
        }
    }
}

/// The source partition of task `task`: `{"task":t}`.
pub fn partition_json(task: u32) -> String {
    format!(r#"{{"task":{task}}}"#)
}

/// The source offset of record `seq`: `{"seq":n}`.
pub fn offset_json(seq: u64) -> String {
    format!(r#"{{"seq":{seq}}}"#)
}

/// The sequence number after a stored offset (canonical JSON `{"seq":n}`).
pub fn resume_after(offset: &str) -> Result<u64, String> {
    offset
        .trim()
        .strip_prefix(r#"{"seq":"#)
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map(|n| n + 1)
        .ok_or_else(|| format!("stored offset {offset} is not {{\"seq\":<number>}}"))
}

/// Longest a task waits in one poll when nothing is due.
pub const IDLE_WAIT: Duration = Duration::from_millis(100);

/// What a task does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Emit these sequence numbers.
    Emit(std::ops::Range<u64>),
    /// Nothing is due; wait this long (at most [`IDLE_WAIT`]).
    Wait(Duration),
}

/// Which records one task emits when: its position, its limit
/// (`iterations`, 0 = none), its batch size and its pace.
#[derive(Debug, Clone)]
pub struct Schedule {
    pacer: Pacer,
    iterations: u64,
    batch: u64,
    next: u64,
    first: u64,
    started: std::time::Instant,
}

impl Schedule {
    /// A schedule starting at sequence number `next`, now.
    pub fn new(next: u64, rate: f64, iterations: u64, batch: u64) -> Schedule {
        Schedule {
            pacer: Pacer::new(rate),
            iterations,
            batch: batch.max(1),
            next,
            first: next,
            started: std::time::Instant::now(),
        }
    }

    /// The next step; an `Emit` moves the position past its range.
    pub fn step(&mut self) -> Step {
        let mut end = self.next + self.batch;
        if self.iterations > 0 {
            end = end.min(self.iterations);
        }
        let paced = self
            .first
            .saturating_add(self.pacer.allowed(self.started.elapsed()));
        end = end.min(paced);
        if end > self.next {
            let range = self.next..end;
            self.next = end;
            return Step::Emit(range);
        }
        if self.iterations > 0 && self.next >= self.iterations {
            return Step::Wait(IDLE_WAIT);
        }
        let due = self.started + self.pacer.due(self.next - self.first);
        Step::Wait(
            due.saturating_duration_since(std::time::Instant::now())
                .min(IDLE_WAIT),
        )
    }
}

/// Counts what a receiver saw of one task's sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records seen, duplicates included.
    pub records: u64,
    /// Records whose sequence number was seen before.
    pub duplicates: u64,
    /// The next sequence number never seen yet, counting from 0.
    pub contiguous: u64,
    seen_ahead: std::collections::BTreeSet<u64>,
}

impl Tally {
    /// Notes record `seq`.
    pub fn observe(&mut self, seq: u64) {
        self.records += 1;
        if seq < self.contiguous || !self.seen_ahead.insert(seq) {
            self.duplicates += 1;
            return;
        }
        while self.seen_ahead.remove(&self.contiguous) {
            self.contiguous += 1;
        }
    }

    /// Sequence numbers below the highest seen that never arrived.
    pub fn missing(&self) -> u64 {
        match self.seen_ahead.last() {
            None => 0,
            Some(&max) => max + 1 - self.contiguous - self.seen_ahead.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        record_bytes: 100,
        key_cardinality: 10,
    };

    #[test]
    fn values_have_the_exact_size_and_check_out() {
        let v = value(&SHAPE, 3, 123_456);
        assert_eq!(v.len(), 100);
        assert_eq!(check_value(&v), Ok((3, 123_456)));
        let mut bad = v.clone();
        bad[60] = b'!';
        assert!(check_value(&bad).unwrap_err().contains("corrupt"));
        assert_eq!(key(&SHAPE, 123_456), "key-6");
    }

    #[test]
    fn tally_counts_duplicates_and_gaps() {
        let mut t = Tally::default();
        for seq in [0, 1, 1, 3, 4, 0] {
            t.observe(seq);
        }
        assert_eq!((t.records, t.duplicates, t.contiguous), (6, 2, 2));
        assert_eq!(t.missing(), 1);
        t.observe(2);
        assert_eq!((t.contiguous, t.missing()), (5, 0));
    }

    #[test]
    fn schedule_batches_up_to_the_iterations_then_waits() {
        let mut s = Schedule::new(5, 0.0, 12, 4);
        assert_eq!(s.step(), Step::Emit(5..9));
        assert_eq!(s.step(), Step::Emit(9..12));
        assert_eq!(s.step(), Step::Wait(IDLE_WAIT));
        assert_eq!(resume_after(&offset_json(41)), Ok(42));
        assert!(resume_after("{}").is_err());
    }

    #[test]
    fn pacer_spreads_records() {
        let p = Pacer::new(100.0);
        assert_eq!(p.allowed(Duration::from_millis(500)), 51);
        assert_eq!(p.due(50), Duration::from_millis(500));
        assert_eq!(Pacer::new(0.0).allowed(Duration::ZERO), u64::MAX);
    }
}
