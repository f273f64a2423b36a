//! Destination tables: their columns as the database reports them, and
//! `auto.create` / `auto.evolve` (Confluent's `DbStructure`).

use crate::config::SinkConfig;
use jdbc_common::Dialect;
use jdbc_common::sink_sql::{FieldsMetadata, SinkField, alter_table_sql, create_table_sql};
use std::collections::HashMap;
use wasmconnect_sdk::db::{Connection, DbError};
use wasmconnect_sdk::{TaskError, fatal, info};

/// Why making a table ready failed.
pub enum TableError {
    Db(DbError),
    Config(TaskError),
}

impl From<DbError> for TableError {
    fn from(e: DbError) -> TableError {
        TableError::Db(e)
    }
}

/// Column name → database type name, per quoted table.
#[derive(Default)]
pub struct Tables {
    known: HashMap<String, HashMap<String, String>>,
}

/// Whether `e` says the table does not exist: PostgreSQL SQLSTATE 42P01,
/// MySQL/MariaDB error 1146, SQLite's "no such table".
fn is_missing_table(e: &DbError) -> bool {
    match e {
        DbError::Fatal(d) => {
            d.sqlstate.as_deref() == Some("42P01")
                || d.vendor_code == Some(1146)
                || d.message.contains("no such table")
        }
        _ => false,
    }
}

fn has(columns: &HashMap<String, String>, name: &str) -> bool {
    columns.contains_key(name) || columns.keys().any(|c| c.eq_ignore_ascii_case(name))
}

impl Tables {
    /// Forgets what is known (after a connection is replaced, or a table may have changed).
    pub fn clear(&mut self) {
        self.known.clear();
    }

    /// The columns of `table`, read when not known; `Ok(None)` when it does not exist.
    fn load(
        &mut self,
        conn: &Connection,
        table: &str,
    ) -> Result<Option<&HashMap<String, String>>, DbError> {
        if !self.known.contains_key(table) {
            let stmt = match conn.prepare(&format!("SELECT * FROM {table} WHERE 1 = 0")) {
                Ok(s) => s,
                Err(e) if is_missing_table(&e) => return Ok(None),
                Err(e) => return Err(e),
            };
            let columns = stmt
                .columns()
                .into_iter()
                .map(|c| (c.name, c.type_name))
                .collect();
            self.known.insert(table.to_string(), columns);
        }
        Ok(self.known.get(table))
    }

    /// The known column types of `table` (for PostgreSQL's casts).
    pub fn columns(&self, table: &str) -> HashMap<String, String> {
        self.known.get(table).cloned().unwrap_or_default()
    }

    /// Makes `table` exist with a column for every field, creating or
    /// altering it as `auto.create` and `auto.evolve` allow.
    pub fn ensure(
        &mut self,
        conn: &Connection,
        dialect: Dialect,
        cfg: &SinkConfig,
        table: &str,
        fields: &FieldsMetadata,
    ) -> Result<(), TableError> {
        if self.load(conn, table)?.is_none() {
            if !cfg.auto_create {
                return Err(TableError::Config(fatal(format!(
                    "Table {table} is missing and auto-creation is disabled"
                ))));
            }
            let sql = create_table_sql(dialect, table, fields);
            info!("Creating table {table} with SQL: {sql}");
            if let Err(e) = conn.execute_script(&sql) {
                // Another task may have created it meanwhile.
                if self.load(conn, table)?.is_none() {
                    return Err(e.into());
                }
            }
            self.known.remove(table);
        }
        let all = || fields.keys.iter().chain(&fields.non_keys);
        let missing = |tables: &mut Tables| -> Result<Vec<&SinkField>, DbError> {
            let columns = tables.load(conn, table)?.cloned().unwrap_or_default();
            Ok(all().filter(|f| !has(&columns, &f.name)).collect())
        };
        if missing(self)?.is_empty() {
            return Ok(());
        }
        // Another task may have altered it: read it again before deciding.
        self.known.remove(table);
        let added = missing(self)?;
        if added.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = added.iter().map(|f| f.name.as_str()).collect();
        if !cfg.auto_evolve {
            return Err(TableError::Config(fatal(format!(
                "Table {table} is missing fields ({}) and auto-evolution is disabled",
                names.join(", ")
            ))));
        }
        if let Some(f) = added.iter().find(|f| !f.optional && f.default.is_none()) {
            return Err(TableError::Config(fatal(format!(
                "Cannot ALTER TABLE {table} to add missing field {}, as the field is not optional and does not have a default value",
                f.name
            ))));
        }
        for sql in alter_table_sql(dialect, table, &added) {
            info!("Amending table {table} with SQL: {sql}");
            conn.execute_script(&sql)?;
        }
        self.known.remove(table);
        Ok(())
    }
}
