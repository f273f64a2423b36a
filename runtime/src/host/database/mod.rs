//! The `database` capability (`wasmconnect:database/sql`): connections to
//! the PostgreSQL, MySQL/MariaDB and SQLite databases a connector's
//! configuration names, through drivers the worker holds.
//!
//! * The grant: `connection.open(url)` must name the value of one of the
//!   connector's `url` configuration keys that [`super::grants`] parsed as
//!   a database URL ([`url`]) and checked against the worker's allow-lists
//!   when the instance started. The host connects to the addresses it
//!   checked, never to a fresh lookup of the name, and opens the SQLite
//!   file it checked.
//! * The deadline: the instance sets [`DatabaseState::set_deadline`] as
//!   each guest call begins; every database call gets what remains of it
//!   less a margin. A statement still running then is cancelled on the
//!   server (PostgreSQL's cancel request, SQLite's interrupt) and the call
//!   fails retriable, so the guest call returns in time and the instance
//!   is not poisoned by a slow query.
//! * The drivers: [`postgres`] (tokio-postgres), [`mysql`] (mysql_async,
//!   MySQL and MariaDB, on a task per connection), [`sqlite`] (rusqlite on
//!   a thread per connection), the last two reached through the same
//!   requests ([`actor`]); rows cross the boundary packed ([`rows`]).
//!   These three (as Spin's hosts use) rather than sqlx:
//!   sqlx keeps PostgreSQL's type modifiers and MySQL's column flags
//!   private (so no NUMERIC precision and scale, no nullability, which
//!   Connect schemas need) and cannot cancel a running statement.
//!
//! Passwords pass from the guest to the driver and appear in no log line
//! or error message.

pub mod actor;
pub mod mysql;
pub mod postgres;
pub mod rows;
pub mod sqlite;
pub mod url;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::Identity;
use super::grants::{DatabaseGrant, Grants};
use crate::bindings::database::sql::{
    self, Column, DbError, Dialect as WitDialect, ErrorDetail, RowBatch, Value,
};
use url::{Dialect, Target};

/// Kept back from the guest call's deadline so that the call can return
/// after a database call times out.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);
/// The budget of a database call made outside any guarded guest call.
const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

pub(crate) type DbResult<T> = Result<T, DbError>;

pub(crate) fn fatal(message: impl Into<String>) -> DbError {
    DbError::Fatal(ErrorDetail {
        message: message.into(),
        sqlstate: None,
        vendor_code: None,
        connection_lost: false,
    })
}

pub(crate) fn retriable(detail: ErrorDetail) -> DbError {
    DbError::Retriable(detail)
}

/// An open connection (a resource in the instance's table).
pub struct HostConnection {
    backend: Backend,
    dialect: Dialect,
}

enum Backend {
    Postgres(postgres::PgConn),
    /// MySQL or SQLite: the task or thread serving the connection, and
    /// what stops the statement it runs.
    Served(actor::Connection, Canceller),
}

/// A prepared statement.
pub struct HostStatement {
    backend: StatementBackend,
    cancel: Canceller,
}

enum StatementBackend {
    Postgres(postgres::PgStatement),
    /// MySQL or SQLite.
    Served(actor::Statement),
}

/// A running query.
pub struct HostCursor {
    backend: CursorBackend,
    columns: Vec<Column>,
    cancel: Canceller,
    /// A fetch was cancelled: the cursor answers nothing more.
    cancelled: bool,
}

enum CursorBackend {
    Postgres(postgres::PgCursor),
    /// MySQL or SQLite.
    Served(actor::Cursor),
}

/// Stops what a connection is running, from outside the call.
#[derive(Clone)]
enum Canceller {
    Postgres(Arc<postgres::PgConnCancel>),
    Mysql(Arc<mysql::MyCancel>),
    Sqlite(Arc<rusqlite::InterruptHandle>),
}

impl Canceller {
    fn cancel(&self) {
        match self {
            Canceller::Postgres(c) => c.cancel(),
            Canceller::Mysql(c) => c.cancel(),
            Canceller::Sqlite(h) => h.interrupt(),
        }
    }
}

/// This capability's share of an instance's state.
pub struct DatabaseState {
    identity: Identity,
    grants: Arc<Grants>,
    deadline: Option<Instant>,
}

impl DatabaseState {
    /// The databases `grants` name, for `identity`.
    pub fn new(identity: Identity, grants: Arc<Grants>) -> Self {
        DatabaseState {
            identity,
            grants,
            deadline: None,
        }
    }

    /// When the guest call now starting must be done.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// What a database call may take now.
    fn budget(&self) -> Duration {
        match self.deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .saturating_sub(DEADLINE_MARGIN),
            None => DEFAULT_BUDGET,
        }
    }
}

/// What the capability works on: its state and the instance's resource
/// table.
pub struct DatabaseCtx<'a> {
    pub state: &'a DatabaseState,
    pub table: &'a mut ResourceTable,
}

/// A store whose data holds a [`DatabaseState`].
pub trait DatabaseView: Send {
    fn database(&mut self) -> DatabaseCtx<'_>;
}

struct Database;

impl HasData for Database {
    type Data<'a> = DatabaseCtx<'a>;
}

/// Adds the `wasmconnect:database/sql` import to `linker`.
pub fn add_to_linker<T: DatabaseView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    sql::add_to_linker::<T, Database>(linker, T::database)
}

/// Runs `work` within `budget`; past it, cancels what the connection runs
/// and fails retriable.
async fn timed<T>(
    budget: Duration,
    cancel: &Canceller,
    work: impl Future<Output = DbResult<T>>,
) -> DbResult<T> {
    if budget.is_zero() {
        return Err(timeout_error());
    }
    match tokio::time::timeout(budget, work).await {
        Ok(r) => r,
        Err(_) => {
            cancel.cancel();
            Err(timeout_error())
        }
    }
}

/// Whether `e` says the statement was cancelled (SQLSTATE 57014): by
/// [`timed`] at the deadline, or by the server.
fn is_cancellation(e: &DbError) -> bool {
    matches!(e, DbError::Retriable(d) if d.sqlstate.as_deref() == Some("57014"))
}

/// The answer to `next` on a cursor whose query was cancelled.
fn cancelled_cursor() -> DbError {
    retriable(ErrorDetail {
        message: "this cursor's query was cancelled at the call deadline and may have lost rows; run the query again".into(),
        sqlstate: Some("57014".into()),
        vendor_code: None,
        connection_lost: false,
    })
}

fn timeout_error() -> DbError {
    retriable(ErrorDetail {
        message: "the statement was cancelled: it ran into the end of the guest call's time (the worker's sandbox call deadline)".into(),
        sqlstate: Some("57014".into()),
        vendor_code: None,
        connection_lost: false,
    })
}

impl DatabaseCtx<'_> {
    fn not_granted(&self, url: &str) -> DbError {
        not_granted(&self.state.identity, url)
    }
}

fn not_granted(id: &Identity, url: &str) -> DbError {
    tracing::warn!(
        connector = &*id.connector,
        task = id.task,
        "plugin asked for a database its configuration does not name"
    );
    // Shown only when it parses and carries no password: a URL that does
    // not parse may still hold one.
    let shown = match url::parse(url) {
        Some(Ok(u)) if u.password.is_none() => url.to_string(),
        _ => "that URL (not shown: it may hold a password)".to_string(),
    };
    DbError::NotGranted(format!(
        "{shown} is not the value of any url setting of this connector"
    ))
}

/// Opens the granted database `grant`, within `budget`.
async fn connect(
    identity: &Identity,
    budget: Duration,
    grant: &DatabaseGrant,
    user: Option<String>,
    password: Option<String>,
) -> DbResult<HostConnection> {
    let url = &grant.url;
    let backend = match (&url.target, url.dialect) {
        (Target::Network { host, .. }, Dialect::Postgres) => {
            let addr = checked_addr(grant)?;
            let target = postgres::Target {
                host,
                addr,
                database: url.database.as_deref(),
                user: user.as_deref().or(url.user.as_deref()),
                password: password.as_deref().or(url.password.as_deref()),
            };
            let connected = tokio::time::timeout(budget, postgres::connect(target, budget));
            Backend::Postgres(connected.await.map_err(|_| timeout_error())??)
        }
        (Target::Network { .. }, Dialect::Mysql) => {
            let addr = checked_addr(grant)?;
            let target = mysql::Target {
                addr,
                database: url.database.as_deref(),
                user: user.as_deref().or(url.user.as_deref()),
                password: password.as_deref().or(url.password.as_deref()),
            };
            let connected = tokio::time::timeout(budget, mysql::connect(target));
            let (conn, cancel) = connected.await.map_err(|_| timeout_error())??;
            Backend::Served(conn, Canceller::Mysql(cancel))
        }
        (Target::File(_), _) => {
            let Some((path, beneath)) = &grant.file else {
                return Err(fatal("the SQLite file was not granted"));
            };
            if let Some(b) = beneath {
                still_beneath(path, &b.root)?;
            }
            let (conn, interrupt) = sqlite::open(Some(path.clone())).await?;
            Backend::Served(conn, Canceller::Sqlite(interrupt))
        }
        (Target::Memory, _) => {
            let (conn, interrupt) = sqlite::open(None).await?;
            Backend::Served(conn, Canceller::Sqlite(interrupt))
        }
        (Target::Network { .. }, Dialect::Sqlite) => {
            return Err(fatal("an SQLite URL names a file, not a host"));
        }
    };
    let id = identity;
    tracing::info!(
        connector = &*id.connector,
        task = id.task,
        dialect = ?url.dialect,
        "opened a database connection"
    );
    Ok(HostConnection {
        backend,
        dialect: url.dialect,
    })
}

/// The first of the addresses the grant checked for the database's host.
fn checked_addr(grant: &DatabaseGrant) -> DbResult<SocketAddr> {
    grant
        .addrs
        .first()
        .copied()
        .ok_or_else(|| fatal("the database's host resolved to no address"))
}

/// The SQLite file's directory, with symlinks resolved, must still lie
/// beneath the allowed directory: SQLite opens by path, so a symlinked
/// directory placed after the grant was checked would otherwise lead out.
fn still_beneath(path: &std::path::Path, root: &std::path::Path) -> DbResult<()> {
    let parent = path.parent().unwrap_or(path);
    let real_parent = parent
        .canonicalize()
        .map_err(|e| fatal(format!("{}: {e}", parent.display())))?;
    let real_root = root
        .canonicalize()
        .map_err(|e| fatal(format!("{}: {e}", root.display())))?;
    if real_parent.starts_with(&real_root) {
        Ok(())
    } else {
        Err(DbError::NotGranted(format!(
            "{} leads outside {} through a symlink",
            path.display(),
            root.display()
        )))
    }
}

impl HostConnection {
    fn canceller(&self) -> Canceller {
        match &self.backend {
            Backend::Postgres(c) => Canceller::Postgres(c.canceller()),
            Backend::Served(_, cancel) => cancel.clone(),
        }
    }

    async fn script(&self, sql: &str) -> DbResult<()> {
        match &self.backend {
            Backend::Postgres(c) => c.execute_script(sql).await,
            Backend::Served(c, _) => c.execute_script(sql).await,
        }
    }
}

impl sql::Host for DatabaseCtx<'_> {}

impl sql::HostConnection for DatabaseCtx<'_> {
    async fn open(
        &mut self,
        url: String,
        user: Option<String>,
        password: Option<String>,
    ) -> wasmtime::Result<Result<Resource<HostConnection>, DbError>> {
        let Some(grant) = self.state.grants.database(&url).cloned() else {
            return Ok(Err(self.not_granted(&url)));
        };
        let (identity, budget) = (self.state.identity.clone(), self.state.budget());
        match connect(&identity, budget, &grant, user, password).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn dialect(&mut self, conn: Resource<HostConnection>) -> wasmtime::Result<WitDialect> {
        Ok(match self.table.get(&conn)?.dialect {
            Dialect::Postgres => WitDialect::Postgresql,
            Dialect::Mysql => WitDialect::Mysql,
            Dialect::Sqlite => WitDialect::Sqlite,
        })
    }

    async fn prepare(
        &mut self,
        conn: Resource<HostConnection>,
        sql: String,
    ) -> wasmtime::Result<Result<Resource<HostStatement>, DbError>> {
        let budget = self.state.budget();
        let c = self.table.get(&conn)?;
        let cancel = c.canceller();
        let prepared = match &c.backend {
            Backend::Postgres(pg) => timed(budget, &cancel, pg.prepare(&sql))
                .await
                .map(StatementBackend::Postgres),
            Backend::Served(c, _) => timed(budget, &cancel, c.prepare(&sql))
                .await
                .map(StatementBackend::Served),
        };
        match prepared {
            Ok(backend) => Ok(Ok(self.table.push(HostStatement { backend, cancel })?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn execute_script(
        &mut self,
        conn: Resource<HostConnection>,
        sql: String,
    ) -> wasmtime::Result<Result<(), DbError>> {
        let budget = self.state.budget();
        let c = self.table.get(&conn)?;
        Ok(timed(budget, &c.canceller(), c.script(&sql)).await)
    }

    async fn begin(
        &mut self,
        conn: Resource<HostConnection>,
    ) -> wasmtime::Result<Result<(), DbError>> {
        self.execute_script(conn, "BEGIN".into()).await
    }

    async fn commit(
        &mut self,
        conn: Resource<HostConnection>,
    ) -> wasmtime::Result<Result<(), DbError>> {
        self.execute_script(conn, "COMMIT".into()).await
    }

    async fn rollback(
        &mut self,
        conn: Resource<HostConnection>,
    ) -> wasmtime::Result<Result<(), DbError>> {
        self.execute_script(conn, "ROLLBACK".into()).await
    }

    async fn drop(&mut self, conn: Resource<HostConnection>) -> wasmtime::Result<()> {
        // Statements and cursors hold the driver's connection themselves,
        // so they keep working until dropped in turn.
        self.table.delete(conn)?;
        Ok(())
    }
}

impl sql::HostStatement for DatabaseCtx<'_> {
    async fn parameter_count(&mut self, stmt: Resource<HostStatement>) -> wasmtime::Result<u32> {
        Ok(match &self.table.get(&stmt)?.backend {
            StatementBackend::Postgres(s) => s.parameter_count(),
            StatementBackend::Served(s) => s.parameter_count(),
        })
    }

    async fn columns(&mut self, stmt: Resource<HostStatement>) -> wasmtime::Result<Vec<Column>> {
        Ok(match &self.table.get(&stmt)?.backend {
            StatementBackend::Postgres(s) => s.columns().to_vec(),
            StatementBackend::Served(s) => s.columns().to_vec(),
        })
    }

    async fn query(
        &mut self,
        stmt: Resource<HostStatement>,
        params: Vec<Value>,
    ) -> wasmtime::Result<Result<Resource<HostCursor>, DbError>> {
        let budget = self.state.budget();
        let s = self.table.get(&stmt)?;
        let cancel = s.cancel.clone();
        let opened = match &s.backend {
            StatementBackend::Postgres(p) => timed(budget, &cancel, p.query(&params))
                .await
                .map(|c| (CursorBackend::Postgres(c), p.columns().to_vec())),
            StatementBackend::Served(a) => timed(budget, &cancel, a.query(&params))
                .await
                .map(|c| (CursorBackend::Served(c), a.columns().to_vec())),
        };
        match opened {
            Ok((backend, columns)) => Ok(Ok(self.table.push(HostCursor {
                backend,
                columns,
                cancel,
                cancelled: false,
            })?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn execute(
        &mut self,
        stmt: Resource<HostStatement>,
        params: Vec<Value>,
    ) -> wasmtime::Result<Result<u64, DbError>> {
        let budget = self.state.budget();
        let s = self.table.get(&stmt)?;
        Ok(match &s.backend {
            StatementBackend::Postgres(p) => timed(budget, &s.cancel, p.execute(&params)).await,
            StatementBackend::Served(a) => timed(budget, &s.cancel, a.execute_batch(&[params]))
                .await
                .map(|counts| counts.first().copied().unwrap_or(0)),
        })
    }

    async fn execute_batch(
        &mut self,
        stmt: Resource<HostStatement>,
        rows: Vec<Vec<Value>>,
    ) -> wasmtime::Result<Result<Vec<u64>, DbError>> {
        let budget = self.state.budget();
        let s = self.table.get(&stmt)?;
        Ok(match &s.backend {
            StatementBackend::Postgres(p) => timed(budget, &s.cancel, p.execute_batch(&rows)).await,
            StatementBackend::Served(a) => timed(budget, &s.cancel, a.execute_batch(&rows)).await,
        })
    }

    async fn drop(&mut self, stmt: Resource<HostStatement>) -> wasmtime::Result<()> {
        self.table.delete(stmt)?;
        Ok(())
    }
}

impl sql::HostCursor for DatabaseCtx<'_> {
    async fn columns(&mut self, cursor: Resource<HostCursor>) -> wasmtime::Result<Vec<Column>> {
        Ok(self.table.get(&cursor)?.columns.clone())
    }

    async fn next(
        &mut self,
        cursor: Resource<HostCursor>,
        max_rows: u32,
    ) -> wasmtime::Result<Result<RowBatch, DbError>> {
        let budget = self.state.budget();
        let c = self.table.get_mut(&cursor)?;
        let cancel = c.cancel.clone();
        let max_rows = max_rows.max(1);
        if c.cancelled {
            return Ok(Err(cancelled_cursor()));
        }
        let fetched = match &mut c.backend {
            CursorBackend::Postgres(p) => timed(budget, &cancel, p.next(max_rows)).await,
            CursorBackend::Served(a) => timed(budget, &cancel, a.next(max_rows)).await,
        };
        // A fetch cut off at the deadline may have taken rows off the wire
        // that never reached the guest: reading on would skip them.
        if fetched.as_ref().is_err_and(is_cancellation) {
            c.cancelled = true;
        }
        Ok(fetched.map(|(batch, done)| batch.finish(done)))
    }

    async fn drop(&mut self, cursor: Resource<HostCursor>) -> wasmtime::Result<()> {
        self.table.delete(cursor)?;
        Ok(())
    }
}
