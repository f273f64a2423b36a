//! Loading and inspecting a plugin, which takes a throwaway instance with no
//! grants: `Plugin::load` (link, then read metadata and the configuration
//! definition) and `Plugin::validate`. They are here, not in
//! [`crate::plugin`], because instances sit above plugins.

use std::path::PathBuf;

use super::{Core, InstanceSpec};
use crate::bindings::config_def::{ConfigKey, ConfigValue};
use crate::bindings::plugin::PluginMetadata;
use crate::error::GuestError;
use crate::plugin::{Plugin, PluginError};
use crate::sandbox::Sandbox;

impl Plugin {
    /// Loads `bytes` as a plugin: checks the header, compiles (or loads the
    /// precompiled artifact), finds the world, links it, and reads metadata
    /// and configuration definition.
    pub async fn load(sandbox: &Sandbox, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let plugin = Plugin::link(sandbox, bytes)?;
        let (meta, definition) = plugin.read_metadata().await?;
        plugin.with_metadata(meta, definition)
    }

    /// Loads the plugin in `path`.
    pub async fn load_file(
        sandbox: &Sandbox,
        path: impl Into<PathBuf>,
    ) -> Result<Plugin, PluginError> {
        let path = path.into();
        let bytes = std::fs::read(&path)
            .map_err(|e| PluginError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        Plugin::load(sandbox, &bytes).await
    }

    /// Runs the plugin's `validate` on a throwaway instance with no grants.
    pub async fn validate(
        &self,
        config: &[(String, String)],
    ) -> Result<Vec<ConfigValue>, GuestError> {
        let mut core = Core::new(self, InstanceSpec::inspection()).await?;
        let api = core.load(|store, instance| self.exports.plugin.load(store, instance))?;
        let config = config.to_vec();
        super::guarded!(core, "validate", |store| api.call_validate(store, &config))
    }

    async fn read_metadata(&self) -> Result<(PluginMetadata, Vec<ConfigKey>), PluginError> {
        let fail = |e: GuestError| PluginError::Metadata(e.to_string());
        let mut core = Core::new(self, InstanceSpec::inspection())
            .await
            .map_err(fail)?;
        let api = core
            .load(|store, instance| self.exports.plugin.load(store, instance))
            .map_err(fail)?;
        let meta =
            super::guarded!(core, "metadata", |store| api.call_metadata(store)).map_err(fail)?;
        let definition = super::guarded!(core, "config-definition", |store| api
            .call_config_definition(store))
        .map_err(fail)?;
        Ok((meta, definition))
    }
}
