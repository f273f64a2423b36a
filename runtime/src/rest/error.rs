//! Kafka Connect's error body, `{"error_code": N, "message": "…"}`, for
//! every failure, including the ones the HTTP layer finds before a handler
//! runs (unknown path, wrong method, wrong media type, malformed body).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{HerderError, Redirect};

/// A REST failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status and `error_code`.
    pub status: u16,
    /// The message.
    pub message: String,
    /// Set when another worker must answer: the response carries it for
    /// [`super::forwarding`], which forwards the request there.
    pub redirect: Option<Redirect>,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            redirect: None,
        }
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        ApiError {
            status: e.status,
            message: e.message,
            redirect: e.redirect,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // As Jersey: a body that is not application/json is refused.
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(415, "HTTP 415 Unsupported Media Type")
            }
            // As Jackson inside Kafka Connect: malformed bodies are 500s.
            other => ApiError::new(500, other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            Json(json!({"error_code": self.status, "message": self.message})),
        )
            .into_response();
        if let Some(redirect) = self.redirect {
            response.extensions_mut().insert(redirect);
        }
        response
    }
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::new(404, "HTTP 404 Not Found")
}

/// Known paths, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(405, "HTTP 405 Method Not Allowed")
}
