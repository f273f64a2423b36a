//! A connector's target state: what an operator asked it to be (Kafka's
//! `TargetState`), kept with its configuration in every mode.

use serde::{Deserialize, Serialize};

/// A connector's desired state (Kafka's target state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetState {
    /// Running (REST `initial_state` RUNNING).
    Started,
    /// Tasks paused.
    Paused,
    /// Connector and tasks stopped, no task configurations.
    Stopped,
}

impl TargetState {
    /// Parses REST's `initial_state` (case-insensitive).
    pub fn from_initial_state(s: &str) -> Option<TargetState> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(TargetState::Started),
            "PAUSED" => Some(TargetState::Paused),
            "STOPPED" => Some(TargetState::Stopped),
            _ => None,
        }
    }
}
