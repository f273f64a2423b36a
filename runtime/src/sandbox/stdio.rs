//! Guest stdout and stderr, sent line by line to the worker's `tracing` log
//! with the connector and task as fields.
//!
//! The last few KiB of stderr are also kept, so that when a guest traps
//! (for example after a Rust panic, which prints its message to stderr and
//! then aborts) the error names what the guest said rather than only
//! "unreachable". Lines count against the instance's [`LogBudget`]; the
//! tail keeps even the lines the budget drops.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::config::providers::Secrets;
use crate::host::log_budget::{LogBudget, emit};
use crate::host::logging::TARGET;

/// How much recent stderr to keep for error messages.
const TAIL_BYTES: usize = 2048;
/// Longest line logged as one event; longer output is split.
const MAX_LINE: usize = 8192;

/// Which stream a guest wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output, logged at INFO.
    Stdout,
    /// Standard error, logged at WARN.
    Stderr,
}

/// The most recent stderr output of one instance.
#[derive(Debug, Default, Clone)]
pub struct StderrTail(Arc<Mutex<Vec<u8>>>);

impl StderrTail {
    /// The kept text, trimmed; empty when the guest wrote nothing.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    fn push(&self, bytes: &[u8]) {
        if let Ok(mut tail) = self.0.lock() {
            tail.extend_from_slice(bytes);
            let excess = tail.len().saturating_sub(TAIL_BYTES);
            tail.drain(..excess);
        }
    }
}

/// A guest output stream for the WASI context.
#[derive(Clone)]
pub struct GuestOutput {
    connector: Arc<str>,
    task: Option<u32>,
    stream: Stream,
    tail: Option<StderrTail>,
    budget: LogBudget,
    secrets: Secrets,
}

impl GuestOutput {
    /// Output of `stream` for the given instance; stderr also feeds `tail`.
    pub fn new(
        connector: Arc<str>,
        task: Option<u32>,
        stream: Stream,
        tail: Option<StderrTail>,
        budget: LogBudget,
        secrets: Secrets,
    ) -> Self {
        GuestOutput {
            connector,
            task,
            stream,
            tail,
            budget,
            secrets,
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineLogger {
            out: self.clone(),
            pending: Vec::new(),
        })
    }
}

/// Splits what the guest writes into lines and logs each one.
struct LineLogger {
    out: GuestOutput,
    pending: Vec<u8>,
}

impl LineLogger {
    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = self.out.secrets.hide(text.trim_end_matches('\r'));
        let connector = &*self.out.connector;
        let task = self.out.task;
        emit(&self.out.budget, connector, task, || {
            match self.out.stream {
                Stream::Stdout => {
                    tracing::info!(target: TARGET, connector, task, stream = "stdout", "{text}")
                }
                Stream::Stderr => {
                    tracing::warn!(target: TARGET, connector, task, stream = "stderr", "{text}")
                }
            }
        });
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}

impl AsyncWrite for LineLogger {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(tail) = &self.out.tail {
            tail.push(buf);
        }
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.pending);
            line.extend_from_slice(&rest[..nl]);
            self.emit(&line);
            rest = &rest[nl + 1..];
        }
        self.pending.extend_from_slice(rest);
        if self.pending.len() >= MAX_LINE {
            self.flush_pending();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.flush_pending();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        self.flush_pending();
    }
}
