//! The sink's configuration keys (Confluent's `JdbcSinkConfig` names and
//! defaults), their definitions, and parsing with the checks `validate`
//! reports and `start` enforces.

use jdbc_common::Dialect;
pub use jdbc_common::settings::Problems;
use jdbc_common::settings::{
    self, ATTEMPTS, BACKOFF, DB_TIMEZONE, DIALECT, PASSWORD, URL, USER, boolean, number,
};
use jdbc_common::sink_sql::{InsertMode, KAFKA_PK_DEFAULTS, PkMode};
use jdbc_common::source_sql::split_list;
use wasmconnect_sdk::{
    ConfigExt, ConfigKey, ConfigType, Importance, Key, ResourceKind, config_key as key,
};

pub const INSERT_MODE: &str = "insert.mode";
pub const PK_MODE: &str = "pk.mode";
pub const PK_FIELDS: &str = "pk.fields";
pub const AUTO_CREATE: &str = "auto.create";
pub const AUTO_EVOLVE: &str = "auto.evolve";
pub const DELETE_ENABLED: &str = "delete.enabled";
pub const TABLE_FORMAT: &str = "table.name.format";
pub const BATCH_SIZE: &str = "batch.size";
pub const WHITELIST: &str = "fields.whitelist";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF: &str = "retry.backoff.ms";

/// Confluent keys this connector does not implement, with the one value
/// that means "not used": anything else is refused rather than ignored.
const UNSUPPORTED: [(&str, &str); 7] = [
    ("quote.sql.identifiers", "always"),
    ("table.types", "table"),
    ("timestamp.fields.list", ""),
    ("sql.complex.types.enable", "false"),
    ("replace.null.with.default", "true"),
    ("date.timezone", "db_timezone"),
    ("trim.sensitive.log", "false"),
];

/// A parsed sink configuration.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// `connection.*`.
    pub conn: settings::ConnectionSettings,
    pub insert_mode: InsertMode,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub delete_enabled: bool,
    pub table_format: String,
    pub batch_size: usize,
    pub whitelist: Vec<String>,
    pub max_retries: u32,
    pub retry_backoff_ms: u32,
    pub dialect: Option<Dialect>,
}

impl SinkConfig {
    /// Parses and checks a sink configuration.
    pub fn parse(config: &[(String, String)]) -> Result<SinkConfig, Problems> {
        let mut problems = Problems::new();
        let text = |k: &str| settings::text(config, k);
        let conn = settings::connection(config, &mut problems);
        let insert_raw = text(INSERT_MODE).unwrap_or_else(|| "insert".into());
        let insert_mode = InsertMode::parse(&insert_raw).unwrap_or_else(|| {
            problems.push((INSERT_MODE.into(), format!("Invalid value {insert_raw} for configuration insert.mode: String must be one of: insert, upsert, update")));
            InsertMode::Insert
        });
        let pk_raw = text(PK_MODE).unwrap_or_else(|| "none".into());
        let pk_mode = PkMode::parse(&pk_raw).unwrap_or_else(|| {
            problems.push((PK_MODE.into(), format!("Invalid value {pk_raw} for configuration pk.mode: String must be one of: none, kafka, record_key, record_value")));
            PkMode::None
        });
        let pk_fields = split_list(config.value(PK_FIELDS).unwrap_or_default());
        if pk_mode == PkMode::Kafka && !(pk_fields.is_empty() || pk_fields.len() == 3) {
            problems.push((PK_FIELDS.into(), format!(
                "PK mode is kafka so there should either be no field names defined for defaults {} to be applicable, or exactly 3, defined fields are: {}",
                KAFKA_PK_DEFAULTS.join(","), pk_fields.join(",")
            )));
        }
        if pk_mode == PkMode::None && insert_mode != InsertMode::Insert {
            problems.push((
                PK_MODE.into(),
                format!(
                    "insert.mode={insert_raw} requires key field names to be known: set pk.mode"
                ),
            ));
        }
        let delete_enabled = boolean(config, DELETE_ENABLED, false, &mut problems);
        if delete_enabled && pk_mode != PkMode::RecordKey {
            problems.push((
                DELETE_ENABLED.into(),
                "Deletes are only supported for pk.mode record_key".into(),
            ));
        }
        settings::require_utc(config, "timestamps are written as UTC", &mut problems);
        let dialect = settings::dialect(config, &mut problems);
        settings::refuse_unsupported(config, &UNSUPPORTED, &mut problems);
        let table_format = config
            .value(TABLE_FORMAT)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("${topic}")
            .to_string();
        let parsed = SinkConfig {
            conn,
            insert_mode,
            pk_mode,
            pk_fields,
            auto_create: boolean(config, AUTO_CREATE, false, &mut problems),
            auto_evolve: boolean(config, AUTO_EVOLVE, false, &mut problems),
            delete_enabled,
            table_format,
            batch_size: number(config, BATCH_SIZE, 3000, 1, &mut problems),
            whitelist: split_list(config.value(WHITELIST).unwrap_or_default()),
            max_retries: number(config, MAX_RETRIES, 10, 0, &mut problems),
            retry_backoff_ms: number(config, RETRY_BACKOFF, 3000, 0, &mut problems),
            dialect,
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
    let conn = "Connection";
    let writes = "Writes";
    let fields = "Data Mapping";
    let ddl = "DDL Support";
    let retries = "Retries";
    vec![
        Key::new(URL, String).required().importance(High).group(conn, 1).resource(ResourceKind::Url)
            .doc("JDBC connection URL (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, jdbc:sqlite:/path, or postgres://, mysql://, sqlite:)").into(),
        key(USER, String, None, High, conn, 2, "JDBC connection user."),
        key(PASSWORD, Password, None, High, conn, 3, "JDBC connection password."),
        key(DIALECT, String, Some(""), Low, conn, 4, "The database dialect; empty detects it from the connection."),
        key(ATTEMPTS, Int, Some("3"), Low, conn, 5, "Maximum number of attempts to retrieve a valid JDBC connection."),
        key(BACKOFF, Long, Some("10000"), Low, conn, 6, "Backoff time in milliseconds between connection attempts."),
        key(INSERT_MODE, String, Some("insert"), High, writes, 1, "insert, upsert or update."),
        key(BATCH_SIZE, Int, Some("3000"), Medium, writes, 2, "How many records to batch into one statement execution."),
        key(DELETE_ENABLED, Boolean, Some("false"), Medium, writes, 3, "Whether to treat null record values as deletes (requires pk.mode record_key)."),
        key(TABLE_FORMAT, String, Some("${topic}"), Medium, fields, 1, "Destination table name format; ${topic} is the record's topic."),
        key(PK_MODE, String, Some("none"), High, fields, 2, "none, kafka, record_key or record_value."),
        key(PK_FIELDS, List, Some(""), Medium, fields, 3, "Primary key field names (meaning depends on pk.mode)."),
        key(WHITELIST, List, Some(""), Medium, fields, 4, "Record value fields to write; empty writes all."),
        key(DB_TIMEZONE, String, Some("UTC"), Medium, fields, 5, "Time zone of timestamps written; only UTC is supported."),
        key(AUTO_CREATE, Boolean, Some("false"), Medium, ddl, 1, "Create the destination table when it is missing."),
        key(AUTO_EVOLVE, Boolean, Some("false"), Medium, ddl, 2, "Add columns for new record fields (ALTER TABLE ADD)."),
        key(MAX_RETRIES, Int, Some("10"), Medium, retries, 1, "How many times to retry on transient errors before failing the task."),
        key(RETRY_BACKOFF, Int, Some("3000"), Medium, retries, 2, "Milliseconds to wait before retrying after a transient error."),
    ]
}
