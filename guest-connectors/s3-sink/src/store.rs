//! Objects in the bucket: `PUT` for small ones, multipart uploads for
//! those larger than `s3.part.size`, each request signed (SigV4) when the
//! connector has credentials.

use storage_common::settings::StorageSettings;
use storage_common::task::{FromConfig, Retries, Store, StoreError};
use storage_common::writer::Done;
use wasmconnect_sdk::http::{self, HttpError, Request, Response};
use wasmconnect_sdk::{TaskError, info, problems_error};

use crate::config::{PART_RETRIES, S3Config};

use crate::sigv4::{Signer, sha256_hex, uri_encode};

/// One bucket at one endpoint.
pub struct Bucket {
    endpoint: String,
    host: String,
    bucket: String,
    signer: Option<Signer>,
    part_size: usize,
}

impl FromConfig for Bucket {
    fn from_config(
        config: &[(String, String)],
    ) -> Result<(Self, StorageSettings, Retries), TaskError> {
        let cfg = S3Config::parse(config).map_err(problems_error)?;
        info!(
            "S3 sink writing to bucket {} at {} under {}/ (flush.size={})",
            cfg.bucket, cfg.endpoint, cfg.storage.topics_dir, cfg.storage.flush_size
        );
        let bucket = Bucket::new(
            &cfg.endpoint,
            &cfg.bucket,
            &cfg.region,
            cfg.credentials.clone(),
            cfg.part_size,
        );
        let retries = Retries {
            max: cfg.part_retries,
            backoff_ms: cfg.retry_backoff_ms,
            key: PART_RETRIES,
        };
        Ok((bucket, cfg.storage, retries))
    }
}

impl Store for Bucket {
    fn prepare(&mut self) -> Result<(), StoreError> {
        self.check_bucket()
    }

    fn store(&mut self, file: &Done) -> Result<(), StoreError> {
        self.put(&file.path, &file.data)
    }

    fn describe(&self) -> String {
        format!("S3 store {} (bucket {})", self.endpoint, self.bucket)
    }
}

impl Bucket {
    pub fn new(
        endpoint: &str,
        bucket: &str,
        region: &str,
        credentials: Option<(String, String)>,
        part_size: usize,
    ) -> Bucket {
        let host = endpoint
            .split_once("://")
            .map_or(endpoint, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h).to_string();
        Bucket {
            endpoint: endpoint.to_string(),
            host,
            bucket: bucket.to_string(),
            signer: credentials.map(|(access_key, secret_key)| Signer {
                access_key,
                secret_key,
                region: region.to_string(),
            }),
            part_size,
        }
    }

    /// Checks the bucket exists and the credentials are accepted.
    pub fn check_bucket(&self) -> Result<(), StoreError> {
        let r = self.send("HEAD", "", &[], Vec::new())?;
        match r.status {
            200..=299 => Ok(()),
            404 => Err(StoreError::Fatal(format!(
                "bucket {} does not exist at {}",
                self.bucket, self.endpoint
            ))),
            _ => Err(classify(&r, &format!("checking bucket {}", self.bucket))),
        }
    }

    /// Stores `data` as object `key`, whole or in parts.
    pub fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        if data.len() <= self.part_size {
            let r = self.send("PUT", key, &[], data.to_vec())?;
            return ok(&r, &format!("writing {key}"));
        }
        let r = self.send("POST", key, &[("uploads", "")], Vec::new())?;
        ok(&r, &format!("starting the upload of {key}"))?;
        let upload = between(&r.text(), "<UploadId>", "</UploadId>").ok_or_else(|| {
            StoreError::Fatal(format!(
                "no UploadId in the answer to starting the upload of {key}"
            ))
        })?;
        match self.parts(key, &upload, data) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Parts of an abandoned upload cost storage until aborted.
                let _ = self.send("DELETE", key, &[("uploadId", &upload)], Vec::new());
                Err(e)
            }
        }
    }

    fn parts(&self, key: &str, upload: &str, data: &[u8]) -> Result<(), StoreError> {
        let mut done = String::from("<CompleteMultipartUpload>");
        for (i, chunk) in data.chunks(self.part_size).enumerate() {
            let number = (i + 1).to_string();
            let r = self.send(
                "PUT",
                key,
                &[("partNumber", &number), ("uploadId", upload)],
                chunk.to_vec(),
            )?;
            ok(&r, &format!("writing part {number} of {key}"))?;
            let etag = r
                .header("etag")
                .ok_or_else(|| StoreError::Fatal(format!("no ETag for part {number} of {key}")))?;
            done.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"
            ));
        }
        done.push_str("</CompleteMultipartUpload>");
        let r = self.send("POST", key, &[("uploadId", upload)], done.into_bytes())?;
        ok(&r, &format!("completing the upload of {key}"))?;
        // S3 may answer 200 with an error in the body.
        if r.text().contains("<Error>") {
            return Err(classify(&r, &format!("completing the upload of {key}")));
        }
        Ok(())
    }

    fn send(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, StoreError> {
        let path = if key.is_empty() {
            format!("/{}", uri_encode(&self.bucket, false))
        } else {
            format!(
                "/{}/{}",
                uri_encode(&self.bucket, false),
                uri_encode(key, true)
            )
        };
        let query_text: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    uri_encode(k, false)
                } else {
                    format!("{}={}", uri_encode(k, false), uri_encode(v, false))
                }
            })
            .collect();
        let url = if query_text.is_empty() {
            format!("{}{path}", self.endpoint)
        } else {
            format!("{}{path}?{}", self.endpoint, query_text.join("&"))
        };
        let mut request = Request::new(method, &url);
        if let Some(signer) = &self.signer {
            for (name, value) in signer.headers(
                method,
                &self.host,
                &path,
                query,
                &sha256_hex(&body),
                &amz_date(),
            ) {
                request = request.header(&name, value);
            }
        }
        http::send(request.body(body)).map_err(|e| match e {
            HttpError::Transport(m) => StoreError::Retry(m),
            other => StoreError::Fatal(other.to_string()),
        })
    }
}

fn ok(r: &Response, what: &str) -> Result<(), StoreError> {
    if (200..300).contains(&r.status) {
        Ok(())
    } else {
        Err(classify(r, what))
    }
}

/// An error answer: S3's code and message when it gives them.
fn classify(r: &Response, what: &str) -> StoreError {
    let text = r.text();
    let code = between(&text, "<Code>", "</Code>").unwrap_or_default();
    let message = between(&text, "<Message>", "</Message>")
        .unwrap_or_else(|| text.chars().take(300).collect());
    let why = format!("{what}: HTTP {} {code} {message}", r.status);
    let transient = [
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
    ];
    if r.status >= 500 || r.status == 429 || transient.contains(&code.as_str()) {
        StoreError::Retry(why)
    } else {
        StoreError::Fatal(why)
    }
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_string())
}

/// Now as `YYYYMMDD'T'HHMMSS'Z'`.
fn amz_date() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (y, mo, d, h, mi, s, _) = storage_common::time::civil(millis, 0);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}
