//! PostgreSQL through `tokio-postgres`.
//!
//! Parameters go to the server as text (PostgreSQL parses them with each
//! parameter's own type, so a decimal string fills a NUMERIC exactly and
//! a date needs no client-side calendar), bytes in binary. Results come
//! back in PostgreSQL's binary format and are decoded here by type, so
//! every value arrives exactly: NUMERIC as decimal text, dates and times
//! as day and microsecond counts. Column nullability and origin come from
//! the catalog, as pgjdbc's `ResultSetMetaData` reports them.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};
use tokio_postgres::{CancelToken, Client, NoTls, RowStream};

use super::rows::{self, RowBatchBuilder};
use super::{DbResult, fatal, retriable};
use crate::bindings::database::sql::{Column, DbError, ErrorDetail, Value, ValueKind};

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400_000_000;

/// An open connection; the socket is driven by a task of its own.
pub struct PgConn {
    client: Arc<Client>,
    cancel: Arc<PgConnCancel>,
}

/// Asks the server to stop the statement running on a connection (a call
/// ran out of time): the statement is abandoned, not the connection.
pub struct PgConnCancel(CancelToken);

impl PgConnCancel {
    pub fn cancel(&self) {
        let token = self.0.clone();
        tokio::spawn(async move {
            if let Err(e) = token.cancel_query(NoTls).await {
                tracing::debug!(error = %e, "PostgreSQL cancel request failed");
            }
        });
    }
}

/// A prepared statement.
pub struct PgStatement {
    client: Arc<Client>,
    statement: tokio_postgres::Statement,
    columns: Vec<Column>,
}

/// A running query.
pub struct PgCursor {
    stream: Pin<Box<RowStream>>,
    types: Vec<Type>,
    done: bool,
}

/// Where and as whom to connect.
pub struct Target<'a> {
    pub host: &'a str,
    pub addr: SocketAddr,
    pub database: Option<&'a str>,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Connects to the checked address `target.addr` (the host name is kept
/// for the server's benefit, never looked up again).
pub async fn connect(target: Target<'_>, timeout: Duration) -> DbResult<PgConn> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(target.host)
        .hostaddr(target.addr.ip())
        .port(target.addr.port())
        .connect_timeout(timeout)
        .application_name("wasmconnect");
    if let Some(user) = target.user {
        config.user(user);
    }
    if let Some(password) = target.password {
        config.password(password);
    }
    if let Some(db) = target.database {
        config.dbname(db);
    }
    let (client, connection) = config.connect(NoTls).await.map_err(error)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    let cancel = Arc::new(PgConnCancel(client.cancel_token()));
    Ok(PgConn {
        client: Arc::new(client),
        cancel,
    })
}

impl PgConn {
    pub fn canceller(&self) -> Arc<PgConnCancel> {
        self.cancel.clone()
    }

    pub async fn execute_script(&self, sql: &str) -> DbResult<()> {
        self.client.batch_execute(sql).await.map_err(error)
    }

    pub async fn prepare(&self, sql: &str) -> DbResult<PgStatement> {
        let statement = self.client.prepare(sql).await.map_err(error)?;
        let columns = describe(&self.client, &statement).await?;
        Ok(PgStatement {
            client: self.client.clone(),
            statement,
            columns,
        })
    }
}

impl PgStatement {
    pub fn parameter_count(&self) -> u32 {
        u32::try_from(self.statement.params().len()).unwrap_or(u32::MAX)
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub async fn query(&self, params: &[Value]) -> DbResult<PgCursor> {
        let params = self.bind(params)?;
        let stream = self
            .client
            .query_raw(&self.statement, params)
            .await
            .map_err(error)?;
        Ok(PgCursor {
            stream: Box::pin(stream),
            types: self
                .statement
                .columns()
                .iter()
                .map(|c| c.type_().clone())
                .collect(),
            done: false,
        })
    }

    pub async fn execute(&self, params: &[Value]) -> DbResult<u64> {
        let params = self.bind(params)?;
        self.client
            .execute_raw(&self.statement, params)
            .await
            .map_err(error)
    }

    /// Every row's execution is sent before the first answer is awaited
    /// (tokio-postgres pipelines concurrent requests), so a batch costs
    /// about one round trip.
    pub async fn execute_batch(&self, rows: &[Vec<Value>]) -> DbResult<Vec<u64>> {
        let mut pending = Vec::with_capacity(rows.len());
        for row in rows {
            let params = self.bind(row)?;
            pending.push(self.client.execute_raw(&self.statement, params));
        }
        futures::future::join_all(pending)
            .await
            .into_iter()
            .map(|r| r.map_err(error))
            .collect()
    }

    fn bind<'a>(&self, params: &'a [Value]) -> DbResult<Vec<Param<'a>>> {
        let expected = self.statement.params().len();
        if params.len() != expected {
            return Err(fatal(format!(
                "the statement takes {expected} parameters, {} given",
                params.len()
            )));
        }
        Ok(params.iter().map(Param).collect())
    }
}

impl PgCursor {
    pub async fn next(&mut self, max_rows: u32) -> DbResult<(RowBatchBuilder, bool)> {
        let mut batch = RowBatchBuilder::default();
        while !self.done && batch.rows() < max_rows && !batch.full() {
            match self.stream.next().await {
                None => self.done = true,
                Some(Err(e)) => return Err(error(e)),
                Some(Ok(row)) => {
                    for (i, ty) in self.types.iter().enumerate() {
                        let raw: Raw = row.try_get(i).map_err(error)?;
                        decode(&mut batch, ty, raw.0)?;
                    }
                    batch.end_row();
                }
            }
        }
        Ok((batch, self.done))
    }
}

/// A parameter: text unless it is bytes.
#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let text = match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bytes(b) => {
                out.extend_from_slice(b);
                return Ok(IsNull::No);
            }
            Value::Boolean(b) => if *b { "t" } else { "f" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float32(f) => float_text(f64::from(*f)),
            Value::Float64(f) => float_text(*f),
            Value::Decimal(s) | Value::Text(s) => {
                out.extend_from_slice(s.as_bytes());
                return Ok(IsNull::No);
            }
            Value::Date(d) => rows::format_date(i64::from(*d)),
            Value::Time(t) => rows::format_time(*t),
            Value::Timestamp(t) => rows::format_timestamp(*t),
            Value::TimestampTz(t) => format!("{}+00", rows::format_timestamp(*t)),
        };
        out.extend_from_slice(text.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match self.0 {
            Value::Bytes(_) => Format::Binary,
            _ => Format::Text,
        }
    }

    to_sql_checked!();
}

/// Floats as PostgreSQL reads them (`Infinity`, not Rust's `inf`).
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        f.to_string()
    }
}

/// A result value of any type, still in binary format.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> tokio_postgres::types::FromSql<'a> for Raw<'a> {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// How values of `ty` are delivered.
fn kind_of(ty: &Type) -> ValueKind {
    match *ty {
        Type::BOOL => ValueKind::Boolean,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => ValueKind::Int,
        Type::FLOAT4 => ValueKind::Float32,
        Type::FLOAT8 => ValueKind::Float64,
        Type::NUMERIC => ValueKind::Decimal,
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::CHAR
        | Type::JSON
        | Type::JSONB
        | Type::XML
        | Type::UUID
        | Type::UNKNOWN => ValueKind::Text,
        Type::BYTEA => ValueKind::Bytes,
        Type::DATE => ValueKind::Date,
        Type::TIME | Type::TIMETZ => ValueKind::Time,
        Type::TIMESTAMP => ValueKind::Timestamp,
        Type::TIMESTAMPTZ => ValueKind::TimestampTz,
        _ => match ty.kind() {
            Kind::Enum(_) => ValueKind::Text,
            Kind::Domain(inner) => kind_of(inner),
            _ => ValueKind::Other,
        },
    }
}

fn be<const N: usize>(raw: &[u8]) -> DbResult<[u8; N]> {
    raw.get(..N).and_then(|b| b.try_into().ok()).ok_or_else(|| {
        fatal(format!(
            "PostgreSQL sent {} bytes for a {N}-byte value",
            raw.len()
        ))
    })
}

/// Packs one binary-format value of type `ty`.
fn decode(batch: &mut RowBatchBuilder, ty: &Type, raw: Option<&[u8]>) -> DbResult<()> {
    let Some(raw) = raw else {
        batch.null();
        return Ok(());
    };
    let ty = match ty.kind() {
        Kind::Domain(inner) => inner,
        _ => ty,
    };
    let kind = kind_of(ty);
    match *ty {
        Type::BOOL => batch.num(kind, i64::from(raw.first().copied().unwrap_or(0) != 0)),
        Type::INT2 => batch.num(kind, i64::from(i16::from_be_bytes(be(raw)?))),
        Type::INT4 => batch.num(kind, i64::from(i32::from_be_bytes(be(raw)?))),
        Type::OID => batch.num(kind, i64::from(u32::from_be_bytes(be(raw)?))),
        Type::INT8 => batch.num(kind, i64::from_be_bytes(be(raw)?)),
        Type::FLOAT4 => batch.num(kind, i64::from(u32::from_be_bytes(be(raw)?))),
        Type::FLOAT8 => batch.num(kind, u64::from_be_bytes(be(raw)?) as i64),
        Type::NUMERIC => batch.text(kind, &numeric_text(raw)?),
        Type::JSONB => batch.bytes(kind, checked_text(raw.get(1..).unwrap_or_default())?),
        Type::UUID => batch.text(kind, &uuid_text(raw)?),
        Type::DATE => batch.num(
            kind,
            i64::from(i32::from_be_bytes(be(raw)?)) + PG_EPOCH_DAYS,
        ),
        Type::TIME => batch.num(kind, i64::from_be_bytes(be(raw)?)),
        Type::TIMETZ => {
            // Microseconds of local time, then the zone's offset in
            // seconds *west* of UTC: the instant's time of day in UTC.
            let micros = i64::from_be_bytes(be(raw)?);
            let west = i64::from(i32::from_be_bytes(be(raw.get(8..).unwrap_or_default())?));
            batch.num(kind, (micros + west * 1_000_000).rem_euclid(86_400_000_000));
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(be(raw)?);
            // ±infinity keep their sentinels rather than overflowing.
            let shifted = if micros == i64::MAX || micros == i64::MIN {
                micros
            } else {
                micros.saturating_add(PG_EPOCH_MICROS)
            };
            batch.num(kind, shifted);
        }
        _ if kind == ValueKind::Text => batch.bytes(kind, checked_text(raw)?),
        _ => batch.bytes(kind, raw),
    }
    Ok(())
}

fn checked_text(raw: &[u8]) -> DbResult<&[u8]> {
    std::str::from_utf8(raw).map(str::as_bytes).map_err(|_| {
        fatal("PostgreSQL sent text that is not UTF-8 (is the database's encoding UTF8?)")
    })
}

fn uuid_text(raw: &[u8]) -> DbResult<String> {
    let b: [u8; 16] = be(raw)?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// NUMERIC's binary form (digit count, weight, sign, display scale, then
/// base-10000 digits) as decimal text with exactly `dscale` decimals.
fn numeric_text(raw: &[u8]) -> DbResult<String> {
    let word = |i: usize| -> DbResult<u16> {
        Ok(u16::from_be_bytes(be(raw
            .get(i * 2..)
            .unwrap_or_default())?))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<DbResult<_>>()?;
    let digit = |pos: i64| -> u16 {
        // Digit `pos` counts base-10000 groups from the first, which has
        // weight `weight`; groups outside the stored ones are zero.
        usize::try_from(pos)
            .ok()
            .and_then(|p| digits.get(p).copied())
            .unwrap_or(0)
    };
    let mut int_part = String::new();
    for pos in 0..=weight.max(-1) {
        let d = digit(pos);
        if int_part.is_empty() {
            if d != 0 {
                int_part = d.to_string();
            }
        } else {
            int_part.push_str(&format!("{d:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut pos = weight + 1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", digit(pos)));
        pos += 1;
    }
    frac.truncate(dscale);
    let negative = sign == 0x4000 && (int_part != "0" || frac.bytes().any(|b| b != b'0'));
    let mut out = String::with_capacity(int_part.len() + frac.len() + 2);
    if negative {
        out.push('-');
    }
    out.push_str(&int_part);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// The result columns of `statement`, with nullability, origin and
/// identity read from the catalog for columns that come from a table.
async fn describe(client: &Client, statement: &tokio_postgres::Statement) -> DbResult<Vec<Column>> {
    let mut columns = Vec::with_capacity(statement.columns().len());
    for c in statement.columns() {
        let typmod = c.type_modifier();
        let (precision, scale) = match *c.type_() {
            Type::NUMERIC if typmod >= 4 => (
                Some(((typmod - 4) >> 16) as u32 & 0xffff),
                Some((typmod - 4) & 0xffff),
            ),
            Type::VARCHAR | Type::BPCHAR if typmod >= 4 => (Some((typmod - 4) as u32), None),
            Type::TIME | Type::TIMETZ | Type::TIMESTAMP | Type::TIMESTAMPTZ if typmod >= 0 => {
                (Some(typmod as u32), None)
            }
            _ => (None, None),
        };
        let mut column = Column {
            name: c.name().to_string(),
            type_name: c.type_().name().to_string(),
            kind: kind_of(c.type_()),
            nullable: None,
            precision,
            scale,
            auto_increment: false,
            table_name: None,
        };
        if let (Some(table), Some(attnum)) = (c.table_oid(), c.column_id()) {
            let row = client
                .query_opt(
                    "SELECT c.relname::text, a.attnotnull, \
                     (a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) \
                     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                     WHERE a.attrelid = $1 AND a.attnum = $2",
                    &[&table, &attnum],
                )
                .await
                .map_err(error)?;
            if let Some(row) = row {
                column.table_name = row.try_get(0).ok();
                column.nullable = row.try_get::<_, bool>(1).ok().map(|not_null| !not_null);
                column.auto_increment = row.try_get(2).unwrap_or(false);
            }
        }
        columns.push(column);
    }
    Ok(columns)
}

/// Retriable or fatal by SQLSTATE class, as the contract promises.
fn error(e: tokio_postgres::Error) -> DbError {
    let code = e.code().map(|c| c.code().to_string());
    let retriable_state = code.as_deref().is_some_and(|c| {
        c.starts_with("08")
            || matches!(
                c,
                "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300" | "55P03" | "57014"
            )
    });
    // A statement prepared before its table changed shape ("cached plan
    // must not change result type"): preparing it again succeeds.
    let stale_plan = code.as_deref() == Some("0A000")
        && e.as_db_error()
            .is_some_and(|db| db.message().contains("cached plan"));
    let lost = e.is_closed()
        || code
            .as_deref()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"));
    let message = match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_string(),
        },
        None => {
            // Driver-side errors (I/O, protocol) carry their cause.
            let mut m = e.to_string();
            if let Some(source) = e.source() {
                m = format!("{m}: {source}");
            }
            m
        }
    };
    let detail = ErrorDetail {
        message,
        sqlstate: code,
        vendor_code: None,
        connection_lost: lost,
    };
    // With no SQLSTATE, the driver failed talking to the server: the
    // connection is the problem, which a retry on a new one may cure.
    if retriable_state || stale_plan || lost || e.code().is_none() && e.as_db_error().is_none() {
        retriable(detail)
    } else {
        DbError::Fatal(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numerics_decode_exactly() {
        // 12345.678 = [1, 2345, 6780] with weight 1, dscale 3.
        assert_eq!(
            numeric_text(&numeric(3, 1, 0, 3, &[1, 2345, 6780])).unwrap(),
            "12345.678"
        );
        assert_eq!(
            numeric_text(&numeric(1, -1, 0x4000, 2, &[500])).unwrap(),
            "-0.05"
        );
        assert_eq!(numeric_text(&numeric(0, 0, 0, 2, &[])).unwrap(), "0.00");
        assert_eq!(
            numeric_text(&numeric(1, 2, 0, 0, &[7])).unwrap(),
            "700000000"
        );
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert_eq!(
            numeric_text(&numeric(1, -2, 0, 6, &[1200])).unwrap(),
            "0.000012"
        );
        assert!(numeric_text(&[0, 1]).is_err());
    }

    #[test]
    fn floats_as_postgres_reads_them() {
        assert_eq!(float_text(f64::INFINITY), "Infinity");
        assert_eq!(float_text(1.5), "1.5");
        assert_eq!(float_text(f64::NAN), "NaN");
    }
}
