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

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::error::ApiError;
use crate::config::WorkerConfig;
use crate::convert::parse_bool;

/// Accepted credentials.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    basic: Vec<String>,
    bearer: Vec<String>,
    protect_reads: bool,
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
                    auth.basic.push(cred.trim().to_string())
                }
                Some(("bearer", token)) if !token.trim().is_empty() => {
                    auth.bearer.push(token.trim().to_string())
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
                self.bearer.iter().any(|t| t == token.trim())
            }
            Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .is_some_and(|pair| self.basic.contains(&pair))
            }
            _ => false,
        }
    }
}

/// How much of a refused request's body is read (and dropped) so that the
/// client's connection stays usable; past it, the connection is closed.
const REFUSED_BODY_DRAIN: usize = 1 << 20;

/// The middleware: 401 unless the request may pass.
pub async fn require(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    if (read && !auth.protect_reads) || auth.accepts(request.headers().get(header::AUTHORIZATION)) {
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
