//! Membership of a `connect` group over the raw Kafka protocol.
//!
//! librdkafka joins only `consumer` groups, so this speaks FindCoordinator,
//! JoinGroup, SyncGroup, Heartbeat and LeaveGroup itself, with the
//! `kafka-protocol` crate for the messages. It uses versions that Apache
//! Kafka 4.x and librdkafka's mock cluster both accept (FindCoordinator v2, JoinGroup v5,
//! SyncGroup v3, Heartbeat v3, LeaveGroup v2), one connection to the
//! coordinator, and one request at a time: a JoinGroup is parked by the
//! coordinator until the rebalance completes, so the caller heartbeats only
//! between rounds, as Kafka's clients do.
//!
//! The caller drives the rounds: [`GroupMember::join`], then (the leader
//! computing assignments) [`GroupMember::sync`], then
//! [`GroupMember::heartbeat`] every `heartbeat.interval.ms` until it
//! answers [`GroupError::Rebalance`], then join again.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest,
    HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
    RequestHeader, ResponseHeader, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Kafka error codes this client acts on.
mod code {
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

/// How a group call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupError {
    /// The group is rebalancing (or this member's generation is over):
    /// join again.
    Rebalance,
    /// The coordinator no longer knows this member: join again as a new
    /// member (the member id was reset).
    UnknownMember,
    /// The coordinator moved, is loading or could not be reached: find it
    /// again ([`GroupMember::reconnect`]) and join.
    Coordinator(String),
    /// An error that retrying will not fix (the message names it).
    Fatal(String),
}

impl std::fmt::Display for GroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupError::Rebalance => f.write_str("the group is rebalancing"),
            GroupError::UnknownMember => f.write_str("the coordinator does not know this member"),
            GroupError::Coordinator(m) => write!(f, "group coordinator unavailable: {m}"),
            GroupError::Fatal(m) => f.write_str(m),
        }
    }
}

/// Group settings (Kafka Connect's distributed worker keys).
#[derive(Debug, Clone)]
pub struct GroupSettings {
    /// Brokers to ask for the coordinator (`host:port`).
    pub bootstrap: Vec<String>,
    /// `group.id`.
    pub group_id: String,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms`.
    pub rebalance_timeout: Duration,
    /// The client id the broker logs.
    pub client_id: String,
}

/// The outcome of a JoinGroup.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The generation this round belongs to.
    pub generation: i32,
    /// This member's id.
    pub member_id: String,
    /// The leader's member id.
    pub leader: String,
    /// The protocol the coordinator chose.
    pub protocol: String,
    /// Every member's id and metadata (for the leader; empty otherwise).
    pub members: Vec<(String, Vec<u8>)>,
}

impl Joined {
    /// Whether this member computes the assignments.
    pub fn is_leader(&self) -> bool {
        self.leader == self.member_id
    }
}

/// A request this client sends, and the response it expects.
trait Call: Encodable + HeaderVersion {
    const KEY: ApiKey;
    const VERSION: i16;
    type Response: Decodable + HeaderVersion;
}

macro_rules! call {
    ($request:ty, $response:ty, $key:ident, $version:expr) => {
        impl Call for $request {
            const KEY: ApiKey = ApiKey::$key;
            const VERSION: i16 = $version;
            type Response = $response;
        }
    };
}
call!(
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    FindCoordinator,
    2
);
call!(JoinGroupRequest, JoinGroupResponse, JoinGroup, 5);
call!(SyncGroupRequest, SyncGroupResponse, SyncGroup, 3);
call!(HeartbeatRequest, HeartbeatResponse, Heartbeat, 3);
call!(LeaveGroupRequest, LeaveGroupResponse, LeaveGroup, 2);

/// One broker connection, one request at a time.
struct Connection {
    stream: TcpStream,
    correlation: i32,
    client_id: StrBytes,
}

impl Connection {
    async fn open(address: &str, client_id: &str) -> Result<Connection, String> {
        let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(address))
            .await
            .map_err(|_| format!("connecting to {address} timed out"))?
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            correlation: 0,
            client_id: StrBytes::from_string(client_id.to_string()),
        })
    }

    /// Sends `request` and reads its response within `timeout`.
    async fn call<R: Call>(
        &mut self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, String> {
        tokio::time::timeout(timeout, self.round_trip(request))
            .await
            .map_err(|_| format!("{:?} got no answer within {timeout:?}", R::KEY))?
    }

    async fn round_trip<R: Call>(&mut self, request: &R) -> Result<R::Response, String> {
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY as i16)
            .with_request_api_version(R::VERSION)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(self.client_id.clone()));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, R::header_version(R::VERSION))
            .and_then(|()| request.encode(&mut body, R::VERSION))
            .map_err(|e| format!("cannot encode {:?}: {e}", R::KEY))?;
        let mut frame = BytesMut::with_capacity(4 + body.len());
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| format!("sending {:?}: {e}", R::KEY))?;
        let len = self
            .stream
            .read_i32()
            .await
            .map_err(|e| format!("reading the {:?} response: {e}", R::KEY))?;
        if !(4..=64 << 20).contains(&len) {
            return Err(format!("{:?} response of {len} bytes", R::KEY));
        }
        let mut buf = vec![0u8; len as usize];
        self.stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| format!("reading the {:?} response: {e}", R::KEY))?;
        let mut buf = Bytes::from(buf);
        let header = ResponseHeader::decode(&mut buf, R::Response::header_version(R::VERSION))
            .map_err(|e| format!("malformed {:?} response header: {e}", R::KEY))?;
        if header.correlation_id != self.correlation {
            return Err(format!(
                "{:?} response for request {} while waiting for {}",
                R::KEY,
                header.correlation_id,
                self.correlation
            ));
        }
        R::Response::decode(&mut buf, R::VERSION)
            .map_err(|e| format!("malformed {:?} response: {e}", R::KEY))
    }
}

/// This worker's membership of the group.
pub struct GroupMember {
    settings: GroupSettings,
    coordinator: Connection,
    member_id: String,
    generation: i32,
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// The usual timeout of a call that the coordinator answers at once.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait before asking a coordinator that is loading the group
/// again (Kafka's clients use `retry.backoff.ms`, 100 ms).
const LOADING_BACKOFF: Duration = Duration::from_millis(100);

impl GroupMember {
    /// Finds the group's coordinator through the bootstrap brokers and
    /// connects to it.
    pub async fn connect(settings: GroupSettings) -> Result<GroupMember, GroupError> {
        let coordinator = find_coordinator(&settings).await?;
        Ok(GroupMember {
            settings,
            coordinator,
            member_id: String::new(),
            generation: -1,
        })
    }

    /// Finds the coordinator again (after [`GroupError::Coordinator`]).
    pub async fn reconnect(&mut self) -> Result<(), GroupError> {
        self.coordinator = find_coordinator(&self.settings).await?;
        Ok(())
    }

    /// This member's id ("" before its first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The generation of the last join.
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// Joins (or rejoins) with `protocols` (name, metadata), in preference
    /// order; returns when the coordinator completes the round.
    pub async fn join(&mut self, protocols: &[(&str, Vec<u8>)]) -> Result<Joined, GroupError> {
        let protocols: Vec<JoinGroupRequestProtocol> = protocols
            .iter()
            .map(|(name, metadata)| {
                JoinGroupRequestProtocol::default()
                    .with_name(str_bytes(name))
                    .with_metadata(Bytes::from(metadata.clone()))
            })
            .collect();
        // The coordinator parks a JoinGroup until every member joined or the
        // rebalance timeout passed.
        let timeout = self.settings.rebalance_timeout + Duration::from_secs(5);
        // A coordinator that has just taken the group (a new broker, a moved
        // partition of __consumer_offsets) answers COORDINATOR_LOAD_IN_PROGRESS
        // until it has read the group's log: it is the right coordinator, so
        // ask it again shortly rather than looking for another.
        let loading_until = tokio::time::Instant::now() + self.settings.rebalance_timeout;
        let mut rounds = 0;
        while rounds < 3 {
            let request = JoinGroupRequest::default()
                .with_group_id(GroupId(str_bytes(&self.settings.group_id)))
                .with_session_timeout_ms(self.settings.session_timeout.as_millis() as i32)
                .with_rebalance_timeout_ms(self.settings.rebalance_timeout.as_millis() as i32)
                .with_member_id(str_bytes(&self.member_id))
                .with_protocol_type(str_bytes(super::protocol::PROTOCOL_TYPE))
                .with_protocols(protocols.clone());
            let response = self.ask(&request, timeout).await?;
            match response.error_code {
                0 => {
                    self.member_id = response.member_id.to_string();
                    self.generation = response.generation_id;
                    return Ok(Joined {
                        generation: response.generation_id,
                        member_id: self.member_id.clone(),
                        leader: response.leader.to_string(),
                        protocol: response
                            .protocol_name
                            .map(|p| p.to_string())
                            .unwrap_or_default(),
                        members: response
                            .members
                            .into_iter()
                            .map(|m| (m.member_id.to_string(), m.metadata.to_vec()))
                            .collect(),
                    });
                }
                code::COORDINATOR_LOAD_IN_PROGRESS
                    if tokio::time::Instant::now() < loading_until =>
                {
                    tokio::time::sleep(LOADING_BACKOFF).await;
                    continue;
                }
                // JoinGroup v4+: the first join only hands out the id.
                code::MEMBER_ID_REQUIRED => self.member_id = response.member_id.to_string(),
                code::UNKNOWN_MEMBER_ID => self.member_id.clear(),
                other => return Err(self.error(other, "JoinGroup")),
            }
            rounds += 1;
        }
        Err(GroupError::Rebalance)
    }

    /// Sends the assignments (the leader; empty for the others) and returns
    /// this member's.
    pub async fn sync(&mut self, assignments: &[(String, Vec<u8>)]) -> Result<Vec<u8>, GroupError> {
        let request = SyncGroupRequest::default()
            .with_group_id(GroupId(str_bytes(&self.settings.group_id)))
            .with_generation_id(self.generation)
            .with_member_id(str_bytes(&self.member_id))
            .with_assignments(
                assignments
                    .iter()
                    .map(|(member, bytes)| {
                        SyncGroupRequestAssignment::default()
                            .with_member_id(str_bytes(member))
                            .with_assignment(Bytes::from(bytes.clone()))
                    })
                    .collect(),
            );
        let timeout = self.settings.rebalance_timeout + Duration::from_secs(5);
        let response = self.ask(&request, timeout).await?;
        match response.error_code {
            0 => Ok(response.assignment.to_vec()),
            other => Err(self.error(other, "SyncGroup")),
        }
    }

    /// Tells the coordinator this member is alive; [`GroupError::Rebalance`]
    /// when a new round started.
    pub async fn heartbeat(&mut self) -> Result<(), GroupError> {
        let request = HeartbeatRequest::default()
            .with_group_id(GroupId(str_bytes(&self.settings.group_id)))
            .with_generation_id(self.generation)
            .with_member_id(str_bytes(&self.member_id));
        let response = self.ask(&request, CALL_TIMEOUT).await?;
        match response.error_code {
            0 => Ok(()),
            other => Err(self.error(other, "Heartbeat")),
        }
    }

    /// Leaves the group, so the others rebalance at once rather than after
    /// the session timeout. Best effort.
    pub async fn leave(&mut self) {
        if self.member_id.is_empty() {
            return;
        }
        let request = LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes(&self.settings.group_id)))
            .with_member_id(str_bytes(&self.member_id));
        if let Err(e) = self
            .coordinator
            .call(&request, Duration::from_secs(5))
            .await
        {
            tracing::debug!(group = %self.settings.group_id, "LeaveGroup: {e}");
        }
        self.member_id.clear();
    }

    /// One call to the coordinator; a failed round trip means finding it
    /// again.
    async fn ask<R: Call>(
        &mut self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, GroupError> {
        self.coordinator
            .call(request, timeout)
            .await
            .map_err(GroupError::Coordinator)
    }

    /// Maps a Kafka error code to what the caller should do.
    fn error(&mut self, code: i16, call: &str) -> GroupError {
        match code {
            code::REBALANCE_IN_PROGRESS | code::ILLEGAL_GENERATION => GroupError::Rebalance,
            code::UNKNOWN_MEMBER_ID => {
                self.member_id.clear();
                GroupError::UnknownMember
            }
            code::COORDINATOR_LOAD_IN_PROGRESS
            | code::COORDINATOR_NOT_AVAILABLE
            | code::NOT_COORDINATOR => GroupError::Coordinator(format!("{call}: error {code}")),
            other => GroupError::Fatal(format!(
                "{call} for group {} failed with Kafka error {other}{}",
                self.settings.group_id,
                match other {
                    23 =>
                        " (INCONSISTENT_GROUP_PROTOCOL: another member of this group.id is not a wasmconnect/Kafka Connect worker)",
                    26 =>
                        " (INVALID_SESSION_TIMEOUT: session.timeout.ms is outside the broker's limits)",
                    _ => "",
                }
            )),
        }
    }
}

/// Kafka's error codes for a coordinator that is not there yet: the first
/// group on a fresh cluster waits while `__consumer_offsets` is created and
/// loaded (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
/// NOT_COORDINATOR).
const COORDINATOR_PENDING: [i16; 3] = [14, 15, 16];

/// Asks each bootstrap broker in turn for the group's coordinator, then
/// connects to it. While the coordinator is still being set up, asks again
/// for up to [`CALL_TIMEOUT`], as Kafka's clients do.
async fn find_coordinator(settings: &GroupSettings) -> Result<Connection, GroupError> {
    let deadline = tokio::time::Instant::now() + CALL_TIMEOUT;
    loop {
        let mut last = String::from("no bootstrap broker given");
        let mut pending = false;
        for broker in &settings.bootstrap {
            let mut connection = match Connection::open(broker, &settings.client_id).await {
                Ok(c) => c,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            let request = FindCoordinatorRequest::default()
                .with_key(str_bytes(&settings.group_id))
                .with_key_type(0);
            match connection.call(&request, CALL_TIMEOUT).await {
                Ok(r) if r.error_code == 0 => {
                    let address = format!("{}:{}", r.host.as_str(), r.port);
                    return Connection::open(&address, &settings.client_id)
                        .await
                        .map_err(GroupError::Coordinator);
                }
                Ok(r) => {
                    pending |= COORDINATOR_PENDING.contains(&r.error_code);
                    last = format!("FindCoordinator via {broker}: Kafka error {}", r.error_code);
                }
                Err(e) => last = e,
            }
        }
        if !pending || tokio::time::Instant::now() >= deadline {
            return Err(GroupError::Coordinator(last));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
