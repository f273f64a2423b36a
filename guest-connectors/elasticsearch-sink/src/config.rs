//! The connector's configuration: Confluent's `ElasticsearchSinkConnectorConfig`
//! names, defaults and checks. Keys Confluent has and this connector does
//! not implement are refused unless they hold the value that means "not
//! used".

use config_checks::{Problems, boolean, choice, list, number, refuse_unsupported, text, value};
use wasmconnect_sdk::{ConfigKey, ConfigType, Importance, Key, ResourceKind, config_key as key};

pub const URLS: &str = "connection.url";
pub const USERNAME: &str = "connection.username";
pub const PASSWORD: &str = "connection.password";
pub const BATCH_SIZE: &str = "batch.size";
pub const BULK_BYTES: &str = "bulk.size.bytes";
pub const IN_FLIGHT: &str = "max.in.flight.requests";
pub const BUFFERED: &str = "max.buffered.records";
pub const LINGER: &str = "linger.ms";
pub const FLUSH_TIMEOUT: &str = "flush.timeout.ms";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF: &str = "retry.backoff.ms";
pub const CONNECT_TIMEOUT: &str = "connection.timeout.ms";
pub const READ_TIMEOUT: &str = "read.timeout.ms";
pub const KEY_IGNORE: &str = "key.ignore";
pub const SCHEMA_IGNORE: &str = "schema.ignore";
pub const TOPIC_KEY_IGNORE: &str = "topic.key.ignore";
pub const TOPIC_SCHEMA_IGNORE: &str = "topic.schema.ignore";
pub const DROP_INVALID: &str = "drop.invalid.message";
pub const NULL_VALUES: &str = "behavior.on.null.values";
pub const MALFORMED: &str = "behavior.on.malformed.documents";
pub const WRITE_METHOD: &str = "write.method";
pub const TYPE_NAME: &str = "type.name";
pub const SECURITY_PROTOCOL: &str = "elastic.security.protocol";

/// Keys this connector does not implement, with the value that means "not
/// used". TLS trust comes from the worker (`sandbox.http.ca.file`), not
/// from Java key and trust stores.
const UNSUPPORTED: [(&str, &str); 12] = [
    ("connection.compression", "false"),
    ("compact.map.entries", "true"),
    ("data.stream.type", "none"),
    ("data.stream.dataset", ""),
    ("proxy.host", ""),
    ("kerberos.user.principal", ""),
    ("kerberos.keytab.path", ""),
    ("elastic.https.ssl.keystore.location", ""),
    ("elastic.https.ssl.truststore.location", ""),
    ("external.version.header", ""),
    ("log.sensitive.data", "false"),
    ("flush.synchronously", "false"),
];

/// What to do with a record whose value is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullValues {
    Ignore,
    Delete,
    Fail,
}

/// What to do with a document the server refuses as malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    Ignore,
    Warn,
    Fail,
}

/// A parsed configuration. `Debug` hides the password.
#[derive(Clone)]
pub struct EsConfig {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub batch_size: usize,
    pub bulk_bytes: usize,
    pub in_flight: usize,
    pub buffered: usize,
    pub linger_ms: u64,
    pub flush_timeout_ms: u64,
    pub max_retries: u32,
    pub retry_backoff_ms: u64,
    pub connect_timeout_ms: u64,
    pub read_timeout_ms: u64,
    pub key_ignore: bool,
    pub schema_ignore: bool,
    pub topic_key_ignore: Vec<String>,
    pub topic_schema_ignore: Vec<String>,
    pub drop_invalid: bool,
    pub null_values: NullValues,
    pub malformed: Malformed,
    pub upsert: bool,
    pub type_name: Option<String>,
}

impl std::fmt::Debug for EsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsConfig")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[hidden]"))
            .field("batch_size", &self.batch_size)
            .field("key_ignore", &self.key_ignore)
            .field("schema_ignore", &self.schema_ignore)
            .finish_non_exhaustive()
    }
}

impl EsConfig {
    /// Parses and checks a configuration; every problem is reported.
    pub fn parse(config: &[(String, String)]) -> Result<EsConfig, Problems> {
        let mut problems = Problems::new();
        let urls = list(config, URLS);
        if urls.is_empty() {
            problems.push((
                URLS.into(),
                format!("Missing required configuration \"{URLS}\" which has no default value."),
            ));
        }
        let protocol = choice(
            config,
            SECURITY_PROTOCOL,
            "PLAINTEXT",
            &["PLAINTEXT", "SSL"],
            &mut problems,
        );
        for url in &urls {
            let lower = url.to_ascii_lowercase();
            let scheme_ok = match protocol {
                "SSL" => lower.starts_with("https://"),
                _ => lower.starts_with("http://") || lower.starts_with("https://"),
            };
            if !scheme_ok {
                problems.push((
                    URLS.into(),
                    format!(
                        "Invalid value {url} for configuration {URLS}: {} URLs must start with {}",
                        protocol,
                        if protocol == "SSL" {
                            "https://"
                        } else {
                            "http:// or https://"
                        }
                    ),
                ));
            }
        }
        let null_values = match choice(
            config,
            NULL_VALUES,
            "FAIL",
            &["IGNORE", "DELETE", "FAIL"],
            &mut problems,
        ) {
            "IGNORE" => NullValues::Ignore,
            "DELETE" => NullValues::Delete,
            _ => NullValues::Fail,
        };
        let malformed = match choice(
            config,
            MALFORMED,
            "FAIL",
            &["IGNORE", "WARN", "FAIL"],
            &mut problems,
        ) {
            "IGNORE" => Malformed::Ignore,
            "WARN" => Malformed::Warn,
            _ => Malformed::Fail,
        };
        let upsert = choice(
            config,
            WRITE_METHOD,
            "INSERT",
            &["INSERT", "UPSERT"],
            &mut problems,
        ) == "UPSERT";
        refuse_unsupported(config, &UNSUPPORTED, &mut problems);
        let parsed = EsConfig {
            urls,
            username: text(config, USERNAME),
            password: value(config, PASSWORD)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            batch_size: number(config, BATCH_SIZE, 2000, 1, &mut problems),
            bulk_bytes: number(config, BULK_BYTES, 5 * 1024 * 1024, 1, &mut problems),
            in_flight: number(config, IN_FLIGHT, 5, 1, &mut problems),
            buffered: number(config, BUFFERED, 20_000, 1, &mut problems),
            linger_ms: number(config, LINGER, 1, 0, &mut problems),
            flush_timeout_ms: number(config, FLUSH_TIMEOUT, 180_000, 1, &mut problems),
            max_retries: number(config, MAX_RETRIES, 5, 0, &mut problems),
            retry_backoff_ms: number(config, RETRY_BACKOFF, 100, 0, &mut problems),
            connect_timeout_ms: number(config, CONNECT_TIMEOUT, 1000, 1, &mut problems),
            read_timeout_ms: number(config, READ_TIMEOUT, 3000, 1, &mut problems),
            key_ignore: boolean(config, KEY_IGNORE, false, &mut problems),
            schema_ignore: boolean(config, SCHEMA_IGNORE, false, &mut problems),
            topic_key_ignore: list(config, TOPIC_KEY_IGNORE),
            topic_schema_ignore: list(config, TOPIC_SCHEMA_IGNORE),
            drop_invalid: boolean(config, DROP_INVALID, false, &mut problems),
            null_values,
            malformed,
            upsert,
            type_name: text(config, TYPE_NAME),
        };
        if parsed.password.is_some() && parsed.username.is_none() {
            problems.push((
                USERNAME.into(),
                format!("{PASSWORD} is set but {USERNAME} is not: both are needed for basic authentication"),
            ));
        }
        if problems.is_empty() {
            Ok(parsed)
        } else {
            Err(problems)
        }
    }

    /// Whether records of `topic` are written with generated ids.
    pub fn ignores_key(&self, topic: &str) -> bool {
        self.key_ignore || self.topic_key_ignore.iter().any(|t| t == topic)
    }

    /// Whether documents of `topic` are written without a mapping from
    /// their schema.
    pub fn ignores_schema(&self, topic: &str) -> bool {
        self.schema_ignore || self.topic_schema_ignore.iter().any(|t| t == topic)
    }
}

/// The keys, with Confluent's documentation abridged.
pub fn definition() -> Vec<ConfigKey> {
    use ConfigType::*;
    use Importance::*;
    let conn = "Connector";
    let data = "Data Conversion";
    let security = "Security";
    vec![
        Key::new(URLS, List).required().importance(High).group(conn, 1).resource(ResourceKind::Url)
            .doc("The URLs of Elasticsearch or OpenSearch servers, comma-separated (http:// or https://); requests go to the first that answers.").into(),
        key(USERNAME, String, None, Medium, conn, 2, "The username for basic authentication."),
        key(PASSWORD, Password, None, Medium, conn, 3, "The password for basic authentication."),
        key(BATCH_SIZE, Int, Some("2000"), Medium, conn, 4, "The number of records to send in one _bulk request."),
        key(BULK_BYTES, Long, Some("5242880"), Low, conn, 5, "The most bytes one _bulk request may carry."),
        key(IN_FLIGHT, Int, Some("5"), Medium, conn, 6, "How many _bulk requests may be in flight at once."),
        key(BUFFERED, Int, Some("20000"), Low, conn, 7, "How many records a task holds before it sends them regardless of linger.ms."),
        key(LINGER, Long, Some("1"), Low, conn, 8, "How long a batch that is not full waits for more records before it is sent."),
        key(FLUSH_TIMEOUT, Long, Some("180000"), Low, conn, 9, "How long sending what is buffered may take before the attempt fails and is retried."),
        key(MAX_RETRIES, Int, Some("5"), Low, conn, 10, "How many times a failed request is retried before the task fails."),
        key(RETRY_BACKOFF, Long, Some("100"), Low, conn, 11, "The first wait before a retry; it doubles with each retry."),
        key(CONNECT_TIMEOUT, Int, Some("1000"), Low, conn, 12, "How long to wait for a connection to be established."),
        key(READ_TIMEOUT, Int, Some("3000"), Low, conn, 13, "How long to wait for a response to start."),
        key(TYPE_NAME, String, Some(""), Low, conn, 14, "The document type, for servers older than Elasticsearch 7 that want one; empty sends none."),
        key(KEY_IGNORE, Boolean, Some("false"), High, data, 1, "Whether to ignore record keys and use topic+partition+offset as document ids."),
        key(SCHEMA_IGNORE, Boolean, Some("false"), Low, data, 2, "Whether to ignore record schemas instead of creating index mappings from them."),
        key(TOPIC_KEY_IGNORE, List, Some(""), Low, data, 3, "Topics whose keys are ignored."),
        key(TOPIC_SCHEMA_IGNORE, List, Some(""), Low, data, 4, "Topics whose schemas are ignored."),
        key(DROP_INVALID, Boolean, Some("false"), Low, data, 5, "Whether to drop records that cannot be turned into documents instead of failing."),
        key(NULL_VALUES, String, Some("FAIL"), Low, data, 6, "What to do with a record whose value is null: IGNORE, DELETE or FAIL."),
        key(MALFORMED, String, Some("FAIL"), Low, data, 7, "What to do with a document the server refuses as malformed: IGNORE, WARN or FAIL."),
        key(WRITE_METHOD, String, Some("INSERT"), Low, data, 8, "INSERT (index the document) or UPSERT (update it, creating it when missing)."),
        key(SECURITY_PROTOCOL, String, Some("PLAINTEXT"), Medium, security, 1, "PLAINTEXT or SSL; with SSL every URL must be https://, trusted by the worker's roots and sandbox.http.ca.file."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    use config_checks::pairs as config;

    #[test]
    fn defaults_follow_confluent() {
        let c = EsConfig::parse(&config(&[(URLS, "http://a:9200, http://b:9200")])).unwrap();
        assert_eq!(c.urls, ["http://a:9200", "http://b:9200"]);
        assert_eq!(
            (c.batch_size, c.in_flight, c.linger_ms, c.max_retries),
            (2000, 5, 1, 5)
        );
        assert_eq!(
            (c.null_values, c.malformed, c.upsert),
            (NullValues::Fail, Malformed::Fail, false)
        );
        assert!(!c.ignores_key("t"));
    }

    #[test]
    fn bad_values_and_unsupported_keys_are_named() {
        let problems = EsConfig::parse(&config(&[
            (URLS, "ftp://x"),
            (NULL_VALUES, "drop"),
            (WRITE_METHOD, "upsert"),
            ("connection.compression", "true"),
            (PASSWORD, "p"),
        ]))
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [URLS, NULL_VALUES, "connection.compression", USERNAME]
        );
        assert_eq!(
            problems[1].1,
            "Invalid value drop for configuration behavior.on.null.values: String must be one of: IGNORE, DELETE, FAIL"
        );
        let ssl = EsConfig::parse(&config(&[
            (URLS, "http://x:9200"),
            (SECURITY_PROTOCOL, "SSL"),
        ]))
        .unwrap_err();
        assert_eq!(
            ssl[0].1,
            "Invalid value http://x:9200 for configuration connection.url: SSL URLs must start with https://"
        );
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let c = EsConfig::parse(&config(&[
            (URLS, "http://a:9200"),
            (USERNAME, "u"),
            (PASSWORD, "hunter2"),
        ]))
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
