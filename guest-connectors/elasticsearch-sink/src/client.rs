//! The servers of `connection.url`: requests go to the current one, and a
//! server that cannot be reached hands over to the next.

use base64::Engine;
use wasmconnect_sdk::http::{self, HttpError, Request, Response};

use crate::config::EsConfig;

pub struct Client {
    urls: Vec<String>,
    current: usize,
    authorization: Option<String>,
    connect_timeout_ms: u64,
    read_timeout_ms: u64,
}

impl Client {
    pub fn new(cfg: &EsConfig) -> Client {
        let authorization = cfg.username.as_ref().map(|user| {
            let pair = format!("{user}:{}", cfg.password.as_deref().unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Client {
            urls: cfg
                .urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_string())
                .collect(),
            current: 0,
            authorization,
            connect_timeout_ms: cfg.connect_timeout_ms,
            read_timeout_ms: cfg.read_timeout_ms,
        }
    }

    /// The server requests go to now.
    pub fn server(&self) -> &str {
        self.urls.get(self.current).map_or("", String::as_str)
    }

    /// A request for `path` on the current server, with authentication
    /// and timeouts.
    pub fn request(&self, method: &str, path: &str) -> Request {
        let mut r = Request::new(method, &format!("{}{path}", self.server()))
            .timeout_ms(self.read_timeout_ms)
            .connect_timeout_ms(self.connect_timeout_ms);
        if let Some(auth) = &self.authorization {
            r = r.header("authorization", auth.as_str());
        }
        r
    }

    /// Sends `requests` together; when any could not reach the server,
    /// the next server takes over for later requests.
    pub fn send_all(&mut self, requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        let answers = http::send_all(requests);
        if answers
            .iter()
            .any(|a| matches!(a, Err(HttpError::Transport(_))))
        {
            self.fail_over();
        }
        answers
    }

    /// Sends one request.
    pub fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        self.send_all(vec![request])
            .pop()
            .unwrap_or_else(|| Err(HttpError::Invalid("no answer".into())))
    }

    fn fail_over(&mut self) {
        if self.urls.len() > 1 {
            self.current = (self.current + 1) % self.urls.len();
        }
    }
}
