//! The sandbox every plugin instance runs in.
//!
//! One [`Sandbox`] per worker owns the single wasmtime `Engine` (component
//! model, pooling allocator, epoch interruption driven by a ticker thread),
//! the `Linker` with the host capabilities it is handed ([`crate::host`]),
//! and the on-disk cache of precompiled components (from which a plugin's
//! dropped code is loaded again, see [`crate::plugin`]). Each connector or
//! task instance then gets its own `Store` with its own limits,
//! capabilities and stdio (see [`crate::instance`]).
//!
//! Defaults ([`SandboxConfig::default`], [`Limits::default`]): up to 1,000
//! live instances; 256 MiB of guest memory, a 60 s deadline per call, 1,000
//! log lines a second and 100,000 records per poll unless a connector asks
//! for other values, never more than 1 GiB, 10 minutes, 100,000 lines a
//! second or 1,000,000 records (worker maximums); file grants anywhere
//! the worker can reach and network grants allowed, unless the worker
//! narrows them.

mod cache;
mod engine;
pub use engine::WASM_STACK_BYTES;
pub mod limits;
pub mod state;
pub mod stdio;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use crate::host::grant_policy::GrantPolicy;
pub use crate::host::grants::Grants;
pub use cache::ArtifactCache;
pub use limits::Limits;
pub use state::HostState;

/// Worker-level sandbox settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where precompiled components are cached; `None` compiles in memory only.
    pub cache_dir: Option<PathBuf>,
    /// How many instances may be alive at once (sizes the pooling allocator).
    pub max_instances: u32,
    /// Limits an instance gets when its connector asks for nothing else.
    pub default_limits: Limits,
    /// The most any connector may ask for.
    pub max_limits: Limits,
    /// Which resources connector configurations may be granted.
    pub grant_policy: GrantPolicy,
    /// How often busy guests are interrupted to yield (and deadlines checked).
    pub epoch_tick: Duration,
    /// TLS for outbound HTTP: the system's roots and the worker's
    /// `sandbox.http.ca.file`.
    pub http_tls: Arc<rustls::ClientConfig>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            cache_dir: None,
            max_instances: 1000,
            default_limits: Limits::default(),
            max_limits: Limits::default_maximums(),
            grant_policy: GrantPolicy::default(),
            epoch_tick: Duration::from_millis(10),
            http_tls: crate::config::tls::outbound_http_default(),
        }
    }
}

/// The engine, linker and artifact cache shared by every instance of a worker.
/// Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    cache: ArtifactCache,
    config: SandboxConfig,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Sandbox {
    /// Builds the engine (falling back from the pooling allocator to on-demand
    /// allocation if the pool cannot be reserved), the linker with every host
    /// capability, and the cache, and starts the epoch ticker.
    pub fn new(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        Self::with_capabilities(config, crate::host::add_to_linker)
    }

    /// As [`Sandbox::new`], with the capabilities `add` puts in the linker.
    pub fn with_capabilities(
        config: SandboxConfig,
        add: fn(&mut Linker<HostState>) -> wasmtime::Result<()>,
    ) -> anyhow::Result<Sandbox> {
        let engine = engine::build(&config)?;
        let mut linker = Linker::new(&engine);
        add(&mut linker)?;
        let cache = ArtifactCache::new(config.cache_dir.clone());
        let ticker_stop = engine::start_epoch_ticker(&engine, config.epoch_tick);
        Ok(Sandbox {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache,
                config,
                ticker_stop,
            }),
        })
    }

    /// The shared engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The linker holding WASI and the wasmconnect imports.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// The worker-level settings.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Compiles `bytes`, or loads the precompiled artifact from the cache.
    pub fn compile(&self, bytes: &[u8]) -> anyhow::Result<(Component, String)> {
        self.inner.cache.load(&self.inner.engine, bytes)
    }

    /// The cached, verified artifact of the component whose bytes have
    /// SHA-256 `sha256`, if there is one (see [`ArtifactCache::cached`]).
    pub fn cached(&self, sha256: &str) -> Option<Component> {
        self.inner.cache.cached(&self.inner.engine, sha256)
    }
}
