//! A real S3-compatible server for end-to-end tests: `s3s-fs` (crates.io;
//! an S3 API over a directory, installed by `bash scripts/setup.sh` into
//! `~/.cache/wasmconnect/s3s`), on a free loopback port, checking SigV4
//! signatures against [`S3Server::ACCESS_KEY`] / [`S3Server::SECRET_KEY`].
//! Objects are files beneath [`S3Server::root`], so tests compare them
//! byte for byte on disk. Killed and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// One s3s-fs server.
pub struct S3Server {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl S3Server {
    pub const ACCESS_KEY: &'static str = "wasmconnect-test";
    pub const SECRET_KEY: &'static str = "s3cret/key+with=odd chars";

    /// Starts a server with one bucket, `bucket`.
    pub fn start(bucket: &str) -> S3Server {
        let dir = tempfile::Builder::new()
            .prefix("wasmconnect-s3-")
            .tempdir()
            .expect("a directory for s3s-fs");
        std::fs::create_dir_all(dir.path().join("data").join(bucket))
            .expect("the bucket's directory");
        let mut server = S3Server {
            dir,
            port: free_port(),
            child: None,
        };
        server.start_again();
        server
    }

    /// Starts the server again after [`S3Server::kill`], on the same data.
    pub fn start_again(&mut self) {
        let bin = binary();
        let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log file");
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--access-key",
                Self::ACCESS_KEY,
                "--secret-key",
                Self::SECRET_KEY,
            ])
            .arg(self.root())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL): an outage.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The directory holding the buckets: object `k` of bucket `b` is the
    /// file `root/b/k`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Every object of `bucket` by key, with its bytes (the server's own
    /// bookkeeping files left out).
    pub fn objects(&self, bucket: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        let base = self.root().join(bucket);
        let mut out = std::collections::BTreeMap::new();
        walk(&base, &base, &mut out);
        out
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            walk(base, &path, out);
        } else if !name.starts_with('.')
            && !name.ends_with(".json.metadata")
            && !name.contains(".s3s")
        {
            let key = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            if let Ok(bytes) = std::fs::read(&path) {
                out.insert(key, bytes);
            }
        }
    }
}

/// The s3s-fs program `scripts/setup.sh` installs.
fn binary() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    let bin = cache.join("wasmconnect/s3s/bin/s3s-fs");
    assert!(
        bin.exists(),
        "{} is missing: run `bash scripts/setup.sh`",
        bin.display()
    );
    bin
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
