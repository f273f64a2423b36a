//! The servers the sink rows write to, each of the bench's own on free
//! loopback ports and stopped when dropped: OpenSearch and HDFS through
//! their scripts (`scripts/opensearch.sh`, `scripts/hdfs.sh`, run from the
//! repository root as `scripts/bench.sh` does) and s3s-fs, the binary
//! `scripts/setup.sh` installs. The S3 server checks no signatures here:
//! the plain loop and the connector both send unsigned requests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn script(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: --scripts-dir names the repository's scripts directory",
            path.display()
        ))
    }
}

/// A directory of the bench's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!(
            "wasmconnect-bench-{name}-{}-{}",
            std::process::id(),
            free_port()?
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server started by one of the repository's scripts.
pub struct Scripted {
    script: PathBuf,
    env: Vec<(String, String)>,
    _dir: Scratch,
    /// The URLs it serves, as the script's variables gave them.
    pub urls: Vec<String>,
}

impl Scripted {
    /// An OpenSearch node.
    pub fn opensearch(scripts: &Path) -> Result<Scripted, String> {
        let (http, transport) = (free_port()?, free_port()?);
        Scripted::start(
            scripts,
            "opensearch.sh",
            &[
                ("OPENSEARCH_PORT", http),
                ("OPENSEARCH_TRANSPORT_PORT", transport),
            ],
            "OPENSEARCH_DIR",
            vec![format!("http://127.0.0.1:{http}")],
        )
    }

    /// An HDFS cluster: namenode then datanode URL.
    pub fn hdfs(scripts: &Path) -> Result<Scripted, String> {
        let (http, datanode, rpc) = (free_port()?, free_port()?, free_port()?);
        Scripted::start(
            scripts,
            "hdfs.sh",
            &[
                ("HDFS_HTTP_PORT", http),
                ("HDFS_DATANODE_HTTP_PORT", datanode),
                ("HDFS_RPC_PORT", rpc),
            ],
            "HDFS_DIR",
            vec![
                format!("http://127.0.0.1:{http}"),
                format!("http://127.0.0.1:{datanode}"),
            ],
        )
    }

    fn start(
        scripts: &Path,
        name: &str,
        ports: &[(&str, u16)],
        dir_var: &str,
        urls: Vec<String>,
    ) -> Result<Scripted, String> {
        let dir = Scratch::new(name)?;
        let mut env: Vec<(String, String)> = ports
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push((dir_var.to_string(), dir.0.display().to_string()));
        let server = Scripted {
            script: script(scripts, name)?,
            env,
            _dir: dir,
            urls,
        };
        let out = server.run("start")?;
        if !out.status.success() {
            return Err(format!(
                "scripts/{name} start failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(server)
    }

    fn run(&self, command: &str) -> Result<std::process::Output, String> {
        Command::new("bash")
            .arg(&self.script)
            .arg(command)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", self.script.display()))
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        let _ = self.run("kill");
    }
}

/// An s3s-fs server with one bucket.
pub struct S3Fs {
    child: Child,
    _dir: Scratch,
    pub url: String,
}

impl S3Fs {
    pub fn start(bucket: &str) -> Result<S3Fs, String> {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
        let bin = cache.join("wasmconnect/s3s/bin/s3s-fs");
        if !bin.exists() {
            return Err(format!(
                "{} is missing: run scripts/setup.sh",
                bin.display()
            ));
        }
        let dir = Scratch::new("s3s")?;
        std::fs::create_dir_all(dir.0.join(bucket))
            .map_err(|e| format!("the bucket's directory: {e}"))?;
        let port = free_port()?;
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let server = S3Fs {
            child,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("s3s-fs did not start listening in 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for S3Fs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
