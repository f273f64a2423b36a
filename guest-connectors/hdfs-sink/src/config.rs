//! The connector's configuration: Confluent's `HdfsSinkConnectorConfig`
//! names and defaults where they apply to WebHDFS, the storage keys shared
//! with the S3 sink (`storage-common`), and checks.

use config_checks::{Problems, list, number, refuse_unsupported, text};
use storage_common::settings::{self as storage, FormatKind, StorageSettings};
use wasmconnect_sdk::{ConfigKey, ConfigType, Importance, Key, ResourceKind, config_key as key};

pub const HDFS_URL: &str = "hdfs.url";
pub const DATANODES: &str = "webhdfs.datanode.urls";
pub const USER: &str = "webhdfs.user.name";
pub const LOGS_DIR: &str = "logs.dir";
pub const RETRY_BACKOFF: &str = "retry.backoff.ms";
pub const MAX_RETRIES: &str = "hdfs.max.retries";

/// The `format.class` names this connector writes; the first is the default.
pub const FORMATS: [(&str, FormatKind); 2] = [
    (
        "io.confluent.connect.hdfs.json.JsonFormat",
        FormatKind::Json,
    ),
    (
        "io.confluent.connect.hdfs.string.StringFormat",
        FormatKind::Text,
    ),
];

/// Confluent keys this connector does not implement, with the value that
/// means "not used": Kerberos, Hive integration, and the client's own
/// configuration directory.
const UNSUPPORTED: [(&str, &str); 6] = [
    ("hdfs.authentication.kerberos", "false"),
    ("hive.integration", "false"),
    ("hadoop.conf.dir", ""),
    ("hadoop.home", ""),
    (
        "storage.class",
        "io.confluent.connect.hdfs.storage.HdfsStorage",
    ),
    ("avro.codec", "null"),
];

/// A parsed configuration.
#[derive(Debug, Clone)]
pub struct HdfsConfig {
    /// The namenode's WebHDFS address, `http(s)://host:port`.
    pub namenode: String,
    pub datanodes: Vec<String>,
    pub user: Option<String>,
    pub logs_dir: String,
    pub retry_backoff_ms: u64,
    pub max_retries: u32,
    pub storage: StorageSettings,
}

impl HdfsConfig {
    /// Parses and checks a configuration; every problem is reported.
    pub fn parse(config: &[(String, String)]) -> Result<HdfsConfig, Problems> {
        let mut problems = Problems::new();
        let namenode = text(config, HDFS_URL).unwrap_or_default();
        let lower = namenode.to_ascii_lowercase();
        if namenode.is_empty() {
            problems.push((
                HDFS_URL.into(),
                format!(
                    "Missing required configuration \"{HDFS_URL}\" which has no default value."
                ),
            ));
        } else if lower.starts_with("hdfs://") {
            problems.push((
                HDFS_URL.into(),
                format!("{HDFS_URL}={namenode}: this connector speaks WebHDFS; name the namenode's HTTP address instead (http://namenode:9870)"),
            ));
        } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            problems.push((HDFS_URL.into(), format!("Invalid value {namenode} for configuration {HDFS_URL}: must be an http:// or https:// WebHDFS address")));
        }
        refuse_unsupported(config, &UNSUPPORTED, &mut problems);
        let mut storage = StorageSettings::parse(config, &FORMATS, &mut problems);
        // HDFS names files by their first and last offsets.
        storage.name_with_end = true;
        let parsed = HdfsConfig {
            namenode: namenode.trim_end_matches('/').to_string(),
            datanodes: list(config, DATANODES),
            user: text(config, USER),
            logs_dir: text(config, LOGS_DIR).unwrap_or_else(|| "logs".into()),
            retry_backoff_ms: number(config, RETRY_BACKOFF, 5000, 0, &mut problems),
            max_retries: number(config, MAX_RETRIES, 10, 0, &mut problems),
            storage,
        };
        if problems.is_empty() {
            Ok(parsed)
        } else {
            Err(problems)
        }
    }
}

/// The keys, with Confluent's documentation abridged.
pub fn definition() -> Vec<ConfigKey> {
    use ConfigType::*;
    use Importance::*;
    let hdfs = "HDFS";
    let mut keys = vec![
        Key::new(HDFS_URL, String).required().importance(High).group(hdfs, 1).resource(ResourceKind::Url)
            .doc("The namenode's WebHDFS address, http://namenode:9870 (this connector speaks WebHDFS, not the RPC protocol of hdfs:// URLs).").into(),
        Key::new(DATANODES, List).importance(High).group(hdfs, 2).resource(ResourceKind::Url)
            .doc("The datanodes' HTTP addresses (http://datanode:9864) WebHDFS sends file data to; the worker lets the connector reach only these and hdfs.url.").into(),
        key(USER, String, Some(""), Medium, hdfs, 3, "The user files are written as (WebHDFS user.name); empty sends none."),
        key(LOGS_DIR, String, Some("logs"), Medium, hdfs, 4, "Where files are written while in progress, before they are renamed into topics.dir."),
        key(RETRY_BACKOFF, Long, Some("5000"), Low, hdfs, 5, "The first wait before retrying a failed request; it doubles with each retry."),
        key(MAX_RETRIES, Int, Some("10"), Low, hdfs, 6, "How many times a failed request is retried before the task fails."),
    ];
    keys.extend(storage::definition(&FORMATS));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    use config_checks::pairs as config;

    #[test]
    fn webhdfs_addresses_only() {
        let c = HdfsConfig::parse(&config(&[
            (HDFS_URL, "http://nn:9870/"),
            ("flush.size", "3"),
            (DATANODES, "http://dn1:9864,http://dn2:9864"),
        ]))
        .unwrap();
        assert_eq!(
            (c.namenode.as_str(), c.datanodes.len(), c.logs_dir.as_str()),
            ("http://nn:9870", 2, "logs")
        );
        assert!(c.storage.name_with_end);
        let problems = HdfsConfig::parse(&config(&[
            (HDFS_URL, "hdfs://nn:8020"),
            ("flush.size", "3"),
            ("hive.integration", "true"),
        ]))
        .unwrap_err();
        assert!(problems[0].1.contains("speaks WebHDFS"), "{problems:?}");
        assert_eq!(problems[1].0, "hive.integration");
    }
}
