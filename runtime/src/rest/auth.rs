//! Optional authentication for the REST API. Off by default, as in Kafka.
//!
//! With `rest.auth.credentials.file` set in the worker file, every request
//! that changes something (any method but GET and HEAD), plugin uploads
//! included, needs `Authorization: Basic …` or `Authorization: Bearer …`
//! matching a line of that file; reads stay open unless
//! `rest.auth.protect.reads=true`. The file holds one credential per line:
//!
//! ```text
//! # comments and blank lines are ignored
//! basic alice:s3cret
//! bearer 3f0c9b8e6d…
//! ```
//!
//! Only SHA-256 digests of the credentials are kept in memory, and a
//! presented credential is compared with every one of them in constant
//! time, so neither a memory dump nor response timing tells how close a
//! guess was.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::config::WorkerConfig;
use crate::convert::parse_bool;
use crate::distributed::session_key::SIGNATURE_HEADER;

/// A credential's SHA-256.
type Digest32 = [u8; 32];

fn digest(credential: &str) -> Digest32 {
    Sha256::digest(credential.as_bytes()).into()
}

/// Whether `presented` is one of `accepted`, looking at every byte of
/// every entry whatever matches.
fn any_equal(accepted: &[Digest32], presented: &Digest32) -> bool {
    let mut found = 0u8;
    for candidate in accepted {
        let diff = candidate
            .iter()
            .zip(presented)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        found |= u8::from(diff == 0);
    }
    found == 1
}

/// Accepted credentials, as digests.
#[derive(Clone, Default)]
pub struct Auth {
    basic: Vec<Digest32>,
    bearer: Vec<Digest32>,
    protect_reads: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("basic", &self.basic.len())
            .field("bearer", &self.bearer.len())
            .field("protect_reads", &self.protect_reads)
            .finish()
    }
}

impl Auth {
    /// The configured credentials, `None` when authentication is off; an
    /// unreadable or malformed file is an error naming file and line.
    pub fn from_config(config: &WorkerConfig) -> Result<Option<Auth>, String> {
        let Some(path) = config
            .get("rest.auth.credentials.file")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{path}: cannot read the credentials file: {e}"))?;
        let mut auth = Auth {
            protect_reads: config
                .get("rest.auth.protect.reads")
                .and_then(parse_bool)
                .unwrap_or(false),
            ..Auth::default()
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(char::is_whitespace) {
                Some(("basic", cred)) if cred.trim().contains(':') => {
                    auth.basic.push(digest(cred.trim()))
                }
                Some(("bearer", token)) if !token.trim().is_empty() => {
                    auth.bearer.push(digest(token.trim()))
                }
                _ => {
                    return Err(format!(
                        "{path}:{}: expected `basic user:password` or `bearer token`",
                        i + 1
                    ));
                }
            }
        }
        if auth.basic.is_empty() && auth.bearer.is_empty() {
            return Err(format!("{path}: the credentials file holds no credentials"));
        }
        Ok(Some(auth))
    }

    fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(value) = header.and_then(|h| h.to_str().ok()) else {
            return false;
        };
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                any_equal(&self.bearer, &digest(token.trim()))
            }
            Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .is_some_and(|pair| any_equal(&self.basic, &digest(&pair)))
            }
            _ => false,
        }
    }
}

/// A worker's signed `POST /connectors/{name}/tasks`: it passes without
/// user credentials, as Kafka Connect's authentication filters let
/// internal requests pass, because the herder refuses it unless its
/// signature verifies with the cluster's session key.
fn signed_internal(request: &Request) -> bool {
    let segments: Vec<&str> = request
        .uri()
        .path()
        .trim_end_matches('/')
        .split('/')
        .collect();
    request.method() == Method::POST
        && matches!(segments.as_slice(), ["", "connectors", _, "tasks"])
        && request.headers().contains_key(SIGNATURE_HEADER)
}

/// How much of a refused request's body is read (and dropped) so that the
/// client's connection stays usable; past it, the connection is closed.
const REFUSED_BODY_DRAIN: usize = 1 << 20;

/// The middleware: 401 unless the request may pass.
pub async fn require(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    if (read && !auth.protect_reads)
        || signed_internal(&request)
        || auth.accepts(request.headers().get(header::AUTHORIZATION))
    {
        return next.run(request).await;
    }
    // A 401 sent before the body is read leaves the body on the wire: the
    // connection cannot carry another request, and a client that reuses it
    // (an upload retried with credentials) sees it reset. Read a bounded
    // amount; beyond that, tell the client the connection ends here.
    let drained = drain(request.into_body(), REFUSED_BODY_DRAIN).await;
    let mut response = ApiError::new(
        401,
        "This request needs credentials: Authorization: Basic or Bearer",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"wasmconnect\", Bearer realm=\"wasmconnect\""),
    );
    if !drained {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads and drops `body`; whether it ended within `limit` bytes.
async fn drain(body: axum::body::Body, limit: usize) -> bool {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => seen += chunk.len(),
            Err(_) => return false,
        }
        if seen > limit {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_only_whole_and_are_kept_as_digests() {
        let auth = Auth {
            basic: vec![digest("alice:s3cret")],
            bearer: vec![digest("tok-1"), digest("tok-2")],
            protect_reads: false,
        };
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        let basic = |pair: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        };
        assert!(auth.accepts(Some(&header(&basic("alice:s3cret")))));
        assert!(!auth.accepts(Some(&header(&basic("alice:s3cre")))));
        assert!(auth.accepts(Some(&header("Bearer tok-2"))));
        assert!(!auth.accepts(Some(&header("Bearer tok-"))));
        assert!(!auth.accepts(None));
        let shown = format!("{auth:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("tok-1"),
            "{shown}"
        );
    }
}
