//! Confluent's JdbcSinkConnector as a wasmconnect component
//! (`io.confluent.connect.jdbc.JdbcSinkConnector`), over the worker's
//! `wasmconnect:database/sql` capability: PostgreSQL, MySQL/MariaDB and
//! SQLite.
//!
//! Each `put` writes its records in one transaction: consecutive records
//! for the same table and schema share a prepared statement run with
//! `execute-batch` in chunks of `batch.size`. Records must carry a Struct
//! value with its Connect schema (JsonConverter with `schemas.enable=true`).
//! Tables are created and amended before the transaction starts. Because
//! `put` commits before returning, the default pre-commit (commit what was
//! put) is exact: a crash repeats at most one batch.

mod config;
mod tables;

use config::SinkConfig;
use jdbc_common::connect::{Schema, json_to_cell};
use jdbc_common::decimal::base64_encode;
use jdbc_common::sink_sql::{
    FieldSource, FieldsMetadata, InsertMode, PkMode, delete_sql, fields_metadata, insert_sql,
    update_sql,
};
use jdbc_common::{Cell, Dialect, TableId};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::rc::Rc;
use tables::{TableError, Tables};
use wasmconnect_sdk::db::{Connection, DbError, Statement, Value};
use wasmconnect_sdk::{
    Config, ConfigKey, Payload, PluginKind, PluginMetadata, ReplicatingSinkConnector,
    SinkDescription, SinkRecord, SinkTask, TaskError, fatal, problems_error, report_errant_record,
    retriable, warn,
};

/// The connector role: every task runs the connector's configuration.
pub struct JdbcSink;

impl SinkDescription for JdbcSink {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.confluent.connect.jdbc.JdbcSinkConnector".into(),
            aliases: vec!["JdbcSinkConnector".into(), "JdbcSink".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Writes records to PostgreSQL, MySQL/MariaDB or SQLite tables".into(),
            task_class: Some("io.confluent.connect.jdbc.sink.JdbcSinkTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::definition()
    }

    fn problems(config: &[(String, String)]) -> Vec<(String, String)> {
        SinkConfig::parse(config).err().unwrap_or_default()
    }
}

/// What a record does to its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Write,
    Delete,
}

/// A record ready to write: its table, statement shape and parameters.
struct Planned {
    index: usize,
    table: String,
    op: Op,
    fields: Rc<FieldsMetadata>,
    params: Vec<Value>,
}

/// Why writing failed.
enum Failure {
    Db(DbError),
    Task(TaskError),
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Failure {
        Failure::Db(e)
    }
}

fn value(cell: Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Bool(b) => Value::Boolean(b),
        Cell::Int(i) => Value::Int(i),
        Cell::F32(f) => Value::Float32(f),
        Cell::F64(f) => Value::Float64(f),
        Cell::Decimal(t) => Value::Decimal(t),
        Cell::Text(t) => Value::Text(t),
        Cell::Bytes(b) => Value::Bytes(b),
        Cell::Date(d) => Value::Date(d),
        Cell::Time(t) => Value::Time(t),
        Cell::Timestamp(t) => Value::Timestamp(t),
        Cell::TimestampTz(t) => Value::TimestampTz(t),
    }
}

fn describe(r: &SinkRecord) -> String {
    format!(
        "(topic='{}',partition={},offset={},timestamp={})",
        r.topic,
        r.partition,
        r.offset,
        r.timestamp.map_or("null".into(), |t| t.to_string())
    )
}

/// The prepared statement for `sql`, prepared once per connection.
fn statement<'a>(
    conn: &Connection,
    cache: &'a mut HashMap<String, Statement>,
    sql: &str,
) -> Result<&'a Statement, DbError> {
    if !cache.contains_key(sql) {
        let stmt = conn.prepare(sql)?;
        cache.insert(sql.to_string(), stmt);
    }
    // Present: inserted just above when it was missing.
    cache
        .get(sql)
        .ok_or_else(|| DbError::NotGranted("statement cache lost an entry".into()))
}

/// The task: writes each `put` in one transaction.
pub struct JdbcSinkTask {
    cfg: SinkConfig,
    conn: Option<Connection>,
    dialect: Dialect,
    attempts_left: u32,
    retries_left: u32,
    statements: HashMap<String, Statement>,
    tables: Tables,
    /// Fields per (table, key schema, value schema).
    metadata: HashMap<(String, String, String), Rc<FieldsMetadata>>,
}

impl SinkTask for JdbcSinkTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let cfg = SinkConfig::parse(&config).map_err(problems_error)?;
        Ok(JdbcSinkTask {
            attempts_left: cfg.conn.attempts,
            retries_left: cfg.max_retries,
            cfg,
            conn: None,
            dialect: Dialect::Postgres,
            statements: HashMap::new(),
            tables: Tables::default(),
            metadata: HashMap::new(),
        })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        if records.is_empty() {
            return Ok(());
        }
        self.connect()?;
        let mut planned = Vec::with_capacity(records.len());
        for (index, r) in records.iter().enumerate() {
            match self.plan(index, r) {
                Ok(p) => planned.push(p),
                Err(msg) => errant(r, &msg)?,
            }
        }
        let result = self
            .prepare_tables(&planned)
            .and_then(|_| self.write_all(&planned));
        match result {
            Ok(()) => {
                self.retries_left = self.cfg.max_retries;
                Ok(())
            }
            Err(Failure::Task(e)) => Err(e),
            Err(Failure::Db(e)) if e.is_retriable() || e.connection_lost() => Err(self.retry(e)),
            Err(Failure::Db(e)) => {
                self.rollback();
                warn!(
                    "Writing the batch failed ({}); writing it record by record",
                    e.describe()
                );
                match self.write_each(&planned, &records) {
                    Ok(()) => {
                        self.retries_left = self.cfg.max_retries;
                        Ok(())
                    }
                    Err(Failure::Task(e)) => Err(e),
                    Err(Failure::Db(e)) => Err(self.retry(e)),
                }
            }
        }
    }

    fn stop(&mut self) {
        self.statements.clear();
        self.conn = None;
    }
}

/// Reports `record` as errant; with `errors.tolerance=none` that fails the
/// task with a message naming the record.
fn errant(record: &SinkRecord, msg: &str) -> Result<(), TaskError> {
    let text = format!(
        "Sink record at {} could not be written: {msg}",
        describe(record)
    );
    match report_errant_record(record, &text) {
        Ok(()) => {
            warn!("{text}; reported to the error handler");
            Ok(())
        }
        Err(_) => Err(fatal(text)),
    }
}

impl JdbcSinkTask {
    /// Opens the connection when there is none; transient failures are
    /// retried `connection.attempts` times `connection.backoff.ms` apart.
    fn connect(&mut self) -> Result<(), TaskError> {
        if self.conn.is_some() {
            return Ok(());
        }
        self.statements.clear();
        self.tables.clear();
        match Connection::open(
            &self.cfg.conn.url,
            self.cfg.conn.user.as_deref(),
            self.cfg.conn.password.as_deref(),
        ) {
            Ok(conn) => {
                let dialect = match conn.dialect() {
                    wasmconnect_sdk::db::Dialect::Postgresql => Dialect::Postgres,
                    wasmconnect_sdk::db::Dialect::Mysql => Dialect::MySql,
                    wasmconnect_sdk::db::Dialect::Sqlite => Dialect::Sqlite,
                };
                if let Some(w) = self.cfg.dialect
                    && w != dialect
                {
                    return Err(fatal(format!(
                        "dialect.name is {} but connection.url reaches a {} database",
                        w.name(),
                        dialect.name()
                    )));
                }
                self.dialect = dialect;
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

    fn rollback(&mut self) {
        if let Some(conn) = &self.conn
            && let Err(e) = conn.rollback()
        {
            warn!("Rollback failed: {}", e.describe());
        }
    }

    /// After a transient failure: roll back, drop a lost connection, and
    /// have the host redeliver the batch after `retry.backoff.ms`, until
    /// `max.retries` are used up.
    fn retry(&mut self, e: DbError) -> TaskError {
        self.rollback();
        if e.connection_lost() {
            self.statements.clear();
            self.conn = None;
        }
        if self.retries_left == 0 {
            return fatal(format!(
                "Exceeded max.retries={} writing to the database: {}",
                self.cfg.max_retries,
                e.describe()
            ));
        }
        self.retries_left -= 1;
        warn!(
            "Write of the batch failed, {} retries left: {}",
            self.retries_left,
            e.describe()
        );
        retriable(e.describe(), Some(self.cfg.retry_backoff_ms))
    }

    /// Turns a record into its table, statement shape and parameters; `Err`
    /// says why it cannot be written.
    fn plan(&mut self, index: usize, r: &SinkRecord) -> Result<Planned, String> {
        let name = self.cfg.table_format.replace("${topic}", &r.topic);
        let table = TableId::parse(&name)
            .ok_or_else(|| format!("invalid table name {name}"))?
            .quoted(self.dialect);
        let (value_schema, value_json) = match &r.value {
            None if self.cfg.delete_enabled => (None, Json::Null),
            Some(Payload::Json(j)) if j.schema.is_some() => {
                let doc: Json = serde_json::from_str(&j.document)
                    .map_err(|e| format!("value is not JSON: {e}"))?;
                (j.schema.clone(), doc)
            }
            other => {
                let what = match other {
                    None => "a null value and null value schema",
                    Some(Payload::Json(_)) => {
                        "a value without a schema (set value.converter.schemas.enable=true)"
                    }
                    Some(_) => "a non-Struct value and no value schema",
                };
                return Err(format!(
                    "Sink connector is configured with 'delete.enabled={}' and 'pk.mode={}' and therefore requires records with a non-null Struct value and non-null Struct schema, but found a record with {what}",
                    self.cfg.delete_enabled,
                    self.cfg.pk_mode.name()
                ));
            }
        };
        let (key_schema, key_json) = match &r.key {
            Some(Payload::Json(j)) => (
                j.schema.clone(),
                serde_json::from_str(&j.document).map_err(|e| format!("key is not JSON: {e}"))?,
            ),
            // StringConverter and ByteArrayConverter keys have these schemas in Connect.
            Some(Payload::Text(t)) => (
                Some("{\"type\":\"string\",\"optional\":true}".into()),
                Json::String(t.clone()),
            ),
            Some(Payload::Binary(b)) => (
                Some("{\"type\":\"bytes\",\"optional\":true}".into()),
                Json::String(base64_encode(b)),
            ),
            None => (None, Json::Null),
        };
        let cache_key = (
            table.clone(),
            key_schema.clone().unwrap_or_default(),
            value_schema.clone().unwrap_or_default(),
        );
        let fields = match self.metadata.get(&cache_key) {
            Some(f) => f.clone(),
            None => {
                let ks = key_schema
                    .as_deref()
                    .map(Schema::parse)
                    .transpose()
                    .map_err(|e| format!("key schema: {e}"))?;
                let ks = if self.cfg.pk_mode == PkMode::RecordKey {
                    ks
                } else {
                    None
                };
                let vs = value_schema
                    .as_deref()
                    .map(Schema::parse)
                    .transpose()
                    .map_err(|e| format!("value schema: {e}"))?;
                let f = Rc::new(fields_metadata(
                    &name,
                    self.cfg.pk_mode,
                    &self.cfg.pk_fields,
                    &self.cfg.whitelist,
                    ks.as_ref(),
                    vs.as_ref(),
                )?);
                if self.metadata.len() > 256 {
                    self.metadata.clear();
                }
                self.metadata.insert(cache_key, f.clone());
                f
            }
        };
        let op = if value_schema.is_none() {
            Op::Delete
        } else {
            Op::Write
        };
        let param = |f: &jdbc_common::sink_sql::SinkField, is_key: bool| -> Result<Value, String> {
            let json = match &f.source {
                FieldSource::Topic => return Ok(Value::Text(r.topic.clone())),
                FieldSource::Partition => return Ok(Value::Int(i64::from(r.partition))),
                FieldSource::Offset => return Ok(Value::Int(r.offset)),
                FieldSource::Key => key_json.clone(),
                FieldSource::KeyField(n) => key_json.get(n).cloned().unwrap_or(Json::Null),
                FieldSource::ValueField(n) => value_json.get(n).cloned().unwrap_or(Json::Null),
            };
            // replace.null.with.default (true): a null takes the field's default.
            let json = match (&json, &f.default) {
                (Json::Null, Some(d)) => d.clone(),
                _ => json,
            };
            if is_key && json.is_null() {
                return Err(format!("primary key column {} is null", f.name));
            }
            json_to_cell(&json, f.ty)
                .map(value)
                .map_err(|e| format!("column {}: {e}", f.name))
        };
        let keys = fields.keys.iter().map(|f| param(f, true));
        let non_keys = fields.non_keys.iter().map(|f| param(f, false));
        let params: Vec<Value> = match (op, self.cfg.insert_mode) {
            (Op::Delete, _) => keys.collect::<Result<_, _>>()?,
            (Op::Write, InsertMode::Update) => non_keys.chain(keys).collect::<Result<_, _>>()?,
            (Op::Write, _) => keys.chain(non_keys).collect::<Result<_, _>>()?,
        };
        Ok(Planned {
            index,
            table,
            op,
            fields,
            params,
        })
    }

    /// Creates and amends tables before the transaction (MySQL would
    /// commit it at the first DDL statement).
    fn prepare_tables(&mut self, planned: &[Planned]) -> Result<(), Failure> {
        let Some(conn) = &self.conn else {
            return Err(Failure::Task(fatal("no connection")));
        };
        let mut seen: Vec<(&str, *const FieldsMetadata)> = Vec::new();
        for p in planned.iter().filter(|p| p.op == Op::Write) {
            let id = (p.table.as_str(), Rc::as_ptr(&p.fields));
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            match self
                .tables
                .ensure(conn, self.dialect, &self.cfg, &p.table, &p.fields)
            {
                Ok(()) => {}
                Err(TableError::Db(e)) => return Err(Failure::Db(e)),
                Err(TableError::Config(e)) => return Err(Failure::Task(e)),
            }
        }
        Ok(())
    }

    /// The statement of a record's shape; `None` when there is nothing to
    /// do (an update without non-key columns).
    fn sql_for(&self, p: &Planned) -> Option<String> {
        let casts = self.tables.columns(&p.table);
        let keys: Vec<&str> = p.fields.keys.iter().map(|f| f.name.as_str()).collect();
        let non_keys: Vec<&str> = p.fields.non_keys.iter().map(|f| f.name.as_str()).collect();
        match (p.op, self.cfg.insert_mode) {
            (Op::Delete, _) => Some(delete_sql(self.dialect, &p.table, &keys, &casts)),
            (Op::Write, InsertMode::Update) => {
                update_sql(self.dialect, &p.table, &keys, &non_keys, &casts)
            }
            (Op::Write, mode) => Some(insert_sql(
                self.dialect,
                &p.table,
                &keys,
                &non_keys,
                &casts,
                mode == InsertMode::Upsert,
            )),
        }
    }

    /// Writes everything in one transaction, consecutive records of one
    /// shape as one batch.
    fn write_all(&mut self, planned: &[Planned]) -> Result<(), Failure> {
        let Some(conn) = &self.conn else {
            return Err(Failure::Task(fatal("no connection")));
        };
        conn.begin()?;
        let mut start = 0;
        while start < planned.len() {
            let first = &planned[start];
            let len = planned[start..]
                .iter()
                .take_while(|p| {
                    p.table == first.table
                        && p.op == first.op
                        && Rc::ptr_eq(&p.fields, &first.fields)
                })
                .count();
            let group = &planned[start..start + len];
            start += len;
            let Some(sql) = self.sql_for(first) else {
                continue;
            };
            let stmt = statement(conn, &mut self.statements, &sql)?;
            for chunk in group.chunks(self.cfg.batch_size) {
                let rows: Vec<Vec<Value>> = chunk.iter().map(|p| p.params.clone()).collect();
                stmt.execute_batch(&rows)?;
            }
        }
        conn.commit()?;
        Ok(())
    }

    /// Writes record by record in one transaction, each behind a savepoint,
    /// reporting those the database refuses (Confluent's retry of a failed
    /// batch one record at a time).
    fn write_each(&mut self, planned: &[Planned], records: &[SinkRecord]) -> Result<(), Failure> {
        let Some(conn) = &self.conn else {
            return Err(Failure::Task(fatal("no connection")));
        };
        conn.begin()?;
        for p in planned {
            let Some(sql) = self.sql_for(p) else { continue };
            conn.execute_script("SAVEPOINT wasmconnect_record")?;
            let stmt = statement(conn, &mut self.statements, &sql)?;
            match stmt.execute(&p.params) {
                Ok(_) => conn.execute_script("RELEASE SAVEPOINT wasmconnect_record")?,
                Err(e) if e.is_retriable() || e.connection_lost() => return Err(e.into()),
                Err(e) => {
                    conn.execute_script("ROLLBACK TO SAVEPOINT wasmconnect_record")?;
                    let Some(record) = records.get(p.index) else {
                        continue;
                    };
                    if let Err(t) = errant(record, &e.describe()) {
                        if let Err(r) = conn.rollback() {
                            warn!("Rollback failed: {}", r.describe());
                        }
                        return Err(Failure::Task(t));
                    }
                }
            }
        }
        conn.commit()?;
        Ok(())
    }
}

wasmconnect_sdk::export_sink!(ReplicatingSinkConnector<JdbcSink>, JdbcSinkTask);
