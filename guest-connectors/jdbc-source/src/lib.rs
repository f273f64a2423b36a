//! Confluent's JdbcSourceConnector as a wasmconnect component
//! (`io.confluent.connect.jdbc.JdbcSourceConnector`), over the worker's
//! `wasmconnect:database/sql` capability: PostgreSQL, MySQL/MariaDB and
//! SQLite.
//!
//! The connector lists the tables of the connection's schema (or database),
//! filters them, and divides them over `tasks.max` tasks in contiguous
//! groups; a `query` runs in one task. Each task queries its tables in turn
//! with the SQL of its `mode`, at most `batch.max.rows` rows per poll, each
//! table again `poll.interval.ms` after its last query ended. Records have
//! a null key and the row as a Struct with a schema derived from the
//! column types; source partitions and offsets are Confluent's, so a
//! restarted task resumes where the last committed record left off.

mod config;
mod convert;
mod querier;

use config::{SourceConfig, TABLES};
use jdbc_common::source_sql::{Offset, Source, group_partitions, legacy_partition_json};
use jdbc_common::{Cell, Dialect, TableId};
use querier::{Failure, Querier};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use wasmconnect_sdk::db::{Connection, DbError, QueryExt};
use wasmconnect_sdk::reconfiguration::recheck_task_configs_every;

use wasmconnect_sdk::{
    Config, ConfigKey, ConfigValue, Connector, Plugin, PluginKind, PluginMetadata, SourceRecord,
    SourceTask, TaskError, fatal, info, read_offsets, retriable, sleep_unless_stopped,
    stop_requested, warn,
};

/// How long one poll may spend waiting or querying before it returns.
const POLL_BUDGET: Duration = Duration::from_millis(900);

fn start_error(problems: config::Problems) -> TaskError {
    let text: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
    fatal(text.join("; "))
}

/// Checks the connection reached the configured dialect.
fn check_dialect(conn: &Connection, wanted: Option<Dialect>) -> Result<Dialect, TaskError> {
    let dialect = match conn.dialect() {
        wasmconnect_sdk::db::Dialect::Postgresql => Dialect::Postgres,
        wasmconnect_sdk::db::Dialect::Mysql => Dialect::MySql,
        wasmconnect_sdk::db::Dialect::Sqlite => Dialect::Sqlite,
    };
    match wanted {
        Some(w) if w != dialect => Err(fatal(format!(
            "dialect.name is {} but connection.url reaches a {} database",
            w.name(),
            dialect.name()
        ))),
        _ => Ok(dialect),
    }
}

/// The connector role: lists and divides the tables, and lists them again
/// every `table.poll.interval.ms` (the worker asks for task configurations
/// at that interval, and replaces the tasks when the tables changed).
pub struct JdbcSourceConnector {
    config: Config,
    cfg: SourceConfig,
    tables: Vec<TableId>,
    query_mode: bool,
    /// The tables were just listed by `start`: the first `task_configs`
    /// need not list them again.
    fresh: bool,
    /// The connection the tables are listed over.
    conn: Option<Connection>,
}

impl Plugin for JdbcSourceConnector {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.confluent.connect.jdbc.JdbcSourceConnector".into(),
            aliases: vec!["JdbcSourceConnector".into(), "JdbcSource".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Source,
            description:
                "Copies tables or a query from PostgreSQL, MySQL/MariaDB or SQLite to Kafka".into(),
            task_class: Some("io.confluent.connect.jdbc.source.JdbcSourceTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::definition()
    }

    fn validate(config: &[(String, String)]) -> Vec<ConfigValue> {
        match SourceConfig::parse(config) {
            Ok(_) => Vec::new(),
            Err(problems) => wasmconnect_sdk::validation_errors(config, problems),
        }
    }
}

/// Opens the database, retrying transient failures `connection.attempts`
/// times `connection.backoff.ms` apart (the connector's start may wait).
fn open_with_attempts(cfg: &SourceConfig) -> Result<Connection, TaskError> {
    let mut attempt = 1;
    loop {
        match Connection::open(
            &cfg.conn.url,
            cfg.conn.user.as_deref(),
            cfg.conn.password.as_deref(),
        ) {
            Ok(c) => return Ok(c),
            Err(e) if e.is_retriable() && attempt < cfg.conn.attempts => {
                warn!(
                    "Connection attempt {attempt} of {} failed: {}",
                    cfg.conn.attempts,
                    e.describe()
                );
                attempt += 1;
                if sleep_unless_stopped(Duration::from_millis(u64::from(cfg.conn.backoff_ms))) {
                    return Err(fatal("stopped while connecting"));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn list_tables(conn: &Connection, dialect: Dialect) -> Result<Vec<TableId>, DbError> {
    let mut cursor = conn.prepare(dialect.list_tables_sql())?.query_rows(&[])?;
    let mut tables = Vec::new();
    while let Some(rows) = cursor.fetch(1000)? {
        for row in rows {
            let mut cells = row.into_iter().map(convert::cell);
            let schema = match cells.next() {
                Some(Cell::Text(s)) => Some(s),
                _ => None,
            };
            if let Some(Cell::Text(name)) = cells.next() {
                tables.push(TableId { schema, name });
            }
        }
    }
    Ok(tables)
}

/// The tables of the connection's schema that the configuration selects.
fn selected_tables(cfg: &SourceConfig, conn: &Connection) -> Result<Vec<TableId>, TaskError> {
    let dialect = check_dialect(conn, cfg.dialect)?;
    Ok(list_tables(conn, dialect)?
        .into_iter()
        .filter(|t| cfg.filter.selects(dialect, t))
        .collect())
}

impl JdbcSourceConnector {
    /// Lists the tables again (Confluent's table monitor). A database that
    /// cannot be reached now keeps the tasks on the tables they have, as
    /// the monitor keeps its last list; any other failure fails the
    /// connector.
    fn relist(&mut self) -> Result<(), TaskError> {
        let cfg = &self.cfg;
        let conn = match self.conn.take() {
            Some(conn) => Ok(conn),
            None => Connection::open(
                &cfg.conn.url,
                cfg.conn.user.as_deref(),
                cfg.conn.password.as_deref(),
            )
            .map_err(TaskError::from),
        };
        let listed = conn.and_then(|conn| {
            let tables = selected_tables(cfg, &conn)?;
            Ok((conn, tables))
        });
        let tables = match listed {
            Ok((conn, tables)) => {
                // Kept for the next listing, as Confluent's table monitor
                // keeps its connection; a failed one is opened again.
                self.conn = Some(conn);
                tables
            }
            Err(TaskError::Retriable(e)) => {
                warn!(
                    "Cannot list the tables now, keeping the last list: {}",
                    e.message
                );
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if tables != self.tables {
            info!(
                "The tables to copy changed from {} to {}: reconfiguring the tasks",
                config::tables_value(&self.tables),
                config::tables_value(&tables)
            );
            self.tables = tables;
        }
        Ok(())
    }
}

impl Connector for JdbcSourceConnector {
    fn start(config: Config) -> Result<Self, TaskError> {
        let cfg = SourceConfig::parse(&config).map_err(start_error)?;
        let query_mode = cfg.query.is_some();
        let mut tables = Vec::new();
        let mut conn = None;
        if !query_mode {
            let opened = open_with_attempts(&cfg)?;
            tables = selected_tables(&cfg, &opened)?;
            conn = Some(opened);
            info!("Found {} tables to copy", tables.len());
            // Zero asks as often as the worker allows (once a second).
            recheck_task_configs_every(Duration::from_millis(cfg.table_poll_interval_ms.max(1)));
        }
        Ok(JdbcSourceConnector {
            config,
            cfg,
            tables,
            query_mode,
            fresh: true,
            conn,
        })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        if !self.query_mode && !std::mem::take(&mut self.fresh) {
            self.relist()?;
        }
        let with_tables = |tables: &[TableId]| {
            let mut c = self.config.clone();
            c.retain(|(k, _)| k != TABLES);
            c.push((TABLES.into(), config::tables_value(tables)));
            c
        };
        if self.query_mode {
            return Ok(vec![with_tables(&[])]);
        }
        if self.tables.is_empty() {
            warn!("No tables were found so there's no work to be done");
            return Ok(Vec::new());
        }
        let groups = self.tables.len().min(max_tasks.max(1) as usize);
        Ok(group_partitions(&self.tables, groups)
            .iter()
            .map(|g| with_tables(g))
            .collect())
    }
}

/// The task: queries its tables in turn.
pub struct JdbcSourceTask {
    cfg: SourceConfig,
    conn: Option<Connection>,
    dialect: Dialect,
    /// Transient connection failures left before the task fails.
    attempts_left: u32,
    /// The querier at the front holds the cursor until its query is read out.
    queriers: VecDeque<Querier>,
}

impl SourceTask for JdbcSourceTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let cfg = SourceConfig::parse(&config).map_err(start_error)?;
        let sources: Vec<(Source, Option<String>)> = match &cfg.query {
            Some(q) => vec![(Source::Query(q.clone()), None)],
            None => config::task_tables(&config)
                .map_err(fatal)?
                .into_iter()
                .map(|t| {
                    let legacy = legacy_partition_json(&t);
                    (Source::Table(t), Some(legacy))
                })
                .collect(),
        };
        let mut queriers: Vec<Querier> = Vec::with_capacity(sources.len());
        // Each querier's current partition, then Confluent's legacy one.
        let mut partitions = Vec::with_capacity(2 * sources.len());
        for (source, legacy) in sources {
            let q = Querier::new(source, &cfg);
            partitions.push(q.partition.clone());
            partitions.push(legacy.unwrap_or_else(|| q.partition.clone()));
            queriers.push(q);
        }
        let stored = read_offsets(&partitions)?;
        for (i, q) in queriers.iter_mut().enumerate() {
            let found = stored
                .get(2 * i)
                .cloned()
                .flatten()
                .or_else(|| stored.get(2 * i + 1).cloned().flatten());
            let offset = match found {
                Some(text) => Some(Offset::from_json(&text).map_err(fatal)?),
                None => None,
            };
            q.restore(offset, &cfg);
        }
        Ok(JdbcSourceTask {
            attempts_left: cfg.conn.attempts,
            cfg,
            conn: None,
            dialect: Dialect::Postgres,
            queriers: queriers.into(),
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let deadline = Instant::now() + POLL_BUDGET;
        if self.queriers.is_empty() {
            sleep_unless_stopped(POLL_BUDGET);
            return Ok(Vec::new());
        }
        self.connect()?;
        while !stop_requested() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let Some(head) = self.queriers.front_mut() else {
                break;
            };
            let wait = head.wait(now);
            if !wait.is_zero() {
                sleep_unless_stopped(wait.min(deadline - now));
                if !head.wait(Instant::now()).is_zero() {
                    break;
                }
            }
            let Some(conn) = self.conn.as_ref() else {
                break;
            };
            match head.poll(conn, self.dialect, &self.cfg) {
                Ok(Some(records)) => {
                    // A finished query sends its querier to the back of the line.
                    if head.wait(Instant::now()) > Duration::ZERO {
                        self.queriers.rotate_left(1);
                    }
                    if !records.is_empty() {
                        return Ok(records);
                    }
                }
                Ok(None) => break,
                Err(Failure::Task(e)) => {
                    head.reset();
                    return Err(e);
                }
                Err(Failure::Db(e)) => {
                    head.reset();
                    if e.connection_lost() {
                        // Reopened on the next poll; the offsets stay.
                        for q in self.queriers.iter_mut() {
                            q.reset();
                        }
                        self.conn = None;
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(Vec::new())
    }

    fn stop(&mut self) {
        // Statements and cursors go before their connection.
        self.queriers.clear();
        self.conn = None;
    }
}

impl JdbcSourceTask {
    /// Opens the connection when there is none. A transient failure is a
    /// retriable error with `connection.backoff.ms` as the backoff, until
    /// `connection.attempts` are used up.
    fn connect(&mut self) -> Result<(), TaskError> {
        if self.conn.is_some() {
            return Ok(());
        }
        for q in self.queriers.iter_mut() {
            q.reset();
        }
        match Connection::open(
            &self.cfg.conn.url,
            self.cfg.conn.user.as_deref(),
            self.cfg.conn.password.as_deref(),
        ) {
            Ok(conn) => {
                self.dialect = check_dialect(&conn, self.cfg.dialect)?;
                self.attempts_left = self.cfg.conn.attempts;
                self.conn = Some(conn);
                Ok(())
            }
            Err(e) if e.is_retriable() && self.attempts_left > 1 => {
                self.attempts_left -= 1;
                Err(retriable(e.describe(), Some(self.cfg.conn.backoff_ms)))
            }
            Err(e) => Err(fatal(format!(
                "Could not connect to the database after {} attempts: {}",
                self.cfg.conn.attempts,
                e.describe()
            ))),
        }
    }
}

wasmconnect_sdk::export_source!(JdbcSourceConnector, JdbcSourceTask);
