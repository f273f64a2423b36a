//! A real HDFS for end-to-end tests: Hadoop's MiniDFSCluster (one namenode,
//! one datanode, WebHDFS; `scripts/hdfs.sh`, from Maven Central jars) on
//! free loopback ports in a directory of the test's own, killed and
//! removed when dropped, also when the test panics. `bash scripts/setup.sh`
//! installs it.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use serde_json::Value;

use crate::{free_port, repo_root};

/// One MiniDFSCluster.
pub struct Hdfs {
    dir: tempfile::TempDir,
    http_port: u16,
    datanode_port: u16,
    rpc_port: u16,
    http: reqwest::Client,
}

impl Hdfs {
    /// Starts a cluster and waits until WebHDFS answers (about 6 s).
    pub fn start() -> Hdfs {
        let hdfs = Hdfs {
            dir: tempfile::Builder::new()
                .prefix("wasmconnect-hdfs-")
                .tempdir()
                .expect("a directory for HDFS"),
            http_port: free_port(),
            datanode_port: free_port(),
            rpc_port: free_port(),
            http: reqwest::Client::new(),
        };
        hdfs.start_again();
        hdfs
    }

    /// Starts the cluster again after [`Hdfs::kill`], on its data.
    pub fn start_again(&self) {
        let out = self.script("start");
        assert!(
            out.status.success(),
            "scripts/hdfs.sh start failed (run `bash scripts/setup.sh` if it is not installed):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kills the cluster (SIGKILL): an outage.
    pub fn kill(&self) {
        let _ = self.script("kill");
    }

    fn script(&self, command: &str) -> Output {
        Command::new("bash")
            .arg(repo_root().join("scripts/hdfs.sh"))
            .arg(command)
            .env("HDFS_DIR", self.dir.path())
            .env("HDFS_HTTP_PORT", self.http_port.to_string())
            .env("HDFS_DATANODE_HTTP_PORT", self.datanode_port.to_string())
            .env("HDFS_RPC_PORT", self.rpc_port.to_string())
            .output()
            .expect("run scripts/hdfs.sh")
    }

    /// The namenode's WebHDFS address.
    pub fn namenode_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The datanode's HTTP address, where WebHDFS sends file data.
    pub fn datanode_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.datanode_port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hdfs.log")).unwrap_or_default()
    }

    /// Every file beneath `dir` (absolute) by path, with its bytes; empty
    /// while `dir` does not exist.
    pub async fn files(&self, dir: &str) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut todo = vec![dir.trim_end_matches('/').to_string()];
        while let Some(d) = todo.pop() {
            let url = format!("{}/webhdfs/v1{d}?op=LISTSTATUS", self.namenode_url());
            let Ok(resp) = self.http.get(&url).send().await else {
                continue;
            };
            if !resp.status().is_success() {
                continue;
            }
            let listing: Value = resp.json().await.unwrap_or(Value::Null);
            for f in listing["FileStatuses"]["FileStatus"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let path = format!("{d}/{}", f["pathSuffix"].as_str().unwrap_or_default());
                if f["type"] == "DIRECTORY" {
                    todo.push(path);
                } else {
                    // OPEN redirects to the datanode; reqwest follows.
                    let open = format!("{}/webhdfs/v1{path}?op=OPEN", self.namenode_url());
                    if let Ok(r) = self.http.get(&open).send().await
                        && r.status().is_success()
                        && let Ok(bytes) = r.bytes().await
                    {
                        out.insert(path, bytes.to_vec());
                    }
                }
            }
        }
        out
    }
}

impl Drop for Hdfs {
    fn drop(&mut self) {
        self.kill();
    }
}
