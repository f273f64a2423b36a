//! The configuration both JDBC connectors read alike: the connection keys,
//! `dialect.name`, `db.timezone`, Confluent keys a connector does not
//! implement, and numbers and booleans checked with Kafka's `ConfigDef`
//! messages. Each function adds what is wrong to a [`Problems`] list, so
//! `validate` can report every problem at once and `start` can refuse them.

use crate::Dialect;

pub const URL: &str = "connection.url";
pub const USER: &str = "connection.user";
pub const PASSWORD: &str = "connection.password";
pub const ATTEMPTS: &str = "connection.attempts";
pub const BACKOFF: &str = "connection.backoff.ms";
pub const DIALECT: &str = "dialect.name";
pub const DB_TIMEZONE: &str = "db.timezone";

/// Problems found, as (key, message).
pub type Problems = Vec<(String, String)>;

/// Zone names that mean UTC, the only `db.timezone` supported.
const UTC_NAMES: [&str; 6] = ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "UCT"];

/// The value of `key` (the last one, as in a properties file).
pub fn value<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value of `key`, trimmed, when set and not blank.
pub fn text(config: &[(String, String)], key: &str) -> Option<String> {
    value(config, key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `key` as a number of at least `min`, or `default` when unset.
pub fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    config: &[(String, String)],
    key: &str,
    default: T,
    min: T,
    problems: &mut Problems,
) -> T {
    let Some(raw) = text(config, key) else {
        return default;
    };
    match raw.parse::<T>() {
        Ok(v) if v >= min => v,
        Ok(_) => {
            problems.push((
                key.into(),
                format!(
                    "Invalid value {raw} for configuration {key}: Value must be at least {min}"
                ),
            ));
            default
        }
        Err(_) => {
            problems.push((
                key.into(),
                format!("Invalid value {raw} for configuration {key}: Not a number"),
            ));
            default
        }
    }
}

/// `key` as `true` or `false` (any case), or `default` when unset.
pub fn boolean(
    config: &[(String, String)],
    key: &str,
    default: bool,
    problems: &mut Problems,
) -> bool {
    match text(config, key) {
        None => default,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            problems.push((
                key.into(),
                format!(
                    "Invalid value {v} for configuration {key}: Expected value to be either true or false"
                ),
            ));
            default
        }
    }
}

/// Where and as whom to connect, and how often to try. Its `Debug` hides
/// the password.
#[derive(Clone)]
pub struct ConnectionSettings {
    pub url: String,
    pub user: Option<String>,
    /// Kept as given (a password may begin or end with blanks).
    pub password: Option<String>,
    pub attempts: u32,
    pub backoff_ms: u32,
}

impl std::fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[hidden]"))
            .field("attempts", &self.attempts)
            .field("backoff_ms", &self.backoff_ms)
            .finish()
    }
}

/// The `connection.*` keys; the URL is required.
pub fn connection(config: &[(String, String)], problems: &mut Problems) -> ConnectionSettings {
    let url = text(config, URL).unwrap_or_default();
    if url.is_empty() {
        problems.push((
            URL.into(),
            format!("Missing required configuration \"{URL}\" which has no default value."),
        ));
    }
    ConnectionSettings {
        url,
        user: text(config, USER),
        password: value(config, PASSWORD)
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        attempts: number(config, ATTEMPTS, 3, 1, problems),
        backoff_ms: number(config, BACKOFF, 10_000, 0, problems),
    }
}

/// `dialect.name`: `None` detects the dialect from the connection.
pub fn dialect(config: &[(String, String)], problems: &mut Problems) -> Option<Dialect> {
    Dialect::from_name(value(config, DIALECT).unwrap_or_default()).unwrap_or_else(|e| {
        problems.push((DIALECT.into(), e));
        None
    })
}

/// `db.timezone` must name UTC: `what` says how the connector treats
/// zone-less timestamps, for the message.
pub fn require_utc(config: &[(String, String)], what: &str, problems: &mut Problems) {
    if let Some(tz) = text(config, DB_TIMEZONE)
        && !UTC_NAMES.contains(&tz.as_str())
    {
        problems.push((
            DB_TIMEZONE.into(),
            format!("db.timezone={tz} is not supported: {what}; set UTC"),
        ));
    }
}

/// Refuses Confluent keys a connector does not implement, each given with
/// the one value that means "not used", rather than ignoring them.
pub fn refuse_unsupported(
    config: &[(String, String)],
    unsupported: &[(&str, &str)],
    problems: &mut Problems,
) {
    for &(key, unused) in unsupported {
        if let Some(v) = text(config, key)
            && !v.eq_ignore_ascii_case(unused)
        {
            problems.push((
                key.into(),
                format!("{key} is not supported by this connector (only '{unused}')"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn numbers_and_booleans_are_checked_with_kafkas_messages() {
        let c = config(&[
            ("a", " 5 "),
            ("b", "0"),
            ("c", "x"),
            ("t", "TRUE"),
            ("f", "no"),
        ]);
        let mut problems = Problems::new();
        assert_eq!(number(&c, "a", 1, 1, &mut problems), 5);
        assert_eq!(number(&c, "b", 7, 1, &mut problems), 7);
        assert_eq!(number(&c, "c", 7, 1, &mut problems), 7);
        assert_eq!(number(&c, "unset", 9, 1, &mut problems), 9);
        assert!(boolean(&c, "t", false, &mut problems));
        assert!(boolean(&c, "f", true, &mut problems));
        assert_eq!(
            problems,
            [
                ("b".into(), "Invalid value 0 for configuration b: Value must be at least 1".into()),
                ("c".into(), "Invalid value x for configuration c: Not a number".into()),
                ("f".into(), "Invalid value no for configuration f: Expected value to be either true or false".into()),
            ]
        );
    }

    #[test]
    fn the_connection_keys_the_zone_and_unsupported_keys() {
        let mut problems = Problems::new();
        let c = config(&[
            (PASSWORD, " secret "),
            (DB_TIMEZONE, "Europe/Paris"),
            ("quote.sql.identifiers", "never"),
            ("table.types", "TABLE"),
        ]);
        let conn = connection(&c, &mut problems);
        assert_eq!(conn.password.as_deref(), Some(" secret "));
        assert!(!format!("{conn:?}").contains("secret"));
        assert_eq!((conn.attempts, conn.backoff_ms), (3, 10_000));
        require_utc(&c, "timestamps are written as UTC", &mut problems);
        refuse_unsupported(
            &c,
            &[
                ("quote.sql.identifiers", "always"),
                ("table.types", "table"),
            ],
            &mut problems,
        );
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [URL, DB_TIMEZONE, "quote.sql.identifiers"]);
        assert_eq!(
            problems[1].1,
            "db.timezone=Europe/Paris is not supported: timestamps are written as UTC; set UTC"
        );
    }
}
