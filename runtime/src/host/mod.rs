//! The imports the host gives every plugin instance.
//!
//! * [`logging`]: guest log calls into `tracing`, tagged with connector and task;
//! * [`context`]: the instance's identity and its stop signal;
//! * [`offsets`]: committed source offsets (Kafka's `OffsetStorageReader`);
//! * [`files`]: the files the connector's configuration grants.
//!
//! WASI 0.2 comes from `wasmtime-wasi`, restricted per instance by
//! [`crate::sandbox::grants`].

pub mod context;
pub mod files;
pub mod logging;
pub mod offsets;

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::wasmconnect::connector as wc;
use crate::sandbox::HostState;

/// A linker with WASI 0.2 and every wasmconnect import.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wc::logging::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    wc::context::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    wc::offsets::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    wc::files::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl wc::types::Host for HostState {}
impl wc::config_def::Host for HostState {}
