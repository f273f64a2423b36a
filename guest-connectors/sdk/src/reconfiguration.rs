//! Asking the worker to regenerate the connector's task configurations
//! (the `wasmconnect:tasks/reconfiguration` import; cargo feature
//! `reconfiguration`): Kafka's `ConnectorContext.requestTaskReconfiguration`
//! for a connector whose work changes while it runs, as the JDBC source's
//! tables do.
//!
//! ```ignore
//! // In Connector::start:
//! wasmconnect_sdk::reconfiguration::recheck_task_configs_every(Duration::from_secs(60));
//! ```
//!
//! The worker then calls [`crate::Connector::task_configs`] again at that
//! interval while the connector runs, and replaces the tasks when the
//! answer differs from what they run. Kafka's connectors call it from a
//! thread of their own; a component runs only while the worker calls it,
//! so it asks to be asked.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "wasmconnect:tasks/client@0.1.0",
        generate_all,
    });
}

use std::time::Duration;

/// From now on call `task_configs` again every `interval` (at least one
/// second; the worker counts shorter intervals as one second);
/// `Duration::ZERO` stops it. Only the connector instance may ask: from a
/// task it does nothing.
pub fn recheck_task_configs_every(interval: Duration) {
    let ms = u32::try_from(interval.as_millis()).unwrap_or(u32::MAX);
    bindings::wasmconnect::tasks::reconfiguration::recheck_every(ms);
}
