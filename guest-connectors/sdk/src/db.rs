//! Databases the connector's configuration names (the
//! `wasmconnect:database/sql` import; cargo feature `database`).
//!
//! ```ignore
//! use wasmconnect_sdk::db::{Connection, Value};
//! let conn = Connection::open(&url, Some(&user), Some(&password))?;
//! let stmt = conn.prepare("SELECT id, name FROM users WHERE id > $1")?;
//! let mut cursor = stmt.query(&[Value::Int(10)])?;
//! while let Some(rows) = cursor.fetch(500)? {
//!     for row in rows { /* row[0], row[1]: Value */ }
//! }
//! ```
//!
//! The URL must be the value of one of the connector's configuration keys
//! marked [`crate::ResourceKind::Url`]: the worker grants exactly the
//! databases the configuration names. Rows cross the boundary packed; this
//! module unpacks them into [`Value`]s.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "wasmconnect:database/client@0.1.0",
        generate_all,
    });
}

use bindings::wasmconnect::database::sql;
pub use sql::{Column, DbError, Dialect, ErrorDetail, Statement, Value, ValueKind};

use crate::TaskError;

/// An open connection. Dropping it closes it.
pub struct Connection(sql::Connection);

impl Connection {
    /// Opens the database `url` names (a granted configuration value);
    /// `user` and `password` override the URL's.
    pub fn open(url: &str, user: Option<&str>, password: Option<&str>) -> Result<Self, DbError> {
        sql::Connection::open(url, user, password).map(Connection)
    }

    /// The database reached.
    pub fn dialect(&self) -> Dialect {
        self.0.dialect()
    }

    /// Prepares `sql` (placeholders `$1`… on PostgreSQL, `?` elsewhere).
    pub fn prepare(&self, sql: &str) -> Result<Statement, DbError> {
        self.0.prepare(sql)
    }

    /// Runs statements without parameters or results.
    pub fn execute_script(&self, sql: &str) -> Result<(), DbError> {
        self.0.execute_script(sql)
    }

    /// Starts a transaction.
    pub fn begin(&self) -> Result<(), DbError> {
        self.0.begin()
    }

    /// Commits the transaction.
    pub fn commit(&self) -> Result<(), DbError> {
        self.0.commit()
    }

    /// Rolls the transaction back.
    pub fn rollback(&self) -> Result<(), DbError> {
        self.0.rollback()
    }
}

/// Running a prepared statement as a query, with its rows unpacked.
pub trait QueryExt {
    /// Runs the query; read its rows with [`Cursor::fetch`].
    fn query_rows(&self, params: &[Value]) -> Result<Cursor, DbError>;
}

impl QueryExt for Statement {
    fn query_rows(&self, params: &[Value]) -> Result<Cursor, DbError> {
        let inner = self.query(params)?;
        let columns = inner.columns();
        Ok(Cursor {
            inner,
            columns,
            done: false,
        })
    }
}

/// The rows of a running query.
pub struct Cursor {
    inner: sql::Cursor,
    columns: Vec<Column>,
    done: bool,
}

/// One result row: a value per column.
pub type Row = Vec<Value>;

impl Cursor {
    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Up to `max_rows` further rows; `None` once the query has no more.
    pub fn fetch(&mut self, max_rows: u32) -> Result<Option<Vec<Row>>, DbError> {
        if self.done {
            return Ok(None);
        }
        let batch = self.inner.next(max_rows)?;
        self.done = batch.done;
        if batch.rows == 0 && batch.done {
            return Ok(None);
        }
        Ok(Some(unpack(&batch)))
    }
}

/// The rows of a packed batch. The host checked every span and every text
/// (it built them); a span out of range would be a host bug, so it reads
/// as empty rather than trapping.
fn unpack(batch: &sql::RowBatch) -> Vec<Row> {
    let rows = batch.rows as usize;
    if rows == 0 {
        return Vec::new();
    }
    let width = batch.cells.len() / rows;
    let bytes = |cell: &sql::Cell| -> &[u8] {
        let start = cell.bytes.offset as usize;
        let end = start.saturating_add(cell.bytes.len as usize);
        batch.data.get(start..end).unwrap_or_default()
    };
    let text = |cell: &sql::Cell| String::from_utf8_lossy(bytes(cell)).into_owned();
    batch
        .cells
        .chunks(width.max(1))
        .take(rows)
        .map(|row| {
            row.iter()
                .map(|cell| match cell.kind {
                    ValueKind::Null => Value::Null,
                    ValueKind::Boolean => Value::Boolean(cell.num != 0),
                    ValueKind::Int => Value::Int(cell.num),
                    ValueKind::Float32 => Value::Float32(f32::from_bits(cell.num as u32)),
                    ValueKind::Float64 => Value::Float64(f64::from_bits(cell.num as u64)),
                    ValueKind::Decimal => Value::Decimal(text(cell)),
                    ValueKind::Text => Value::Text(text(cell)),
                    ValueKind::Bytes | ValueKind::Other => Value::Bytes(bytes(cell).to_vec()),
                    ValueKind::Date => Value::Date(cell.num as i32),
                    ValueKind::Time => Value::Time(cell.num),
                    ValueKind::Timestamp => Value::Timestamp(cell.num),
                    ValueKind::TimestampTz => Value::TimestampTz(cell.num),
                })
                .collect()
        })
        .collect()
}

impl DbError {
    /// The database's message (or why the URL is not granted).
    pub fn message(&self) -> &str {
        match self {
            DbError::NotGranted(m) => m,
            DbError::Retriable(d) | DbError::Fatal(d) => &d.message,
        }
    }

    /// Whether retrying (after reopening if the connection is lost) may
    /// succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, DbError::Retriable(_))
    }

    /// Whether the connection can no longer be used.
    pub fn connection_lost(&self) -> bool {
        match self {
            DbError::Retriable(d) | DbError::Fatal(d) => d.connection_lost,
            DbError::NotGranted(_) => false,
        }
    }

    /// The message with the SQLSTATE, for a task error or a log line.
    pub fn describe(&self) -> String {
        match self.sqlstate() {
            Some(state) => format!("{} (SQLSTATE {state})", self.message()),
            None => self.message().to_string(),
        }
    }

    /// The SQLSTATE, when the database gave one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            DbError::Retriable(d) | DbError::Fatal(d) => d.sqlstate.as_deref(),
            DbError::NotGranted(_) => None,
        }
    }
}

impl From<DbError> for TaskError {
    /// Retriable database errors make retriable task errors (the host calls
    /// again after a backoff); the rest fail the task.
    fn from(e: DbError) -> TaskError {
        if e.is_retriable() {
            crate::retriable(e.describe(), None)
        } else {
            crate::fatal(e.describe())
        }
    }
}
