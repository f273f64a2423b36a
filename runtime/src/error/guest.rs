//! How a call into a guest can fail, in words an operator can act on.
//!
//! Every fault inside the sandbox (a trap, a panic, a limit, a missed
//! deadline) becomes a [`GuestError`] value; none of them can panic or stop
//! the worker. The `Display` text is what a task's REST status shows as its
//! `trace`.

use std::time::Duration;

/// A failed call into a plugin instance.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GuestError {
    /// The plugin reported a transient failure; retry the call later.
    #[error("{call} failed with a retriable error: {message}")]
    Retriable {
        /// The export that was called.
        call: &'static str,
        /// The plugin's message.
        message: String,
        /// The backoff the plugin asked for.
        backoff: Option<Duration>,
    },
    /// The plugin reported a permanent failure.
    #[error("{call} failed: {message}")]
    Fatal {
        /// The export that was called.
        call: &'static str,
        /// The plugin's message.
        message: String,
    },
    /// The guest trapped (a panic, an `unreachable`, a stack overflow, …).
    #[error("plugin trapped in {call}: {message}")]
    Trap {
        /// The export that was called.
        call: &'static str,
        /// The trap and whatever the guest last wrote to stderr.
        message: String,
    },
    /// The guest tried to grow its memory past its limit.
    #[error(
        "plugin exceeded its memory limit of {} in {call} (it asked for {})",
        mib(*limit),
        mib(*requested)
    )]
    MemoryLimit {
        /// The export that was called.
        call: &'static str,
        /// The configured limit in bytes.
        limit: usize,
        /// The size the guest asked to grow to, in bytes.
        requested: usize,
    },
    /// The guest recursed past its wasm call stack.
    #[error(
        "plugin overflowed its call stack in {call} (recursion deeper than the {} KiB wasm stack allows)",
        crate::sandbox::WASM_STACK_BYTES >> 10
    )]
    StackOverflow {
        /// The export that was called.
        call: &'static str,
    },
    /// The guest returned more records from one call than its limit allows.
    #[error(
        "plugin returned {records} records from {call}, more than its limit of {limit} (wasm.poll.max.records)"
    )]
    BatchLimit {
        /// The export that was called.
        call: &'static str,
        /// Records returned.
        records: usize,
        /// The limit.
        limit: u32,
    },
    /// The call did not return within its deadline.
    #[error("plugin did not return from {call} within its {} ms call deadline", deadline.as_millis())]
    Deadline {
        /// The export that was called.
        call: &'static str,
        /// The deadline that passed.
        deadline: Duration,
    },
    /// An earlier fault left this instance unusable; start a new one.
    #[error("plugin instance is unusable after an earlier fault; {call} was not called")]
    Poisoned {
        /// The export that was not called.
        call: &'static str,
    },
    /// The instance could not be created.
    #[error("could not start the plugin instance: {0}")]
    Instantiate(String),
}

impl GuestError {
    /// Whether retrying the same call on the same instance can succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, GuestError::Retriable { .. })
    }

    /// Whether the instance can still be called after this error.
    pub fn instance_usable(&self) -> bool {
        matches!(
            self,
            GuestError::Retriable { .. } | GuestError::Fatal { .. }
        )
    }
}

/// Bytes as MiB for messages, exact when whole.
fn mib(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause_and_the_limit() {
        let e = GuestError::MemoryLimit {
            call: "poll",
            limit: 64 << 20,
            requested: 96 << 20,
        };
        assert_eq!(
            e.to_string(),
            "plugin exceeded its memory limit of 64 MiB in poll (it asked for 96 MiB)"
        );
        let e = GuestError::Deadline {
            call: "put",
            deadline: Duration::from_millis(1500),
        };
        assert_eq!(
            e.to_string(),
            "plugin did not return from put within its 1500 ms call deadline"
        );
        assert!(!e.instance_usable());
        assert!(
            GuestError::Fatal {
                call: "poll",
                message: "x".into()
            }
            .instance_usable()
        );
    }
}
