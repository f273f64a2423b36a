//! The configuration both JDBC connectors read alike: the connection keys,
//! `dialect.name`, `db.timezone`, Confluent keys a connector does not
//! implement, and numbers and booleans checked with Kafka's `ConfigDef`
//! messages (from `config-checks`). Each function adds what is wrong to a [`Problems`] list, so
//! `validate` can report every problem at once and `start` can refuse them.

use crate::Dialect;
pub use config_checks::{Problems, boolean, number, refuse_unsupported, text, value};

pub const URL: &str = "connection.url";
pub const USER: &str = "connection.user";
pub const PASSWORD: &str = "connection.password";
pub const ATTEMPTS: &str = "connection.attempts";
pub const BACKOFF: &str = "connection.backoff.ms";
pub const DIALECT: &str = "dialect.name";
pub const DB_TIMEZONE: &str = "db.timezone";

/// Zone names that mean UTC, the only `db.timezone` supported.
const UTC_NAMES: [&str; 6] = ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "UCT"];

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

#[cfg(test)]
mod tests {
    use super::*;

    use config_checks::pairs as config;

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
