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

use std::fmt;

use wasmtime::component::{Component, InstancePre};

use crate::bindings::config_def::ConfigKey;
use crate::bindings::plugin::PluginKind;
use crate::bindings::{connector, plugin, record_transform, sink_task, source_task};
use crate::sandbox::{HostState, Sandbox};

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

    /// The interface whose export identifies the world.
    fn marker(self) -> &'static str {
        match self {
            World::Source => "wasmconnect:connector/source-task@0.1.0",
            World::Sink => "wasmconnect:connector/sink-task@0.1.0",
            World::Transform => "wasmconnect:connector/record-transform@0.1.0",
        }
    }
}

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
        "the component implements none of the wasmconnect worlds (source, sink, transform of wasmconnect:connector@0.1.0); it exports: {0}"
    )]
    UnknownWorld(String),
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
    /// One-sentence description.
    pub description: String,
    /// `task.class` reported in task configurations.
    pub task_class: String,
    /// SHA-256 of the component bytes, hex.
    pub sha256: String,
}

/// Export indices of the interfaces the world needs, resolved once.
pub(crate) struct Exports {
    pub plugin: plugin::GuestIndices,
    pub connector: Option<connector::GuestIndices>,
    pub source: Option<source_task::GuestIndices>,
    pub sink: Option<sink_task::GuestIndices>,
    pub transform: Option<record_transform::GuestIndices>,
}

/// A loaded plugin, ready to instantiate as often as needed.
pub struct Plugin {
    pub(crate) sandbox: Sandbox,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: Exports,
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
        let world = detect_world(sandbox, &component)?;
        let pre = sandbox
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Link(format!("{e:#}")))?;
        let exports =
            Exports::resolve(&pre, world).map_err(|e| PluginError::Link(format!("{e:#}")))?;
        Ok(Plugin {
            sandbox: sandbox.clone(),
            pre,
            exports,
            info: PluginInfo {
                name: String::new(),
                aliases: Vec::new(),
                version: String::new(),
                world,
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
}

impl Exports {
    fn resolve(pre: &InstancePre<HostState>, world: World) -> wasmtime::Result<Exports> {
        let connector_role = matches!(world, World::Source | World::Sink);
        Ok(Exports {
            plugin: plugin::GuestIndices::new(pre)?,
            connector: connector_role
                .then(|| connector::GuestIndices::new(pre))
                .transpose()?,
            source: (world == World::Source)
                .then(|| source_task::GuestIndices::new(pre))
                .transpose()?,
            sink: (world == World::Sink)
                .then(|| sink_task::GuestIndices::new(pre))
                .transpose()?,
            transform: (world == World::Transform)
                .then(|| record_transform::GuestIndices::new(pre))
                .transpose()?,
        })
    }
}

fn detect_world(sandbox: &Sandbox, component: &Component) -> Result<World, PluginError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(sandbox.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    [World::Source, World::Sink, World::Transform]
        .into_iter()
        .find(|w| exports.iter().any(|e| e == w.marker()))
        .ok_or_else(|| {
            PluginError::UnknownWorld(if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            })
        })
}
