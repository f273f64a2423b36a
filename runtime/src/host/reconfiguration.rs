//! The `reconfiguration` capability (`wasmconnect:tasks/reconfiguration`):
//! a connector asks the worker to call `task-configs` again at an
//! interval, and the herder replaces its tasks when the answer changes
//! (Kafka's `ConnectorContext.requestTaskReconfiguration`, turned around
//! because an instance runs only while the worker calls it).
//!
//! This module only records the interval; the herders read it through
//! `ConnectorInstance::recheck_interval` and do the rechecking.

use std::time::Duration;

use wasmtime::component::{HasData, Linker};

use super::Identity;
use crate::bindings::tasks::reconfiguration::{self, Host};

/// Rechecks more often than this would spend the connector's calls on
/// listing its sources: shorter intervals count as this.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// This capability's share of an instance's state.
pub struct ReconfigurationState {
    identity: Identity,
    interval: Option<Duration>,
}

impl ReconfigurationState {
    /// Nothing asked yet.
    pub fn new(identity: Identity) -> Self {
        ReconfigurationState {
            identity,
            interval: None,
        }
    }

    /// How often the connector asked to be rechecked, if it did.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }
}

/// A store whose data holds a [`ReconfigurationState`].
pub trait ReconfigurationView: Send {
    fn reconfiguration(&mut self) -> &mut ReconfigurationState;
}

struct Reconfiguration;

impl HasData for Reconfiguration {
    type Data<'a> = &'a mut ReconfigurationState;
}

/// Adds the `reconfiguration` import to `linker`.
pub fn add_to_linker<T: ReconfigurationView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    reconfiguration::add_to_linker::<T, Reconfiguration>(linker, T::reconfiguration)
}

impl Host for &mut ReconfigurationState {
    fn recheck_every(&mut self, interval_ms: u32) -> wasmtime::Result<()> {
        let id = &self.identity;
        if id.task.is_some() {
            // Kafka gives tasks no ConnectorContext at all; a task asking
            // is harmless and changes nothing.
            tracing::debug!(
                connector = &*id.connector,
                task = id.task,
                "a task asked for task reconfiguration; only the connector can"
            );
            return Ok(());
        }
        self.interval =
            (interval_ms > 0).then(|| Duration::from_millis(interval_ms.into()).max(MIN_INTERVAL));
        tracing::debug!(
            connector = &*id.connector,
            interval_ms = self.interval.map(|d| d.as_millis()),
            "connector asked for its task configurations to be rechecked"
        );
        Ok(())
    }
}
