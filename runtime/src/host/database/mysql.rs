//! MySQL and MariaDB through `mysql_async`.
//!
//! A running query's result borrows its connection, so one task owns each
//! connection and serves requests from a channel (the worker's end is
//! [`super::actor`], shared with the SQLite driver); while a query is open
//! it keeps reading that query for `next` requests until another request
//! closes it (the contract allows one open cursor per connection).
//! Statements go through the driver's statement cache.
//!
//! The session runs in UTC (`time_zone = '+00:00'`), so `TIMESTAMP`
//! columns read as the instants they store. Column metadata (precision,
//! scale, NOT NULL, UNSIGNED, AUTO_INCREMENT) comes from the column
//! definitions the server sends, as Connector/J reports them. A statement
//! past its time is stopped with `KILL QUERY` from a second connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use mysql_async::{BinaryProtocol, Conn, Opts, OptsBuilder, QueryResult, Value as MyValue};
use tokio::sync::mpsc;

use super::actor::{self, Reply, Request, lost};
use super::rows::{self, RowBatchBuilder};
use super::{DbResult, fatal, retriable};
use crate::bindings::database::sql::{Column, DbError, ErrorDetail, Value, ValueKind};

const SERVER: actor::Server = actor::Server {
    driver: "MySQL",
    runs_on: "task",
};

/// Stops the statement a connection runs, from a second connection.
pub struct MyCancel {
    opts: Opts,
    id: u32,
}

/// Where and as whom to connect.
pub struct Target<'a> {
    pub addr: SocketAddr,
    pub database: Option<&'a str>,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Connects to the checked address `target.addr`: the connection, and
/// what stops the statement it runs.
pub async fn connect(target: Target<'_>) -> DbResult<(actor::Connection, Arc<MyCancel>)> {
    let opts: Opts = OptsBuilder::default()
        .ip_or_hostname(target.addr.ip().to_string())
        .tcp_port(target.addr.port())
        .prefer_socket(false)
        .user(target.user)
        .pass(target.password)
        .db_name(target.database)
        .init(vec!["SET time_zone = '+00:00'"])
        .into();
    let conn = Conn::new(opts.clone()).await.map_err(error)?;
    let cancel = Arc::new(MyCancel {
        opts,
        id: conn.id(),
    });
    let (connection, inbox) = actor::channel(SERVER);
    tokio::spawn(serve(conn, inbox));
    Ok((connection, cancel))
}

impl MyCancel {
    pub fn cancel(&self) {
        let (opts, id) = (self.opts.clone(), self.id);
        tokio::spawn(async move {
            let killed = async {
                let mut conn = Conn::new(opts).await?;
                conn.query_drop(format!("KILL QUERY {id}")).await?;
                conn.disconnect().await
            };
            if let Err(e) = tokio::time::timeout(Duration::from_secs(10), killed).await {
                tracing::debug!(error = %e, "MySQL KILL QUERY did not finish");
            }
        });
    }
}

/// The connection's task: answers requests until every sender is gone.
async fn serve(mut conn: Conn, mut inbox: mpsc::UnboundedReceiver<Request>) {
    let mut pending = inbox.recv().await;
    while let Some(request) = pending.take() {
        pending = match request {
            Request::Query(sql, params, id, reply) => {
                run_query(&mut conn, &sql, params, id, reply, &mut inbox).await
            }
            other => {
                answer(&mut conn, other).await;
                inbox.recv().await
            }
        };
    }
    let _ = conn.disconnect().await;
}

async fn answer(conn: &mut Conn, request: Request) {
    match request {
        Request::Script(sql, reply) => {
            let _ = reply.send(conn.query_drop(sql).await.map_err(error));
        }
        Request::Prepare(sql, reply) => {
            let prepared = conn.prep(sql).await.map_err(error).map(|stmt| {
                let columns = stmt.columns().iter().map(describe).collect();
                (u32::from(stmt.num_params()), columns)
            });
            let _ = reply.send(prepared);
        }
        Request::Execute(sql, rows, reply) => {
            let mut counts = Vec::with_capacity(rows.len());
            let mut failed = None;
            for row in rows {
                let executed = match bind(&row) {
                    Ok(params) => conn.exec_drop(sql.as_str(), params).await.map_err(error),
                    Err(e) => Err(e),
                };
                match executed {
                    Ok(()) => counts.push(conn.affected_rows()),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let _ = reply.send(match failed {
                Some(e) => Err(e),
                None => Ok(counts),
            });
        }
        Request::Next(_, _, reply) => {
            let _ = reply.send(Err(actor::cursor_closed()));
        }
        // A cursor already closed; and queries are served by run_query.
        Request::Close(_) | Request::Query(..) => {}
    }
}

/// Runs a query and serves `next` for it until another request arrives,
/// which it returns once the rest of the result is read off the wire.
async fn run_query(
    conn: &mut Conn,
    sql: &str,
    params: Vec<Value>,
    id: u64,
    reply: Reply<()>,
    inbox: &mut mpsc::UnboundedReceiver<Request>,
) -> Option<Request> {
    let params = match bind(&params) {
        Ok(p) => p,
        Err(e) => {
            let _ = reply.send(Err(e));
            return inbox.recv().await;
        }
    };
    let mut result = match conn.exec_iter(sql, params).await {
        Ok(r) => r,
        Err(e) => {
            let _ = reply.send(Err(error(e)));
            return inbox.recv().await;
        }
    };
    let columns: Vec<Column> = result.columns_ref().iter().map(describe).collect();
    let _ = reply.send(Ok(()));
    let mut done = false;
    let next = loop {
        match inbox.recv().await {
            Some(Request::Next(cursor, max_rows, reply)) if cursor == id => {
                let read = read_batch(&mut result, &columns, max_rows, &mut done).await;
                let _ = reply.send(read.map(|batch| (batch, done)));
            }
            Some(Request::Close(cursor)) if cursor == id => break inbox.recv().await,
            other => break other,
        }
    };
    // The wire must be drained before the connection can run anything else.
    if let Err(e) = result.drop_result().await {
        tracing::debug!(error = %e, "MySQL result could not be drained");
    }
    next
}

/// Reads the query's next rows: up to `max_rows`, fewer when the batch
/// is full; sets `done` once the result has no more.
async fn read_batch(
    result: &mut QueryResult<'_, '_, BinaryProtocol>,
    columns: &[Column],
    max_rows: u32,
    done: &mut bool,
) -> DbResult<RowBatchBuilder> {
    let mut batch = RowBatchBuilder::default();
    while !*done && batch.rows() < max_rows && !batch.full() {
        let Some(mut row) = result.next().await.map_err(error)? else {
            *done = true;
            break;
        };
        for (i, column) in columns.iter().enumerate() {
            pack(&mut batch, column, row.take(i).unwrap_or(MyValue::NULL))?;
        }
        batch.end_row();
    }
    Ok(batch)
}

/// Whether the column holds binary data rather than text (character set
/// 63 is `binary`).
fn is_binary(c: &mysql_async::Column) -> bool {
    c.character_set() == 63
}

fn describe(c: &mysql_async::Column) -> Column {
    let flags = c.flags();
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let (kind, name) = match c.column_type() {
        ColumnType::MYSQL_TYPE_TINY => (ValueKind::Int, "TINYINT"),
        ColumnType::MYSQL_TYPE_SHORT => (ValueKind::Int, "SMALLINT"),
        ColumnType::MYSQL_TYPE_INT24 => (ValueKind::Int, "MEDIUMINT"),
        ColumnType::MYSQL_TYPE_LONG => (ValueKind::Int, "INT"),
        ColumnType::MYSQL_TYPE_LONGLONG => (ValueKind::Int, "BIGINT"),
        ColumnType::MYSQL_TYPE_YEAR => (ValueKind::Int, "YEAR"),
        ColumnType::MYSQL_TYPE_FLOAT => (ValueKind::Float32, "FLOAT"),
        ColumnType::MYSQL_TYPE_DOUBLE => (ValueKind::Float64, "DOUBLE"),
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            (ValueKind::Decimal, "DECIMAL")
        }
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => (ValueKind::Date, "DATE"),
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => (ValueKind::Time, "TIME"),
        ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => {
            (ValueKind::Timestamp, "DATETIME")
        }
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
            (ValueKind::Timestamp, "TIMESTAMP")
        }
        ColumnType::MYSQL_TYPE_JSON => (ValueKind::Text, "JSON"),
        ColumnType::MYSQL_TYPE_BIT => (ValueKind::Bytes, "BIT"),
        ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB => {
            if is_binary(c) {
                (ValueKind::Bytes, "BLOB")
            } else {
                (ValueKind::Text, "TEXT")
            }
        }
        ColumnType::MYSQL_TYPE_VARCHAR | ColumnType::MYSQL_TYPE_VAR_STRING => {
            if is_binary(c) {
                (ValueKind::Bytes, "VARBINARY")
            } else {
                (ValueKind::Text, "VARCHAR")
            }
        }
        ColumnType::MYSQL_TYPE_STRING => {
            if flags.contains(ColumnFlags::ENUM_FLAG) {
                (ValueKind::Text, "ENUM")
            } else if flags.contains(ColumnFlags::SET_FLAG) {
                (ValueKind::Text, "SET")
            } else if is_binary(c) {
                (ValueKind::Bytes, "BINARY")
            } else {
                (ValueKind::Text, "CHAR")
            }
        }
        ColumnType::MYSQL_TYPE_NULL => (ValueKind::Null, "NULL"),
        _ => (ValueKind::Other, "OTHER"),
    };
    let (precision, scale) = match kind {
        ValueKind::Decimal => {
            // The display length counts the sign and the point.
            let point = u32::from(c.decimals() > 0);
            let sign = u32::from(!unsigned);
            (
                Some(c.column_length().saturating_sub(point + sign)),
                Some(i32::from(c.decimals())),
            )
        }
        ValueKind::Timestamp | ValueKind::Time => (Some(u32::from(c.decimals())), None),
        _ => (None, None),
    };
    let type_name = if unsigned {
        format!("{name} UNSIGNED")
    } else if name == "TINYINT" && c.column_length() == 1 {
        "TINYINT(1)".to_string()
    } else {
        name.to_string()
    };
    let table = c.org_table_str();
    Column {
        name: c.name_str().into_owned(),
        type_name,
        kind,
        nullable: Some(!flags.contains(ColumnFlags::NOT_NULL_FLAG)),
        precision,
        scale,
        auto_increment: flags.contains(ColumnFlags::AUTO_INCREMENT_FLAG),
        table_name: (!table.is_empty()).then(|| table.into_owned()),
    }
}

/// Packs one value as the column's kind.
fn pack(batch: &mut RowBatchBuilder, column: &Column, value: MyValue) -> DbResult<()> {
    let kind = column.kind;
    let mismatch = || {
        fatal(format!(
            "column {} ({}) sent a value the worker cannot read as {kind:?}",
            column.name, column.type_name
        ))
    };
    match (kind, value) {
        (_, MyValue::NULL) => batch.null(),
        (ValueKind::Int, MyValue::Int(i)) => batch.num(kind, i),
        (ValueKind::Int, MyValue::UInt(u)) => match i64::try_from(u) {
            Ok(i) => batch.num(kind, i),
            // BIGINT UNSIGNED beyond i64: exact, as decimal text.
            Err(_) => batch.text(ValueKind::Decimal, &u.to_string()),
        },
        (ValueKind::Float32, MyValue::Float(f)) => batch.num(kind, i64::from(f.to_bits())),
        (ValueKind::Float64, MyValue::Double(f)) => batch.num(kind, f.to_bits() as i64),
        (ValueKind::Float64, MyValue::Float(f)) => batch.num(kind, f64::from(f).to_bits() as i64),
        (ValueKind::Date, MyValue::Date(y, m, d, ..)) => batch.num(
            kind,
            rows::days_from_civil(i64::from(y), u32::from(m), u32::from(d)),
        ),
        (ValueKind::Timestamp, MyValue::Date(y, mo, d, h, mi, s, us)) => {
            let days = rows::days_from_civil(i64::from(y), u32::from(mo), u32::from(d));
            let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
            batch.num(
                kind,
                days * 86_400_000_000 + secs * 1_000_000 + i64::from(us),
            );
        }
        (ValueKind::Time, MyValue::Time(negative, days, h, m, s, us)) => {
            let micros =
                ((i64::from(days) * 24 + i64::from(h)) * 3600 + i64::from(m) * 60 + i64::from(s))
                    * 1_000_000
                    + i64::from(us);
            batch.num(kind, if negative { -micros } else { micros });
        }
        (ValueKind::Bytes | ValueKind::Other, MyValue::Bytes(b)) => batch.bytes(kind, &b),
        (ValueKind::Text | ValueKind::Decimal, MyValue::Bytes(b)) => {
            let text = std::str::from_utf8(&b).map_err(|_| {
                fatal(format!(
                    "column {} sent text that is not UTF-8 (use a utf8mb4 column or a binary type)",
                    column.name
                ))
            })?;
            batch.text(kind, text);
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// The parameters as MySQL values; a date beyond the years MySQL's
/// protocol can carry is refused rather than stored as another date.
fn bind(params: &[Value]) -> DbResult<mysql_async::Params> {
    if params.is_empty() {
        return Ok(mysql_async::Params::Empty);
    }
    // Days and the time of day apart, so that no date overflows on its way
    // to microseconds.
    let date_time = |days: i64, in_day: i64| {
        let (y, m, d) = rows::civil_from_days(days);
        let year =
            u16::try_from(y).map_err(|_| fatal(format!("the year {y} cannot be sent to MySQL")))?;
        let secs = in_day / 1_000_000;
        Ok(MyValue::Date(
            year,
            m as u8,
            d as u8,
            (secs / 3600) as u8,
            (secs / 60 % 60) as u8,
            (secs % 60) as u8,
            (in_day % 1_000_000) as u32,
        ))
    };
    let values = params
        .iter()
        .map(|v| match v {
            Value::Null => Ok(MyValue::NULL),
            Value::Boolean(b) => Ok(MyValue::Int(i64::from(*b))),
            Value::Int(i) => Ok(MyValue::Int(*i)),
            Value::Float32(f) => Ok(MyValue::Float(*f)),
            Value::Float64(f) => Ok(MyValue::Double(*f)),
            Value::Decimal(s) | Value::Text(s) => Ok(MyValue::Bytes(s.as_bytes().to_vec())),
            Value::Bytes(b) => Ok(MyValue::Bytes(b.clone())),
            Value::Date(d) => date_time(i64::from(*d), 0),
            Value::Time(t) => {
                let negative = *t < 0;
                let micros = t.unsigned_abs();
                let secs = micros / 1_000_000;
                Ok(MyValue::Time(
                    negative,
                    (secs / 86_400) as u32,
                    (secs / 3600 % 24) as u8,
                    (secs / 60 % 60) as u8,
                    (secs % 60) as u8,
                    (micros % 1_000_000) as u32,
                ))
            }
            Value::Timestamp(t) | Value::TimestampTz(t) => date_time(
                t.div_euclid(rows::MICROS_PER_DAY),
                t.rem_euclid(rows::MICROS_PER_DAY),
            ),
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok(mysql_async::Params::Positional(values))
}

/// Deadlocks, lock waits, too many connections, shutdowns and killed or
/// timed-out statements are retriable; lost connections too.
fn error(e: mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(s) => {
            let detail = ErrorDetail {
                message: s.message,
                sqlstate: Some(s.state),
                vendor_code: Some(i32::from(s.code)),
                connection_lost: matches!(s.code, 1053 | 1927),
            };
            if matches!(
                s.code,
                1213 | 1205 | 1040 | 1053 | 1317 | 1927 | 1969 | 3024
            ) {
                retriable(detail)
            } else {
                DbError::Fatal(detail)
            }
        }
        mysql_async::Error::Io(e) => lost(format!("lost the connection: {e}")),
        mysql_async::Error::Driver(mysql_async::DriverError::ConnectionClosed) => {
            lost("the server closed the connection")
        }
        other => fatal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_sent_whole_and_those_mysql_cannot_carry_are_refused() {
        // 2024-05-06 and 2024-05-06T07:08:09.123456.
        let Ok(mysql_async::Params::Positional(values)) = bind(&[
            Value::Date(19_849),
            Value::Timestamp(19_849 * rows::MICROS_PER_DAY + 25_689_123_456),
        ]) else {
            panic!("both bind");
        };
        assert_eq!(
            values,
            [
                MyValue::Date(2024, 5, 6, 0, 0, 0, 0),
                MyValue::Date(2024, 5, 6, 7, 8, 9, 123_456)
            ]
        );
        // Far beyond any year a u16 holds: refused, not overflowed.
        for far in [
            Value::Date(i32::MAX),
            Value::Date(i32::MIN),
            Value::Timestamp(i64::MIN),
        ] {
            assert!(bind(&[far]).is_err());
        }
    }
}
