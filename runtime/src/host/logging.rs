//! `logging`: guest messages into the worker's log.

use crate::bindings::wasmconnect::connector::logging::{Host, Level};
use crate::sandbox::HostState;
use crate::sandbox::log_budget::emit;

/// Log events from guests use this target, so operators can filter them
/// (`RUST_LOG=wasmconnect::guest=debug`).
pub const TARGET: &str = "wasmconnect::guest";

impl Host for HostState {
    fn enabled(&mut self, level: Level) -> wasmtime::Result<bool> {
        Ok(match level {
            Level::Trace => tracing::enabled!(target: TARGET, tracing::Level::TRACE),
            Level::Debug => tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            Level::Info => tracing::enabled!(target: TARGET, tracing::Level::INFO),
            Level::Warn => tracing::enabled!(target: TARGET, tracing::Level::WARN),
            Level::Error => tracing::enabled!(target: TARGET, tracing::Level::ERROR),
        })
    }

    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let connector = &*self.connector;
        let task = self.task;
        emit(&self.log_budget, connector, task, || match level {
            Level::Trace => tracing::trace!(target: TARGET, connector, task, "{message}"),
            Level::Debug => tracing::debug!(target: TARGET, connector, task, "{message}"),
            Level::Info => tracing::info!(target: TARGET, connector, task, "{message}"),
            Level::Warn => tracing::warn!(target: TARGET, connector, task, "{message}"),
            Level::Error => tracing::error!(target: TARGET, connector, task, "{message}"),
        });
        Ok(())
    }
}
