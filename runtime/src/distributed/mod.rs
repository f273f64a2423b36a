//! Distributed mode's building blocks, as Kafka Connect does it: workers
//! coordinate through the broker's group coordinator (a group of protocol
//! type `connect`), and the elected leader assigns connectors and tasks.
//!
//! - [`protocol`]: the `connect` group's wire formats (member metadata and
//!   assignments, Kafka Connect's `ConnectProtocol` and
//!   `IncrementalCooperativeConnectProtocol`).
//! - [`group`]: group membership over the raw Kafka protocol
//!   (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup), since
//!   librdkafka only joins `consumer` groups.
//! - [`membership`]: a worker's loop through the group's rounds (join,
//!   assign when leading, sync, heartbeat, rejoin), reporting each round;
//!   or a scripted group a test plays (`Membership::scripted`).
//! - [`assignor`]: the leader's incremental cooperative assignment
//!   (KIP-415): balanced, moving only what must move, and holding a lost
//!   worker's share for `scheduled.rebalance.max.delay.ms`.
//! - [`config_log`]: the config topic's records in Kafka Connect's formats
//!   and the rules that rebuild a cluster's view from them.
//! - [`config_store`]: the config topic as a store: ordered writes, each
//!   read back, and the view they build.
//! - [`offset_store`]: source offsets on the offsets topic.
//! - [`plugin_log`]: uploaded components shared through a compacted topic
//!   of content-addressed chunks.
//! - [`status_store`]: connector and task states on the status topic,
//!   every worker's visible to all.
//! - [`session_key`]: the leader's key for signed internal requests.
//! - [`status_log`]: the status and offset topics' record formats.
//! - [`topic_log`]: a compacted topic read as a log (read to the end, write
//!   with acknowledgements): the Kafka [`RecordLog`](crate::store::RecordLog).
//!
//! Every store and the plugin log take any `RecordLog` (`over`), so the
//! same code runs on an in-memory log in tests (`crate::store::memory`).

pub mod assignor;
pub mod config_log;
pub mod config_store;
pub mod group;
pub mod membership;
pub mod offset_store;
pub mod plugin_log;
pub mod protocol;
pub mod session_key;
pub mod status_log;
pub mod status_store;
pub mod topic_log;
