//! The database harness itself (`wasmconnect_tests::databases`): each server
//! starts, keeps unicode and NULL, lets its user in over TCP with the
//! password and only with it, and is gone once dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use wasmconnect_tests::databases::{MariaDb, Postgres, sqlite3};

const TABLE: &str = "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), note VARCHAR(40));\n\
                     INSERT INTO t VALUES (1, 'Zoë ☃ 東京 😀', NULL), (2, '', 'tab\there');";
const EXPECTED: &str = "1\tZoë ☃ 東京 😀\tNULL\n2\t\ttab\there";

#[test]
fn postgres_mariadb_and_sqlite_round_trip() {
    let started = Instant::now();
    let pg = Postgres::start();
    eprintln!("PostgreSQL started in {:?}", started.elapsed());
    pg.psql(TABLE);
    assert_eq!(pg.psql("SELECT * FROM t ORDER BY id"), EXPECTED);
    assert_eq!(pg.psql("SELECT current_user"), pg.user());
    assert!(
        pg.url()
            .ends_with(&format!(":{}/{}", pg.port(), pg.database()))
    );
    let tcp_psql = |password: &str| {
        Command::new("psql")
            .args(["-X", "-At", "-h", "127.0.0.1", "-p", &pg.port().to_string()])
            .args([
                "-U",
                pg.user(),
                "-d",
                pg.database(),
                "-c",
                "SELECT count(*) FROM t",
            ])
            .env("PGPASSWORD", password)
            .output()
            .expect("run psql")
    };
    let ok = tcp_psql(pg.password());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "2");
    let refused = tcp_psql("wrong");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("password authentication failed"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let started = Instant::now();
    let maria = MariaDb::start();
    eprintln!("MariaDB started in {:?}", started.elapsed());
    maria.sql(TABLE);
    assert_eq!(maria.sql("SELECT * FROM t ORDER BY id"), EXPECTED);
    assert!(maria.url().starts_with("jdbc:mariadb://127.0.0.1:"));
    let tcp_mariadb = |password: &str| {
        Command::new("mariadb")
            .args([
                "--no-defaults",
                "-N",
                "-B",
                "--protocol=tcp",
                "-h",
                "127.0.0.1",
            ])
            .arg(format!("--port={}", maria.port()))
            .arg(format!("--user={}", maria.user()))
            .args([maria.database(), "-e", "SELECT CURRENT_USER(), USER()"])
            .env("MYSQL_PWD", password)
            .output()
            .expect("run mariadb")
    };
    let ok = tcp_mariadb(maria.password());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        format!("{0}@%\t{0}@127.0.0.1", maria.user())
    );
    let refused = tcp_mariadb("wrong");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Access denied"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("t.db");
    sqlite3(&file, TABLE);
    assert_eq!(sqlite3(&file, "SELECT * FROM t ORDER BY id"), EXPECTED);

    // Dropped, each server stops listening and its directory goes.
    for (name, port, dir, stop) in [
        (
            "PostgreSQL",
            pg.port(),
            pg.dir().to_path_buf(),
            Box::new(move || drop(pg)) as Box<dyn FnOnce()>,
        ),
        (
            "MariaDB",
            maria.port(),
            maria.dir().to_path_buf(),
            Box::new(move || drop(maria)),
        ),
    ] {
        let started = Instant::now();
        stop();
        eprintln!("{name} stopped in {:?}", started.elapsed());
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{name} still listening"
        );
        assert!(
            !Path::new(&dir).exists(),
            "{name}'s {} left behind",
            dir.display()
        );
    }
}

/// A test that panics still stops its servers: they are dropped while the
/// panic unwinds.
#[test]
fn servers_stop_when_a_test_panics() {
    let ports = std::sync::Mutex::new(Vec::new());
    let outcome = std::panic::catch_unwind(|| {
        let pg = Postgres::start();
        let maria = MariaDb::start();
        ports.lock().unwrap().extend([pg.port(), maria.port()]);
        panic!("deliberate panic: the servers must stop while it unwinds");
    });
    assert!(outcome.is_err());
    for port in ports.into_inner().unwrap() {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
    }
}
