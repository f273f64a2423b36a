//! One table (or the query) being read: its statement, its open cursor
//! across polls, and its offset (Confluent's `TableQuerier` family).

use crate::config::SourceConfig;
use crate::convert;
use jdbc_common::source_schema::{cell_i64, cell_micros, cell_to_json, connect_type, is_optional};
use jdbc_common::source_sql::{Mode, Offset, Param, Source, build_query, partition_json};
use jdbc_common::types::{Field, json_string, struct_schema_json};
use jdbc_common::{Cell, ColumnInfo, Dialect, Kind, time};
use std::time::{Duration, Instant};
use wasmconnect_sdk::db::{Connection, Cursor, DbError, QueryExt, Statement, Value};
use wasmconnect_sdk::{Payload, SourceRecord, TaskError, fatal, warn};

/// Why a querier failed: the database's error is kept so the task can
/// tell a lost connection.
pub enum Failure {
    Db(DbError),
    Task(TaskError),
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Failure {
        Failure::Db(e)
    }
}

impl From<TaskError> for Failure {
    fn from(e: TaskError) -> Failure {
        Failure::Task(e)
    }
}

/// A query running: its cursor and how to turn its rows into records.
struct Active {
    cursor: Cursor,
    /// Result column index, field, and database type name per kept column.
    fields: Vec<(usize, Field, String)>,
    schema: String,
    inc_index: Option<usize>,
    ts_indexes: Vec<usize>,
    /// Timestamp mode: the last row read, held until the next row shows
    /// whether its timestamp group is complete.
    pending: Option<(String, Offset)>,
}

pub struct Querier {
    source: Source,
    mode: Mode,
    topic: String,
    pub partition: String,
    schema_name: Option<String>,
    pub offset: Offset,
    /// `timestamp.initial=-1` with no stored offset: begin at the database's now.
    start_at_now: bool,
    /// The resolved incrementing column.
    incrementing: Option<String>,
    /// How the (first) timestamp column's values arrive, for binding.
    ts_kind: Kind,
    sql: String,
    params: Vec<Param>,
    stmt: Option<Statement>,
    active: Option<Active>,
    /// When the next query may run (`poll.interval.ms` after the last one ended).
    next_due: Option<Instant>,
}

fn find(columns: &[ColumnInfo], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.name == name).or_else(|| {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    })
}

impl Querier {
    pub fn new(source: Source, cfg: &SourceConfig) -> Querier {
        let (topic, schema_name) = match &source {
            Source::Table(t) => (
                format!("{}{}", cfg.topic_prefix, t.name),
                Some(t.name.clone()),
            ),
            Source::Query(_) => (cfg.topic_prefix.clone(), None),
        };
        Querier {
            partition: partition_json(&source, cfg.mode),
            source,
            mode: cfg.mode,
            topic,
            schema_name,
            offset: Offset::default(),
            start_at_now: false,
            incrementing: None,
            ts_kind: Kind::Timestamp,
            sql: String::new(),
            params: Vec::new(),
            stmt: None,
            active: None,
            next_due: None,
        }
    }

    /// Takes the stored offset, or `timestamp.initial` without one.
    pub fn restore(&mut self, stored: Option<Offset>, cfg: &SourceConfig) {
        match stored {
            Some(o) => self.offset = o,
            None => match cfg.timestamp_initial {
                Some(-1) => self.start_at_now = true,
                Some(ms) => self.offset.timestamp_micros = ms.checked_mul(1000),
                None => {}
            },
        }
    }

    /// Drops the statement and cursor (the connection is gone or failed);
    /// the offset stays where the last record left it.
    pub fn reset(&mut self) {
        self.active = None;
        self.stmt = None;
    }

    /// How long until the next query may run; zero while a query is open.
    pub fn wait(&self, now: Instant) -> Duration {
        match (&self.active, self.next_due) {
            (None, Some(due)) => due.saturating_duration_since(now),
            _ => Duration::ZERO,
        }
    }

    fn probe_columns(
        &self,
        conn: &Connection,
        dialect: Dialect,
    ) -> Result<Vec<ColumnInfo>, Failure> {
        let sql = match &self.source {
            Source::Table(t) => format!("SELECT * FROM {} WHERE 1 = 0", t.quoted(dialect)),
            Source::Query(q) => q.clone(),
        };
        Ok(conn
            .prepare(&sql)?
            .columns()
            .iter()
            .map(convert::column)
            .collect())
    }

    /// Resolves the columns and prepares the statement (once per connection).
    fn prepare(
        &mut self,
        conn: &Connection,
        dialect: Dialect,
        cfg: &SourceConfig,
    ) -> Result<(), Failure> {
        let what = match &self.source {
            Source::Table(t) => t.unquoted(),
            Source::Query(_) => "the query".into(),
        };
        if self.mode != Mode::Bulk {
            let columns = self.probe_columns(conn, dialect)?;
            if self.mode.uses_incrementing() {
                let name = if cfg.incrementing.is_empty() {
                    columns.iter().find(|c| c.auto_increment).map(|c| c.name.clone()).ok_or_else(|| {
                        fatal(format!("Cannot find auto-incrementing column in {what}; set incrementing.column.name"))
                    })?
                } else {
                    cfg.incrementing.clone()
                };
                self.incrementing = Some(name);
            }
            let mut checked: Vec<&str> = cfg.timestamps.iter().map(String::as_str).collect();
            if let Some(inc) = &self.incrementing {
                checked.push(inc);
            }
            for name in checked {
                let i = find(&columns, name)
                    .ok_or_else(|| fatal(format!("Column {name} not found in {what}")))?;
                if cfg.validate_non_null && columns[i].nullable == Some(true) {
                    return Err(Failure::Task(fatal(format!(
                        "Cannot make incremental queries using column {name} on {what} because this column is nullable (set validate.non.null=false to allow it)"
                    ))));
                }
            }
            if let Some(i) = cfg.timestamps.first().and_then(|t| find(&columns, t)) {
                self.ts_kind = columns[i].kind;
            }
        }
        let (sql, params) = build_query(
            dialect,
            &self.source,
            self.mode,
            self.incrementing.as_deref(),
            &cfg.timestamps,
            &cfg.suffix,
        );
        self.stmt = Some(conn.prepare(&sql)?);
        self.sql = sql;
        self.params = params;
        Ok(())
    }

    /// A timestamp parameter the way the column compares: PostgreSQL by
    /// its zone-ness, SQLite in its storage form (ms integers, else text).
    fn bind_timestamp(&self, dialect: Dialect, micros: i64) -> Value {
        match (dialect, self.ts_kind) {
            (Dialect::Postgres, Kind::TimestampTz) => Value::TimestampTz(micros),
            (Dialect::Sqlite, Kind::Int) => Value::Int(micros.div_euclid(1000)),
            (Dialect::Sqlite, _) => Value::Text(time::format_timestamp(micros)),
            _ => Value::Timestamp(micros),
        }
    }

    /// Starts the next query.
    fn start(
        &mut self,
        conn: &Connection,
        dialect: Dialect,
        cfg: &SourceConfig,
    ) -> Result<(), Failure> {
        if self.stmt.is_none() {
            self.prepare(conn, dialect, cfg)?;
        }
        let mut end = 0;
        if self.mode.uses_timestamp() {
            let now = db_now(conn, dialect)?;
            if std::mem::take(&mut self.start_at_now) && self.offset.timestamp_micros.is_none() {
                self.offset.timestamp_micros = Some(now);
            }
            end = now.saturating_sub(cfg.delay_ms.saturating_mul(1000));
        }
        let params: Vec<Value> = self
            .params
            .iter()
            .map(|p| match p {
                Param::End => self.bind_timestamp(dialect, end),
                // An absent timestamp offset is the epoch, as in Confluent.
                Param::Begin => {
                    self.bind_timestamp(dialect, self.offset.timestamp_micros.unwrap_or(0))
                }
                Param::Incrementing => Value::Int(self.offset.incrementing.unwrap_or(-1)),
            })
            .collect();
        let Some(stmt) = &self.stmt else {
            return Err(fatal("statement missing after prepare").into());
        };
        let cursor = stmt.query_rows(&params)?;
        let columns: Vec<ColumnInfo> = cursor.columns().iter().map(convert::column).collect();
        let mut fields = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            match connect_type(dialect, c, cfg.numeric_mapping) {
                Some(ty) => fields.push((
                    i,
                    Field {
                        name: c.name.clone(),
                        ty,
                        optional: is_optional(c),
                    },
                    c.type_name.clone(),
                )),
                None => warn!(
                    "JDBC type {} of column {} is not supported; the column is skipped",
                    c.type_name, c.name
                ),
            }
        }
        let inc_index = match &self.incrementing {
            Some(name) => Some(find(&columns, name).ok_or_else(|| {
                fatal(format!(
                    "Column {name} is not in the result of {}",
                    self.sql
                ))
            })?),
            None => None,
        };
        let ts_indexes = cfg
            .timestamps
            .iter()
            .map(|t| {
                find(&columns, t).ok_or_else(|| {
                    fatal(format!("Column {t} is not in the result of {}", self.sql))
                })
            })
            .collect::<Result<_, _>>()?;
        let field_list: Vec<Field> = fields.iter().map(|(_, f, _)| f.clone()).collect();
        self.active = Some(Active {
            cursor,
            schema: struct_schema_json(&field_list, self.schema_name.as_deref()),
            fields,
            inc_index,
            ts_indexes: if self.mode.uses_timestamp() {
                ts_indexes
            } else {
                Vec::new()
            },
            pending: None,
        });
        Ok(())
    }

    fn record(&self, document: String, schema: &str, offset: &Offset) -> SourceRecord {
        SourceRecord::new(
            self.partition.clone(),
            offset.to_json(self.mode),
            self.topic.clone(),
            Some(Payload::json(document, Some(schema.to_string()))),
        )
    }

    /// Reads up to `batch.max.rows` rows, starting a query when due.
    /// `Ok(None)`: not due yet. An exhausted query is closed and the next
    /// one scheduled `poll.interval.ms` later.
    pub fn poll(
        &mut self,
        conn: &Connection,
        dialect: Dialect,
        cfg: &SourceConfig,
    ) -> Result<Option<Vec<SourceRecord>>, Failure> {
        let now = Instant::now();
        if self.active.is_none() {
            if self.next_due.is_some_and(|due| now < due) {
                return Ok(None);
            }
            self.start(conn, dialect, cfg)?;
        }
        let Some(active) = self.active.as_mut() else {
            return Ok(None);
        };
        let rows = active.cursor.fetch(cfg.batch_max_rows)?;
        let mut out = Vec::new();
        let Some(rows) = rows else {
            // Exhausted: a held-back row's group is complete now.
            if let Some((doc, offset)) = active.pending.take() {
                let schema = active.schema.clone();
                self.offset = offset;
                out.push(self.record(doc, &schema, &offset));
            }
            self.active = None;
            self.next_due = Some(Instant::now() + Duration::from_millis(cfg.poll_interval_ms));
            return Ok(Some(out));
        };
        let mut produced: Vec<(String, Offset)> = Vec::with_capacity(rows.len());
        for row in rows {
            let cells: Vec<Cell> = row.into_iter().map(convert::cell).collect();
            let doc = document(&cells, &active.fields)?;
            let mut offset = self.offset;
            if let Some(i) = active.inc_index {
                let cell = cells.get(i).unwrap_or(&Cell::Null);
                offset.incrementing = Some(cell_i64(cell).ok_or_else(|| {
                    fatal(format!("Incrementing column value {cell:?} is not an integer (a Decimal needs scale 0)"))
                })?);
            }
            if !active.ts_indexes.is_empty() {
                let cell = active
                    .ts_indexes
                    .iter()
                    .filter_map(|&i| cells.get(i))
                    .find(|c| **c != Cell::Null)
                    .unwrap_or(&Cell::Null);
                offset.timestamp_micros = Some(cell_micros(cell).ok_or_else(|| {
                    fatal(format!(
                        "Timestamp column value {cell:?} is not a timestamp"
                    ))
                })?);
            }
            if self.mode == Mode::Timestamp {
                // Timestamp-only: a row's timestamp is committable once a
                // later row has a larger one; until then records carry the
                // previous committable offset.
                if let Some((prev_doc, prev_offset)) = active.pending.take() {
                    if offset.timestamp_micros > prev_offset.timestamp_micros {
                        self.offset = prev_offset;
                    }
                    produced.push((prev_doc, self.offset));
                }
                active.pending = Some((doc, offset));
            } else {
                if self.mode != Mode::Bulk {
                    self.offset = offset;
                }
                produced.push((doc, offset));
            }
        }
        let schema = active.schema.clone();
        out.extend(
            produced
                .iter()
                .map(|(doc, offset)| self.record(doc.clone(), &schema, offset)),
        );
        Ok(Some(out))
    }
}

/// A row as a JSON object in field order.
fn document(cells: &[Cell], fields: &[(usize, Field, String)]) -> Result<String, TaskError> {
    let mut doc = String::from("{");
    for (n, (i, field, type_name)) in fields.iter().enumerate() {
        if n > 0 {
            doc.push(',');
        }
        doc.push_str(&json_string(&field.name));
        doc.push(':');
        let cell = cells.get(*i).unwrap_or(&Cell::Null);
        let json = cell_to_json(cell, field.ty, type_name)
            .map_err(|e| fatal(format!("Column {}: {e}", field.name)))?;
        doc.push_str(&json);
    }
    doc.push('}');
    Ok(doc)
}

/// The database's current time in microseconds.
pub fn db_now(conn: &Connection, dialect: Dialect) -> Result<i64, Failure> {
    let mut cursor = conn.prepare(dialect.now_sql())?.query_rows(&[])?;
    let row = cursor
        .fetch(1)?
        .and_then(|rows| rows.into_iter().next())
        .and_then(|row| row.into_iter().next())
        .ok_or_else(|| fatal("The database did not answer its current time"))?;
    let cell = convert::cell(row);
    cell_micros(&cell).ok_or_else(|| fatal(format!("Unreadable database time {cell:?}")).into())
}
