//! The client side of a connection served by a task or a thread of its
//! own, shared by the MySQL and SQLite drivers.
//!
//! In both drivers a running query's result borrows its connection, so
//! one task ([`super::mysql`]) or one thread ([`super::sqlite`], whose
//! calls block) owns each connection and answers [`Request`]s from a
//! channel; while a query is open it keeps reading that query for `next`
//! requests until another request closes it (the contract allows one open
//! cursor per connection).
//!
//! This module is the worker's end: the [`Connection`] that sends the
//! requests, the [`Statement`]s and [`Cursor`]s that send through it, and
//! the error saying the connection is gone. The driver side (connecting,
//! answering each request with `mysql_async` or `rusqlite`, cancelling a
//! statement) stays in each driver.
//!
//! The channel is tokio's unbounded one: the MySQL task reads it with
//! `recv().await`, the SQLite thread (outside any runtime) with
//! `blocking_recv()`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::rows::RowBatchBuilder;
use super::{DbResult, fatal, retriable};
use crate::bindings::database::sql::{Column, DbError, ErrorDetail, Value};

/// Where the answer to a request goes.
pub type Reply<T> = oneshot::Sender<DbResult<T>>;

/// What the worker asks of a connection's task or thread.
pub enum Request {
    /// Runs statements that return no rows.
    Script(String, Reply<()>),
    /// Prepares (and caches) a statement: its parameter count and columns.
    Prepare(String, Reply<(u32, Vec<Column>)>),
    /// Runs a statement once per row of parameters: what each changed.
    Execute(String, Vec<Vec<Value>>, Reply<Vec<u64>>),
    /// Opens a query as the numbered cursor.
    Query(String, Vec<Value>, u64, Reply<()>),
    /// Reads up to so many rows of the numbered cursor, and whether they
    /// were the last.
    Next(u64, u32, Reply<(RowBatchBuilder, bool)>),
    /// The guest dropped the cursor: release the query (and its locks).
    Close(u64),
}

/// Which driver serves a connection and on what, as the errors saying the
/// connection is gone name them.
#[derive(Clone, Copy)]
pub struct Server {
    /// The database, as in "the MySQL connection is closed".
    pub driver: &'static str,
    /// What serves one connection, as in "the MySQL connection's task
    /// ended".
    pub runs_on: &'static str,
}

/// The sending end of a connection's channel.
#[derive(Clone)]
struct Requests {
    sender: mpsc::UnboundedSender<Request>,
    server: Server,
}

/// An open connection: its task's or thread's request channel.
pub struct Connection {
    requests: Requests,
    /// Numbers the connection's cursors, so that `next` on a cursor
    /// another statement closed is refused rather than reading the new
    /// query's rows.
    cursors: Arc<AtomicU64>,
}

/// A statement, prepared (and cached) on the connection's task or thread.
pub struct Statement {
    requests: Requests,
    cursors: Arc<AtomicU64>,
    sql: String,
    parameter_count: u32,
    columns: Vec<Column>,
}

/// An open query on the connection's task or thread.
pub struct Cursor {
    requests: Requests,
    id: u64,
}

/// A connection that `server` serves, and the inbox its task or thread
/// answers until every sender is gone.
pub fn channel(server: Server) -> (Connection, mpsc::UnboundedReceiver<Request>) {
    let (sender, inbox) = mpsc::unbounded_channel();
    let connection = Connection {
        requests: Requests { sender, server },
        cursors: Arc::default(),
    };
    (connection, inbox)
}

/// The connection is gone: retriable, on a new connection.
pub fn lost(message: impl Into<String>) -> DbError {
    retriable(ErrorDetail {
        message: message.into(),
        sqlstate: None,
        vendor_code: None,
        connection_lost: true,
    })
}

/// The answer to `next` on a cursor that a later request closed.
pub fn cursor_closed() -> DbError {
    fatal("the cursor is closed: another statement ran on its connection")
}

impl Requests {
    /// Sends the request `request` builds around a reply channel and waits
    /// for the answer.
    async fn ask<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> DbResult<T> {
        let Server { driver, runs_on } = self.server;
        let (tx, rx) = oneshot::channel();
        self.sender
            .send(request(tx))
            .map_err(|_| lost(format!("the {driver} connection is closed")))?;
        rx.await
            .map_err(|_| lost(format!("the {driver} connection's {runs_on} ended")))?
    }
}

impl Connection {
    pub async fn execute_script(&self, sql: &str) -> DbResult<()> {
        self.requests
            .ask(|r| Request::Script(sql.to_string(), r))
            .await
    }

    pub async fn prepare(&self, sql: &str) -> DbResult<Statement> {
        let (parameter_count, columns) = self
            .requests
            .ask(|r| Request::Prepare(sql.to_string(), r))
            .await?;
        Ok(Statement {
            requests: self.requests.clone(),
            cursors: self.cursors.clone(),
            sql: sql.to_string(),
            parameter_count,
            columns,
        })
    }
}

impl Statement {
    pub fn parameter_count(&self) -> u32 {
        self.parameter_count
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub async fn query(&self, params: &[Value]) -> DbResult<Cursor> {
        let id = self.cursors.fetch_add(1, Ordering::Relaxed);
        self.requests
            .ask(|r| Request::Query(self.sql.clone(), params.to_vec(), id, r))
            .await?;
        Ok(Cursor {
            requests: self.requests.clone(),
            id,
        })
    }

    pub async fn execute_batch(&self, rows: &[Vec<Value>]) -> DbResult<Vec<u64>> {
        self.requests
            .ask(|r| Request::Execute(self.sql.clone(), rows.to_vec(), r))
            .await
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        // The task or thread may be gone already; then there is nothing
        // to release.
        let _ = self.requests.sender.send(Request::Close(self.id));
    }
}

impl Cursor {
    pub async fn next(&mut self, max_rows: u32) -> DbResult<(RowBatchBuilder, bool)> {
        self.requests
            .ask(|r| Request::Next(self.id, max_rows, r))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: Server = Server {
        driver: "SQLite",
        runs_on: "thread",
    };

    fn lost_message(e: DbError) -> String {
        match e {
            DbError::Retriable(d) if d.connection_lost => d.message,
            other => panic!("not a lost connection: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_gone_connection_fails_retriable_naming_its_driver() {
        let (connection, mut inbox) = channel(SERVER);
        // The thread takes the request and ends without answering it.
        let (asked, ()) = tokio::join!(connection.execute_script("SELECT 1"), async {
            drop(inbox.recv().await);
        });
        assert_eq!(
            lost_message(asked.expect_err("no answer")),
            "the SQLite connection's thread ended"
        );
        drop(inbox);
        let asked = connection.prepare("SELECT 1").await;
        assert_eq!(
            lost_message(asked.err().expect("no thread")),
            "the SQLite connection is closed"
        );
    }

    #[tokio::test]
    async fn cursors_are_numbered_per_connection_and_closed_when_dropped() {
        let (connection, mut inbox) = channel(SERVER);
        let serve = async {
            while let Some(request) = inbox.recv().await {
                match request {
                    Request::Prepare(_, reply) => drop(reply.send(Ok((0, Vec::new())))),
                    Request::Query(_, _, id, reply) => {
                        drop(reply.send(Ok(())));
                        if id == 1 {
                            return inbox;
                        }
                    }
                    _ => {}
                }
            }
            panic!("the channel closed early");
        };
        let ask = async {
            let statement = connection.prepare("SELECT 1").await.expect("prepared");
            let first = statement.query(&[]).await.expect("first cursor");
            let second = statement.query(&[]).await.expect("second cursor");
            (first.id, second)
        };
        let ((first, second), mut inbox) = tokio::join!(ask, serve);
        assert_eq!((first, second.id), (0, 1));
        // The first cursor was dropped as the block ended; now the second.
        drop(second);
        let closed: Vec<u64> = std::iter::from_fn(|| match inbox.try_recv() {
            Ok(Request::Close(id)) => Some(id),
            _ => None,
        })
        .collect();
        assert_eq!(closed, [0, 1]);
    }
}
