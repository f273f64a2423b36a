//! Identity and stop signalling (the `context` import).

use crate::world::wasmconnect::connector::context;
use std::time::{Duration, Instant};

/// The connector's name.
pub fn connector_name() -> String {
    context::connector_name()
}

/// The task number, or `None` in the connector instance.
pub fn task_id() -> Option<u32> {
    context::task_id()
}

/// Whether the host asked this instance to stop.
pub fn stop_requested() -> bool {
    context::stop_requested()
}

/// Sleeps for up to `duration`, returning early (with `true`) once the host
/// asks this instance to stop.
pub fn sleep_unless_stopped(duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    // Short naps keep a stop request from waiting behind a long sleep.
    const NAP: Duration = Duration::from_millis(20);
    loop {
        if stop_requested() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(NAP.min(deadline - now));
    }
}
