//! Loading a plugin: from `.wasm` bytes to a compiled, type-checked
//! component whose world, metadata and configuration definition are known.
//!
//! Loading refuses, with a reason an author can act on, anything that is not
//! a component of one of our worlds: random bytes, a truncated file, a core
//! module, a component exporting none of the worlds, or one importing
//! something the host does not provide. The metadata is read once, from a
//! throwaway instance with no grants: `Plugin::load` and `Plugin::validate`
//! live in [`crate::instance::inspect`], above this module, because they
//! instantiate.
//!
//! A loaded plugin keeps only what is small; its compiled code lives while
//! an instance uses it and is loaded again on the next use (see [`code`]).

pub mod code;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::{Component, InstancePre};

use crate::bindings::config_def::ConfigKey;
use crate::bindings::plugin::PluginKind;
use crate::bindings::{connector, plugin, record_transform, sink_task, source_task, v0_2};
use crate::sandbox::{HostState, Sandbox};
use code::{Code, Identity, Linked};

/// The world a component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum World {
    /// `wasmconnect:connector/source`.
    Source,
    /// `wasmconnect:connector/sink`.
    Sink,
    /// `wasmconnect:connector/transform`.
    Transform,
}

impl World {
    /// The lower-case name Kafka Connect uses for the plugin type.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Source => "source",
            World::Sink => "sink",
            World::Transform => "transformation",
        }
    }

    /// The interface whose export identifies the world (without version).
    fn marker(self) -> &'static str {
        match self {
            World::Source => "wasmconnect:connector/source-task",
            World::Sink => "wasmconnect:connector/sink-task",
            World::Transform => "wasmconnect:connector/record-transform",
        }
    }
}

/// The version of the contract a component was built against. The worker
/// runs both: 0.2.0 natively, 0.1.0 by unpacking and packing batches at
/// each call (see [`crate::instance`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `wasmconnect:connector@0.1.x`: records as typed WIT records.
    V0_1,
    /// `wasmconnect:connector@0.2.x`: batches packed into one buffer.
    V0_2,
}

impl Contract {
    /// The version as written in WIT.
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// The contract of a component exporting `version` (the part after `@`):
    /// semver-compatible releases of 0.1.0 and 0.2.0, as wasmtime's linker
    /// matches them.
    fn of(version: &str) -> Option<Contract> {
        let mut parts = version.split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let patch_ok = parts.next().is_some_and(|p| p.parse::<u32>().is_ok());
        match (major, minor, patch_ok, parts.next()) {
            ("0", "1", true, None) => Some(Contract::V0_1),
            ("0", "2", true, None) => Some(Contract::V0_2),
            _ => None,
        }
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One contract version's value or the other's: the generated bindings of
/// 0.1.0 and 0.2.0 are different Rust types.
pub(crate) enum Versioned<A, B> {
    V0_1(A),
    V0_2(B),
}

/// `each_version!(x, |v| body)`: `body` on whichever version `x` holds,
/// wrapped back into that version.
macro_rules! each_version {
    ($x:expr, |$v:ident| $body:expr) => {
        match $x {
            $crate::plugin::Versioned::V0_1($v) => $crate::plugin::Versioned::V0_1($body),
            $crate::plugin::Versioned::V0_2($v) => $crate::plugin::Versioned::V0_2($body),
        }
    };
}
pub(crate) use each_version;

/// `either_version!(x, |v| body)`: `body` on whichever version `x` holds,
/// where `body` has the same type for both.
macro_rules! either_version {
    ($x:expr, |$v:ident| $body:expr) => {
        match $x {
            $crate::plugin::Versioned::V0_1($v) => $body,
            $crate::plugin::Versioned::V0_2($v) => $body,
        }
    };
}
pub(crate) use either_version;

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why bytes are not a usable plugin.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginError {
    /// Not WebAssembly at all.
    #[error("not a WebAssembly file: it does not start with the `\\0asm` header")]
    NotWasm,
    /// A core module rather than a component.
    #[error(
        "this is a core WebAssembly module, not a component: build for wasm32-wasip2, or package it with `wasmconnect-kit componentize` (see guest-connectors/c/README.md)"
    )]
    CoreModule,
    /// Malformed or truncated.
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// Exports none of the worlds.
    #[error(
        "the component implements none of the wasmconnect worlds (source, sink, transform of wasmconnect:connector@0.1.0 or @0.2.0); it exports: {0}"
    )]
    UnknownWorld(String),
    /// Implements a world of a contract version this worker does not run.
    #[error(
        "the component implements {0}, a version of the contract this worker does not run (it runs wasmconnect:connector@0.1.0 and @0.2.0)"
    )]
    UnsupportedContract(String),
    /// Needs imports the host does not provide, or exports the wrong types.
    #[error("the component cannot be linked: {0}")]
    Link(String),
    /// The metadata calls failed.
    #[error("cannot read the plugin's metadata: {0}")]
    Metadata(String),
    /// Metadata says a different kind than the world.
    #[error(
        "the plugin's metadata says it is a {declared} plugin, but it implements the {world} world"
    )]
    KindMismatch {
        /// Kind in the metadata.
        declared: &'static str,
        /// World found.
        world: World,
    },
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// Class name used in `connector.class`.
    pub name: String,
    /// Further names that resolve to the plugin.
    pub aliases: Vec<String>,
    /// Version string.
    pub version: String,
    /// The world it implements.
    pub world: World,
    /// The contract version it was built against.
    pub contract: Contract,
    /// One-sentence description.
    pub description: String,
    /// `task.class` reported in task configurations.
    pub task_class: String,
    /// SHA-256 of the component bytes, hex.
    pub sha256: String,
}

/// Export indices of the interfaces the world needs, in the plugin's
/// contract version, resolved once.
pub(crate) struct Exports {
    pub plugin: Versioned<plugin::GuestIndices, v0_2::plugin::GuestIndices>,
    pub connector: Option<Versioned<connector::GuestIndices, v0_2::connector::GuestIndices>>,
    pub source: Option<Versioned<source_task::GuestIndices, v0_2::source_task::GuestIndices>>,
    pub sink: Option<Versioned<sink_task::GuestIndices, v0_2::sink_task::GuestIndices>>,
    pub transform:
        Option<Versioned<record_transform::GuestIndices, v0_2::record_transform::GuestIndices>>,
}

/// A loaded plugin, ready to instantiate as often as needed. Its compiled
/// code is held only while an instance uses it (see [`code`]).
pub struct Plugin {
    pub(crate) sandbox: Sandbox,
    code: Code,
    info: PluginInfo,
    definition: Vec<ConfigKey>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Leading bytes of a core module (version 1) and of a component (layer 1).
const CORE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

impl Plugin {
    /// Checks the header, compiles `bytes` (or loads the precompiled
    /// artifact), finds the world and links it. The metadata is not read
    /// yet: that takes an instance (see `Plugin::load` in
    /// [`crate::instance`]).
    pub(crate) fn link(sandbox: &Sandbox, bytes: &[u8]) -> Result<Plugin, PluginError> {
        if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
            return Err(PluginError::NotWasm);
        }
        if bytes[4..8] == CORE_VERSION {
            return Err(PluginError::CoreModule);
        }
        let (component, sha256) = sandbox
            .compile(bytes)
            .map_err(|e| PluginError::Invalid(format!("{e:#}")))?;
        let (world, contract) = detect_world(sandbox, &component)?;
        let linked = Linked::new(sandbox, &component, world, contract)?;
        Ok(Plugin {
            sandbox: sandbox.clone(),
            // Pinned until the caller says where the bytes can be read
            // again (`Plugin::reloadable_from`).
            code: Code::Pinned(Arc::new(linked)),
            info: PluginInfo {
                name: String::new(),
                aliases: Vec::new(),
                version: String::new(),
                world,
                contract,
                description: String::new(),
                task_class: String::new(),
                sha256,
            },
            definition: Vec::new(),
        })
    }

    /// Completes a linked plugin with what its `metadata` and
    /// `config-definition` exports said; refuses a kind that is not its
    /// world.
    pub(crate) fn with_metadata(
        mut self,
        meta: plugin::PluginMetadata,
        definition: Vec<ConfigKey>,
    ) -> Result<Plugin, PluginError> {
        let world = self.info.world;
        let declared = match meta.kind {
            PluginKind::Source => World::Source,
            PluginKind::Sink => World::Sink,
            PluginKind::Transform => World::Transform,
        };
        if declared != world {
            return Err(PluginError::KindMismatch {
                declared: declared.as_str(),
                world,
            });
        }
        let task_class = meta.task_class.unwrap_or_else(|| {
            format!(
                "{}Task",
                meta.name.strip_suffix("Connector").unwrap_or(&meta.name)
            )
        });
        self.info = PluginInfo {
            name: meta.name,
            aliases: meta.aliases,
            version: meta.version,
            world,
            contract: self.info.contract,
            description: meta.description,
            task_class,
            sha256: self.info.sha256,
        };
        self.definition = definition;
        Ok(self)
    }

    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The plugin's own configuration keys.
    pub fn config_definition(&self) -> &[ConfigKey] {
        &self.definition
    }

    /// This plugin, its code from now on dropped when no instance uses it
    /// and loaded again from `file` (which held its bytes) or the artifact
    /// cache. A relative path is made absolute so that a later change of
    /// directory does not lose it.
    pub(crate) fn reloadable_from(mut self, file: PathBuf) -> Plugin {
        let file = std::path::absolute(&file).unwrap_or(file);
        self.code = self.code.lazy(file);
        self
    }

    /// The linked code an instance is made from: the copy live instances
    /// share, or loaded again; the error says why it cannot be.
    pub(crate) async fn linked(&self) -> Result<Arc<Linked>, String> {
        let identity = Identity {
            sha256: self.info.sha256.clone(),
            world: self.info.world,
            contract: self.info.contract,
        };
        self.code.get(&self.sandbox, &identity).await
    }

    /// The code live instances share, if any (tests).
    #[cfg(test)]
    pub(crate) fn live_code(&self) -> Option<Arc<Linked>> {
        self.code.live()
    }
}

impl Exports {
    fn resolve(
        pre: &InstancePre<HostState>,
        world: World,
        contract: Contract,
    ) -> wasmtime::Result<Exports> {
        /// The indices of interface `$m` in the plugin's version.
        macro_rules! indices {
            ($m:ident) => {
                match contract {
                    Contract::V0_1 => Versioned::V0_1($m::GuestIndices::new(pre)?),
                    Contract::V0_2 => Versioned::V0_2(v0_2::$m::GuestIndices::new(pre)?),
                }
            };
        }
        let connector_role = matches!(world, World::Source | World::Sink);
        Ok(Exports {
            plugin: indices!(plugin),
            connector: if connector_role {
                Some(indices!(connector))
            } else {
                None
            },
            source: if world == World::Source {
                Some(indices!(source_task))
            } else {
                None
            },
            sink: if world == World::Sink {
                Some(indices!(sink_task))
            } else {
                None
            },
            transform: if world == World::Transform {
                Some(indices!(record_transform))
            } else {
                None
            },
        })
    }
}

/// The world a component implements and its contract version, from the
/// names of its exports.
fn detect_world(
    sandbox: &Sandbox,
    component: &Component,
) -> Result<(World, Contract), PluginError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(sandbox.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    for export in &exports {
        let Some((interface, version)) = export.split_once('@') else {
            continue;
        };
        let Some(world) = [World::Source, World::Sink, World::Transform]
            .into_iter()
            .find(|w| w.marker() == interface)
        else {
            continue;
        };
        return match Contract::of(version) {
            Some(contract) => Ok((world, contract)),
            None => Err(PluginError::UnsupportedContract(format!(
                "wasmconnect:connector/{}@{version}",
                world.as_str()
            ))),
        };
    }
    Err(PluginError::UnknownWorld(if exports.is_empty() {
        "nothing".to_string()
    } else {
        exports.join(", ")
    }))
}

#[cfg(test)]
mod tests {
    use super::Contract;

    #[test]
    fn contract_versions_follow_the_semver_tracks_the_linker_matches() {
        assert_eq!(Contract::of("0.1.0"), Some(Contract::V0_1));
        assert_eq!(Contract::of("0.1.3"), Some(Contract::V0_1));
        assert_eq!(Contract::of("0.2.0"), Some(Contract::V0_2));
        for other in ["0.3.0", "1.0.0", "0.2", "0.2.0-rc1", "0.2.x", ""] {
            assert_eq!(Contract::of(other), None, "{other}");
        }
    }
}
