//! The plugins a worker knows, and how a class name finds one.
//!
//! At start the worker loads every `.wasm` file in each `plugin.path`
//! directory. A file that is not a valid plugin is skipped with a log line
//! naming it and the reason; the worker starts anyway. Each plugin keeps
//! its info and configuration definition; its compiled code is dropped
//! after the scan and loaded again while a connector, task or transform
//! uses it (see [`crate::plugin::code`]).
//!
//! Names resolve as Kafka resolves them (spec §5.2): the plugin's full name,
//! its declared aliases, its simple name (after the last `.`), and its
//! simple name without the `Connector` / `Transformation` suffix, the
//! derived ones only when unambiguous. Several versions of one plugin live
//! side by side; a name resolves to the newest version that meets the
//! connector's `connector.plugin.version`, if it sets one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::versions::{Requirement, compare};
use crate::plugin::{Plugin, World};
use crate::sandbox::Sandbox;

/// Loaded plugins (every version), indexed by every name that resolves to
/// them. Immutable: a change builds a new registry.
#[derive(Default)]
pub struct PluginRegistry {
    plugins: Vec<Arc<Plugin>>,
    /// Name → index of one version; [`PluginRegistry::versions`] finds the rest.
    by_name: HashMap<String, usize>,
    ambiguous: HashMap<String, Vec<String>>,
}

impl PluginRegistry {
    /// Loads every `.wasm` in `dirs` (not recursively into nested folders).
    pub async fn scan(sandbox: &Sandbox, dirs: &[impl AsRef<Path>]) -> PluginRegistry {
        let mut plugins = Vec::new();
        for dir in dirs {
            let dir = dir.as_ref();
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot read plugin.path directory; skipping it");
                    continue;
                }
            };
            let mut files: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
                .collect();
            files.sort();
            for file in files {
                match Plugin::load_file(sandbox, &file).await {
                    Ok(p) => {
                        let info = p.info();
                        tracing::info!(file = %file.display(), class = %info.name, kind = %info.world, version = %info.version, "loaded plugin");
                        plugins.push(Arc::new(p));
                    }
                    Err(e) => {
                        tracing::warn!(file = %file.display(), reason = %e, "skipping a file that is not a valid plugin")
                    }
                }
            }
        }
        PluginRegistry::from_plugins(plugins)
    }

    /// Indexes already loaded plugins.
    pub fn from_plugins(plugins: Vec<Arc<Plugin>>) -> PluginRegistry {
        let mut reg = PluginRegistry {
            plugins,
            ..Default::default()
        };
        // Full names and declared aliases first; they always win.
        for (i, p) in reg.plugins.iter().enumerate() {
            reg.by_name.insert(p.info().name.clone(), i);
            for alias in &p.info().aliases {
                reg.by_name.entry(alias.clone()).or_insert(i);
            }
        }
        // Derived aliases, kept only when one plugin (of any version) claims them.
        let mut derived: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in reg.plugins.iter().enumerate() {
            for alias in derived_aliases(&p.info().name, p.info().world) {
                let claims = derived.entry(alias).or_default();
                if !claims
                    .iter()
                    .any(|&c| reg.plugins[c].info().name == p.info().name)
                {
                    claims.push(i);
                }
            }
        }
        for (alias, claims) in derived {
            if reg.by_name.contains_key(&alias) {
                continue;
            }
            if claims.len() == 1 {
                reg.by_name.insert(alias, claims[0]);
            } else {
                let names = claims
                    .iter()
                    .map(|&i| reg.plugins[i].info().name.clone())
                    .collect();
                reg.ambiguous.insert(alias, names);
            }
        }
        reg
    }

    /// This registry plus `plugin`. The same bytes again change nothing; the
    /// same name and version with other bytes is refused.
    pub fn with(&self, plugin: Arc<Plugin>) -> Result<PluginRegistry, String> {
        let info = plugin.info();
        for p in &self.plugins {
            let other = p.info();
            if other.sha256 == info.sha256 {
                return Ok(PluginRegistry::from_plugins(self.plugins.clone()));
            }
            if other.name == info.name && other.version == info.version {
                return Err(format!(
                    "{} version {} already exists with different content (sha256 {})",
                    info.name, info.version, other.sha256
                ));
            }
        }
        let mut plugins = self.plugins.clone();
        plugins.push(plugin);
        Ok(PluginRegistry::from_plugins(plugins))
    }

    /// This registry without the plugin whose content has `sha256`.
    pub fn without(&self, sha256: &str) -> PluginRegistry {
        PluginRegistry::from_plugins(
            self.plugins
                .iter()
                .filter(|p| p.info().sha256 != sha256)
                .cloned()
                .collect(),
        )
    }

    /// Every version of the plugin `name` resolves to, newest first.
    pub fn versions(&self, name: &str) -> Vec<Arc<Plugin>> {
        let Some(&i) = self.by_name.get(name.trim()) else {
            return Vec::new();
        };
        let full = &self.plugins[i].info().name;
        let mut out: Vec<Arc<Plugin>> = self
            .plugins
            .iter()
            .filter(|p| &p.info().name == full)
            .cloned()
            .collect();
        out.sort_by(|a, b| compare(&b.info().version, &a.info().version));
        out
    }

    /// Every loaded plugin.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The plugin (of any kind) `name` resolves to.
    pub fn find(&self, name: &str) -> Option<Arc<Plugin>> {
        self.versions(name).into_iter().next()
    }

    /// The newest connector plugin `class` names that meets `requirement`
    /// (a `connector.plugin.version` value), or why there is none.
    pub fn connector_version(
        &self,
        class: &str,
        requirement: Option<&str>,
    ) -> Result<Arc<Plugin>, String> {
        let newest = self.connector(class)?;
        let Some(spec) = requirement.filter(|r| !r.trim().is_empty()) else {
            return Ok(newest);
        };
        let req = Requirement::parse(spec).map_err(|e| {
            format!("Invalid value {spec} for configuration connector.plugin.version: {e}")
        })?;
        let versions = self.versions(class);
        versions.iter().find(|p| req.matches(&p.info().version)).cloned().ok_or_else(|| {
            format!(
                "No version of {} matches connector.plugin.version {spec}; installed versions: {}",
                newest.info().name,
                versions.iter().map(|p| p.info().version.clone()).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The newest connector plugin `class` names, or Kafka's error message.
    pub fn connector(&self, class: &str) -> Result<Arc<Plugin>, String> {
        let class = class.trim();
        if let Some(names) = self.ambiguous.get(class) {
            return Err(format!(
                "More than one connector matches alias {class}. Please use full package and class name instead. Classes found: {}",
                names.join(", ")
            ));
        }
        match self.find(class) {
            Some(p) if matches!(p.info().world, World::Source | World::Sink) => Ok(p),
            _ => {
                let names: std::collections::BTreeSet<&str> = self
                    .plugins
                    .iter()
                    .filter(|p| matches!(p.info().world, World::Source | World::Sink))
                    .map(|p| p.info().name.as_str())
                    .collect();
                Err(format!(
                    "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                ))
            }
        }
    }
}

/// The simple name, and the simple name without the type suffix.
fn derived_aliases(name: &str, world: World) -> Vec<String> {
    let simple = name.rsplit(['.', '$']).next().unwrap_or(name).to_string();
    let suffix = match world {
        World::Source | World::Sink => "Connector",
        World::Transform => "Transformation",
    };
    let mut out = vec![simple.clone()];
    if let Some(pos) = simple.rfind(suffix).filter(|&p| p > 0) {
        out.push(simple[..pos].to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_aliases_follow_kafkas_rules() {
        assert_eq!(
            derived_aliases(
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
                World::Source
            ),
            ["FileStreamSourceConnector", "FileStreamSource"]
        );
        assert_eq!(derived_aliases("a.b.Masker", World::Transform), ["Masker"]);
        assert_eq!(derived_aliases("Connector", World::Sink), ["Connector"]);
    }
}
