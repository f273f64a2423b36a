//! The JDBC source and sink against real databases: a PostgreSQL table is
//! read by `JdbcSourceConnector` into Kafka, and `JdbcSinkConnector`
//! writes that topic into MariaDB, SQLite and PostgreSQL, whose tables
//! must then equal the source row for row, through inserts and updates
//! made while running, a graceful restart (offsets resume exactly), a
//! kill -9, and a column added to the source (`auto.evolve`).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wasmconnect_tests::databases::{MariaDb, Postgres, sqlite3};
use wasmconnect_tests::{Broker, Rest, WorkerProcess, wait_until, worker_props};

const TOPIC: &str = "pg-customers";

/// A worker with JsonConverter (schemas on) that may reach loopback.
fn props(bootstrap: &str, port: u16) -> String {
    worker_props(
        bootstrap,
        port,
        "key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         key.converter.schemas.enable=true\nvalue.converter.schemas.enable=true\n\
         sandbox.allowed.hosts=127.0.0.1\n",
    )
}

fn source_config(pg: &Postgres) -> serde_json::Value {
    json!({
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": pg.url(),
        "connection.user": pg.user(),
        "connection.password": pg.password(),
        "mode": "timestamp+incrementing",
        "incrementing.column.name": "id",
        "timestamp.column.name": "updated",
        "table.whitelist": "customers",
        "topic.prefix": "pg-",
        "poll.interval.ms": "200",
        "tasks.max": "1",
    })
}

fn sink_config(url: &str, user: Option<&str>, password: Option<&str>) -> serde_json::Value {
    let mut config = json!({
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "topics": TOPIC,
        "connection.url": url,
        "insert.mode": "upsert",
        "pk.mode": "record_value",
        "pk.fields": "id",
        "auto.create": "true",
        "auto.evolve": "true",
        "table.name.format": "customers_copy",
        "tasks.max": "1",
    });
    if let (Some(user), Some(password)) = (user, password) {
        config["connection.user"] = json!(user);
        config["connection.password"] = json!(password);
    }
    config
}

/// The source table, one normalised line per row.
fn source_rows(pg: &Postgres, with_tier: bool) -> String {
    let tier = if with_tier { ", tier" } else { "" };
    pg.psql(&format!(
        "SELECT id, name, balance::text, score, CASE WHEN active THEN 't' WHEN NOT active THEN 'f' END, \
         born, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.MS'), encode(data, 'hex'), \
         CASE WHEN length(note) > 100 THEN 'long:' || length(note) ELSE note END{tier} \
         FROM customers ORDER BY id"
    ))
}

fn postgres_copy(pg: &Postgres, with_tier: bool) -> String {
    let tier = if with_tier { ", tier" } else { "" };
    pg.psql(&format!(
        "SELECT id, name, balance::text, score, CASE WHEN active THEN 't' WHEN NOT active THEN 'f' END, \
         born, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.MS'), encode(data, 'hex'), \
         CASE WHEN length(note) > 100 THEN 'long:' || length(note) ELSE note END{tier} \
         FROM customers_copy ORDER BY id"
    ))
}

fn mariadb_copy(maria: &MariaDb, with_tier: bool) -> String {
    let tier = if with_tier { ", tier" } else { "" };
    maria.sql(&format!(
        "SELECT id, name, CAST(balance AS CHAR), score, CASE WHEN active = 1 THEN 't' WHEN active = 0 THEN 'f' END, \
         born, LEFT(DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f'), 23), LOWER(HEX(data)), \
         CASE WHEN CHAR_LENGTH(note) > 100 THEN CONCAT('long:', CHAR_LENGTH(note)) ELSE note END{tier} \
         FROM customers_copy ORDER BY id"
    ))
}

fn sqlite_copy(path: &Path, with_tier: bool) -> String {
    let tier = if with_tier { ", tier" } else { "" };
    sqlite3(
        path,
        &format!(
            "SELECT id, name, printf('%.2f', balance), score, CASE active WHEN 1 THEN 't' WHEN 0 THEN 'f' END, \
             born, strftime('%Y-%m-%d %H:%M:%f', updated), lower(hex(data)), \
             CASE WHEN length(note) > 100 THEN 'long:' || length(note) ELSE note END{tier} \
             FROM customers_copy ORDER BY id"
        ),
    )
}

/// SQLite's `hex(NULL)` is '' where the others give NULL, and
/// `printf('%.2f', NULL)` gives '0.00': normalise those columns.
fn sqlite_normalised(path: &Path, source: &str, with_tier: bool) -> String {
    let copy = sqlite_copy(path, with_tier);
    copy.lines()
        .zip(source.lines())
        .map(|(c, s)| {
            let mut cells: Vec<&str> = c.split('\t').collect();
            let want: Vec<&str> = s.split('\t').collect();
            for i in [2, 7] {
                if want.get(i) == Some(&"NULL")
                    && cells.get(i).is_some_and(|v| v.is_empty() || *v == "0.00")
                {
                    cells[i] = "NULL";
                }
            }
            cells.join("\t")
        })
        .chain(
            copy.lines()
                .skip(source.lines().count())
                .map(str::to_string),
        )
        .collect::<Vec<_>>()
        .join("\n")
}

async fn wait_copies(
    pg: &Postgres,
    maria: &MariaDb,
    sqlite: &Path,
    with_tier: bool,
    worker: &WorkerProcess,
) {
    let want = source_rows(pg, with_tier);
    let mut last = String::new();
    let outcome = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let pg_copy = table_or_empty(|| postgres_copy(pg, with_tier));
            let maria_copy = table_or_empty(|| mariadb_copy(maria, with_tier));
            let lite_copy = table_or_empty(|| sqlite_normalised(sqlite, &want, with_tier));
            if pg_copy == want && maria_copy == want && lite_copy == want {
                return;
            }
            last = format!("postgres:\n{pg_copy}\nmariadb:\n{maria_copy}\nsqlite:\n{lite_copy}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "the copies did not converge on the source\nsource:\n{want}\n{last}\nworker log:\n{}",
        worker.log()
    );
}

/// A table's rows, or "" while the sink has not created it yet (the
/// helpers panic on SQL errors).
fn table_or_empty(read: impl FnOnce() -> String + std::panic::UnwindSafe) -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let rows = std::panic::catch_unwind(read).unwrap_or_default();
    std::panic::set_hook(hook);
    rows
}

fn topic_count(bootstrap: &str) -> i64 {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    consumer
        .fetch_watermarks(TOPIC, 0, Duration::from_secs(10))
        .map(|(_, high)| high)
        .unwrap_or(0)
}

async fn create_all(rest: &Rest, pg: &Postgres, maria: &MariaDb, sqlite_url: &str) {
    for (name, config) in [
        ("pg-source", source_config(pg)),
        (
            "to-mariadb",
            sink_config(&maria.url(), Some(maria.user()), Some(maria.password())),
        ),
        ("to-sqlite", sink_config(sqlite_url, None, None)),
        (
            "to-postgres",
            sink_config(&pg.url(), Some(pg.user()), Some(pg.password())),
        ),
    ] {
        let r = rest.create(name, &config).await;
        assert_eq!(r.status, 201, "{name}: {r:?}");
    }
}

async fn wait_restored(rest: &Rest) {
    rest.wait_for("/connectors", "the four connectors restored", |r| {
        r.body.as_array().is_some_and(|c| c.len() == 4)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_table_reaches_mariadb_sqlite_and_postgres_exactly() {
    let broker = Broker::start();
    let pg = Postgres::start();
    let maria = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("copy.db");
    let sqlite_url = format!("jdbc:sqlite:{}", sqlite.display());

    pg.psql(
        "CREATE TABLE customers (
           id SERIAL PRIMARY KEY,
           name TEXT NOT NULL,
           balance NUMERIC(12,2),
           score DOUBLE PRECISION,
           active BOOLEAN,
           born DATE,
           updated TIMESTAMP(3) NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()::timestamp),
           data BYTEA,
           note TEXT);
         INSERT INTO customers (name, balance, score, active, born, data, note) VALUES
           ('Zoë ☃ 東京 😀', 1234567890.12, 1.5, true, '1990-02-28', '\\x00ff10', 'first'),
           ('nulls', NULL, NULL, NULL, NULL, NULL, NULL),
           ('negative', -0.05, -2.25, false, '1969-12-31', '\\x', ''),
           ('large', 0.00, 0.125, true, '2024-02-29', '\\xdeadbeef', repeat('x', 60000));",
    );

    let port = wasmconnect_tests::free_port();
    let worker_dir = dir.path().join("worker");
    std::fs::create_dir_all(&worker_dir).unwrap();
    let worker_props = props(broker.bootstrap(), port);
    let mut worker = WorkerProcess::start(&worker_dir, &worker_props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    create_all(&rest, &pg, &maria, &sqlite_url).await;
    wait_copies(&pg, &maria, &sqlite, false, &worker).await;

    // Changes while running: an update (a later timestamp) and an insert.
    pg.psql(
        "UPDATE customers SET balance = 99.99, note = 'updated', \
         updated = date_trunc('milliseconds', clock_timestamp()::timestamp) WHERE id = 2; \
         INSERT INTO customers (name, balance) VALUES ('fifth', 5.00);",
    );
    wait_copies(&pg, &maria, &sqlite, false, &worker).await;

    // A graceful restart resumes exactly where the offsets say: one new
    // row makes exactly one new record.
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
    let before = topic_count(broker.bootstrap());
    let mut worker = WorkerProcess::start(&worker_dir, &worker_props, &[]);
    rest.wait_ready(&worker).await;
    // The standalone worker remembers connectors created over REST.
    wait_restored(&rest).await;
    pg.psql("INSERT INTO customers (name) VALUES ('after restart');");
    wait_copies(&pg, &maria, &sqlite, false, &worker).await;
    assert_eq!(
        topic_count(broker.bootstrap()),
        before + 1,
        "{}",
        worker.log()
    );

    // kill -9 with rows arriving; after the restart nothing is missing
    // (upserts make a repeated batch harmless).
    pg.psql("INSERT INTO customers (name) SELECT 'bulk ' || g FROM generate_series(1, 500) g;");
    wait_until(
        Duration::from_secs(60),
        "the bulk rows to start arriving",
        || topic_count(broker.bootstrap()) > before + 1,
    )
    .await;
    worker.kill9();
    let mut worker = WorkerProcess::start(&worker_dir, &worker_props, &[]);
    rest.wait_ready(&worker).await;
    wait_restored(&rest).await;
    wait_copies(&pg, &maria, &sqlite, false, &worker).await;

    // A new column at the source: the sinks add it (auto.evolve).
    pg.psql(
        "ALTER TABLE customers ADD COLUMN tier TEXT; \
         INSERT INTO customers (name, tier) VALUES ('evolved', 'gold');",
    );
    wait_copies(&pg, &maria, &sqlite, true, &worker).await;
    assert!(source_rows(&pg, true).ends_with("\tgold"));
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
}
