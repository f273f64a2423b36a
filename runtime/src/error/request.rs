//! A failed request on a connector, as Kafka Connect's herders report one:
//! an HTTP status and message, or (distributed mode) the worker that must
//! make the request instead.

/// Another worker must handle the request: Kafka Connect's
/// `NotLeaderException` and `NotAssignedException`, which its REST layer
/// answers by forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// That worker's REST URL; `None` while no leader is known (a rebalance
    /// is under way), which the REST layer answers with 409.
    pub url: Option<String>,
}

/// A failed operation, with the HTTP status Kafka Connect answers it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HerderError {
    /// HTTP status (and `error_code`).
    pub status: u16,
    /// Kafka Connect's message.
    pub message: String,
    /// Set when another worker must handle the request.
    pub redirect: Option<Redirect>,
}

impl HerderError {
    /// Any status (another worker's answer, relayed).
    pub fn with_status(status: u16, message: impl Into<String>) -> Self {
        Self::new(status, message)
    }
    fn new(status: u16, message: impl Into<String>) -> Self {
        HerderError {
            status,
            message: message.into(),
            redirect: None,
        }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }
    /// Only the leader may do this; it is at `leader_url` (`None`: unknown).
    pub fn not_leader(leader_url: Option<String>) -> Self {
        HerderError {
            redirect: Some(Redirect { url: leader_url }),
            ..Self::new(409, "This worker is not the leader of the cluster")
        }
    }
    /// Only the worker running the task may do this; it is at `owner_url`.
    pub fn not_owner(owner_url: String) -> Self {
        HerderError {
            redirect: Some(Redirect {
                url: Some(owner_url),
            }),
            ..Self::new(409, "The task is not assigned to this worker")
        }
    }
}

impl std::fmt::Display for HerderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HerderError {}
