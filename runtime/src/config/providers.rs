//! Config providers (spec §6.4): `${provider:path:key}` placeholders in
//! connector configurations, resolved when the configuration is used and
//! kept raw wherever it is stored or shown.
//!
//! `FileConfigProvider` is supported: with `config.providers=file` and
//! `config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider`
//! in the worker file, `${file:/path/to/file.properties:key}` is replaced by
//! `key`'s value in that properties file. A reference that cannot be
//! resolved is left as it is, as in Kafka.

use std::collections::BTreeMap;

use regex::Regex;

use super::properties;
use super::worker::{list, lookup};

/// The providers a worker configured, by name.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    file_providers: Vec<String>,
}

const FILE_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";

impl ConfigProviders {
    /// Reads `config.providers` and `config.providers.<name>.class`.
    pub fn from_worker(raw: &[(String, String)]) -> ConfigProviders {
        let mut file_providers = Vec::new();
        for name in list(lookup(raw, "config.providers")) {
            match lookup(raw, &format!("config.providers.{name}.class")).map(str::trim) {
                Some(FILE_PROVIDER) | Some("FileConfigProvider") => file_providers.push(name),
                Some(other) => {
                    tracing::warn!(provider = %name, class = other, "unsupported config provider class; its placeholders stay unresolved")
                }
                None => {
                    tracing::warn!(provider = %name, "config provider without a class; its placeholders stay unresolved")
                }
            }
        }
        ConfigProviders { file_providers }
    }

    /// `config` with every resolvable placeholder replaced.
    pub fn resolve(&self, config: &[(String, String)]) -> Vec<(String, String)> {
        if self.file_providers.is_empty() {
            return config.to_vec();
        }
        let mut files: BTreeMap<String, Option<Vec<(String, String)>>> = BTreeMap::new();
        config
            .iter()
            .map(|(k, v)| (k.clone(), self.resolve_value(v, &mut files)))
            .collect()
    }

    fn resolve_value(
        &self,
        value: &str,
        files: &mut BTreeMap<String, Option<Vec<(String, String)>>>,
    ) -> String {
        placeholder()
            .replace_all(value, |c: &regex::Captures<'_>| {
                let whole = c[0].to_string();
                let provider = &c[1];
                let (Some(path), Some(key)) = (c.get(3), c.get(4)) else {
                    return whole;
                };
                if !self.file_providers.iter().any(|p| p == provider) {
                    return whole;
                }
                let props = files
                    .entry(path.as_str().to_string())
                    .or_insert_with(|| properties::load(std::path::Path::new(path.as_str())).ok());
                props
                    .as_ref()
                    .and_then(|p| lookup(p, key.as_str()).map(str::to_string))
                    .unwrap_or(whole)
            })
            .into_owned()
    }
}

/// Whether `value` holds a placeholder.
pub fn has_placeholder(value: &str) -> bool {
    placeholder().is_match(value)
}

fn placeholder() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    // Kafka's pattern: ${provider:path:key} or ${provider:key}. The pattern
    // is a constant, so building it cannot fail.
    RE.get_or_init(|| {
        Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").unwrap_or_else(|_| unreachable!())
    })
}

/// A task configuration as shown: values whose key held a placeholder in
/// the connector's raw configuration get the raw value back.
pub fn restore_raw(
    task: &[(String, String)],
    raw_connector: &[(String, String)],
) -> Vec<(String, String)> {
    task.iter()
        .map(|(k, v)| match lookup(raw_connector, k) {
            Some(raw) if has_placeholder(raw) => (k.clone(), raw.to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn file_placeholders_resolve_and_unknown_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let ext = dir.path().join("external.properties");
        std::fs::write(&ext, "topic.external=test\n").unwrap();
        let providers = ConfigProviders::from_worker(&[
            kv("config.providers", "file"),
            kv("config.providers.file.class", FILE_PROVIDER),
        ]);
        let raw = vec![
            kv(
                "topic",
                &format!("topic-${{file:{}:topic.external}}", ext.display()),
            ),
            kv("other", "${vault:secret}"),
            kv("missing", &format!("${{file:{}:nope}}", ext.display())),
        ];
        let resolved = providers.resolve(&raw);
        assert_eq!(resolved[0], kv("topic", "topic-test"));
        assert_eq!(resolved[1], raw[1]);
        assert_eq!(resolved[2], raw[2]);
        assert_eq!(restore_raw(&resolved, &raw)[0], raw[0]);
        assert!(ConfigProviders::default().resolve(&raw) == raw);
    }
}
