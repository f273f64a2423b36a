//! The `context` capability: who an instance is, and whether the host
//! wants it to stop (a flag, and a pollable the guest can wait on).

use tokio::sync::watch;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use super::Identity;
use crate::bindings::v0_2::wasmconnect::connector::context as context_v0_2;
use crate::bindings::wasmconnect::connector::context::{self, Host};

/// This capability's share of an instance's state.
pub struct ContextState {
    identity: Identity,
    stop: watch::Receiver<bool>,
}

impl ContextState {
    /// `identity`, stopped when `stop` turns true.
    pub fn new(identity: Identity, stop: watch::Receiver<bool>) -> Self {
        ContextState { identity, stop }
    }
}

/// What the capability works on: its state and the instance's resource
/// table (pollables live there).
pub struct ContextCtx<'a> {
    /// The capability's state.
    pub state: &'a ContextState,
    /// The instance's resource table.
    pub table: &'a mut ResourceTable,
}

/// A store whose data holds a [`ContextState`].
pub trait ContextView: Send {
    /// The instance's context state and resource table.
    fn context(&mut self) -> ContextCtx<'_>;
}

struct Context;

impl HasData for Context {
    type Data<'a> = ContextCtx<'a>;
}

/// Adds the `context` import, both contract versions, to `linker`.
pub fn add_to_linker<T: ContextView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    context::add_to_linker::<T, Context>(linker, T::context)?;
    context_v0_2::add_to_linker::<T, Context>(linker, T::context)
}

/// Ready once the instance's stop flag is raised (or its sender is gone,
/// which means the instance is being torn down anyway).
struct StopPollable(watch::Receiver<bool>);

#[wasmtime_wasi::async_trait]
impl Pollable for StopPollable {
    async fn ready(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Host for ContextCtx<'_> {
    fn connector_name(&mut self) -> wasmtime::Result<String> {
        Ok(self.state.identity.connector.to_string())
    }

    fn task_id(&mut self) -> wasmtime::Result<Option<u32>> {
        Ok(self.state.identity.task)
    }

    fn stop_requested(&mut self) -> wasmtime::Result<bool> {
        Ok(*self.state.stop.borrow())
    }

    fn stop_signal(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.table.push(StopPollable(self.state.stop.clone()))?;
        subscribe(self.table, pollable)
    }
}

/// 0.2.0's `context`: the same calls.
impl context_v0_2::Host for ContextCtx<'_> {
    fn connector_name(&mut self) -> wasmtime::Result<String> {
        Host::connector_name(self)
    }

    fn task_id(&mut self) -> wasmtime::Result<Option<u32>> {
        Host::task_id(self)
    }

    fn stop_requested(&mut self) -> wasmtime::Result<bool> {
        Host::stop_requested(self)
    }

    fn stop_signal(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        Host::stop_signal(self)
    }
}
