//! Real database servers for end-to-end tests.
//!
//! * [`Postgres`]: a throwaway PostgreSQL cluster on a free loopback port,
//!   with a database and a user who logs in over TCP with a password
//!   (SCRAM-SHA-256);
//! * [`MariaDb`]: the same with MariaDB;
//! * [`sqlite3`]: SQL run on an SQLite file through the `sqlite3` program.
//!
//! Each server lives in a directory of its own under the temporary
//! directory and is stopped, and the directory removed, when dropped, also
//! when the test panics. `bash scripts/setup.sh` installs the servers
//! (`scripts/setup-databases.sh`); nothing uses a system service.
//!
//! The helpers that run SQL ([`Postgres::psql`], [`MariaDb::sql`],
//! [`sqlite3`]) take any number of statements and return what the queries
//! printed, the same way for all three so tests can compare tables across
//! databases: one row a line, columns separated by a tab, NULL as `NULL`,
//! text as is (no quoting, no escapes), the last newline removed. An error
//! fails the test with what the client said.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// The database each server creates for the test.
const DATABASE: &str = "wasmconnect";
/// The user who owns that database and logs in with [`PASSWORD`].
const USER: &str = "wasmconnect";
/// Not plain ASCII letters, so configurations and URLs that carry it
/// unescaped or truncated fail to log in.
const PASSWORD: &str = "s3cret p@ss;word";
/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A PostgreSQL cluster of its own (`initdb` into a temporary directory,
/// started with `pg_ctl`), on a free loopback port, stopped (`pg_ctl stop
/// -m immediate`) and removed when dropped.
///
/// Local (Unix socket) connections are trusted; TCP connections need the
/// password, so tests that connect through [`Postgres::url`] exercise the
/// connection's password.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    /// Initialises and starts a cluster, then creates the database and its
    /// user. Takes about a second.
    pub fn start() -> Postgres {
        let bin = postgres_bin_dir();
        let dir = server_dir("wasmconnect-pg-", "postgres");
        let data = dir.path().join("data");
        // -N: nothing to make durable in a throwaway cluster. Host (TCP)
        // connections need a SCRAM password; the superuser reaches the
        // cluster through the socket without one.
        let out = service_command("postgres", &bin.join("initdb"), dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C"])
            .arg("-N")
            .output()
            .expect("run initdb");
        check(&out, "initdb");
        let pg = Postgres {
            dir,
            bin,
            port: free_port(),
        };
        // Built before starting so that Drop stops the server if anything
        // below fails. -l sends the server's output to a file: were it
        // inherited, the server would hold the pipes `output()` reads to
        // the end.
        let out = service_command("postgres", &pg.bin.join("pg_ctl"), pg.dir.path())
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(pg.log_path())
            .args(["-w", "-t", &START_TIMEOUT.as_secs().to_string(), "-o"])
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.port,
                pg.dir.path().display()
            ))
            .arg("start")
            .output()
            .expect("run pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            pg.log()
        );
        pg.run_psql(
            "postgres",
            "postgres",
            &format!(
                "CREATE ROLE {USER} LOGIN PASSWORD '{}';\nCREATE DATABASE {DATABASE} OWNER {USER};",
                PASSWORD.replace('\'', "''")
            ),
        );
        pg
    }

    /// The TCP port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `jdbc:postgresql://127.0.0.1:PORT/wasmconnect` (no credentials).
    pub fn url(&self) -> String {
        format!("jdbc:postgresql://127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        DATABASE
    }

    /// The user who owns the database.
    pub fn user(&self) -> &str {
        USER
    }

    /// The user's password, needed over TCP.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// Runs `sql` (any number of statements) in the database as
    /// [`Postgres::user`], so the tables it creates belong to the user the
    /// connectors log in as, and returns what the queries printed (see the
    /// module documentation for the format).
    pub fn psql(&self, sql: &str) -> String {
        self.run_psql(USER, DATABASE, sql)
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The directory holding the cluster (`data/`), its socket and its log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `psql` through the Unix socket, where `trust` lets any user in.
    fn run_psql(&self, user: &str, database: &str, sql: &str) -> String {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", user, "-d", database])
            // -X: no ~/.psqlrc; -q: no command tags; -At: bare rows.
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"])
            .args(["-F", "\t", "-P", "null=NULL", "-f", "-"])
            // Without it psql takes the encoding from the locale, which
            // under LANG=C would pass text through unconverted.
            .env("PGCLIENTENCODING", "UTF8");
        run_sql(cmd, "psql", sql)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Immediate: nothing in a test's cluster needs a clean shutdown.
        let _ = service_command("postgres", &self.bin.join("pg_ctl"), self.dir.path())
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The bin directory of the newest PostgreSQL under `/usr/lib/postgresql`
/// (Debian keeps the server programs there, off `PATH`).
fn postgres_bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server programs (/usr/lib/postgresql/*/bin/initdb) are missing: \
             run `bash scripts/setup.sh`"
        )
    })
}

/// A MariaDB server of its own (`mariadb-install-db` into a temporary
/// directory, then `mariadbd` as a child process), on a free loopback port,
/// killed and removed when dropped.
///
/// The user logs in from anywhere with the password, over TCP and over the
/// socket alike.
pub struct MariaDb {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl MariaDb {
    /// Initialises and starts a server, waits until it accepts connections,
    /// then creates the database (utf8mb4) and its user. Takes about a
    /// second.
    pub fn start() -> MariaDb {
        let server = mariadbd();
        for program in ["mariadb-install-db", "mariadb"] {
            assert!(
                on_path(program).is_some(),
                "`{program}` is missing: run `bash scripts/setup.sh`"
            );
        }
        // MariaDB refuses to run as root unless told which user to switch
        // to; an unprivileged one keeps a test's server from touching
        // anything else.
        let run_as = is_root().then_some("nobody");
        let dir = server_dir("wasmconnect-mariadb-", run_as.unwrap_or(""));
        let data = dir.path().join("data");
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            // root logs in without a password (through the socket only, as
            // the server listens on 127.0.0.1 and root is @localhost); no
            // test database and no anonymous users, which would shadow the
            // test's user for local connections.
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .current_dir(dir.path());
        if let Some(user) = run_as {
            install.arg(format!("--user={user}"));
        }
        check(
            &install.output().expect("run mariadb-install-db"),
            "mariadb-install-db",
        );

        let port = free_port();
        let mut cmd = Command::new(server);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                dir.path().join("mariadb.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("mariadb.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                dir.path().join("server.log").display()
            ))
            // No DNS lookups of clients: 127.0.0.1 stays 127.0.0.1.
            .arg("--skip-name-resolve")
            .args(["--skip-log-bin", "--innodb-flush-log-at-trx-commit=0"])
            .args(["--innodb-buffer-pool-size=32M"])
            // With --no-defaults the server would otherwise be latin1.
            .args([
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(user) = run_as {
            cmd.arg(format!("--user={user}"));
        }
        let child = cmd.spawn().expect("start mariadbd");
        let mut db = MariaDb { child, dir, port };
        db.wait_ready();
        db.run_sql(
            "root",
            None,
            &format!(
                "CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n\
                 CREATE USER '{USER}'@'%' IDENTIFIED BY '{}';\n\
                 GRANT ALL ON {DATABASE}.* TO '{USER}'@'%';",
                PASSWORD.replace('\'', "''")
            ),
        );
        db
    }

    /// The TCP port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `jdbc:mariadb://127.0.0.1:PORT/wasmconnect` (no credentials); the
    /// same server answers `jdbc:mysql://` URLs.
    pub fn url(&self) -> String {
        format!("jdbc:mariadb://127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        DATABASE
    }

    /// The user who has all rights on the database.
    pub fn user(&self) -> &str {
        USER
    }

    /// The user's password.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// Runs `sql` (any number of statements) in the database as
    /// [`MariaDb::user`] and returns what the queries printed (see the
    /// module documentation for the format).
    pub fn sql(&self, sql: &str) -> String {
        self.run_sql(USER, Some(DATABASE), sql)
    }

    /// The server's error log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The directory holding the data (`data/`), the socket and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `mariadb` client through the socket: root has no password, the
    /// test's user gets it from `MYSQL_PWD`.
    fn client(&self, user: &str, database: Option<&str>) -> Command {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults")
            .arg(format!(
                "--socket={}",
                self.dir.path().join("mariadb.sock").display()
            ))
            .arg(format!("--user={user}"))
            // -N -B --raw: bare tab-separated rows, values unescaped.
            .args(["-N", "-B", "--raw", "--default-character-set=utf8mb4"]);
        if user == USER {
            cmd.env("MYSQL_PWD", PASSWORD);
        } else {
            cmd.env_remove("MYSQL_PWD");
        }
        cmd.args(database);
        cmd
    }

    fn run_sql(&self, user: &str, database: Option<&str>, sql: &str) -> String {
        run_sql(self.client(user, database), "mariadb", sql)
    }

    /// Polls with the client until the server answers, failing early with
    /// its log when it exits.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("mariadbd exited ({status}) while starting:\n{}", self.log());
            }
            let ready = self
                .client("root", None)
                .args(["-e", "SELECT 1"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd not accepting connections after {START_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // SIGKILL: a test's server holds nothing worth a clean shutdown,
        // which would take a second.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mariadbd`, which Debian puts in /usr/sbin (off a non-root `PATH`).
fn mariadbd() -> PathBuf {
    on_path("mariadbd")
        .or_else(|| Some(PathBuf::from("/usr/sbin/mariadbd")).filter(|p| p.exists()))
        .unwrap_or_else(|| panic!("`mariadbd` is missing: run `bash scripts/setup.sh`"))
}

/// Runs `sql` (any number of statements) on the SQLite database `path`
/// (created when missing) with the `sqlite3` program, stopping at the first
/// error, and returns what the queries printed (see the module
/// documentation for the format).
pub fn sqlite3(path: &Path, sql: &str) -> String {
    assert!(
        on_path("sqlite3").is_some(),
        "`sqlite3` is missing: run `bash scripts/setup.sh`"
    );
    let mut cmd = Command::new("sqlite3");
    cmd.args(["-batch", "-bail", "-noheader", "-list"])
        .args(["-separator", "\t", "-nullvalue", "NULL"])
        .arg(path);
    run_sql(cmd, "sqlite3", sql)
}

/// Runs `cmd` with `sql` on its standard input; returns its output less
/// the last newline, or fails the test with what it printed.
fn run_sql(mut cmd: Command, what: &str, sql: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    // Written from a thread: a large script could otherwise fill the pipe
    // while the client's output fills the other, and both would wait.
    let mut stdin = child.stdin.take().expect("stdin");
    let script = sql.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child.wait_with_output().expect("client output");
    let _ = writer.join();
    assert!(
        out.status.success(),
        "{what} failed ({}) running:\n{sql}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("client output is UTF-8");
    text.strip_suffix('\n').map(str::to_string).unwrap_or(text)
}

/// Fails the test with what `what` printed unless it succeeded.
fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh directory under the temporary directory, handed to `owner` when
/// running as root (the servers run as that user and keep their data,
/// socket and log there).
fn server_dir(prefix: &str, owner: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("server directory");
    if is_root() && !owner.is_empty() {
        let (uid, gid) = user_ids(owner);
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to {owner}: {e}", dir.path().display()));
    }
    dir
}

/// `program` run as `user` when we are root (PostgreSQL refuses to run as
/// root), else as ourselves, in `dir` (the user may not reach the test's
/// working directory).
fn service_command(user: &str, program: &Path, dir: &Path) -> Command {
    let mut cmd = if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", user, "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// Whether this process runs as root (the owner of `/proc/self` is the
/// effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The user and group ids of `user`, from `/etc/passwd`.
fn user_ids(user: &str) -> (u32, u32) {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&user) && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .unwrap_or_else(|| panic!("no user `{user}` in /etc/passwd: run `bash scripts/setup.sh`"))
}

/// Where `program` is on `PATH`, if anywhere.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
