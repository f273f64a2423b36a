//! SQLite through `rusqlite`, on a thread of its own per connection.
//!
//! SQLite's calls block, and a running query's rows borrow its statement,
//! which borrows the connection: so one thread owns the connection and
//! serves requests from a channel (the worker's end is [`super::actor`],
//! shared with the MySQL driver), and while a query is open it keeps
//! stepping that query for `next` requests until another request closes
//! it (the contract allows one open cursor per connection).
//!
//! SQLite stores values by what they are, not by the column's declared
//! type; the declared type decides what the guest receives, as
//! sqlite-jdbc decides: `TIMESTAMP`/`DATETIME` text is parsed into a
//! timestamp, `DATE` into a date, `DECIMAL`/`NUMERIC` become decimal text,
//! `BOOLEAN` a boolean. A stored value that does not fit its column's
//! declared type fails the call naming the column.
//!
//! The file is the one the configuration grants, opened without following
//! a symlink, with `ATTACH` refused (an attached database would be a path
//! the grant never checked) and extensions off.

use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, InterruptHandle, OpenFlags, Statement};
use tokio::sync::{mpsc, oneshot};

use super::actor::{self, Reply, Request};
use super::rows::{self, RowBatchBuilder};
use super::{DbResult, fatal, retriable};
use crate::bindings::database::sql::{Column, DbError, ErrorDetail, Value, ValueKind};

const SERVER: actor::Server = actor::Server {
    driver: "SQLite",
    runs_on: "thread",
};

/// Opens `path` (or a private in-memory database when `None`): the
/// connection, and the handle that interrupts whatever it runs.
pub async fn open(path: Option<PathBuf>) -> DbResult<(actor::Connection, Arc<InterruptHandle>)> {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (connection, mut inbox) = actor::channel(SERVER);
    let spawned = std::thread::Builder::new()
        .name("wasmconnect-sqlite".into())
        .spawn(move || match open_connection(path.as_deref()) {
            Ok(conn) => {
                let handle = Arc::new(conn.get_interrupt_handle());
                if ready_tx.send(Ok(handle)).is_ok() {
                    serve(&conn, &mut inbox);
                }
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        });
    spawned.map_err(|e| fatal(format!("cannot start an SQLite thread: {e}")))?;
    let interrupt = ready_rx
        .await
        .map_err(|_| fatal("the SQLite thread ended while opening"))??;
    Ok((connection, interrupt))
}

fn open_connection(path: Option<&std::path::Path>) -> DbResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = match path {
        Some(p) => Connection::open_with_flags(p, flags),
        None => Connection::open_in_memory(),
    }
    .map_err(error)?;
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)
        .map_err(error)?;
    // Writers from other tasks wait a little instead of failing at once.
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(error)?;
    Ok(conn)
}

/// The connection's thread: answers requests until every sender is gone.
fn serve(conn: &Connection, inbox: &mut mpsc::UnboundedReceiver<Request>) {
    let mut pending = inbox.blocking_recv();
    while let Some(request) = pending.take() {
        pending = match request {
            Request::Query(sql, params, id, reply) => {
                run_query(conn, &sql, &params, id, reply, inbox)
            }
            other => {
                answer(conn, other);
                inbox.blocking_recv()
            }
        };
    }
}

/// Answers a request that does not leave a query open.
fn answer(conn: &Connection, request: Request) {
    match request {
        Request::Script(sql, reply) => {
            let _ = reply.send(conn.execute_batch(&sql).map_err(error));
        }
        Request::Prepare(sql, reply) => {
            let _ = reply.send(prepare(conn, &sql));
        }
        Request::Execute(sql, rows, reply) => {
            let _ = reply.send(execute(conn, &sql, &rows));
        }
        Request::Next(_, _, reply) => {
            let _ = reply.send(Err(actor::cursor_closed()));
        }
        // A cursor already closed; and queries are served by run_query.
        Request::Close(_) | Request::Query(..) => {}
    }
}

fn prepare(conn: &Connection, sql: &str) -> DbResult<(u32, Vec<Column>)> {
    let stmt = conn.prepare_cached(sql).map_err(error)?;
    let count = u32::try_from(stmt.parameter_count()).unwrap_or(u32::MAX);
    Ok((count, describe(conn, &stmt)))
}

fn execute(conn: &Connection, sql: &str, rows: &[Vec<Value>]) -> DbResult<Vec<u64>> {
    let mut stmt = conn.prepare_cached(sql).map_err(error)?;
    rows.iter()
        .map(|row| {
            let params = bind(row);
            stmt.execute(rusqlite::params_from_iter(params))
                .map(|n| n as u64)
                .map_err(error)
        })
        .collect()
}

/// Runs a query and serves `next` for it until another request arrives,
/// which it returns (after the query's statement is released).
fn run_query(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    id: u64,
    reply: Reply<()>,
    inbox: &mut mpsc::UnboundedReceiver<Request>,
) -> Option<Request> {
    let mut stmt = match conn.prepare_cached(sql) {
        Ok(s) => s,
        Err(e) => {
            let _ = reply.send(Err(error(e)));
            return inbox.blocking_recv();
        }
    };
    // Only the declared types: `describe`'s catalog lookups are for
    // `prepare`, not for every query.
    let kinds: Vec<ValueKind> = stmt.columns().map(|c| kind_of(c.decl_type())).collect();
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = match stmt.query(rusqlite::params_from_iter(bind(params))) {
        Ok(r) => r,
        Err(e) => {
            let _ = reply.send(Err(error(e)));
            return inbox.blocking_recv();
        }
    };
    let _ = reply.send(Ok(()));
    let mut done = false;
    loop {
        match inbox.blocking_recv()? {
            Request::Next(cursor, max_rows, reply) if cursor == id => {
                let read = read_batch(&mut rows, &kinds, &names, max_rows, &mut done);
                let _ = reply.send(read.map(|batch| (batch, done)));
            }
            Request::Close(cursor) if cursor == id => return inbox.blocking_recv(),
            other => return Some(other),
        }
    }
}

/// Steps the query's next rows: up to `max_rows`, fewer when the batch
/// is full; sets `done` once the query has no more.
fn read_batch(
    rows: &mut rusqlite::Rows<'_>,
    kinds: &[ValueKind],
    names: &[String],
    max_rows: u32,
    done: &mut bool,
) -> DbResult<RowBatchBuilder> {
    let mut batch = RowBatchBuilder::default();
    while !*done && batch.rows() < max_rows && !batch.full() {
        let Some(row) = rows.next().map_err(error)? else {
            *done = true;
            break;
        };
        for (i, kind) in kinds.iter().enumerate() {
            let value = row.get_ref(i).unwrap_or(ValueRef::Null);
            pack(&mut batch, *kind, value, &names[i])?;
        }
        batch.end_row();
    }
    Ok(batch)
}

/// What the declared type says values are (sqlite-jdbc's reading).
fn kind_of(decltype: Option<&str>) -> ValueKind {
    let Some(t) = decltype.map(str::to_ascii_uppercase) else {
        return ValueKind::Other;
    };
    if t.contains("BOOL") {
        ValueKind::Boolean
    } else if t.contains("INT") {
        ValueKind::Int
    } else if t.contains("TIMESTAMP") || t.contains("DATETIME") {
        ValueKind::Timestamp
    } else if t.contains("DATE") {
        ValueKind::Date
    } else if t.contains("TIME") {
        ValueKind::Time
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t.contains("JSON") {
        ValueKind::Text
    } else if t.contains("BLOB") || t.contains("BINARY") {
        ValueKind::Bytes
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        ValueKind::Float64
    } else if t.contains("DEC") || t.contains("NUMERIC") {
        ValueKind::Decimal
    } else {
        ValueKind::Other
    }
}

fn describe(conn: &Connection, stmt: &Statement<'_>) -> Vec<Column> {
    stmt.columns()
        .zip(stmt.columns_with_metadata())
        .map(|(declared, c)| {
            let decltype = declared.decl_type();
            let mut column = Column {
                name: c.name().to_string(),
                type_name: decltype.unwrap_or("").to_string(),
                kind: kind_of(decltype),
                nullable: None,
                precision: None,
                scale: None,
                auto_increment: false,
                table_name: c.table_name().map(str::to_string),
            };
            if let (Some(table), Some(origin)) = (c.table_name(), c.origin_name()) {
                // (declared type, collation, not null, primary key, autoincrement)
                if let Ok((decl, _, not_null, primary_key, auto_increment)) =
                    conn.column_metadata(c.database_name(), table, origin)
                {
                    // A table's only primary key column declared INTEGER is
                    // its rowid: never null, numbered by SQLite when not
                    // given, whatever its declaration says.
                    let rowid = primary_key
                        && decl.is_some_and(|d| {
                            d.to_str().is_ok_and(|d| d.eq_ignore_ascii_case("INTEGER"))
                        })
                        && primary_key_columns(conn, c.database_name(), table) == 1;
                    column.nullable = Some(!(not_null || rowid));
                    column.auto_increment = auto_increment || rowid;
                }
            }
            column
        })
        .collect()
}

/// How many columns make up `table`'s primary key (0 when unknown).
fn primary_key_columns(conn: &Connection, database: Option<&str>, table: &str) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM pragma_table_info(?1, ?2) WHERE pk > 0",
        (table, database),
        |row| row.get(0),
    )
    .unwrap_or(0)
}

/// Packs one stored value as its column's declared kind.
fn pack(
    batch: &mut RowBatchBuilder,
    kind: ValueKind,
    value: ValueRef<'_>,
    column: &str,
) -> DbResult<()> {
    let mismatch = |what: &str| {
        fatal(format!(
            "column {column} holds {what}, which is not a {kind:?} value"
        ))
    };
    match (kind, value) {
        (_, ValueRef::Null) => batch.null(),
        (ValueKind::Boolean, ValueRef::Integer(i)) => batch.num(kind, i64::from(i != 0)),
        (ValueKind::Int, ValueRef::Integer(i)) => batch.num(kind, i),
        (ValueKind::Float64, ValueRef::Real(f)) => batch.num(kind, f.to_bits() as i64),
        (ValueKind::Float64, ValueRef::Integer(i)) => batch.num(kind, (i as f64).to_bits() as i64),
        (ValueKind::Decimal, ValueRef::Integer(i)) => batch.text(kind, &i.to_string()),
        (ValueKind::Decimal, ValueRef::Real(f)) => batch.text(kind, &f.to_string()),
        (ValueKind::Decimal, ValueRef::Text(t)) => {
            let t = std::str::from_utf8(t).map_err(|_| mismatch("text that is not UTF-8"))?;
            if !is_decimal(t) {
                return Err(mismatch(&format!("'{t}'")));
            }
            batch.text(kind, t);
        }
        (ValueKind::Timestamp | ValueKind::Date | ValueKind::Time, ValueRef::Text(t)) => {
            let t = std::str::from_utf8(t).map_err(|_| mismatch("text that is not UTF-8"))?;
            let parsed = match kind {
                ValueKind::Timestamp => rows::parse_timestamp(t),
                ValueKind::Date => rows::parse_date(t),
                _ => rows::parse_time(t),
            };
            batch.num(kind, parsed.ok_or_else(|| mismatch(&format!("'{t}'")))?);
        }
        // sqlite-jdbc stores dates as milliseconds since the epoch by default.
        (ValueKind::Timestamp, ValueRef::Integer(ms)) => batch.num(kind, ms.saturating_mul(1000)),
        (ValueKind::Date, ValueRef::Integer(ms)) => batch.num(kind, ms.div_euclid(86_400_000)),
        (ValueKind::Time, ValueRef::Integer(ms)) => batch.num(kind, ms.saturating_mul(1000)),
        (ValueKind::Bytes | ValueKind::Other, ValueRef::Blob(b)) => {
            batch.bytes(ValueKind::Bytes, b)
        }
        (ValueKind::Text | ValueKind::Other, ValueRef::Text(t)) => {
            let t = std::str::from_utf8(t).map_err(|_| mismatch("text that is not UTF-8"))?;
            batch.text(ValueKind::Text, t);
        }
        (ValueKind::Other, ValueRef::Integer(i)) => batch.num(ValueKind::Int, i),
        (ValueKind::Other, ValueRef::Real(f)) => batch.num(ValueKind::Float64, f.to_bits() as i64),
        (_, ValueRef::Integer(i)) => return Err(mismatch(&format!("the integer {i}"))),
        (_, ValueRef::Real(f)) => return Err(mismatch(&format!("the real {f}"))),
        (_, ValueRef::Text(_)) => return Err(mismatch("text")),
        (_, ValueRef::Blob(_)) => return Err(mismatch("a blob")),
    }
    Ok(())
}

fn is_decimal(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    !(whole.is_empty() && frac.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Parameters as SQLite stores them: dates and times as ISO text, which
/// sorts and compares as time does.
fn bind(params: &[Value]) -> Vec<SqlValue> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => SqlValue::Null,
            Value::Boolean(b) => SqlValue::Integer(i64::from(*b)),
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Float32(f) => SqlValue::Real(f64::from(*f)),
            Value::Float64(f) => SqlValue::Real(*f),
            Value::Decimal(s) | Value::Text(s) => SqlValue::Text(s.clone()),
            Value::Bytes(b) => SqlValue::Blob(b.clone()),
            Value::Date(d) => SqlValue::Text(rows::format_date(i64::from(*d))),
            Value::Time(t) => SqlValue::Text(rows::format_time(*t)),
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                SqlValue::Text(rows::format_timestamp(*t))
            }
        })
        .collect()
}

/// Busy, locked and interrupted are retriable; the rest are fatal.
fn error(e: rusqlite::Error) -> DbError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    };
    let detail = ErrorDetail {
        message: e.to_string(),
        sqlstate: None,
        vendor_code: code,
        connection_lost: false,
    };
    // Primary result codes: SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_INTERRUPT 9.
    match code.map(|c| c & 0xff) {
        Some(5 | 6 | 9) => retriable(detail),
        _ => DbError::Fatal(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_choose_kinds() {
        assert_eq!(kind_of(Some("INTEGER")), ValueKind::Int);
        assert_eq!(kind_of(Some("varchar(20)")), ValueKind::Text);
        assert_eq!(kind_of(Some("TIMESTAMP")), ValueKind::Timestamp);
        assert_eq!(kind_of(Some("DATE")), ValueKind::Date);
        assert_eq!(kind_of(Some("DECIMAL(10,2)")), ValueKind::Decimal);
        assert_eq!(kind_of(Some("BOOLEAN")), ValueKind::Boolean);
        assert_eq!(kind_of(None), ValueKind::Other);
        assert!(is_decimal("-12.50") && !is_decimal("1e5") && !is_decimal("."));
    }

    #[test]
    fn a_rowid_column_is_not_null_and_numbered_but_a_composite_key_is_neither() {
        let conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(
            "CREATE TABLE single (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b));",
        )
        .expect("schema");
        let columns = |sql: &str| {
            let stmt = conn.prepare(sql).expect("prepare");
            describe(&conn, &stmt)
                .into_iter()
                .map(|c| (c.name, c.nullable, c.auto_increment))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            columns("SELECT id, name FROM single"),
            [
                ("id".to_string(), Some(false), true),
                ("name".to_string(), Some(true), false)
            ]
        );
        assert_eq!(
            columns("SELECT a FROM pair"),
            [("a".to_string(), Some(true), false)]
        );
    }
}
