//! Loading and inspecting a plugin, which takes a throwaway instance with no
//! grants: `Plugin::load` (link, then read metadata and the configuration
//! definition) and `Plugin::validate`. They are here, not in
//! [`crate::plugin`], because instances sit above plugins.

use std::path::PathBuf;

use super::{Core, InstanceSpec};
use crate::bindings::config_def::{ConfigKey, ConfigValue};
use crate::bindings::plugin::{PluginKind, PluginMetadata};
use crate::bindings::v0_2;
use crate::error::GuestError;
use crate::plugin::{Plugin, PluginError, Versioned, each_version, either_version};
use crate::sandbox::Sandbox;

impl Plugin {
    /// Loads `bytes` as a plugin: checks the header, compiles (or loads the
    /// precompiled artifact), finds the world, links it, and reads metadata
    /// and configuration definition. With no file behind the bytes, the
    /// plugin keeps its compiled code for its whole life.
    pub async fn load(sandbox: &Sandbox, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let plugin = Plugin::link(sandbox, bytes)?;
        let (meta, definition) = plugin.read_metadata().await?;
        plugin.with_metadata(meta, definition)
    }

    /// Loads the plugin in `path`. Its compiled code is dropped once no
    /// instance uses it, and loaded again from the artifact cache or from
    /// `path` (refused if the file changed): see [`crate::plugin::code`].
    pub async fn load_file(
        sandbox: &Sandbox,
        path: impl Into<PathBuf>,
    ) -> Result<Plugin, PluginError> {
        let path = path.into();
        let bytes = std::fs::read(&path)
            .map_err(|e| PluginError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        Ok(Plugin::load(sandbox, &bytes).await?.reloadable_from(path))
    }

    /// Runs the plugin's `validate` on a throwaway instance with no grants.
    pub async fn validate(
        &self,
        config: &[(String, String)],
    ) -> Result<Vec<ConfigValue>, GuestError> {
        let mut core = Core::new(self, InstanceSpec::inspection()).await?;
        let code = core.code.clone();
        let api = each_version!(&code.exports.plugin, |v| core.load(|s, i| v.load(s, i))?);
        let config = config.to_vec();
        either_version!(&api, |api| super::guarded!(core, "validate", |store| api
            .call_validate(store, &config)))
    }

    async fn read_metadata(&self) -> Result<(PluginMetadata, Vec<ConfigKey>), PluginError> {
        let fail = |e: GuestError| PluginError::Metadata(e.to_string());
        let mut core = Core::new(self, InstanceSpec::inspection())
            .await
            .map_err(fail)?;
        let code = core.code.clone();
        let api = each_version!(&code.exports.plugin, |v| core
            .load(|s, i| v.load(s, i))
            .map_err(fail)?);
        let meta = match &api {
            Versioned::V0_1(api) => {
                super::guarded!(core, "metadata", |store| api.call_metadata(store))
            }
            Versioned::V0_2(api) => super::guarded!(core, "metadata", |store| api
                .call_metadata(store))
            .map(metadata_v0_1),
        }
        .map_err(fail)?;
        let definition = either_version!(&api, |api| super::guarded!(
            core,
            "config-definition",
            |store| api.call_config_definition(store)
        ))
        .map_err(fail)?;
        Ok((meta, definition))
    }
}

/// 0.2.0's metadata (the same fields) as the worker keeps it.
fn metadata_v0_1(meta: v0_2::plugin::PluginMetadata) -> PluginMetadata {
    PluginMetadata {
        name: meta.name,
        aliases: meta.aliases,
        version: meta.version,
        kind: match meta.kind {
            v0_2::plugin::PluginKind::Source => PluginKind::Source,
            v0_2::plugin::PluginKind::Sink => PluginKind::Sink,
            v0_2::plugin::PluginKind::Transform => PluginKind::Transform,
        },
        description: meta.description,
        task_class: meta.task_class,
    }
}
