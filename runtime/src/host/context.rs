//! `context`: who an instance is, and whether the host wants it to stop.

use tokio::sync::watch;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use crate::bindings::wasmconnect::connector::context::Host;
use crate::sandbox::HostState;

/// Ready once the instance's stop flag is raised (or its sender is gone,
/// which means the instance is being torn down anyway).
struct StopPollable(watch::Receiver<bool>);

#[wasmtime_wasi::async_trait]
impl Pollable for StopPollable {
    async fn ready(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Host for HostState {
    fn connector_name(&mut self) -> wasmtime::Result<String> {
        Ok(self.connector.to_string())
    }

    fn task_id(&mut self) -> wasmtime::Result<Option<u32>> {
        Ok(self.task)
    }

    fn stop_requested(&mut self) -> wasmtime::Result<bool> {
        Ok(*self.stop.borrow())
    }

    fn stop_signal(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.table.push(StopPollable(self.stop.clone()))?;
        subscribe(&mut self.table, pollable)
    }
}
