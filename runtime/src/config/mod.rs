//! Configuration: property files, the worker configuration, and the
//! Kafka client settings derived from it.

pub mod clients;
pub mod connector_file;
pub mod distributed;
pub mod listeners;
pub mod overrides;
pub mod properties;
pub mod providers;
pub mod target_state;
pub mod tls;
pub mod worker;

pub use target_state::TargetState;
pub use worker::{KafkaTarget, WorkerConfig};

/// A configuration map: (key, value) pairs in the order given.
pub type Config = Vec<(String, String)>;

/// A configuration map from string literals (defaults, tests).
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
