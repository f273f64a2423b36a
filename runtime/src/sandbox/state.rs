//! The data each instance's `Store` carries: WASI, the resource table, the
//! memory limiter, the guest's stderr tail, and each capability's state
//! (see [`crate::host`]), reached through the capabilities' view traits.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::MemoryLimiter;
use super::stdio::{GuestOutput, StderrTail, Stream};
use crate::config::providers::Secrets;
use crate::host::Identity;
use crate::host::context::{ContextCtx, ContextState, ContextView};
use crate::host::database::{DatabaseCtx, DatabaseState, DatabaseView};
use crate::host::errant_records::{ErrantRecordsState, ErrantRecordsView};
use crate::host::files::{FilesCtx, FilesState, FilesView};
use crate::host::grants::Grants;
use crate::host::http::{HttpSettings, HttpState};
use crate::host::log_budget::LogBudget;
use crate::host::logging::{LoggingState, LoggingView};
use crate::host::offsets::{OffsetReader, OffsetsState, OffsetsView};
use crate::host::reconfiguration::{ReconfigurationState, ReconfigurationView};

/// Per-instance host state.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stderr: StderrTail,
    pub(crate) log_budget: LogBudget,
    logging: LoggingState,
    context: ContextState,
    files: FilesState,
    pub(crate) database: DatabaseState,
    pub(crate) http: HttpState,
    pub(crate) reconfiguration: ReconfigurationState,
    offsets: OffsetsState,
    pub(crate) errant_records: ErrantRecordsState,
}

/// Everything needed to build a [`HostState`].
pub(crate) struct StateParts {
    pub connector: Arc<str>,
    pub task: Option<u32>,
    pub grants: Grants,
    pub cwd: PathBuf,
    pub memory_limit: usize,
    pub log_lines_per_second: u32,
    /// What outbound HTTP requests are held to.
    pub http: HttpSettings,
    pub offsets: Option<Arc<dyn OffsetReader>>,
    pub stop: watch::Receiver<bool>,
    /// Hidden from the guest's log lines and output.
    pub secrets: Secrets,
}

impl HostState {
    /// A state with no ambient authority: empty environment, no arguments,
    /// closed stdin, stdout/stderr to the log, and only `parts.grants`.
    pub(crate) fn new(parts: StateParts) -> Result<HostState, String> {
        let stderr = StderrTail::default();
        let log_budget = LogBudget::new(parts.log_lines_per_second);
        let identity = Identity {
            connector: parts.connector.clone(),
            task: parts.task,
            secrets: parts.secrets.clone(),
        };
        let mut wasi = WasiCtx::builder();
        wasi.stdout(GuestOutput::new(
            parts.connector.clone(),
            parts.task,
            Stream::Stdout,
            None,
            log_budget.clone(),
            parts.secrets.clone(),
        ));
        wasi.stderr(GuestOutput::new(
            parts.connector.clone(),
            parts.task,
            Stream::Stderr,
            Some(stderr.clone()),
            log_budget.clone(),
            parts.secrets.clone(),
        ));
        parts.grants.apply(&mut wasi)?;
        let grants = Arc::new(parts.grants);
        Ok(HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(parts.memory_limit),
            stderr,
            logging: LoggingState::new(identity.clone(), log_budget.clone()),
            context: ContextState::new(identity.clone(), parts.stop),
            database: DatabaseState::new(identity.clone(), grants.clone()),
            http: HttpState::new(identity.clone(), grants.clone(), parts.http),
            reconfiguration: ReconfigurationState::new(identity.clone()),
            files: FilesState::new(identity, grants, parts.cwd),
            offsets: OffsetsState::new(parts.connector, parts.offsets),
            errant_records: ErrantRecordsState::default(),
            log_budget,
        })
    }

    /// Peak linear memory granted to this instance so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.limiter.peak()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wasmtime_wasi_http::WasiHttpView for HostState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        self.http.view(&mut self.table)
    }
}

impl LoggingView for HostState {
    fn logging(&mut self) -> &mut LoggingState {
        &mut self.logging
    }
}

impl ContextView for HostState {
    fn context(&mut self) -> ContextCtx<'_> {
        ContextCtx {
            state: &self.context,
            table: &mut self.table,
        }
    }
}

impl FilesView for HostState {
    fn files(&mut self) -> FilesCtx<'_> {
        FilesCtx {
            state: &self.files,
            table: &mut self.table,
        }
    }
}

impl DatabaseView for HostState {
    fn database(&mut self) -> DatabaseCtx<'_> {
        DatabaseCtx {
            state: &self.database,
            table: &mut self.table,
        }
    }
}

impl ReconfigurationView for HostState {
    fn reconfiguration(&mut self) -> &mut ReconfigurationState {
        &mut self.reconfiguration
    }
}

impl OffsetsView for HostState {
    fn offsets(&mut self) -> &mut OffsetsState {
        &mut self.offsets
    }
}

impl ErrantRecordsView for HostState {
    fn errant_records(&mut self) -> &mut ErrantRecordsState {
        &mut self.errant_records
    }
}
