//! The connector's configuration: Confluent's `S3SinkConnectorConfig`
//! names and defaults, the storage keys it shares with the HDFS sink
//! (`storage-common`), and checks. Keys Confluent has and this connector
//! does not implement are refused unless they hold the value that means
//! "not used".

use config_checks::{Problems, boolean, number, refuse_unsupported, text, value};
use storage_common::settings::{self as storage, FormatKind, StorageSettings};
use wasmconnect_sdk::{ConfigKey, ConfigType, Importance, Key, ResourceKind, config_key as key};

pub const BUCKET: &str = "s3.bucket.name";
pub const REGION: &str = "s3.region";
pub const STORE_URL: &str = "store.url";
pub const ACCESS_KEY: &str = "aws.access.key.id";
pub const SECRET_KEY: &str = "aws.secret.access.key";
pub const PART_SIZE: &str = "s3.part.size";
pub const PATH_STYLE: &str = "s3.path.style.access.enabled";
pub const RETRY_BACKOFF: &str = "s3.retry.backoff.ms";
pub const PART_RETRIES: &str = "s3.part.retries";

/// The `format.class` names this connector writes; the first is the default.
pub const FORMATS: [(&str, FormatKind); 2] = [
    (
        "io.confluent.connect.s3.format.json.JsonFormat",
        FormatKind::Json,
    ),
    (
        "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        FormatKind::Bytes,
    ),
];

/// Confluent keys this connector does not implement, with the value that
/// means "not used".
const UNSUPPORTED: [(&str, &str); 9] = [
    ("storage.class", "io.confluent.connect.s3.storage.S3Storage"),
    ("s3.compression.type", "none"),
    ("s3.ssea.name", ""),
    ("s3.sse.customer.key", ""),
    ("s3.sse.kms.key.id", ""),
    ("s3.acl.canned", ""),
    ("s3.proxy.url", ""),
    ("store.kafka.keys", "false"),
    ("store.kafka.headers", "false"),
];

/// A parsed configuration. `Debug` hides the secret key.
#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    pub endpoint: String,
    pub credentials: Option<(String, String)>,
    pub part_size: usize,
    pub retry_backoff_ms: u64,
    pub part_retries: u32,
    pub storage: StorageSettings,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.credentials.as_ref().map(|c| &c.0))
            .field("part_size", &self.part_size)
            .finish_non_exhaustive()
    }
}

/// S3's smallest part but the last.
const MIN_PART: usize = 5 * 1024 * 1024;

impl S3Config {
    /// Parses and checks a configuration; every problem is reported.
    pub fn parse(config: &[(String, String)]) -> Result<S3Config, Problems> {
        let mut problems = Problems::new();
        let bucket = text(config, BUCKET).unwrap_or_default();
        if bucket.is_empty() {
            problems.push((
                BUCKET.into(),
                format!("Missing required configuration \"{BUCKET}\" which has no default value."),
            ));
        }
        let region = text(config, REGION).unwrap_or_else(|| "us-west-2".into());
        let endpoint = text(config, STORE_URL).unwrap_or_default();
        let lower = endpoint.to_ascii_lowercase();
        if endpoint.is_empty() {
            problems.push((
                STORE_URL.into(),
                format!("{STORE_URL} must name the S3 endpoint (for AWS, https://s3.{region}.amazonaws.com): the worker lets the connector reach only the URLs its configuration names"),
            ));
        } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            problems.push((STORE_URL.into(), format!("Invalid value {endpoint} for configuration {STORE_URL}: must be an http:// or https:// URL")));
        } else if endpoint
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .is_some_and(|(_, path)| !path.trim_matches('/').is_empty())
        {
            problems.push((STORE_URL.into(), format!("Invalid value {endpoint} for configuration {STORE_URL}: name the endpoint without a path (objects go to <store.url>/<bucket>/<key>)")));
        }
        let access = text(config, ACCESS_KEY);
        let secret = value(config, SECRET_KEY)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let credentials = match (access, secret) {
            (Some(a), Some(s)) => Some((a, s)),
            (None, None) => None,
            _ => {
                problems.push((
                    ACCESS_KEY.into(),
                    format!("{ACCESS_KEY} and {SECRET_KEY} must be set together"),
                ));
                None
            }
        };
        if !boolean(config, PATH_STYLE, true, &mut problems) {
            problems.push((PATH_STYLE.into(), format!("{PATH_STYLE}=false is not supported: requests go to {STORE_URL}/<bucket>/<key>, the origin the worker grants")));
        }
        refuse_unsupported(config, &UNSUPPORTED, &mut problems);
        let storage = StorageSettings::parse(config, &FORMATS, &mut problems);
        let parsed = S3Config {
            bucket,
            region,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            credentials,
            part_size: number(config, PART_SIZE, 26_214_400, MIN_PART, &mut problems),
            retry_backoff_ms: number(config, RETRY_BACKOFF, 200, 0, &mut problems),
            part_retries: number(config, PART_RETRIES, 3, 0, &mut problems),
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
    let s3 = "S3";
    let mut keys = vec![
        key(BUCKET, String, None, High, s3, 1, "The S3 bucket (required)."),
        key(REGION, String, Some("us-west-2"), Medium, s3, 2, "The region the bucket is in, for request signing."),
        Key::new(STORE_URL, String).importance(High).group(s3, 3).resource(ResourceKind::Url)
            .doc("The S3 endpoint (http:// or https://), any S3-compatible store; objects go to <store.url>/<bucket>/<key>.").into(),
        key(ACCESS_KEY, String, Some(""), High, s3, 4, "The access key id requests are signed with (AWS Signature Version 4)."),
        key(SECRET_KEY, Password, None, High, s3, 5, "The secret access key."),
        key(PART_SIZE, Int, Some("26214400"), High, s3, 6, "Objects larger than this go up in parts of this size (multipart upload); at least 5 MiB."),
        key(PATH_STYLE, Boolean, Some("true"), Low, s3, 7, "Path-style requests (the only style this connector sends)."),
        key(RETRY_BACKOFF, Long, Some("200"), Low, s3, 8, "The first wait before retrying a failed request; it doubles with each retry."),
        key(PART_RETRIES, Int, Some("3"), Medium, s3, 9, "How many times a failed request is retried before the task fails."),
    ];
    keys.extend(storage::definition(&FORMATS));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    use config_checks::pairs as config;

    #[test]
    fn a_minimal_configuration_and_its_problems() {
        let c = S3Config::parse(&config(&[
            (BUCKET, "b"),
            (STORE_URL, "http://127.0.0.1:9000/"),
            ("flush.size", "3"),
        ]))
        .unwrap();
        assert_eq!(
            (c.endpoint.as_str(), c.region.as_str(), c.part_size),
            ("http://127.0.0.1:9000", "us-west-2", 26_214_400)
        );
        let problems = S3Config::parse(&config(&[
            (ACCESS_KEY, "a"),
            (PATH_STYLE, "false"),
            ("s3.compression.type", "gzip"),
        ]))
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                BUCKET,
                STORE_URL,
                ACCESS_KEY,
                PATH_STYLE,
                "s3.compression.type",
                "flush.size"
            ]
        );
    }
}
