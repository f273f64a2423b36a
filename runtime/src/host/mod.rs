//! Host capabilities: what a plugin instance can reach outside its sandbox,
//! one module per capability, as wasmtime-wasi's `p2/host/*` and Spin's
//! factors arrange them.
//!
//! * [`logging`]: guest log calls into `tracing`, tagged with connector and
//!   task, within the rate of [`log_budget`];
//! * [`context`]: the instance's identity and its stop signal;
//! * [`offsets`]: committed source offsets (Kafka's `OffsetStorageReader`);
//! * [`files`]: the files the connector's configuration grants;
//! * [`database`]: the PostgreSQL, MySQL/MariaDB and SQLite databases the
//!   connector's configuration names (`wasmconnect:database/sql`);
//! * [`http`]: outbound HTTP to the origins the connector's configuration
//!   names (`wasi:http/outgoing-handler`);
//! * [`reconfiguration`]: a connector asking for its task configurations
//!   to be regenerated at an interval (`wasmconnect:tasks`);
//! * [`errant_records`]: records a sink task could not write (Kafka's
//!   `ErrantRecordReporter`);
//! * [`grants`]: what a configuration grants (files, directories, network
//!   endpoints) and what the worker allows to be granted.
//!
//! Each capability module owns its WIT glue, its grant checks, its piece of
//! per-instance state (`…State`) and a view trait (`…View`) through which
//! it reaches that state in any store, plus an `add_to_linker`. This layer
//! knows nothing of the sandbox: [`crate::sandbox`] keeps one `HostState`
//! per instance that implements every view, and is handed [`add_to_linker`]
//! to build its linker. Adding a capability is one module here, one field
//! and one view impl on `HostState`, and one line in [`add_to_linker`].
//!
//! WASI 0.2 itself comes from `wasmtime-wasi`, narrowed per instance by
//! [`grants`].

pub mod context;
pub mod database;
pub mod errant_records;
pub mod files;
pub mod grant_policy;
pub mod grants;
pub mod http;
pub mod log_budget;
pub mod logging;
pub mod offsets;
pub mod reconfiguration;

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;

/// Who an instance is: its connector, and its task (`None`: the connector
/// instance itself).
#[derive(Debug, Clone)]
pub struct Identity {
    /// The connector's name.
    pub connector: Arc<str>,
    /// The task number.
    pub task: Option<u32>,
    /// Provider-resolved values, hidden from what the guest logs.
    pub secrets: crate::config::providers::Secrets,
}

/// A store that carries every capability's state.
pub trait HostView:
    WasiView
    + logging::LoggingView
    + context::ContextView
    + offsets::OffsetsView
    + files::FilesView
    + database::DatabaseView
    + wasmtime_wasi_http::WasiHttpView
    + reconfiguration::ReconfigurationView
    + errant_records::ErrantRecordsView
    + 'static
{
}

impl<T> HostView for T where
    T: WasiView
        + logging::LoggingView
        + context::ContextView
        + offsets::OffsetsView
        + files::FilesView
        + database::DatabaseView
        + wasmtime_wasi_http::WasiHttpView
        + reconfiguration::ReconfigurationView
        + errant_records::ErrantRecordsView
        + 'static
{
}

/// Adds WASI 0.2 and every wasmconnect capability to `linker`.
pub fn add_to_linker<T: HostView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    logging::add_to_linker(linker)?;
    context::add_to_linker(linker)?;
    offsets::add_to_linker(linker)?;
    files::add_to_linker(linker)?;
    database::add_to_linker(linker)?;
    http::add_to_linker(linker)?;
    reconfiguration::add_to_linker(linker)?;
    errant_records::add_to_linker(linker)?;
    Ok(())
}
