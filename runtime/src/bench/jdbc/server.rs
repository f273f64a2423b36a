//! The PostgreSQL the JDBC rows run against: a throwaway cluster of the
//! bench's own (`initdb` into a temporary directory, `pg_ctl start` on a
//! free loopback port), as the tests' `databases.rs` starts one (the bench
//! lives in the worker crate, which cannot use the tests' harness),
//! stopped and removed when dropped.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::super::process::free_port;

/// How long `pg_ctl` may wait for the server to accept connections.
const START_TIMEOUT_S: u32 = 60;

/// A PostgreSQL cluster of the bench's own. Every connection is trusted:
/// it listens on 127.0.0.1 only, for as long as the bench runs.
pub struct LocalPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// The server's major version (the bin directory's name).
    pub version: u32,
}

impl LocalPostgres {
    /// Starts a cluster, or says why there is none: no server programs
    /// under `/usr/lib/postgresql`, or `initdb`/`pg_ctl` failed.
    pub fn start() -> Result<LocalPostgres, String> {
        let (version, bin) = bin_dir().ok_or(
            "no PostgreSQL server programs (/usr/lib/postgresql/*/bin/initdb; \
             `bash scripts/setup.sh` installs them)",
        )?;
        let dir = std::env::temp_dir().join(format!("wasmconnect-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // PostgreSQL refuses to run as root: the cluster belongs to the
        // postgres user then, who must own its directory.
        if is_root() {
            let (uid, gid) = user_ids("postgres")
                .ok_or("running as root and there is no `postgres` user to run PostgreSQL as")?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        let pg = LocalPostgres {
            port: free_port()?,
            dir,
            bin,
            version,
        };
        // -N: nothing in a throwaway cluster needs to reach the disk.
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(pg.dir.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-N",
            ])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        check(&out, "initdb")?;
        // fsync off: the rows measure the CPU each side spends per row, not
        // this machine's disk (which both sides would wait on alike). -l:
        // the server's output goes to a file, not to pipes `output()` would
        // wait on.
        let out = pg
            .command("pg_ctl")
            .arg("-D")
            .arg(pg.dir.join("data"))
            .arg("-l")
            .arg(pg.dir.join("server.log"))
            .args(["-w", "-t", &START_TIMEOUT_S.to_string(), "-o"])
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.port,
                pg.dir.display()
            ))
            .arg("start")
            .output()
            .map_err(|e| format!("pg_ctl start: {e}"))?;
        check(&out, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(pg.dir.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })?;
        Ok(pg)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, as both the connectors and tokio-postgres take it.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `program` from the server's bin directory, run as the postgres user
    /// when we are root, in the cluster's directory (that user may not
    /// reach ours).
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        cmd
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        // Immediate: nothing in the bench's cluster needs a clean shutdown.
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `initdb` (Debian
/// keeps the server programs there, off `PATH`).
fn bin_dir() -> Option<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop()
}

fn check(out: &Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Whether this process runs as root (the owner of `/proc/self` is the
/// effective user).
fn is_root() -> bool {
    std::fs::metadata(Path::new("/proc/self")).is_ok_and(|m| m.uid() == 0)
}

/// The user and group ids of `user`, from `/etc/passwd`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.first() != Some(&user) || fields.len() < 4 {
                return None;
            }
            Some((fields[2].parse().ok()?, fields[3].parse().ok()?))
        })
}
