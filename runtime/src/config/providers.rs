//! Config providers (spec §6.4): `${provider:path:key}` placeholders in
//! connector configurations, resolved when the configuration is used and
//! kept raw wherever it is stored or shown.
//!
//! `FileConfigProvider` is supported: with `config.providers=file` and
//! `config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider`
//! in the worker file, `${file:/path/to/file.properties:key}` is replaced by
//! `key`'s value in that properties file. A reference that cannot be
//! resolved is left as it is, as in Kafka.
//!
//! What a REST caller can reach through a placeholder is bounded:
//!
//! * `config.providers.<name>.param.allowed.paths` (KIP-993) lists the
//!   directories or files the provider may read; a path outside them (after
//!   `..` and symlinks are resolved) stays unresolved, as Kafka leaves it.
//! * A file over [`MAX_FILE_BYTES`] is not read (`/dev/zero` ends nowhere).
//! * Resolved values never travel back: [`redact`] puts the placeholder
//!   back wherever a resolved value would appear in an answer or a trace.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::properties;
use super::worker::{list, lookup};

/// The largest file a file provider reads.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// One configured file provider.
#[derive(Debug, Clone)]
struct FileProvider {
    name: String,
    /// `allowed.paths`, canonical; `None`: every path.
    allowed: Option<Vec<PathBuf>>,
}

/// The providers a worker configured, by name.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    file_providers: Vec<FileProvider>,
}

const FILE_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";

impl ConfigProviders {
    /// Reads `config.providers` and `config.providers.<name>.class`.
    pub fn from_worker(raw: &[(String, String)]) -> ConfigProviders {
        let mut file_providers = Vec::new();
        for name in list(lookup(raw, "config.providers")) {
            match lookup(raw, &format!("config.providers.{name}.class")).map(str::trim) {
                Some(FILE_PROVIDER) | Some("FileConfigProvider") => {
                    let key = format!("config.providers.{name}.param.allowed.paths");
                    let allowed = lookup(raw, &key).map(|paths| {
                        list(Some(paths))
                            .into_iter()
                            .filter_map(|p| match std::fs::canonicalize(&p) {
                                Ok(c) => Some(c),
                                Err(e) => {
                                    tracing::warn!(provider = %name, path = %p, "an allowed path cannot be resolved, so nothing beneath it is readable: {e}");
                                    None
                                }
                            })
                            .collect()
                    });
                    file_providers.push(FileProvider { name, allowed });
                }
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
                let Some(fp) = self.file_providers.iter().find(|p| p.name == provider) else {
                    return whole;
                };
                let props = files
                    .entry(path.as_str().to_string())
                    .or_insert_with(|| read_allowed(fp, Path::new(path.as_str())));
                props
                    .as_ref()
                    .and_then(|p| lookup(p, key.as_str()).map(str::to_string))
                    .unwrap_or(whole)
            })
            .into_owned()
    }
}

/// The properties file at `path`, if `provider` may read it and it is no
/// larger than [`MAX_FILE_BYTES`]; a refusal is logged without the file's
/// contents.
fn read_allowed(provider: &FileProvider, path: &Path) -> Option<Vec<(String, String)>> {
    let canonical = std::fs::canonicalize(path).ok()?;
    if let Some(allowed) = &provider.allowed
        && !allowed.iter().any(|root| canonical.starts_with(root))
    {
        tracing::warn!(provider = %provider.name, path = %path.display(), "the config provider may not read this path (allowed.paths); the placeholder stays unresolved");
        return None;
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(&canonical).ok()?;
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        tracing::warn!(provider = %provider.name, path = %path.display(), "the file is over {MAX_FILE_BYTES} bytes; the placeholder stays unresolved");
        return None;
    }
    properties::parse(&bytes).ok()
}

/// `message` with every value that `resolved` holds in place of a
/// placeholder of `raw` put back as the placeholder, so an answer, a log
/// line or a trace never carries a provider's secret.
pub fn redact(message: &str, raw: &[(String, String)], resolved: &[(String, String)]) -> String {
    Secrets::of(raw, resolved).hide(message).into_owned()
}

/// The values a connector's configuration took from config providers, each
/// with the placeholder that stands for it. What a guest writes (log lines,
/// stdout, stderr, the error that becomes a task's trace) passes through
/// [`Secrets::hide`] before it reaches a log or the status API, so a
/// connector that prints its configuration or an error quoting it does not
/// leak what a provider resolved. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Secrets(std::sync::Arc<[(String, String)]>);

impl Secrets {
    /// The secrets of `resolved`, the configuration `raw` resolved.
    pub fn of(raw: &[(String, String)], resolved: &[(String, String)]) -> Secrets {
        let mut pairs: Vec<(String, String)> = raw
            .iter()
            .filter(|(_, v)| has_placeholder(v))
            .filter_map(|(k, v)| Some((lookup(resolved, k)?.to_string(), v.clone())))
            .filter(|(secret, placeholder)| !secret.is_empty() && secret != placeholder)
            .collect();
        // Longest first: a secret that contains another is replaced whole.
        pairs.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        pairs.dedup();
        Secrets(pairs.into())
    }

    /// The secrets of both.
    pub fn union(&self, other: &Secrets) -> Secrets {
        let mut pairs: Vec<(String, String)> =
            self.0.iter().chain(other.0.iter()).cloned().collect();
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        pairs.dedup();
        Secrets(pairs.into())
    }

    /// `text` with each secret replaced by its placeholder.
    pub fn hide<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for (secret, placeholder) in self.0.iter() {
            if out.contains(secret.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(secret.as_str(), placeholder));
            }
        }
        out
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

    #[test]
    fn only_allowed_paths_and_bounded_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::write(allowed.join("ok.properties"), "k=v\n").unwrap();
        std::fs::write(dir.path().join("secret.properties"), "k=secret\n").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.properties"),
            allowed.join("link.properties"),
        )
        .unwrap();
        let big = allowed.join("big.properties");
        std::fs::write(&big, vec![b'#'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        let providers = ConfigProviders::from_worker(&[
            kv("config.providers", "file"),
            kv("config.providers.file.class", "FileConfigProvider"),
            kv(
                "config.providers.file.param.allowed.paths",
                &allowed.display().to_string(),
            ),
        ]);
        let at = |p: PathBuf| format!("${{file:{}:k}}", p.display());
        let raw = vec![
            kv("a", &at(allowed.join("ok.properties"))),
            kv("b", &at(dir.path().join("secret.properties"))),
            kv("c", &at(allowed.join("../secret.properties"))),
            kv("d", &at(allowed.join("link.properties"))),
            kv("e", &at(big)),
        ];
        let resolved = providers.resolve(&raw);
        assert_eq!(resolved[0], kv("a", "v"));
        assert_eq!(
            resolved[1..],
            raw[1..],
            "outside, escaping or too big: unresolved"
        );
    }

    #[test]
    fn resolved_values_are_put_back_as_placeholders() {
        let raw = vec![kv("tasks.max", "${file:/etc/shadow:root}"), kv("x", "1")];
        let resolved = vec![kv("tasks.max", "$6$salt$hash"), kv("x", "1")];
        assert_eq!(
            redact(
                "Invalid value $6$salt$hash for configuration tasks.max: Not a number of type INT",
                &raw,
                &resolved
            ),
            "Invalid value ${file:/etc/shadow:root} for configuration tasks.max: Not a number of type INT"
        );
        assert_eq!(redact("1 and 1", &raw, &resolved), "1 and 1");
    }
}
