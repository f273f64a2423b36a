//! What the polyglot rows read from and write to besides Kafka: a CSV file
//! and a text file of `n` rows, a SQLite table of `n` rows, and one HTTP
//! server on loopback that pages `n` JSON objects out by cursor (for the
//! HTTP-polling source) and counts the records POSTed to it (for the
//! webhook sink). All of it lives in the bench's scratch directory and
//! ends with the run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};

/// Objects one GET of the JSON endpoint returns at most.
const PAGE: u64 = 1000;

/// The files, the table and the server of one bench run.
pub struct Fixtures {
    pub csv: PathBuf,
    pub lines: PathBuf,
    /// A SQLite file with table `events(id, user, amount)`, ids 1..=n.
    pub sqlite: PathBuf,
    /// `http://127.0.0.1:<port>`: `GET /events?since=ID` and `POST /hook`.
    pub http: String,
    posted: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Fixtures {
    /// Writes the files and the table and starts the server.
    pub async fn create(dir: &Path, n: u64) -> Result<Fixtures, String> {
        let csv = dir.join("bench.csv");
        let lines = dir.join("bench.txt");
        let sqlite = dir.join("bench.db");
        write_rows(&csv, &lines, n)?;
        write_table(&sqlite, n)?;
        let posted = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route("/events", get(page))
            .route("/hook", post(hook))
            .with_state(Server {
                n,
                posted: posted.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bench HTTP server: {e}"))?;
        let http = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(|e| format!("bench HTTP server: {e}"))?
        );
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("[bench] HTTP server stopped: {e}");
            }
        });
        Ok(Fixtures {
            csv,
            lines,
            sqlite,
            http,
            posted,
            server,
        })
    }

    /// Records POSTed to `/hook` so far, over every run.
    pub fn posted(&self) -> u64 {
        self.posted.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct Server {
    n: u64,
    posted: Arc<AtomicU64>,
}

#[derive(serde::Deserialize)]
struct Since {
    since: Option<u64>,
}

/// The next page of objects after the cursor, as a JSON array.
async fn page(State(server): State<Server>, Query(q): Query<Since>) -> String {
    let first = q.since.unwrap_or(0) + 1;
    let last = (first + PAGE - 1).min(server.n);
    let mut body = String::from("[");
    for id in first..=last {
        if id > first {
            body.push(',');
        }
        let _ = write!(body, "{}", event(id));
    }
    body.push(']');
    body
}

/// Counts the records of a POSTed JSON array.
async fn hook(State(server): State<Server>, body: axum::body::Bytes) -> axum::http::StatusCode {
    match serde_json::from_slice::<Vec<serde_json::Value>>(&body) {
        Ok(records) => {
            server
                .posted
                .fetch_add(records.len() as u64, Ordering::Relaxed);
            axum::http::StatusCode::OK
        }
        Err(_) => axum::http::StatusCode::BAD_REQUEST,
    }
}

/// Event `id` as the Go source shapes its events (without `task`/`ts`).
fn event(id: u64) -> String {
    format!(
        r#"{{"id":{id},"user":"user-{}","amount":{}.{:02}}}"#,
        id % 100,
        id % 1000,
        id % 100
    )
}

/// `n` rows as CSV (with a header) and as plain lines.
fn write_rows(csv: &Path, lines: &Path, n: u64) -> Result<(), String> {
    let mut table = String::from("id,user,amount\n");
    let mut text = String::new();
    for id in 1..=n {
        let _ = writeln!(
            table,
            "{id},user-{},{}.{:02}",
            id % 100,
            id % 1000,
            id % 100
        );
        let _ = writeln!(text, "{}", event(id));
    }
    std::fs::write(csv, table).map_err(|e| format!("{}: {e}", csv.display()))?;
    std::fs::write(lines, text).map_err(|e| format!("{}: {e}", lines.display()))
}

/// `n` rows in table `events` of a fresh SQLite file.
fn write_table(path: &Path, n: u64) -> Result<(), String> {
    let fail = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let _ = std::fs::remove_file(path);
    let mut db = rusqlite::Connection::open(path).map_err(fail)?;
    db.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, user TEXT NOT NULL, amount REAL NOT NULL)",
    )
    .map_err(fail)?;
    let tx = db.transaction().map_err(fail)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO events (id, user, amount) VALUES (?1, ?2, ?3)")
            .map_err(fail)?;
        for id in 1..=n {
            let amount = (id % 1000) as f64 + (id % 100) as f64 / 100.0;
            insert
                .execute(rusqlite::params![
                    id as i64,
                    format!("user-{}", id % 100),
                    amount
                ])
                .map_err(fail)?;
        }
    }
    tx.commit().map_err(fail)
}
