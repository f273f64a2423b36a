//! Configuration: property files, the worker configuration, and the
//! Kafka client settings derived from it.

pub mod clients;
pub mod connector_file;
pub mod distributed;
pub mod properties;
pub mod providers;
pub mod worker;

pub use worker::{KafkaTarget, WorkerConfig};
