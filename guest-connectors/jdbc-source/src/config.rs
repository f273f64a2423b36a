//! The source's configuration keys (Confluent's `JdbcSourceConnectorConfig`
//! names and defaults), their definitions, and parsing with the checks
//! `validate` reports and `start` enforces.

pub use jdbc_common::settings::Problems;
use jdbc_common::settings::{
    self, ATTEMPTS, BACKOFF, DB_TIMEZONE, DIALECT, PASSWORD, URL, USER, boolean, number,
};
use jdbc_common::source_schema::NumericMapping;
use jdbc_common::source_sql::{
    Mode, TableFilter, split_list, valid_topic_prefix, whole_match_regex,
};
use jdbc_common::{Dialect, TableId};
use wasmconnect_sdk::{
    ConfigExt, ConfigKey, ConfigType, Importance, Key, ResourceKind, config_key as key,
};

pub const MODE: &str = "mode";
pub const INCREMENTING: &str = "incrementing.column.name";
pub const TIMESTAMP: &str = "timestamp.column.name";
pub const TIMESTAMP_INITIAL: &str = "timestamp.initial";
pub const TIMESTAMP_DELAY: &str = "timestamp.delay.interval.ms";
pub const VALIDATE_NON_NULL: &str = "validate.non.null";
pub const WHITELIST: &str = "table.whitelist";
pub const BLACKLIST: &str = "table.blacklist";
pub const INCLUDE: &str = "table.include.list";
pub const EXCLUDE: &str = "table.exclude.list";
pub const QUERY: &str = "query";
pub const QUERY_SUFFIX: &str = "query.suffix";
pub const TOPIC_PREFIX: &str = "topic.prefix";
pub const POLL_INTERVAL: &str = "poll.interval.ms";
pub const BATCH_MAX_ROWS: &str = "batch.max.rows";
pub const TABLE_POLL_INTERVAL: &str = "table.poll.interval.ms";
pub const NUMERIC_MAPPING: &str = "numeric.mapping";
pub const NUMERIC_PRECISION_MAPPING: &str = "numeric.precision.mapping";
/// Task-only: the tables a task reads, as a JSON array of `[schema, name]`.
pub const TABLES: &str = "tables";

/// Confluent keys this connector does not implement, with the one value
/// that means "not used": anything else is refused rather than ignored.
const UNSUPPORTED: [(&str, &str); 11] = [
    ("timestamp.granularity", "connect_logical"),
    ("quote.sql.identifiers", "always"),
    ("table.types", "table"),
    ("schema.pattern", ""),
    ("catalog.pattern", ""),
    ("query.retry.attempts", "-1"),
    ("transaction.isolation.mode", "default"),
    ("sql.complex.types.enable", "false"),
    ("timestamp.columns.mapping", ""),
    ("incrementing.column.mapping", ""),
    ("query.masked", ""),
];

/// A parsed source configuration.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// `connection.*`.
    pub conn: settings::ConnectionSettings,
    pub mode: Mode,
    /// Empty: the first auto-increment column.
    pub incrementing: String,
    pub timestamps: Vec<String>,
    /// Epoch ms, or −1 for the database's current time.
    pub timestamp_initial: Option<i64>,
    pub delay_ms: i64,
    pub validate_non_null: bool,
    pub filter: TableFilter,
    pub query: Option<String>,
    pub suffix: String,
    pub topic_prefix: String,
    pub poll_interval_ms: u64,
    pub table_poll_interval_ms: u64,
    pub batch_max_rows: u32,
    pub numeric_mapping: NumericMapping,
    pub dialect: Option<Dialect>,
}

impl SourceConfig {
    /// Parses and checks a connector or task configuration.
    pub fn parse(config: &[(String, String)]) -> Result<SourceConfig, Problems> {
        let mut problems = Problems::new();
        let text = |k: &str| settings::text(config, k);
        let conn = settings::connection(config, &mut problems);
        let mode_raw = config.value(MODE).unwrap_or_default();
        let mode = Mode::parse(mode_raw).unwrap_or_else(|| {
            problems.push((MODE.into(), format!(
                "Invalid value {mode_raw} for configuration mode: String must be one of: bulk, timestamp, incrementing, timestamp+incrementing"
            )));
            Mode::Bulk
        });
        let timestamps = split_list(config.value(TIMESTAMP).unwrap_or_default());
        if mode.uses_timestamp() && timestamps.is_empty() {
            problems.push((
                TIMESTAMP.into(),
                format!("Mode {mode_raw} requires timestamp.column.name"),
            ));
        }
        let timestamp_initial = match text(TIMESTAMP_INITIAL).map(|v| v.parse::<i64>()) {
            None => None,
            Some(Ok(v)) if v >= -1 => Some(v),
            Some(_) => {
                problems.push((
                    TIMESTAMP_INITIAL.into(),
                    "timestamp.initial must be epoch milliseconds, or -1 for the current time"
                        .into(),
                ));
                None
            }
        };
        let lists = [WHITELIST, BLACKLIST, INCLUDE, EXCLUDE]
            .map(|k| split_list(config.value(k).unwrap_or_default()));
        let [white, black, include, exclude] = lists.clone();
        let query = text(QUERY);
        if query.is_some() && lists.iter().any(|l| !l.is_empty()) {
            problems.push((
                QUERY.into(),
                "Do not specify table filtering settings with a query".into(),
            ));
        }
        if !white.is_empty() && !black.is_empty() {
            problems.push((
                WHITELIST.into(),
                "table.whitelist and table.blacklist cannot both be set".into(),
            ));
        }
        if (!white.is_empty() || !black.is_empty()) && (!include.is_empty() || !exclude.is_empty())
        {
            problems.push((INCLUDE.into(), "table.include.list/table.exclude.list cannot be combined with table.whitelist/table.blacklist".into()));
        }
        let mut compile = |key: &str, list: &[String]| -> Vec<_> {
            list.iter()
                .filter_map(|p| {
                    whole_match_regex(p)
                        .map_err(|e| problems.push((key.into(), e)))
                        .ok()
                })
                .collect()
        };
        let filter = if !white.is_empty() {
            TableFilter::Whitelist(white)
        } else if !black.is_empty() {
            TableFilter::Blacklist(black)
        } else if !include.is_empty() || !exclude.is_empty() {
            TableFilter::Patterns {
                include: compile(INCLUDE, &include),
                exclude: compile(EXCLUDE, &exclude),
            }
        } else {
            TableFilter::All
        };
        let topic_prefix = config
            .value(TOPIC_PREFIX)
            .unwrap_or_default()
            .trim()
            .to_string();
        if !valid_topic_prefix(&topic_prefix) {
            problems.push((TOPIC_PREFIX.into(), format!(
                "Invalid value {topic_prefix} for configuration topic.prefix: at most 249 characters of [a-zA-Z0-9._-]"
            )));
        }
        if query.is_some() && topic_prefix.is_empty() {
            problems.push((
                TOPIC_PREFIX.into(),
                "In query mode topic.prefix is the topic and must be set".into(),
            ));
        }
        if query.is_some() && mode.uses_incrementing() && text(INCREMENTING).is_none() {
            problems.push((INCREMENTING.into(), "Query mode needs incrementing.column.name: there is no table to find the auto-increment column of".into()));
        }
        let numeric_mapping = match text(NUMERIC_MAPPING) {
            Some(v) => NumericMapping::parse(&v).unwrap_or_else(|| {
                problems.push((NUMERIC_MAPPING.into(), format!(
                    "Invalid value {v} for configuration numeric.mapping: String must be one of: none, precision_only, best_fit, best_fit_eager_double"
                )));
                NumericMapping::None
            }),
            // The deprecated boolean, honoured when numeric.mapping is unset.
            None if text(NUMERIC_PRECISION_MAPPING).is_some_and(|v| v.eq_ignore_ascii_case("true")) => NumericMapping::PrecisionOnly,
            None => NumericMapping::None,
        };
        settings::require_utc(
            config,
            "zone-less timestamps are read as UTC",
            &mut problems,
        );
        let dialect = settings::dialect(config, &mut problems);
        settings::refuse_unsupported(config, &UNSUPPORTED, &mut problems);
        let validate_non_null = boolean(config, VALIDATE_NON_NULL, true, &mut problems);
        let parsed = SourceConfig {
            conn,
            mode,
            incrementing: text(INCREMENTING).unwrap_or_default(),
            timestamps,
            timestamp_initial,
            delay_ms: number(config, TIMESTAMP_DELAY, 0, 0, &mut problems),
            validate_non_null,
            filter,
            query,
            suffix: config
                .value(QUERY_SUFFIX)
                .unwrap_or_default()
                .trim()
                .to_string(),
            topic_prefix,
            poll_interval_ms: number(config, POLL_INTERVAL, 5000, 1, &mut problems),
            table_poll_interval_ms: number(config, TABLE_POLL_INTERVAL, 60_000, 0, &mut problems),
            batch_max_rows: number(config, BATCH_MAX_ROWS, 1000, 1, &mut problems),
            numeric_mapping,
            dialect,
        };
        if problems.is_empty() {
            Ok(parsed)
        } else {
            Err(problems)
        }
    }
}

/// The tables of a task configuration.
pub fn task_tables(config: &[(String, String)]) -> Result<Vec<TableId>, String> {
    let raw = config.value(TABLES).unwrap_or("[]");
    let pairs: Vec<(Option<String>, String)> =
        serde_json::from_str(raw).map_err(|e| format!("Invalid task configuration tables: {e}"))?;
    Ok(pairs
        .into_iter()
        .map(|(schema, name)| TableId { schema, name })
        .collect())
}

/// The task configuration value for `tables`.
pub fn tables_value(tables: &[TableId]) -> String {
    let pairs: Vec<(&Option<String>, &String)> =
        tables.iter().map(|t| (&t.schema, &t.name)).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// The keys, with Confluent's documentation abridged.
pub fn definition() -> Vec<ConfigKey> {
    use ConfigType::*;
    use Importance::*;
    let db = "Database";
    let mode = "Mode";
    let conn = "Connector";
    vec![
        Key::new(URL, String).importance(High).group(db, 1).resource(ResourceKind::Url)
            .doc("JDBC connection URL (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, jdbc:sqlite:/path, or postgres://, mysql://, sqlite:)").into(),
        key(USER, String, None, High, db, 2, "JDBC connection user."),
        key(PASSWORD, Password, None, High, db, 3, "JDBC connection password."),
        key(ATTEMPTS, Int, Some("3"), Low, db, 4, "Maximum number of attempts to retrieve a valid JDBC connection."),
        key(BACKOFF, Long, Some("10000"), Low, db, 5, "Backoff time in milliseconds between connection attempts."),
        key(WHITELIST, List, Some(""), Medium, db, 6, "List of tables to include in copying."),
        key(BLACKLIST, List, Some(""), Medium, db, 7, "List of tables to exclude from copying."),
        key(INCLUDE, List, Some(""), Medium, db, 8, "Regular expressions over schema.table naming the tables to copy."),
        key(EXCLUDE, List, Some(""), Medium, db, 9, "Regular expressions over schema.table naming tables not to copy."),
        key(NUMERIC_PRECISION_MAPPING, Boolean, Some("false"), Low, db, 10, "Deprecated: numeric.mapping=precision_only."),
        key(NUMERIC_MAPPING, String, None, Low, db, 11, "Map NUMERIC values by precision and optionally scale: none, precision_only, best_fit, best_fit_eager_double."),
        key(DIALECT, String, Some(""), Low, db, 12, "The database dialect; empty detects it from the connection."),
        key(MODE, String, Some(""), High, mode, 1, "bulk, incrementing, timestamp or timestamp+incrementing."),
        key(INCREMENTING, String, Some(""), Medium, mode, 2, "The strictly incrementing column; empty uses the first auto-increment column."),
        key(TIMESTAMP, List, Some(""), Medium, mode, 3, "Timestamp columns; several are combined with COALESCE."),
        key(TIMESTAMP_INITIAL, Long, None, Low, mode, 4, "Epoch ms to start timestamp modes from when no offset is stored; -1 for the current time."),
        key(VALIDATE_NON_NULL, Boolean, Some("true"), Low, mode, 5, "Fail when the incrementing or timestamp columns are nullable."),
        key(QUERY, String, Some(""), Medium, mode, 6, "A query to run instead of copying tables."),
        key(QUERY_SUFFIX, String, Some(""), Low, mode, 7, "Appended to the generated query."),
        key(POLL_INTERVAL, Int, Some("5000"), High, conn, 1, "How often to poll each table for new data, in ms."),
        key(BATCH_MAX_ROWS, Int, Some("1000"), Low, conn, 2, "Maximum number of rows in one batch."),
        key(TABLE_POLL_INTERVAL, Long, Some("60000"), Low, conn, 3, "Frequency in ms to poll for new or removed tables, which may result in updated task configurations to start polling for data in added tables or stop polling for data in removed tables (the worker checks at most once a second)."),
        key(TOPIC_PREFIX, String, Some(""), High, conn, 4, "Prefix of the table name to make the topic; in query mode the topic."),
        key(TIMESTAMP_DELAY, Long, Some("0"), High, conn, 5, "How long after a row's timestamp it is read, in ms."),
        key(DB_TIMEZONE, String, Some("UTC"), Medium, conn, 6, "Time zone of zone-less timestamps; only UTC is supported."),
    ]
}
