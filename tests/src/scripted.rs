//! A server one of the repository's scripts runs (`scripts/opensearch.sh`,
//! `scripts/hdfs.sh`): started with `start` on the ports and in a
//! temporary directory of the test's own, killed with `kill` (an outage, or
//! when dropped, also when the test panics), and started again on its data.

use std::path::Path;
use std::process::{Command, Output};

use crate::repo_root;

pub struct Scripted {
    script: &'static str,
    dir: tempfile::TempDir,
    /// The script's environment: its ports, and its directory.
    env: Vec<(&'static str, String)>,
}

impl Scripted {
    /// Runs `scripts/<script> start` with `env` and `dir_var` naming a new
    /// temporary directory; fails the test with what the script said.
    pub fn start(
        script: &'static str,
        dir_var: &'static str,
        mut env: Vec<(&'static str, String)>,
    ) -> Scripted {
        let dir = tempfile::Builder::new()
            .prefix(&format!("wasmconnect-{}-", script.trim_end_matches(".sh")))
            .tempdir()
            .expect("a directory for the server");
        env.push((dir_var, dir.path().display().to_string()));
        let server = Scripted { script, dir, env };
        server.start_again();
        server
    }

    /// Starts the server again after [`Scripted::kill`], on its data.
    pub fn start_again(&self) {
        let out = self.run("start");
        assert!(
            out.status.success(),
            "scripts/{} start failed (run `bash scripts/setup.sh` if it is not installed):\n{}{}",
            self.script,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kills the server (SIGKILL).
    pub fn kill(&self) {
        let _ = self.run("kill");
    }

    /// The server's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, command: &str) -> Output {
        Command::new("bash")
            .arg(repo_root().join("scripts").join(self.script))
            .arg(command)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap_or_else(|e| panic!("run scripts/{}: {e}", self.script))
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.kill();
    }
}
