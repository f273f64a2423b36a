//! Outbound HTTP (`wasi:http/outgoing-handler`): a guest's own HTTP stack
//! (`fetch` in JavaScript, `wasi:http` bindings in Python, Rust or Go)
//! reaches the origins its configuration names, and nothing else.
//!
//! * The grant: a request goes out only when its scheme, host and port are
//!   those of a value of a configuration key marked `url` (several values
//!   comma-separated), a value the worker's `sandbox.allowed.hosts` allowed
//!   when the instance started ([`super::grants`]). Others fail with
//!   `HTTP-request-denied` and a WARN naming the origin.
//! * The host connects itself (wasmtime-wasi-http's default sender would
//!   look the name up again and connect anywhere): to the addresses the
//!   grant resolved, never to a fresh lookup, so a name that changes its
//!   answer after the check cannot lead a request elsewhere ([`send`]).
//! * Limits per instance ([`crate::sandbox::Limits`]): a connect timeout
//!   (TCP and TLS), a response timeout (first byte and between pieces of
//!   the body) and a response size, the smaller of these and what the
//!   guest's `request-options` ask; every wait also ends before the guest
//!   call's own deadline, so the guest hears of the timeout and can retry
//!   instead of the call being cut off.
//! * TLS: rustls with the system's roots and the worker's
//!   `sandbox.http.ca.file` ([`crate::config::tls::outbound_http`]).
//! * Accounting: requests and body bytes each way, shown in task status.

mod send;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::uri::{Scheme, Uri};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use super::Identity;
use super::grants::Grants;

/// Kept back from the guest call's deadline so that the guest hears of a
/// timeout while its call can still return.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// An origin a configuration grants: scheme, host and port, and the
/// addresses the host name resolved to when the grant was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOrigin {
    /// `https` rather than `http`.
    pub https: bool,
    /// The host, lowercase, IPv6 without brackets.
    pub host: String,
    /// The port, the scheme's default when the URL names none.
    pub port: u16,
    /// Where requests to it connect.
    pub addrs: Vec<SocketAddr>,
}

impl HttpOrigin {
    /// Scheme, host and port of an `http` or `https` URL; `None` for
    /// anything else.
    pub fn parse(url: &str) -> Option<(bool, String, u16)> {
        origin_of(&url.trim().parse::<Uri>().ok()?)
    }

    /// `https://host:port`, for messages.
    pub fn display(https: bool, host: &str, port: u16) -> String {
        let scheme = if https { "https" } else { "http" };
        if host.contains(':') {
            format!("{scheme}://[{host}]:{port}")
        } else {
            format!("{scheme}://{host}:{port}")
        }
    }
}

fn origin_of(uri: &Uri) -> Option<(bool, String, u16)> {
    let https = match uri.scheme() {
        Some(s) if *s == Scheme::HTTPS => true,
        Some(s) if *s == Scheme::HTTP => false,
        _ => return None,
    };
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Some((https, host.to_ascii_lowercase(), port))
}

/// What every outbound request of one instance is held to.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// TCP connect and TLS handshake, together.
    pub connect_timeout: Duration,
    /// Until the response starts, and between pieces of its body.
    pub response_timeout: Duration,
    /// The largest response body.
    pub response_bytes: u64,
    /// Roots and protocol versions for `https`.
    pub tls: Arc<rustls::ClientConfig>,
}

/// Requests and body bytes, counted as they go (the sender runs on its
/// own, outside the store).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

/// This capability's share of an instance's state.
pub struct HttpState {
    ctx: WasiHttpCtx,
    hooks: Hooks,
}

struct Hooks {
    identity: Identity,
    /// Origins refused so far: each is logged once, so a guest asking again
    /// and again cannot flood the worker's log.
    refused: std::collections::HashSet<String>,
    grants: Arc<Grants>,
    settings: HttpSettings,
    deadline: Option<Instant>,
    counters: Arc<Counters>,
}

impl HttpState {
    /// The origins `grants` name, for `identity`, held to `settings`.
    pub fn new(identity: Identity, grants: Arc<Grants>, settings: HttpSettings) -> Self {
        HttpState {
            ctx: WasiHttpCtx::new(),
            hooks: Hooks {
                identity,
                refused: Default::default(),
                grants,
                settings,
                deadline: None,
                counters: Arc::default(),
            },
        }
    }

    /// When the guest call now starting must be done.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.hooks.deadline = Some(deadline);
    }

    /// Requests sent, request body bytes and response body bytes so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = &self.hooks.counters;
        (
            c.requests.load(Ordering::Relaxed),
            c.sent.load(Ordering::Relaxed),
            c.received.load(Ordering::Relaxed),
        )
    }

    /// What wasmtime-wasi-http works on: this state and the instance's
    /// resource table.
    pub fn view<'a>(&'a mut self, table: &'a mut ResourceTable) -> WasiHttpCtxView<'a> {
        WasiHttpCtxView {
            ctx: &mut self.ctx,
            table,
            hooks: &mut self.hooks,
        }
    }
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        let Some((https, host, port)) = origin_of(request.uri()) else {
            return Box::new(async { Err(Error::HttpRequestUriInvalid) });
        };
        let shown = HttpOrigin::display(https, &host, port);
        let Some(origin) = self.grants.http_origin(https, &host, port) else {
            if self.refused.len() < 100 && self.refused.insert(shown.clone()) {
                tracing::warn!(
                    connector = %self.identity.connector,
                    task = ?self.identity.task,
                    origin = %shown,
                    "outbound HTTP request refused: no configuration key marked `url` names this origin (logged once per origin)"
                );
            }
            return Box::new(async { Err(Error::HttpRequestDenied) });
        };
        let asked = options.unwrap_or_default();
        let s = &self.settings;
        let tls = match https {
            false => None,
            true => match rustls::pki_types::ServerName::try_from(host.as_str()) {
                Ok(name) => Some((s.tls.clone(), name.to_owned())),
                Err(_) => return Box::new(async { Err(Error::HttpRequestUriInvalid) }),
            },
        };
        let plan = send::Plan {
            addrs: origin.addrs.clone(),
            tls,
            connect_timeout: shorter(s.connect_timeout, asked.connect_timeout),
            first_byte_timeout: shorter(s.response_timeout, asked.first_byte_timeout),
            between_bytes_timeout: shorter(s.response_timeout, asked.between_bytes_timeout),
            deadline: self
                .deadline
                .map(|d| d.checked_sub(DEADLINE_MARGIN).unwrap_or(d).into()),
            response_bytes: s.response_bytes,
            counters: self.counters.clone(),
        };
        tracing::trace!(
            connector = %self.identity.connector,
            task = ?self.identity.task,
            origin = %shown,
            method = %request.method(),
            "outbound HTTP request"
        );
        Box::new(send::send(request, plan))
    }
}

fn shorter(ours: Duration, asked: Option<Duration>) -> Duration {
    asked.map_or(ours, |a| a.min(ours))
}

/// Adds `wasi:http/outgoing-handler` and `wasi:http/types` to `linker`.
pub fn add_to_linker<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_take_the_schemes_default_port_and_lowercase_the_host() {
        assert_eq!(
            HttpOrigin::parse("https://Search.Example.org/a?b"),
            Some((true, "search.example.org".into(), 443))
        );
        assert_eq!(
            HttpOrigin::parse(" http://u:p@127.0.0.1:9200 "),
            Some((false, "127.0.0.1".into(), 9200))
        );
        assert_eq!(
            HttpOrigin::parse("http://[::1]:8080/"),
            Some((false, "::1".into(), 8080))
        );
        assert_eq!(HttpOrigin::parse("ftp://host/"), None);
        assert_eq!(HttpOrigin::parse("postgresql://h/db"), None);
        assert_eq!(HttpOrigin::parse("not a url"), None);
        assert_eq!(HttpOrigin::display(false, "::1", 80), "http://[::1]:80");
    }

    #[test]
    fn the_smaller_timeout_wins() {
        let ours = Duration::from_secs(10);
        assert_eq!(shorter(ours, None), ours);
        assert_eq!(
            shorter(ours, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(shorter(ours, Some(Duration::from_secs(99))), ours);
    }
}
