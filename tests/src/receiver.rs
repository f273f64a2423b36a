//! Small HTTP/1.1 servers of a test's own on loopback, plain or over TLS,
//! that record what they get and answer with canned replies: the webhook
//! endpoints a guest's outbound HTTP reaches (what a user's endpoint is,
//! nothing here stands in for a product).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::tls::TestPki;

/// A request a receiver got: request line, headers (lowercase names), body.
#[derive(Debug, Clone)]
pub struct Received {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A receiver answering each request with the next canned answer (the last
/// one repeats; an empty answer never answers), recording what it got.
pub struct Receiver {
    pub port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Starts a receiver; with `tls`, over HTTPS with the PKI's worker
    /// certificate (for `127.0.0.1` and `localhost`).
    pub async fn start(tls: Option<&TestPki>) -> Receiver {
        let acceptor = tls.map(|pki| {
            let props = vec![
                ("ssl.keystore.type".to_string(), "PEM".to_string()),
                (
                    "ssl.keystore.location".to_string(),
                    pki.worker.display().to_string(),
                ),
            ];
            let config =
                wasmconnect::config::tls::server_config(&props).expect("TLS server settings");
            tokio_rustls::TlsAcceptor::from(config)
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(Mutex::new(vec![answer(200, &[], "ok")]));
        let (g, a) = (got.clone(), answers.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (g, a, acceptor) = (g.clone(), a.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match acceptor {
                        None => serve(socket, g, a).await,
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(socket).await {
                                serve(stream, g, a).await;
                            }
                        }
                    }
                });
            }
        });
        Receiver { port, got, answers }
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `https://127.0.0.1:PORT<path>`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// The answers to give from now on.
    pub fn answer_next(&self, replies: Vec<String>) {
        *self.answers.lock().expect("answers") = replies;
    }

    /// What came so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("received").clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<String>>>,
) {
    let (read, mut write) = tokio::io::split(stream);
    let mut read = BufReader::new(read);
    let mut line = String::new();
    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if read.read_line(&mut h).await.unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if read.read_exact(&mut body).await.is_err() {
        return;
    }
    got.lock().expect("received").push(Received {
        line: line.trim_end().to_string(),
        headers,
        body,
    });
    let reply = {
        let mut a = answers.lock().expect("answers");
        if a.len() > 1 {
            a.remove(0)
        } else {
            a[0].clone()
        }
    };
    if reply.is_empty() {
        // Never answers: hold the connection until the client gives up.
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        return;
    }
    let _ = write.write_all(reply.as_bytes()).await;
    let _ = write.flush().await;
}

/// An HTTP/1.1 answer that closes the connection.
pub fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}
