//! The data each instance's `Store` carries.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::grants::Grants;
use super::limits::MemoryLimiter;
use super::log_budget::LogBudget;
use super::stdio::{GuestOutput, StderrTail, Stream};
use crate::host::offsets::OffsetReader;

/// Per-instance host state: WASI context, resource table, limiter, identity,
/// stop signal, grants and the source offsets this instance may read.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) connector: Arc<str>,
    pub(crate) task: Option<u32>,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) grants: Grants,
    pub(crate) cwd: PathBuf,
    pub(crate) offsets: Option<Arc<dyn OffsetReader>>,
    pub(crate) stderr: StderrTail,
    pub(crate) log_budget: LogBudget,
}

/// Everything needed to build a [`HostState`].
pub(crate) struct StateParts {
    pub connector: Arc<str>,
    pub task: Option<u32>,
    pub grants: Grants,
    pub cwd: PathBuf,
    pub memory_limit: usize,
    pub log_lines_per_second: u32,
    pub offsets: Option<Arc<dyn OffsetReader>>,
    pub stop: watch::Receiver<bool>,
}

impl HostState {
    /// A state with no ambient authority: empty environment, no arguments,
    /// closed stdin, stdout/stderr to the log, and only `parts.grants`.
    pub(crate) fn new(parts: StateParts) -> Result<HostState, String> {
        let stderr = StderrTail::default();
        let log_budget = LogBudget::new(parts.log_lines_per_second);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(GuestOutput::new(
            parts.connector.clone(),
            parts.task,
            Stream::Stdout,
            None,
            log_budget.clone(),
        ));
        wasi.stderr(GuestOutput::new(
            parts.connector.clone(),
            parts.task,
            Stream::Stderr,
            Some(stderr.clone()),
            log_budget.clone(),
        ));
        parts.grants.apply(&mut wasi)?;
        Ok(HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(parts.memory_limit),
            connector: parts.connector,
            task: parts.task,
            stop: parts.stop,
            grants: parts.grants,
            cwd: parts.cwd,
            offsets: parts.offsets,
            stderr,
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
