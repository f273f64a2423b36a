//! Plugin management on a running worker: install, list and remove plugin
//! versions without a restart. The herder adds sharing them with a cluster
//! and knowing which connectors use which version.
//!
//! An upload is loaded (validated, precompiled) before anything is stored;
//! what is not a component of one of our worlds is refused with the reason.
//! Once stored, an upload's compiled code is dropped when no instance uses
//! it and loaded again from the artifact cache or its stored file, like a
//! `plugin.path` plugin's (see [`crate::plugin::code`]).

use std::path::PathBuf;
use std::sync::Arc;

use super::Worker;
use crate::error::HerderError;
use crate::plugin::{Plugin, PluginInfo};

/// A stored or loaded plugin version, and who uses it.
#[derive(Debug, Clone)]
pub struct PluginVersion {
    /// What the plugin says about itself.
    pub info: PluginInfo,
    /// Connectors running this exact version.
    pub used_by: Vec<String>,
    /// Whether it was uploaded (else it came from `plugin.path`).
    pub uploaded: bool,
}

impl Worker {
    /// Loads, stores and registers a component on this worker.
    pub async fn install_plugin(&self, bytes: &[u8]) -> Result<(PluginInfo, bool), HerderError> {
        let plugin = Plugin::load(&self.sandbox, bytes).await.map_err(|e| {
            HerderError::bad_request(format!("not a valid wasmconnect plugin: {e}"))
        })?;
        let info = plugin.info().clone();
        let mut registry = self
            .registry
            .write()
            .map_err(|_| HerderError::internal("plugin registry lock poisoned"))?;
        if registry
            .plugins()
            .iter()
            .any(|p| p.info().sha256 == info.sha256)
        {
            return Ok((info, false));
        }
        // Nothing can instantiate it before the registry is replaced, after
        // the file is stored: its code may go and come back from there.
        let stored = self.plugin_store.path(&info.sha256);
        let next = registry
            .with(Arc::new(plugin.reloadable_from(stored)))
            .map_err(HerderError::conflict)?;
        self.plugin_store
            .save(&info.sha256, bytes)
            .map_err(HerderError::internal)?;
        *registry = Arc::new(next);
        tracing::info!(class = %info.name, version = %info.version, sha256 = %info.sha256, "plugin uploaded");
        Ok((info, true))
    }

    /// Every plugin version, grouped by name, newest first; `in_use` is
    /// (connector, sha256 of the version it runs).
    pub fn plugin_versions(&self, in_use: &[(String, String)]) -> Vec<PluginVersion> {
        let registry = self.registry();
        let mut out: Vec<PluginVersion> = registry
            .plugins()
            .iter()
            .map(|p| PluginVersion {
                info: p.info().clone(),
                used_by: in_use
                    .iter()
                    .filter(|(_, sha)| *sha == p.info().sha256)
                    .map(|(n, _)| n.clone())
                    .collect(),
                uploaded: self.plugin_store.contains(&p.info().sha256),
            })
            .collect();
        out.sort_by(|a, b| {
            a.info
                .name
                .cmp(&b.info.name)
                .then(super::versions::compare(&b.info.version, &a.info.version))
        });
        out
    }

    /// The sha256 of `name`'s `version`, if no connector of `in_use` runs
    /// it: 404 for an unknown version, 409 while one is in use.
    pub fn removable_version(
        &self,
        name: &str,
        version: &str,
        in_use: &[(String, String)],
    ) -> Result<String, HerderError> {
        let registry = self.registry();
        let target = registry
            .versions(name)
            .into_iter()
            .find(|p| p.info().version == version)
            .ok_or_else(|| {
                HerderError::not_found(format!("Unknown plugin {name} version {version}"))
            })?;
        let sha = target.info().sha256.clone();
        let users: Vec<&str> = in_use
            .iter()
            .filter(|(_, s)| *s == sha)
            .map(|(n, _)| n.as_str())
            .collect();
        if !users.is_empty() {
            return Err(HerderError::conflict(format!(
                "{} version {version} is in use by connector(s) {}",
                target.info().name,
                users.join(", ")
            )));
        }
        Ok(sha)
    }

    /// Unregisters the version with this sha256 and deletes its stored file.
    pub fn remove_plugin(&self, sha256: &str) -> Result<(), HerderError> {
        let mut current = self
            .registry
            .write()
            .map_err(|_| HerderError::internal("plugin registry lock poisoned"))?;
        let removed = current
            .plugins()
            .iter()
            .find(|p| p.info().sha256 == sha256)
            .map(|p| (p.info().name.clone(), p.info().version.clone()));
        *current = Arc::new(current.without(sha256));
        self.plugin_store
            .remove(sha256)
            .map_err(HerderError::internal)?;
        if let Some((class, version)) = removed {
            tracing::info!(%class, %version, "plugin version deleted");
        }
        Ok(())
    }

    /// Where an uploaded version is stored, when it is.
    pub fn stored_plugin_file(&self, sha256: &str) -> Option<PathBuf> {
        let path = self.plugin_store.path(sha256);
        path.exists().then_some(path)
    }

    /// Removes a component another worker deleted from the cluster.
    pub fn forget_plugin(&self, sha256: &str) {
        let Ok(mut current) = self.registry.write() else {
            return;
        };
        if current.plugins().iter().any(|p| p.info().sha256 == sha256) {
            *current = Arc::new(current.without(sha256));
            if let Err(e) = self.plugin_store.remove(sha256) {
                tracing::warn!(%sha256, "{e}");
            }
            tracing::info!(%sha256, "removed a plugin deleted from the cluster");
        }
    }
}
