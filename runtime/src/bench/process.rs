//! Workers measured from outside: a process (ours or Kafka Connect), its
//! REST API, and what `/proc` says about it. Shared by the footprint rows
//! and the comparison with Kafka Connect.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long RSS is left to settle after a change before it is read.
pub(super) const SETTLE: Duration = Duration::from_secs(2);

/// A worker process, killed when dropped.
pub(super) struct WorkerProcess(pub(super) Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl WorkerProcess {
    /// A numeric field of the worker's `/proc/<pid>/status`.
    fn status_field(&self, field: &str) -> Result<f64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))
            .map_err(|e| format!("worker status: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .ok_or_else(|| format!("no {field} in /proc status"))
    }

    pub(super) fn rss_mib(&self) -> Result<f64, String> {
        Ok(self.status_field("VmRSS")? / 1024.0)
    }

    pub(super) fn threads(&self) -> Result<u64, String> {
        Ok(self.status_field("Threads")? as u64)
    }
}

/// CPU time (user + system) process `pid` has used so far.
pub(super) fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("worker stat: {e}"))?;
    // The command name (field 2) may hold spaces; the fields after its
    // closing parenthesis are plain numbers, utime and stime being the
    // 12th and 13th of them.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("unreadable /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64, String> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| "unreadable /proc stat".to_string())
    };
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) / per_second)
}

/// Waits until the worker at `base` answers `GET /connectors`.
pub(super) async fn wait_ready(
    http: &reqwest::Client,
    base: &str,
    started: Instant,
    timeout: Duration,
) -> Result<(), String> {
    loop {
        if let Ok(r) = http.get(format!("{base}/connectors")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "the REST API at {base} did not come up in {timeout:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Creates connector `name` over REST.
pub(super) async fn create_connector(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    config: Value,
) -> Result<(), String> {
    let r = http
        .post(format!("{base}/connectors"))
        .json(&json!({"name": name, "config": config}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status().as_u16() != 201 {
        return Err(format!(
            "creating {name}: {}",
            r.text().await.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Deletes connector `name` over REST.
pub(super) async fn delete_connector(
    http: &reqwest::Client,
    base: &str,
    name: &str,
) -> Result<(), String> {
    let r = http
        .delete(format!("{base}/connectors/{name}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!(
            "deleting {name}: {}",
            r.text().await.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Waits until `tasks` tasks of connector `name` are RUNNING; fails when
/// one fails.
pub(super) async fn wait_running(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    tasks: u32,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        // A connector just created may not have a status yet (404).
        let status: Value = match http
            .get(format!("{base}/connectors/{name}/status"))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.json().await.map_err(|e| e.to_string())?,
            _ => Value::Null,
        };
        let all = status["tasks"].as_array().cloned().unwrap_or_default();
        if let Some(failed) = all.iter().find(|t| t["state"] == "FAILED") {
            return Err(format!("a task of {name} failed: {}", failed["trace"]));
        }
        let up = all.iter().filter(|t| t["state"] == "RUNNING").count() as u32;
        if up >= tasks {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {up} of {tasks} tasks of {name} running after {timeout:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
