//! Plugin management on a running worker: upload, list, inspect and delete
//! plugin versions without a restart.
//!
//! An upload is loaded (validated, precompiled) before anything is stored;
//! what is not a component of one of our worlds is refused with the reason.
//! A version in use by a connector cannot be deleted.

use std::sync::Arc;

use super::{HerderError, Worker};
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
    /// Loads, stores and registers an uploaded component; `false` when those
    /// exact bytes were already installed. In a cluster the bytes are
    /// shared, so every worker installs them.
    pub async fn upload_plugin(&self, bytes: &[u8]) -> Result<(PluginInfo, bool), HerderError> {
        let (info, installed) = self.install_plugin(bytes).await?;
        if installed {
            self.share_plugin(bytes).await?;
        }
        Ok((info, installed))
    }

    /// Loads, stores and registers a component on this worker.
    pub(super) async fn install_plugin(
        &self,
        bytes: &[u8],
    ) -> Result<(PluginInfo, bool), HerderError> {
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
        let next = registry
            .with(Arc::new(plugin))
            .map_err(HerderError::conflict)?;
        self.plugin_store
            .save(&info.sha256, bytes)
            .map_err(HerderError::internal)?;
        *registry = Arc::new(next);
        tracing::info!(class = %info.name, version = %info.version, sha256 = %info.sha256, "plugin uploaded");
        Ok((info, true))
    }

    /// Every plugin version, grouped by name, newest first.
    pub async fn plugin_versions(&self) -> Vec<PluginVersion> {
        let registry = self.registry();
        let in_use = self.plugins_in_use().await;
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

    /// Removes one version; refused while a connector uses it.
    pub async fn delete_plugin_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<(), HerderError> {
        let registry = self.registry();
        let target = registry
            .versions(name)
            .into_iter()
            .find(|p| p.info().version == version)
            .ok_or_else(|| {
                HerderError::not_found(format!("Unknown plugin {name} version {version}"))
            })?;
        let sha = target.info().sha256.clone();
        let users: Vec<String> = self
            .plugins_in_use()
            .await
            .into_iter()
            .filter(|(_, s)| *s == sha)
            .map(|(n, _)| n)
            .collect();
        if !users.is_empty() {
            return Err(HerderError::conflict(format!(
                "{} version {version} is in use by connector(s) {}",
                target.info().name,
                users.join(", ")
            )));
        }
        self.unshare_plugin(&sha).await?;
        let mut current = self
            .registry
            .write()
            .map_err(|_| HerderError::internal("plugin registry lock poisoned"))?;
        *current = Arc::new(current.without(&sha));
        self.plugin_store
            .remove(&sha)
            .map_err(HerderError::internal)?;
        tracing::info!(class = %target.info().name, version, "plugin version deleted");
        Ok(())
    }

    /// Removes a component another worker deleted from the cluster.
    pub(super) fn forget_plugin(&self, sha256: &str) {
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

    /// (connector, sha256 of the plugin version it runs); in a cluster,
    /// every connector of the cluster.
    async fn plugins_in_use(&self) -> Vec<(String, String)> {
        if let Some(cluster) = &self.cluster {
            return self.cluster_plugins_in_use(cluster);
        }
        self.connectors
            .lock()
            .await
            .iter()
            .map(|(n, c)| (n.clone(), c.plugin.info().sha256.clone()))
            .collect()
    }
}
