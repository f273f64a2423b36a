//! The `connect` group's wire formats (Kafka Connect's `ConnectProtocol`
//! v0 and `IncrementalCooperativeConnectProtocol` v1/v2), byte for byte,
//! so that our workers could share a group with Kafka Connect's.
//!
//! Big-endian; `STRING` is an i16 length and UTF-8, `NULLABLE_BYTES` an i32
//! length (-1 for null), arrays an i32 count (-1 for null). Decoders accept
//! missing trailing fields, as Kafka's do.
//!
//! ```text
//! metadata   v0: version i16 | url STRING | config_offset i64
//!            v1/v2: … | allocation NULLABLE_BYTES (the member's current
//!                       assignment, itself a v1/v2 assignment)
//! assignment v0: version | error i16 | leader STRING | leader_url STRING
//!                | config_offset i64 | assignment [connector STRING, tasks [i32]]
//!            v1/v2: … | revoked [connector, tasks] | delay i32
//! ```
//! In a connector's task list, -1 stands for the connector instance itself.

use std::collections::{BTreeMap, BTreeSet};

/// The JoinGroup protocol type.
pub const PROTOCOL_TYPE: &str = "connect";
/// `connect.protocol=sessioned`'s protocols, in preference order. Every
/// worker sends the same list, so any coordinator's choice (Kafka's picks
/// the one most members rank highest; simpler ones take the first member's
/// first) is one every member speaks.
pub const PROTOCOLS: [(&str, i16); 3] = [("sessioned", 2), ("compatible", 1), ("default", 0)];
/// The task id that stands for the connector instance.
const CONNECTOR_TASK: i32 = -1;
/// `error` of an assignment the leader could not compute because its
/// config view was behind a member's.
pub const CONFIG_MISMATCH: i16 = 1;

/// A task: connector name and task number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// The connector.
    pub connector: String,
    /// The task number.
    pub task: i32,
}

/// Connectors and tasks: what a worker runs, or what it is told to start
/// or stop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Connector instances.
    pub connectors: BTreeSet<String>,
    /// Tasks.
    pub tasks: BTreeSet<TaskId>,
}

impl Work {
    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    /// How many connectors and tasks.
    pub fn len(&self) -> usize {
        self.connectors.len() + self.tasks.len()
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Work) -> Work {
        Work {
            connectors: self.connectors.union(&other.connectors).cloned().collect(),
            tasks: self.tasks.union(&other.tasks).cloned().collect(),
        }
    }

    /// `self − other`.
    pub fn minus(&self, other: &Work) -> Work {
        Work {
            connectors: self
                .connectors
                .difference(&other.connectors)
                .cloned()
                .collect(),
            tasks: self.tasks.difference(&other.tasks).cloned().collect(),
        }
    }

    /// `self ∩ other`.
    pub fn intersect(&self, other: &Work) -> Work {
        Work {
            connectors: self
                .connectors
                .intersection(&other.connectors)
                .cloned()
                .collect(),
            tasks: self.tasks.intersection(&other.tasks).cloned().collect(),
        }
    }
}

/// What a member says about itself when it joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    /// 0, 1 or 2 (the protocol's version).
    pub version: i16,
    /// The worker's advertised REST URL.
    pub url: String,
    /// One past the last config-topic record the worker has read (-1: none).
    pub config_offset: i64,
    /// What the worker runs now (v1+; `None` before its first assignment).
    pub allocation: Option<Assignment>,
}

/// What the leader tells a member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    /// 0, 1 or 2.
    pub version: i16,
    /// 0, or [`CONFIG_MISMATCH`].
    pub error: i16,
    /// The leader's member id.
    pub leader: String,
    /// The leader's REST URL.
    pub leader_url: String,
    /// The config-topic offset the assignment was computed at.
    pub config_offset: i64,
    /// v0: everything the member runs; v1+: what it starts now.
    pub assigned: Work,
    /// v1+: what it stops now.
    pub revoked: Work,
    /// v1+: milliseconds until the member should rejoin (a lost worker's
    /// share is held until then).
    pub delay_ms: i32,
}

impl MemberMetadata {
    /// Encodes at `self.version`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.version.to_be_bytes());
        put_string(&mut out, &self.url);
        out.extend_from_slice(&self.config_offset.to_be_bytes());
        if self.version >= 1 {
            match &self.allocation {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(a) => {
                    let bytes = a.encode();
                    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    out.extend_from_slice(&bytes);
                }
            }
        }
        out
    }

    /// Decodes any version.
    pub fn decode(bytes: &[u8]) -> Result<MemberMetadata, String> {
        let mut r = Reader::new(bytes);
        let version = r.i16()?;
        if version < 0 {
            return Err(format!("unsupported connect metadata version {version}"));
        }
        let url = r.string()?;
        let config_offset = r.i64()?;
        let allocation = if version >= 1 && !r.done() {
            r.nullable_bytes()?.map(Assignment::decode).transpose()?
        } else {
            None
        };
        Ok(MemberMetadata {
            version,
            url,
            config_offset,
            allocation,
        })
    }
}

impl Assignment {
    /// Encodes at `self.version`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.error.to_be_bytes());
        put_string(&mut out, &self.leader);
        put_string(&mut out, &self.leader_url);
        out.extend_from_slice(&self.config_offset.to_be_bytes());
        put_work(&mut out, &self.assigned);
        if self.version >= 1 {
            put_work(&mut out, &self.revoked);
            out.extend_from_slice(&self.delay_ms.to_be_bytes());
        }
        out
    }

    /// Decodes any version (missing trailing fields take their defaults).
    pub fn decode(bytes: &[u8]) -> Result<Assignment, String> {
        let mut r = Reader::new(bytes);
        let version = r.i16()?;
        if version < 0 {
            return Err(format!("unsupported connect assignment version {version}"));
        }
        let error = r.i16()?;
        let leader = r.string()?;
        let leader_url = r.string()?;
        let config_offset = r.i64()?;
        let assigned = r.work()?;
        let (revoked, delay_ms) = if version >= 1 && !r.done() {
            let revoked = r.work()?;
            let delay = if r.done() { 0 } else { r.i32()? };
            (revoked, delay)
        } else {
            (Work::default(), 0)
        };
        Ok(Assignment {
            version,
            error,
            leader,
            leader_url,
            config_offset,
            assigned,
            revoked,
            delay_ms,
        })
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    // Validation keeps connector names within a STRING's 32767 bytes; a
    // longer one would be cut at a character boundary, never inside one
    // (a cut inside one made every assignment undecodable).
    let mut end = s.len().min(i16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = &s.as_bytes()[..end];
    out.extend_from_slice(&(bytes.len() as i16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// `[connector STRING, tasks [i32]]`, one entry per connector, the
/// connector itself as task -1.
fn put_work(out: &mut Vec<u8>, work: &Work) {
    let mut by_connector: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for c in &work.connectors {
        by_connector.entry(c).or_default().push(CONNECTOR_TASK);
    }
    for t in &work.tasks {
        by_connector.entry(&t.connector).or_default().push(t.task);
    }
    out.extend_from_slice(&(by_connector.len() as i32).to_be_bytes());
    for (connector, tasks) in by_connector {
        put_string(out, connector);
        out.extend_from_slice(&(tasks.len() as i32).to_be_bytes());
        for t in tasks {
            out.extend_from_slice(&t.to_be_bytes());
        }
    }
}

/// A cursor over a message that names what it ran out of.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("connect message truncated at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.i16()?;
        let len = usize::try_from(len).map_err(|_| format!("negative string length {len}"))?;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|e| format!("string is not UTF-8: {e}"))
    }

    fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, String> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(len as usize)?))
    }

    /// A nullable array of connector assignments (null is empty).
    fn work(&mut self) -> Result<Work, String> {
        let mut work = Work::default();
        let count = self.i32()?;
        for _ in 0..count.max(0) {
            let connector = self.string()?;
            let tasks = self.i32()?;
            for _ in 0..tasks.max(0) {
                match self.i32()? {
                    CONNECTOR_TASK => {
                        work.connectors.insert(connector.clone());
                    }
                    task => {
                        work.tasks.insert(TaskId {
                            connector: connector.clone(),
                            task,
                        });
                    }
                }
            }
        }
        Ok(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(c: &str, n: i32) -> TaskId {
        TaskId {
            connector: c.into(),
            task: n,
        }
    }

    #[test]
    fn an_overlong_string_is_cut_at_a_character_boundary() {
        let name = format!("{}é", "a".repeat(i16::MAX as usize - 1));
        let mut out = Vec::new();
        put_string(&mut out, &name);
        let len = i16::from_be_bytes([out[0], out[1]]) as usize;
        assert_eq!(len, i16::MAX as usize - 1);
        assert!(std::str::from_utf8(&out[2..]).is_ok());
    }

    #[test]
    fn sessioned_metadata_without_allocation_is_byte_exact() {
        let m = MemberMetadata {
            version: 2,
            url: "http://w1:8083/".into(),
            config_offset: 5,
            allocation: None,
        };
        let mut expected = vec![0, 2, 0, 15];
        expected.extend_from_slice(b"http://w1:8083/");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(m.encode(), expected);
        assert_eq!(MemberMetadata::decode(&expected).unwrap(), m);
    }

    #[test]
    fn assignments_round_trip_with_the_connector_as_task_minus_one() {
        let a = Assignment {
            version: 1,
            error: 0,
            leader: "member-a".into(),
            leader_url: "http://a:8083/".into(),
            config_offset: 42,
            assigned: Work {
                connectors: ["c1".to_string()].into(),
                tasks: [task("c1", 0), task("c2", 3)].into(),
            },
            revoked: Work {
                connectors: BTreeSet::new(),
                tasks: [task("c2", 1)].into(),
            },
            delay_ms: 1500,
        };
        let bytes = a.encode();
        assert_eq!(Assignment::decode(&bytes).unwrap(), a);
        // c1 is listed once, with -1 (itself) then task 0.
        let c1 = bytes.windows(2).position(|w| w == b"c1").unwrap();
        assert_eq!(
            &bytes[c1 + 2..c1 + 14],
            &[0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
    }

    #[test]
    fn metadata_carries_the_current_allocation() {
        let allocation = Assignment {
            version: 2,
            assigned: Work {
                connectors: ["c".to_string()].into(),
                tasks: [task("c", 0)].into(),
            },
            ..Assignment::default()
        };
        let m = MemberMetadata {
            version: 2,
            url: "http://b:1/".into(),
            config_offset: -1,
            allocation: Some(allocation),
        };
        assert_eq!(MemberMetadata::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn older_and_truncated_messages_decode_with_defaults_or_a_reason() {
        // v0 metadata: no allocation field at all.
        let v0 = MemberMetadata {
            version: 0,
            url: "u".into(),
            config_offset: 7,
            allocation: None,
        };
        assert_eq!(MemberMetadata::decode(&v0.encode()).unwrap(), v0);
        // A v1 assignment cut after its assigned list: revoked empty, delay 0.
        let full = Assignment {
            version: 1,
            leader: "l".into(),
            ..Assignment::default()
        }
        .encode();
        let short = &full[..full.len() - 8];
        assert_eq!(Assignment::decode(short).unwrap().delay_ms, 0);
        // Cut inside a field: an error naming where.
        let err = Assignment::decode(&full[..5]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(MemberMetadata::decode(&[0xff, 0xff]).is_err());
    }
}
