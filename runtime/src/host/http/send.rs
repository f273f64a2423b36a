//! Sending one granted request: connect to the granted addresses (TLS for
//! `https`), hand the request to hyper's HTTP/1 client, and wrap both
//! bodies so that bytes are counted and the response is held to its size
//! and time limits.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, WasiBody};

use super::Counters;

/// Where and how one request goes.
pub(super) struct Plan {
    /// The granted addresses, tried in order.
    pub addrs: Vec<SocketAddr>,
    /// For `https`: the client configuration and the name to verify.
    pub tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub between_bytes_timeout: Duration,
    /// No wait goes past this (the guest call's deadline, less a margin).
    pub deadline: Option<Instant>,
    pub response_bytes: u64,
    pub counters: Arc<Counters>,
}

impl Plan {
    /// `wait` from now, or less when the deadline comes first.
    fn until(&self, wait: Duration) -> Instant {
        let end = Instant::now() + wait;
        self.deadline.map_or(end, |d| d.min(end))
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

type Io = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// Sends `request` as `plan` says; returns the response and the future
/// that drives the connection until the response body has been read.
pub(super) async fn send(
    mut request: http::Request<WasiBody>,
    plan: Plan,
) -> Result<(http::Response<WasiBody>, Io), Error> {
    plan.counters.requests.fetch_add(1, Ordering::Relaxed);
    let method_is_head = request.method() == http::Method::HEAD;
    let connect_by = plan.until(plan.connect_timeout);
    let stream = connect(&plan, connect_by).await?;
    let (mut sender, conn) = tokio::time::timeout_at(
        connect_by,
        hyper::client::conn::http1::handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;

    // The request line carries the path only: the scheme and authority
    // are for proxies, and the Host header is already set.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse::<http::Uri>()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    *request.uri_mut() = path;
    let counters = plan.counters.clone();
    // Told when hyper is done with the body (sent whole, or dropped): the
    // wait for the answer starts then, as a socket read timeout would,
    // so a large upload is not cut off by the first-byte timeout.
    let (uploaded_tx, uploaded) = tokio::sync::oneshot::channel::<()>();
    let request = request.map(|body| {
        CountedRequest {
            inner: body,
            counters,
            uploaded: Some(uploaded_tx),
        }
        .boxed_unsync()
    });

    let mut conn = Box::pin(conn);
    // Set when the connection ends before the answer: it must not be
    // polled again afterwards.
    let mut conn_done = false;
    let response = {
        let responded = sender.send_request(request);
        let waiting = async {
            tokio::pin!(responded);
            tokio::select! {
                biased;
                r = &mut responded => r.map_err(Error::from),
                c = &mut conn => {
                    // The connection ended first: the answer (or hyper's
                    // reason why none came) is ready now.
                    conn_done = true;
                    c.map_err(Error::from)?;
                    responded.await.map_err(Error::from)
                }
            }
        };
        tokio::pin!(waiting);
        // While the body goes out only the call's deadline bounds the wait
        // (a server may also answer before it has read it all).
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        let early = tokio::select! {
            r = &mut waiting => Some(r),
            _ = uploaded => None,
            () = tokio::time::sleep_until(plan.deadline.unwrap_or(far)) => {
                return Err(Error::ConnectionWriteTimeout);
            }
        };
        match early {
            Some(r) => r?,
            None => tokio::time::timeout_at(plan.until(plan.first_byte_timeout), waiting)
                .await
                .map_err(|_| Error::ConnectionReadTimeout)??,
        }
    };

    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bodiless = method_is_head || response.status() == http::StatusCode::NOT_MODIFIED;
    if !bodiless && declared.is_some_and(|n| n > plan.response_bytes) {
        return Err(Error::HttpResponseBodySize(declared));
    }
    let gap = plan.between_bytes_timeout;
    let deadline = plan.deadline;
    let response = response.map(|incoming| {
        LimitedResponse {
            inner: incoming,
            received: 0,
            limit: plan.response_bytes,
            counters: plan.counters.clone(),
            gap,
            deadline,
            timer: Box::pin(tokio::time::sleep_until(plan.until(gap))),
        }
        .boxed_unsync()
    });
    let io: Io = if conn_done {
        Box::new(async { Ok(()) })
    } else {
        Box::new(async move { conn.await.map_err(Error::from) })
    };
    Ok((response, io))
}

/// A connection to the first granted address that answers, with TLS when
/// the plan asks for it.
async fn connect(plan: &Plan, by: Instant) -> Result<Box<dyn Stream>, Error> {
    let mut failure = Error::DestinationUnavailable;
    let mut tcp = None;
    for addr in &plan.addrs {
        match tokio::time::timeout_at(by, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                tcp = Some(stream);
                break;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failure = Error::ConnectionRefused;
            }
            Ok(Err(e)) => failure = Error::Connect(e),
            Err(_) => return Err(Error::ConnectionTimeout),
        }
    }
    let tcp = tcp.ok_or(failure)?;
    // Requests are written whole and small ones should not wait for more.
    let _ = tcp.set_nodelay(true);
    match &plan.tls {
        None => Ok(Box::new(tcp)),
        Some((config, name)) => {
            let tls = tokio_rustls::TlsConnector::from(config.clone());
            let stream = tokio::time::timeout_at(by, tls.connect(name.clone(), tcp))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(Error::Tls)?;
            Ok(Box::new(stream))
        }
    }
}

/// The guest's request body, counted as it is written; `uploaded` fires
/// when it ends (or, dropped with it, when hyper lets it go).
struct CountedRequest {
    inner: WasiBody,
    counters: Arc<Counters>,
    uploaded: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Body for CountedRequest {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.counters
                        .sent
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                if let Some(done) = this.uploaded.take() {
                    let _ = done.send(());
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The server's response body: counted, refused past the size limit, and
/// failed when the next piece takes longer than the gap allows.
struct LimitedResponse {
    inner: hyper::body::Incoming,
    received: u64,
    limit: u64,
    counters: Arc<Counters>,
    gap: Duration,
    deadline: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl Body for LimitedResponse {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    this.received = this.received.saturating_add(n);
                    this.counters.received.fetch_add(n, Ordering::Relaxed);
                    if this.received > this.limit {
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(
                            this.received,
                        )))));
                    }
                }
                let next = Instant::now() + this.gap;
                let next = this.deadline.map_or(next, |d| d.min(next));
                this.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
