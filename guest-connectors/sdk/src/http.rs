//! Outbound HTTP through `wasi:http/outgoing-handler` (cargo feature
//! `http`): blocking requests, one or several in flight at once.
//!
//! ```ignore
//! use wasmconnect_sdk::http::{Request, send};
//! let answer = send(Request::post(&url).header("content-type", "application/json").body(doc))?;
//! if answer.status == 200 { /* answer.body */ }
//! ```
//!
//! The worker sends a request only to an origin (scheme, host and port)
//! that one of the connector's configuration keys marked
//! [`crate::ResourceKind::Url`] names, and only where its
//! `sandbox.allowed.hosts` allows; any other is refused with
//! [`HttpError::Denied`]. Connect and response timeouts and the response
//! size limit are the worker's (`wasm.http.*`); a request may ask for a
//! shorter response timeout.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        inline: "
            package wasmconnect:sdk-http;
            world client {
                import wasi:http/outgoing-handler@0.2.12;
            }
        ",
        path: "../../wit",
        world: "wasmconnect:sdk-http/client",
        generate_all,
    });
}

use bindings::wasi::http::outgoing_handler;
use bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, Method, OutgoingBody,
    OutgoingRequest, RequestOptions, Scheme,
};
use bindings::wasi::io::streams::StreamError;

use crate::TaskError;

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `DELETE`, `HEAD` or any other token.
    pub method: String,
    /// `http://` or `https://` URL, with path and query.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body; empty sends none.
    pub body: Vec<u8>,
    /// How long to wait for the answer to start (and between its pieces),
    /// at most the worker's `wasm.http.response.timeout.ms`.
    pub timeout_ms: Option<u64>,
    /// How long to wait for the connection, at most the worker's
    /// `wasm.http.connect.timeout.ms`.
    pub connect_timeout_ms: Option<u64>,
}

impl Request {
    /// A request with `method` to `url`.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_string(),
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: None,
            connect_timeout_ms: None,
        }
    }

    /// `GET url`.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    /// `POST url`.
    pub fn post(url: &str) -> Request {
        Request::new("POST", url)
    }

    /// `PUT url`.
    pub fn put(url: &str) -> Request {
        Request::new("PUT", url)
    }

    /// `DELETE url`.
    pub fn delete(url: &str) -> Request {
        Request::new("DELETE", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets the response timeout.
    pub fn timeout_ms(mut self, ms: u64) -> Request {
        self.timeout_ms = Some(ms);
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout_ms(mut self, ms: u64) -> Request {
        self.connect_timeout_ms = Some(ms);
        self
    }
}

/// An answer: status, headers and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The worker refused the origin: no configuration key marked `url`
    /// names it. Retrying cannot help.
    Denied(String),
    /// The request cannot be sent as written (a bad URL, method or header).
    Invalid(String),
    /// The server could not be reached or did not answer in time or in
    /// full: worth retrying.
    Transport(String),
}

impl HttpError {
    /// What went wrong, for a log line or a task error.
    pub fn message(&self) -> &str {
        match self {
            HttpError::Denied(m) | HttpError::Invalid(m) | HttpError::Transport(m) => m,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, HttpError::Transport(_))
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl From<HttpError> for TaskError {
    fn from(e: HttpError) -> TaskError {
        if e.is_retriable() {
            crate::retriable(e.message(), None)
        } else {
            TaskError::Fatal(e.message().to_string())
        }
    }
}

/// Sends `request` and waits for the whole answer.
pub fn send(request: Request) -> Result<Response, HttpError> {
    send_all(vec![request])
        .pop()
        .unwrap_or_else(|| Err(HttpError::Invalid("no request".into())))
}

/// Sends every request at once and waits for all the answers, returned in
/// the order of `requests`.
pub fn send_all(requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
    let started: Vec<Result<Started, HttpError>> = requests.into_iter().map(start).collect();
    started
        .into_iter()
        .map(|s| {
            let s = s?;
            // The answer says what happened: with the length declared, a
            // server answers only once it has the whole body (hyper drops
            // the body's stream as soon as it has sent that many bytes, so a
            // final flush may find it closed), and a request that failed
            // while the body went out fails its answer too.
            let response = wait(&s.url, &s.future)?;
            if let Some(why) = &s.unwritten {
                debug_note(&s.url, why);
            }
            read(&s.url, response)
        })
        .collect()
}

/// A request handed to the worker.
struct Started {
    url: String,
    future: FutureIncomingResponse,
    /// Why the body could not be written whole, if it could not.
    unwritten: Option<String>,
}

/// Writes the request out and hands it to the worker.
fn start(request: Request) -> Result<Started, HttpError> {
    let url = request.url.clone();
    let parts = UrlParts::parse(&url)
        .ok_or_else(|| HttpError::Invalid(format!("not an http or https URL: {url}")))?;
    let mut entries: Vec<(String, Vec<u8>)> = request.headers;
    // A declared length, always (0 included): servers that refuse chunked
    // uploads (S3) take it, and the worker checks the body against it.
    if !entries
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        entries.push((
            "content-length".into(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let headers = Fields::from_list(&entries)
        .map_err(|e| HttpError::Invalid(format!("request to {url}: bad header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_string()),
    };
    let set = outgoing.set_method(&method).is_ok()
        && outgoing.set_scheme(Some(&parts.scheme)).is_ok()
        && outgoing.set_authority(Some(&parts.authority)).is_ok()
        && outgoing.set_path_with_query(Some(&parts.path)).is_ok();
    if !set {
        return Err(HttpError::Invalid(format!(
            "cannot send {} {url}: the method or URL is not valid",
            request.method
        )));
    }
    let body = outgoing
        .body()
        .map_err(|_| HttpError::Invalid(format!("request to {url}: no body")))?;
    let options =
        (request.timeout_ms.is_some() || request.connect_timeout_ms.is_some()).then(|| {
            let nanos = |ms: u64| ms.saturating_mul(1_000_000);
            let options = RequestOptions::new();
            // Each is refused only for values the host cannot honour; its own
            // limit then holds.
            if let Some(ms) = request.timeout_ms {
                let _ = options.set_first_byte_timeout(Some(nanos(ms)));
                let _ = options.set_between_bytes_timeout(Some(nanos(ms)));
            }
            if let Some(ms) = request.connect_timeout_ms {
                let _ = options.set_connect_timeout(Some(nanos(ms)));
            }
            options
        });
    // Handed over before the body is written: the worker sends the body as
    // it streams, and holds only a little of it at a time.
    let future = outgoing_handler::handle(outgoing, options).map_err(|e| error(&url, &e))?;
    let unwritten = match write_body(&body, &request.body) {
        Ok(()) => OutgoingBody::finish(body, None).err().map(|e| describe(&e)),
        // Dropped unfinished: the worker abandons the request.
        Err(why) => Some(why),
    };
    Ok(Started {
        url,
        future,
        unwritten,
    })
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|_| "the body cannot be written".to_string())?;
    let mut rest = bytes;
    while !rest.is_empty() {
        let room = stream.check_write().map_err(stream_error)?;
        if room == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        stream.write(&rest[..n]).map_err(stream_error)?;
        rest = &rest[n..];
    }
    stream.blocking_flush().map_err(stream_error)?;
    Ok(())
}

/// A body write that ended early although the request was answered.
fn debug_note(url: &str, why: &str) {
    crate::log(
        crate::Level::Debug,
        &format!("the request body to {url} ended early ({why}); the server answered"),
    );
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "the connection closed".to_string(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}

fn wait(url: &str, future: &FutureIncomingResponse) -> Result<IncomingResponse, HttpError> {
    loop {
        match future.get() {
            None => future.subscribe().block(),
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(e))) => return Err(error(url, &e)),
            Some(Err(())) => {
                return Err(HttpError::Invalid(format!(
                    "the answer from {url} was taken twice"
                )));
            }
        }
    }
}

fn read(url: &str, response: IncomingResponse) -> Result<Response, HttpError> {
    let status = response.status();
    let headers = response.headers().entries();
    let body = response
        .consume()
        .map_err(|_| HttpError::Invalid(format!("the answer from {url} has no body")))?;
    let stream = body
        .stream()
        .map_err(|_| HttpError::Invalid(format!("the answer from {url} has no body")))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                let why = match bindings::wasi::http::types::http_error_code(&e) {
                    Some(code) => describe(&code),
                    None => e.to_debug_string(),
                };
                return Err(HttpError::Transport(format!(
                    "reading the answer from {url} failed: {why}"
                )));
            }
        }
    }
    drop(stream);
    drop(body);
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn error(url: &str, code: &ErrorCode) -> HttpError {
    let why = describe(code);
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied(format!(
            "the worker refused a request to {url}: only the URLs in this connector's configuration may be reached"
        )),
        ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestHeaderSize(_)
        | ErrorCode::HttpRequestHeaderSectionSize(_) => {
            HttpError::Invalid(format!("request to {url}: {why}"))
        }
        _ => HttpError::Transport(format!("request to {url} failed: {why}")),
    }
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        ErrorCode::ConnectionReadTimeout => "no answer in time".into(),
        ErrorCode::ConnectionTerminated => "the connection was closed".into(),
        ErrorCode::DestinationUnavailable => "the server cannot be reached".into(),
        ErrorCode::HttpResponseBodySize(n) => match n {
            Some(n) => format!("the answer is larger than this worker allows ({n} bytes)"),
            None => "the answer is larger than this worker allows".into(),
        },
        ErrorCode::InternalError(Some(m)) => m.clone(),
        other => format!("{other:?}"),
    }
}

/// What `OutgoingRequest` wants from a URL.
#[derive(Debug)]
struct UrlParts {
    scheme: Scheme,
    authority: String,
    path: String,
}

impl UrlParts {
    fn parse(url: &str) -> Option<UrlParts> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        // Credentials in the URL go in an Authorization header instead.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if authority.is_empty() {
            return None;
        }
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Some(UrlParts {
            scheme,
            authority: authority.to_string(),
            path,
        })
    }
}
