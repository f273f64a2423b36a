//! The `logging` capability: guest messages into the worker's log, tagged
//! with connector and task, within the instance's log rate.

use wasmtime::component::{HasSelf, Linker};

use super::Identity;
use super::log_budget::{LogBudget, emit};
use crate::bindings::v0_2::wasmconnect::connector::logging as logging_v0_2;
use crate::bindings::wasmconnect::connector::logging::{self, Host, Level};

/// Log events from guests use this target, so operators can filter them
/// (`RUST_LOG=wasmconnect::guest=debug`).
pub const TARGET: &str = "wasmconnect::guest";

/// This capability's share of an instance's state.
pub struct LoggingState {
    identity: Identity,
    budget: LogBudget,
}

impl LoggingState {
    /// Logs as `identity`, within `budget` (shared with the guest's stdio).
    pub fn new(identity: Identity, budget: LogBudget) -> Self {
        LoggingState { identity, budget }
    }
}

/// A store whose data holds a [`LoggingState`].
pub trait LoggingView: Send {
    /// The instance's logging state.
    fn logging(&mut self) -> &mut LoggingState;
}

/// Adds the `logging` import, both contract versions, to `linker`.
pub fn add_to_linker<T: LoggingView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    logging::add_to_linker::<T, HasSelf<LoggingState>>(linker, T::logging)?;
    logging_v0_2::add_to_linker::<T, HasSelf<LoggingState>>(linker, T::logging)
}

impl Host for LoggingState {
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
        let message = self.identity.secrets.hide(&message);
        let connector = &*self.identity.connector;
        let task = self.identity.task;
        emit(&self.budget, connector, task, || match level {
            Level::Trace => tracing::trace!(target: TARGET, connector, task, "{message}"),
            Level::Debug => tracing::debug!(target: TARGET, connector, task, "{message}"),
            Level::Info => tracing::info!(target: TARGET, connector, task, "{message}"),
            Level::Warn => tracing::warn!(target: TARGET, connector, task, "{message}"),
            Level::Error => tracing::error!(target: TARGET, connector, task, "{message}"),
        });
        Ok(())
    }
}

/// 0.2.0's `logging`: the same calls over its own `level`.
impl logging_v0_2::Host for LoggingState {
    fn enabled(&mut self, level: logging_v0_2::Level) -> wasmtime::Result<bool> {
        Host::enabled(self, level_v0_1(level))
    }

    fn log(&mut self, level: logging_v0_2::Level, message: String) -> wasmtime::Result<()> {
        Host::log(self, level_v0_1(level), message)
    }
}

fn level_v0_1(level: logging_v0_2::Level) -> Level {
    match level {
        logging_v0_2::Level::Trace => Level::Trace,
        logging_v0_2::Level::Debug => Level::Debug,
        logging_v0_2::Level::Info => Level::Info,
        logging_v0_2::Level::Warn => Level::Warn,
        logging_v0_2::Level::Error => Level::Error,
    }
}
