//! Errors every layer shares.
//!
//! * [`GuestError`]: how a call into a guest failed (trap, limit, deadline,
//!   the plugin's own error), in words an operator can act on;
//! * [`HerderError`]: how a request on a connector failed, with the HTTP
//!   status Kafka Connect answers it with, or where it must be made instead
//!   ([`Redirect`]: the leader, a task's owner).
//!
//! Both are plain values; this module imports nothing from the rest of the
//! crate but the sandbox's stack size (for a message).

mod guest;
mod request;

pub use guest::GuestError;
pub use request::{HerderError, Redirect};
