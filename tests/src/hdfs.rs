//! A real HDFS for end-to-end tests: Hadoop's MiniDFSCluster (one namenode,
//! one datanode, WebHDFS; `scripts/hdfs.sh`, from Maven Central jars) on
//! free loopback ports in a directory of the test's own, killed and
//! removed when dropped, also when the test panics. `bash scripts/setup.sh`
//! installs it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::free_port;
use crate::scripted::Scripted;

/// One MiniDFSCluster.
pub struct Hdfs {
    server: Scripted,
    http_port: u16,
    datanode_port: u16,
    http: reqwest::Client,
}

impl Hdfs {
    /// Starts a cluster and waits until WebHDFS answers (about 6 s).
    pub fn start() -> Hdfs {
        let (http_port, datanode_port) = (free_port(), free_port());
        let env = vec![
            ("HDFS_HTTP_PORT", http_port.to_string()),
            ("HDFS_DATANODE_HTTP_PORT", datanode_port.to_string()),
            ("HDFS_RPC_PORT", free_port().to_string()),
        ];
        Hdfs {
            server: Scripted::start("hdfs.sh", "HDFS_DIR", env),
            http_port,
            datanode_port,
            http: reqwest::Client::new(),
        }
    }

    /// Starts the cluster again after [`Hdfs::kill`], on its data.
    pub fn start_again(&self) {
        self.server.start_again();
    }

    /// Kills the cluster (SIGKILL): an outage.
    pub fn kill(&self) {
        self.server.kill();
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
        std::fs::read_to_string(self.server.dir().join("hdfs.log")).unwrap_or_default()
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
