//! A plugin's compiled code, and how long it lives.
//!
//! Compiled code is the large part of a plugin: half a megabyte for a small
//! transform, tens of megabytes for a Python or JavaScript component. A
//! worker knows every plugin of its `plugin.path` and store but runs few of
//! them, so a [`Plugin`](super::Plugin) keeps only what is small (its info,
//! configuration definition, world, contract and SHA-256) and where to get
//! the code again, and the code lives only while an instance uses it:
//!
//! * Loading a plugin compiles it (or loads its cached artifact), links it
//!   and reads its metadata from a throwaway instance, as before; then a
//!   plugin read from a file lets its code go ([`Code::Lazy`]).
//! * Creating an instance (connector, task, transform stage, validation,
//!   conformance, bench) asks [`Code::get`] for the linked code. If an
//!   instance still holds it, that same copy is returned (a `Weak` upgraded
//!   under a mutex, so concurrent starts never load it twice); else it is
//!   loaded again: from the artifact cache by SHA-256 when the sandbox has
//!   one (verified against its digest, well under a millisecond), else by
//!   reading the file again, checking its SHA-256 is the one recorded at
//!   load and compiling it. A file that changed is refused, naming it:
//!   what runs is always the component whose metadata the registry shows.
//! * Every instance holds an `Arc` of the code it was made from (see
//!   [`crate::instance`]), so all tasks of a connector share one copy and
//!   the code is freed when the last of them ends.
//!
//! A plugin built from bytes in memory with no file behind it (tests,
//! `conformance` runs, an upload until it is stored) keeps its code for its
//! whole life ([`Code::Pinned`]): there is nothing to read it from again,
//! keeping the bytes instead would cost a compile on every use when there
//! is no artifact cache, and such plugins live only as long as their
//! caller. An upload becomes lazy as it enters the registry, reloadable
//! from its file in the plugin store.
//!
//! The export indices ([`Exports`]) are resolved again with each load of
//! the code, from the very `InstancePre` they index, so they always match
//! the component an instance is made from.

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use wasmtime::component::{Component, InstancePre};

use super::{Contract, Exports, PluginError, World};
use crate::sandbox::{HostState, Sandbox};

/// A compiled component linked against the sandbox's imports, and the
/// indices of the exports its world needs.
pub(crate) struct Linked {
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: Exports,
}

impl Linked {
    /// Links `component` and resolves the exports of `world` in `contract`.
    pub(super) fn new(
        sandbox: &Sandbox,
        component: &Component,
        world: World,
        contract: Contract,
    ) -> Result<Linked, PluginError> {
        let pre = sandbox
            .linker()
            .instantiate_pre(component)
            .map_err(|e| PluginError::Link(format!("{e:#}")))?;
        let exports = Exports::resolve(&pre, world, contract)
            .map_err(|e| PluginError::Link(format!("{e:#}")))?;
        Ok(Linked { pre, exports })
    }
}

/// Where a plugin's code is, or comes from.
pub(crate) enum Code {
    /// Kept for the plugin's life: there is no file to load it from again.
    Pinned(Arc<Linked>),
    /// Loaded on demand from `file` (or the artifact cache), shared while
    /// any instance holds it.
    Lazy {
        /// The component file whose bytes had the plugin's SHA-256.
        file: PathBuf,
        /// The copy instances hold, if any still does.
        live: Mutex<Weak<Linked>>,
    },
}

/// What identifies the code to load again: the plugin's digest, world and
/// contract (recorded when it was loaded).
#[derive(Clone)]
pub(crate) struct Identity {
    pub(crate) sha256: String,
    pub(crate) world: World,
    pub(crate) contract: Contract,
}

impl Code {
    /// This code, from now on loaded on demand from `file`: `linked` stays
    /// alive only as long as something else holds it.
    pub(super) fn lazy(self, file: PathBuf) -> Code {
        let live = match &self {
            Code::Pinned(linked) => Arc::downgrade(linked),
            // Whatever instance holds the current copy keeps it; the
            // next load after it ends reads `file`.
            Code::Lazy { live, .. } => match live.try_lock() {
                Ok(weak) => weak.clone(),
                Err(_) => Weak::new(),
            },
        };
        Code::Lazy {
            file,
            live: Mutex::new(live),
        }
    }

    /// The linked code, shared with every instance that holds it, or
    /// loaded again (see the module documentation); the error says why it
    /// cannot be, naming the file.
    pub(crate) async fn get(
        &self,
        sandbox: &Sandbox,
        identity: &Identity,
    ) -> Result<Arc<Linked>, String> {
        let (file, live) = match self {
            Code::Pinned(linked) => return Ok(linked.clone()),
            Code::Lazy { file, live } => (file, live),
        };
        // Held while loading, so that instances started together share
        // the one copy the first of them loads.
        let mut live = live.lock().await;
        if let Some(linked) = live.upgrade() {
            return Ok(linked);
        }
        let (sandbox, file, identity) = (sandbox.clone(), file.clone(), identity.clone());
        // Compiling (no artifact cache) takes up to seconds: off the async
        // worker threads.
        let linked = tokio::task::spawn_blocking(move || reload(&sandbox, &file, &identity))
            .await
            .map_err(|e| format!("loading the plugin's code failed: {e}"))??;
        let linked = Arc::new(linked);
        *live = Arc::downgrade(&linked);
        Ok(linked)
    }

    /// The copy instances hold, if any (`None` also while it is loading).
    #[cfg(test)]
    pub(crate) fn live(&self) -> Option<Arc<Linked>> {
        match self {
            Code::Pinned(linked) => Some(linked.clone()),
            Code::Lazy { live, .. } => live.try_lock().ok()?.upgrade(),
        }
    }
}

/// Loads the code of `identity` again: its cached artifact, else `file` if
/// it still has the recorded SHA-256, compiled.
fn reload(
    sandbox: &Sandbox,
    file: &std::path::Path,
    identity: &Identity,
) -> Result<Linked, String> {
    let component = match sandbox.cached(&identity.sha256) {
        Some(component) => component,
        None => {
            let bytes = std::fs::read(file)
                .map_err(|e| format!("cannot read plugin file {} again: {e}", file.display()))?;
            if hex::encode(Sha256::digest(&bytes)) != identity.sha256 {
                return Err(format!(
                    "plugin file {} changed since it was loaded; it will be picked up by the next scan/upload",
                    file.display()
                ));
            }
            let (component, _) = sandbox
                .compile(&bytes)
                .map_err(|e| PluginError::Invalid(format!("{e:#}")).to_string())?;
            component
        }
    };
    Linked::new(sandbox, &component, identity.world, identity.contract).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
