//! The worker configuration (Kafka Connect's `WorkerConfig` and
//! `StandaloneConfig`, spec §6.1–§6.2).
//!
//! Every key Kafka Connect knows is accepted; the ones wasmconnect does not
//! use yet are logged, as Kafka logs unknown keys, never fatal.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::overrides::OverrideRules;
use crate::convert::Converter;

/// Where Kafka is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaTarget {
    /// A real cluster: the `bootstrap.servers` list.
    Bootstrap(String),
    /// librdkafka's in-process mock cluster (`bootstrap.servers` absent or
    /// `embedded`): for trying things out; data lives in memory only.
    Embedded,
}

/// A parsed worker configuration.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Kafka.
    pub kafka: KafkaTarget,
    /// Worker default key converter.
    pub key_converter: Converter,
    /// Worker default value converter.
    pub value_converter: Converter,
    /// `offset.storage.file.filename` (standalone).
    pub offset_file: Option<PathBuf>,
    /// `offset.flush.interval.ms` (default 60 s).
    pub offset_flush_interval: Duration,
    /// `offset.flush.timeout.ms` (default 5 s).
    pub offset_flush_timeout: Duration,
    /// `task.shutdown.graceful.timeout.ms` (default 5 s).
    pub shutdown_timeout: Duration,
    /// `plugin.path` directories.
    pub plugin_path: Vec<PathBuf>,
    /// `listeners` (default `http://:8083`).
    pub listeners: Vec<String>,
    /// Worker-level `producer.*` settings, prefix stripped.
    pub producer: Vec<(String, String)>,
    /// Worker-level `consumer.*` settings, prefix stripped.
    pub consumer: Vec<(String, String)>,
    /// Worker-level `admin.*` settings, prefix stripped.
    pub admin: Vec<(String, String)>,
    /// What connectors may override of the clients' settings.
    pub overrides: OverrideRules,
    /// What `https` listeners serve with (`None` without one).
    pub rest_tls: Option<Arc<rustls::ServerConfig>>,
    /// What this worker trusts and presents when it calls another worker
    /// over https (`None` when no listener is https and no `ssl.*` key is
    /// set: requests to other workers are plain http).
    pub peer_tls: Option<Arc<rustls::ClientConfig>>,
    /// `exactly.once.source.support` (distributed mode; a standalone
    /// worker sets it back to disabled, as Kafka has no such mode there).
    pub exactly_once_source: ExactlyOnceSource,
    /// Every key as given, for converters' prefixed settings and lookups.
    pub raw: Vec<(String, String)>,
}

/// `exactly.once.source.support`, a distributed worker's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExactlyOnceSource {
    /// Sources run at least once (Kafka's default).
    #[default]
    Disabled,
    /// The rolling-upgrade step before `enabled`: sources still run at
    /// least once.
    Preparing,
    /// Source tasks are transactional.
    Enabled,
}

impl ExactlyOnceSource {
    /// Reads the worker's setting (absent: disabled).
    pub fn parse(value: Option<&str>) -> Result<ExactlyOnceSource, String> {
        let Some(raw) = value else {
            return Ok(ExactlyOnceSource::Disabled);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "disabled" => Ok(ExactlyOnceSource::Disabled),
            "preparing" => Ok(ExactlyOnceSource::Preparing),
            "enabled" => Ok(ExactlyOnceSource::Enabled),
            _ => Err(format!(
                "Invalid value {raw} for configuration exactly.once.source.support: \
                 String must be one of (case insensitive): disabled, enabled, preparing"
            )),
        }
    }

    /// Whether source tasks run in transactions.
    pub fn enabled(self) -> bool {
        self == ExactlyOnceSource::Enabled
    }
}

/// Keys this worker reads, or knows from Kafka Connect and accepts.
const KNOWN: &[&str] = &[
    "bootstrap.servers",
    "key.converter",
    "value.converter",
    "header.converter",
    "offset.storage.file.filename",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "task.shutdown.graceful.timeout.ms",
    "plugin.path",
    "plugin.discovery",
    "listeners",
    "admin.listeners",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "client.dns.lookup",
    "config.providers",
    "connector.client.config.override.policy",
    "connector.client.config.override.allowlist",
    "connector.client.config.override.unsafe.allow",
    "sandbox.allowed.dirs",
    "sandbox.allowed.hosts",
    "sandbox.http.ca.file",
    "topic.creation.enable",
    "topic.tracking.enable",
    "topic.tracking.allow.reset",
    "access.control.allow.origin",
    "access.control.allow.methods",
    "response.http.headers.config",
    "rest.extension.classes",
    "request.timeout.ms",
    "metrics.sample.window.ms",
    "metrics.num.samples",
    "metrics.recording.level",
    "metric.reporters",
    "plugin.store.dir",
    "plugin.upload.max.bytes",
    "rest.auth.credentials.file",
    "rest.auth.protect.reads",
    "wasm.max.instances",
    "exactly.once.source.support",
];

/// Prefixes of keys that are passed on (converters, clients, providers, TLS).
const KNOWN_PREFIXES: &[&str] = &[
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "producer.",
    "consumer.",
    "admin.",
    "config.providers.",
    "ssl.",
    "listeners.https.",
    "internal.",
];

impl WorkerConfig {
    /// Parses `props`; a required key that is missing or a value that does
    /// not parse is an error naming the key.
    pub fn from_properties(props: &[(String, String)]) -> Result<WorkerConfig, String> {
        let get = |k: &str| lookup(props, k);
        for (key, _) in props {
            let limit_key = crate::sandbox::limits::LIMIT_KEYS
                .iter()
                .any(|l| l.key == key || l.max_key == key);
            if !KNOWN.contains(&key.as_str())
                && !limit_key
                && !KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
            {
                tracing::info!(key, "the configuration key is not used by this worker");
            }
        }
        let kafka = match get("bootstrap.servers").map(str::trim) {
            None | Some("") | Some("embedded") => KafkaTarget::Embedded,
            Some(servers) => KafkaTarget::Bootstrap(servers.to_string()),
        };
        let converter = |key: &str| -> Result<Converter, String> {
            let class = get(key).ok_or_else(|| {
                format!("Missing required configuration \"{key}\" which has no default value.")
            })?;
            Converter::from_class(class, |setting| {
                get(&format!("{key}.{setting}")).map(str::to_string)
            })
            .map_err(|e| format!("{key}: {e}"))
        };
        let listeners = match list(get("listeners")) {
            l if l.is_empty() => vec!["http://:8083".to_string()],
            l => l,
        };
        let (rest_tls, peer_tls) = tls_of(props, &listeners)?;
        Ok(WorkerConfig {
            kafka,
            key_converter: converter("key.converter")?,
            value_converter: converter("value.converter")?,
            offset_file: get("offset.storage.file.filename")
                .filter(|s| !s.trim().is_empty())
                .map(PathBuf::from),
            offset_flush_interval: millis(props, "offset.flush.interval.ms", 60_000)?,
            offset_flush_timeout: millis(props, "offset.flush.timeout.ms", 5_000)?,
            shutdown_timeout: millis(props, "task.shutdown.graceful.timeout.ms", 5_000)?,
            plugin_path: list(get("plugin.path"))
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            listeners,
            producer: prefixed(props, "producer."),
            consumer: prefixed(props, "consumer."),
            admin: prefixed(props, "admin."),
            overrides: OverrideRules::from_worker(props)?,
            rest_tls,
            peer_tls,
            exactly_once_source: ExactlyOnceSource::parse(get("exactly.once.source.support"))?,
            raw: props.to_vec(),
        })
    }

    /// The value of `key` as given.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.raw, key)
    }
}

/// Checks `listeners` and `rest.advertised.listener`, and builds the TLS
/// configurations they need: the listeners' when one is `https`, the
/// client's when a listener is `https`, other workers are reached over
/// `https`, or an `ssl.*` key is set.
#[allow(clippy::type_complexity)]
fn tls_of(
    props: &[(String, String)],
    listeners: &[String],
) -> Result<
    (
        Option<Arc<rustls::ServerConfig>>,
        Option<Arc<rustls::ClientConfig>>,
    ),
    String,
> {
    let parsed = listeners
        .iter()
        .map(|l| super::listeners::parse_listener(l))
        .collect::<Result<Vec<_>, _>>()?;
    let https = parsed.iter().any(|l| l.scheme == "https");
    let advertised = lookup(props, "rest.advertised.listener")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(scheme) = &advertised {
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "Invalid value {scheme} for configuration rest.advertised.listener: String must be one of: http, https"
            ));
        }
        if !parsed.iter().any(|l| &l.scheme == scheme) {
            return Err(format!(
                "rest.advertised.listener is {scheme} but no {scheme} listener is in listeners"
            ));
        }
    }
    let server = if https {
        Some(super::tls::server_config(props).map_err(|e| format!("listeners: {e}"))?)
    } else {
        None
    };
    let wants_client = https
        || advertised.as_deref() == Some("https")
        || props.iter().any(|(k, _)| k.starts_with("ssl."));
    let client = if wants_client {
        Some(Arc::new(
            super::tls::client_config(props).map_err(|e| format!("TLS to other workers: {e}"))?,
        ))
    } else {
        None
    };
    Ok((server, client))
}

/// The last value of `key` in `pairs`.
pub fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A comma-separated list, trimmed, without empty items.
pub fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The pairs whose key starts with `prefix`, prefix stripped.
pub fn prefixed(pairs: &[(String, String)], prefix: &str) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn millis(props: &[(String, String)], key: &str, default: u64) -> Result<Duration, String> {
    match lookup(props, key).map(str::trim) {
        None | Some("") => Ok(Duration::from_millis(default)),
        Some(v) => v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            format!("Invalid value {v} for configuration {key}: Not a number of type LONG")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::pairs as props;

    #[test]
    fn the_worker_setting_reads_as_kafka_reads_it() {
        assert_eq!(
            ExactlyOnceSource::parse(None),
            Ok(ExactlyOnceSource::Disabled)
        );
        assert_eq!(
            ExactlyOnceSource::parse(Some("ENABLED")),
            Ok(ExactlyOnceSource::Enabled)
        );
        assert_eq!(
            ExactlyOnceSource::parse(Some("preparing")),
            Ok(ExactlyOnceSource::Preparing)
        );
        assert!(!ExactlyOnceSource::Preparing.enabled());
        assert_eq!(
            ExactlyOnceSource::parse(Some("on")).unwrap_err(),
            "Invalid value on for configuration exactly.once.source.support: String must be one \
             of (case insensitive): disabled, enabled, preparing"
        );
    }

    #[test]
    fn kafkas_sample_standalone_config_parses_with_its_defaults() {
        let cfg = WorkerConfig::from_properties(&props(&[
            ("bootstrap.servers", "localhost:9092"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "true"),
            ("value.converter.schemas.enable", "false"),
            ("offset.storage.file.filename", "/tmp/connect.offsets"),
            ("offset.flush.interval.ms", "10000"),
            ("producer.linger.ms", "5"),
        ]))
        .unwrap();
        assert_eq!(cfg.kafka, KafkaTarget::Bootstrap("localhost:9092".into()));
        assert_eq!(cfg.key_converter, Converter::json(true));
        assert_eq!(cfg.value_converter, Converter::json(false));
        assert_eq!(cfg.offset_flush_interval, Duration::from_secs(10));
        assert_eq!(cfg.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(cfg.listeners, ["http://:8083"]);
        assert_eq!(cfg.producer, [("linger.ms".to_string(), "5".to_string())]);
    }

    #[test]
    fn embedded_when_no_bootstrap_and_errors_name_the_key() {
        let base = [
            ("key.converter", "StringConverter"),
            ("value.converter", "StringConverter"),
        ];
        let cfg = WorkerConfig::from_properties(&props(&base)).unwrap();
        assert_eq!(cfg.kafka, KafkaTarget::Embedded);
        let err = WorkerConfig::from_properties(&props(&[("key.converter", "StringConverter")]))
            .unwrap_err();
        assert_eq!(
            err,
            "Missing required configuration \"value.converter\" which has no default value."
        );
        let mut bad = props(&base);
        bad.push(("offset.flush.interval.ms".into(), "soon".into()));
        let err = WorkerConfig::from_properties(&bad).unwrap_err();
        assert!(err.contains("offset.flush.interval.ms"), "{err}");
    }
}
