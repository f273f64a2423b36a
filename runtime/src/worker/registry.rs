//! The plugins a worker knows, and how a class name finds one.
//!
//! At start the worker loads every `.wasm` file in each `plugin.path`
//! directory. A file that is not a valid plugin is skipped with a log line
//! naming it and the reason; the worker starts anyway.
//!
//! Names resolve as Kafka resolves them (spec §5.2): the plugin's full name,
//! its declared aliases, its simple name (after the last `.`), and its
//! simple name without the `Connector` / `Transformation` suffix, the
//! derived ones only when unambiguous.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::plugin::{Plugin, World};
use crate::sandbox::Sandbox;

/// Loaded plugins, indexed by every name that resolves to them.
#[derive(Default)]
pub struct PluginRegistry {
    plugins: Vec<Arc<Plugin>>,
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
        // Derived aliases, kept only when one plugin claims them.
        let mut derived: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in reg.plugins.iter().enumerate() {
            for alias in derived_aliases(&p.info().name, p.info().world) {
                let claims = derived.entry(alias).or_default();
                if !claims.contains(&i) {
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

    /// Every loaded plugin.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The plugin (of any kind) `name` resolves to.
    pub fn find(&self, name: &str) -> Option<Arc<Plugin>> {
        self.by_name
            .get(name.trim())
            .map(|&i| self.plugins[i].clone())
    }

    /// The connector plugin `class` names, or Kafka's error message.
    pub fn connector(&self, class: &str) -> Result<Arc<Plugin>, String> {
        let class = class.trim();
        if let Some(names) = self.ambiguous.get(class) {
            return Err(format!(
                "More than one connector matches alias {class}. Please use full package and class name instead. Classes found: {}",
                names.join(", ")
            ));
        }
        match self.by_name.get(class).map(|&i| &self.plugins[i]) {
            Some(p) if matches!(p.info().world, World::Source | World::Sink) => Ok(p.clone()),
            _ => Err(format!(
                "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                self.plugins
                    .iter()
                    .filter(|p| matches!(p.info().world, World::Source | World::Sink))
                    .map(|p| p.info().name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
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
