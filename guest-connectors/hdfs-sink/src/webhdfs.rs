//! Files in HDFS over WebHDFS: each file is written whole to a path under
//! `logs.dir` (the namenode redirects the data to a datanode) and then
//! renamed into place, so readers of `topics.dir` never see a partial file.
//! A file already in place under the same name (a task that restarted
//! before committing its offsets) holds the same records and stays.

use serde_json::Value as Json;
use storage_common::settings::StorageSettings;
use storage_common::task::{FromConfig, Retries, Store, StoreError};
use storage_common::writer::Done;
use wasmconnect_sdk::http::{self, HttpError, Request, Response};
use wasmconnect_sdk::{TaskError, info, problems_error};

use crate::config::{DATANODES, HdfsConfig, MAX_RETRIES};

pub struct Hdfs {
    namenode: String,
    datanodes: Vec<String>,
    user: Option<String>,
    logs_dir: String,
    /// Directories known to exist.
    made: std::collections::HashSet<String>,
}

impl Hdfs {
    pub fn new(cfg: &HdfsConfig) -> Hdfs {
        Hdfs {
            namenode: cfg.namenode.clone(),
            datanodes: cfg.datanodes.iter().map(|d| origin(d)).collect(),
            user: cfg.user.clone(),
            logs_dir: cfg.logs_dir.trim_matches('/').to_string(),
            made: Default::default(),
        }
    }

    /// `{namenode}/webhdfs/v1{path}?op={op}&…` (path absolute, unencoded).
    fn url(&self, path: &str, op: &str, extra: &[(&str, &str)]) -> String {
        let mut url = format!("{}/webhdfs/v1{}?op={op}", self.namenode, encode(path, true));
        for (k, v) in extra {
            url.push_str(&format!("&{k}={}", encode(v, false)));
        }
        if let Some(user) = &self.user {
            url.push_str(&format!("&user.name={}", encode(user, false)));
        }
        url
    }

    fn send(&self, request: Request, what: &str) -> Result<Response, StoreError> {
        http::send(request).map_err(|e| match e {
            HttpError::Transport(m) => StoreError::Retry(format!("{what}: {m}")),
            other => StoreError::Fatal(format!("{what}: {other}")),
        })
    }

    /// Writes `data` to `path`, replacing what is there.
    fn create(&self, path: &str, data: &[u8]) -> Result<(), StoreError> {
        let what = format!("creating {path}");
        let asked = self.send(
            Request::put(&self.url(path, "CREATE", &[("overwrite", "true")])),
            &what,
        )?;
        if asked.status != 307 {
            return Err(failure(&asked, &what));
        }
        let location = asked
            .header("location")
            .ok_or_else(|| {
                StoreError::Fatal(format!("{what}: the namenode's redirect has no Location"))
            })?
            .to_string();
        let target = origin(&location);
        if !self.datanodes.contains(&target) {
            return Err(StoreError::Fatal(format!(
                "{what}: the namenode sends the data to {target}, which {DATANODES} does not list (add it; the worker lets the connector reach only the URLs its configuration names)"
            )));
        }
        let written = self.send(Request::put(&location).body(data.to_vec()), &what)?;
        if written.status != 201 {
            return Err(failure(&written, &what));
        }
        Ok(())
    }

    fn mkdirs(&mut self, dir: &str) -> Result<(), StoreError> {
        if self.made.contains(dir) {
            return Ok(());
        }
        let what = format!("creating directory {dir}");
        let r = self.send(Request::put(&self.url(dir, "MKDIRS", &[])), &what)?;
        if r.status != 200 {
            return Err(failure(&r, &what));
        }
        self.made.insert(dir.to_string());
        Ok(())
    }

    fn exists(&self, path: &str) -> Result<bool, StoreError> {
        let what = format!("looking up {path}");
        let r = self.send(Request::get(&self.url(path, "GETFILESTATUS", &[])), &what)?;
        match r.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(failure(&r, &what)),
        }
    }
}

impl FromConfig for Hdfs {
    fn from_config(
        config: &[(String, String)],
    ) -> Result<(Self, StorageSettings, Retries), TaskError> {
        let cfg = HdfsConfig::parse(config).map_err(problems_error)?;
        info!(
            "HDFS sink writing to {} under {}/ (flush.size={})",
            cfg.namenode, cfg.storage.topics_dir, cfg.storage.flush_size
        );
        let retries = Retries {
            max: cfg.max_retries,
            backoff_ms: cfg.retry_backoff_ms,
            key: MAX_RETRIES,
        };
        Ok((Hdfs::new(&cfg), cfg.storage, retries))
    }
}

impl Store for Hdfs {
    fn store(&mut self, file: &Done) -> Result<(), StoreError> {
        let target = format!("/{}", file.path.trim_start_matches('/'));
        let temp = format!("/{}{target}.tmp", self.logs_dir);
        self.create(&temp, &file.data)?;
        if let Some((dir, _)) = target.rsplit_once('/') {
            self.mkdirs(dir)?;
        }
        let what = format!("renaming {temp} to {target}");
        let r = self.send(
            Request::put(&self.url(&temp, "RENAME", &[("destination", &target)])),
            &what,
        )?;
        if r.status != 200 {
            return Err(failure(&r, &what));
        }
        let renamed: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
        if renamed["boolean"] == Json::Bool(true) {
            return Ok(());
        }
        // HDFS does not rename over a file: one already in place holds the
        // same records (names are cut from the offsets).
        if self.exists(&target)? {
            let _ = self.send(
                Request::delete(&self.url(&temp, "DELETE", &[])),
                "removing a file in progress",
            );
            return Ok(());
        }
        Err(StoreError::Retry(format!(
            "{what}: the namenode did not rename it"
        )))
    }

    fn describe(&self) -> String {
        format!("HDFS at {}", self.namenode)
    }
}

/// An error answer: WebHDFS's exception and message when it gives them.
fn failure(r: &Response, what: &str) -> StoreError {
    let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
    let exception = body["RemoteException"]["exception"].as_str().unwrap_or("");
    let message = body["RemoteException"]["message"]
        .as_str()
        .map_or_else(|| r.text().chars().take(300).collect(), str::to_string);
    let why = format!("{what}: HTTP {} {exception} {message}", r.status);
    // A namenode starting up is in safe mode for a while.
    let transient = [
        "SafeModeException",
        "RetriableException",
        "StandbyException",
        "RecoveryInProgressException",
    ];
    if r.status >= 500 || r.status == 429 || transient.contains(&exception) {
        StoreError::Retry(why)
    } else {
        StoreError::Fatal(why)
    }
}

/// `scheme://host:port` of a URL, lowercase, with the scheme's port.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.trim().split_once("://").unwrap_or(("http", url.trim()));
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_ascii_lowercase();
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty());
    if has_port {
        format!("{scheme}://{authority}")
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        format!("{scheme}://{authority}:{port}")
    }
}

/// Percent-encodes all but unreserved characters (and `/` in paths; `=`
/// and `+` in paths too, which HDFS names use). In query values `+` must
/// be encoded: WebHDFS reads it as a space.
fn encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b'/' | b'=' | b'+' if path => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_encoding() {
        assert_eq!(
            origin("http://127.0.0.1:9864/webhdfs/v1/x?op=CREATE"),
            "http://127.0.0.1:9864"
        );
        assert_eq!(origin("HTTPS://DN"), "https://dn:443");
        assert_eq!(
            encode("/topics/t/partition=0/t+0+1.json", true),
            "/topics/t/partition=0/t+0+1.json"
        );
        assert_eq!(encode("/a/t+0 1", false), "%2Fa%2Ft%2B0%201");
    }
}
