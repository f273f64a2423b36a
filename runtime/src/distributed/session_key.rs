//! Signed internal requests (Kafka Connect's `connect.protocol=sessioned`,
//! KIP-507): the leader writes a random session key to the config topic,
//! every member reads it, and a follower signs the one request only the
//! cluster may make, `POST /connectors/{name}/tasks`, with an HMAC of its
//! body. The leader refuses that request unsigned (400) or wrongly signed
//! (403), so a REST caller cannot overwrite task configurations, and REST
//! authentication does not have to let workers in with user credentials.
//!
//! Headers and record format are Kafka Connect's:
//! `X-Connect-Authorization` (base64 HMAC) and
//! `X-Connect-Request-Signature-Algorithm` (`HmacSHA256`); the config
//! record `session-key` holds `{"key": base64, "algorithm": …,
//! "creation-timestamp": ms}`.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";
/// The header naming the signature's algorithm.
pub const ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";
/// The one algorithm this worker signs and verifies with.
pub const ALGORITHM: &str = "HmacSHA256";
/// Kafka's `inter.worker.key.ttl.ms` default: a new key every hour.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// The bytes of a new key (256 bits, what `HmacSHA256` key generators
/// produce).
const KEY_BYTES: usize = 32;

/// The cluster's current session key.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub key: Vec<u8>,
    pub algorithm: String,
    /// When the leader made it (epoch ms).
    pub created_ms: i64,
}

impl std::fmt::Debug for SessionKey {
    /// Never the key itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("algorithm", &self.algorithm)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}

/// A signature as a request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub algorithm: String,
    /// Base64, as sent.
    pub value: String,
}

impl Signature {
    /// The signature a request's headers carry, looked up with `header`
    /// (by name, case-insensitively); `None` without one.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<Signature> {
        Some(Signature {
            value: header(SIGNATURE_HEADER)?.trim().to_string(),
            algorithm: header(ALGORITHM_HEADER)
                .map(str::trim)
                .unwrap_or(ALGORITHM)
                .to_string(),
        })
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

impl SessionKey {
    /// A fresh random key.
    pub fn generate() -> Result<SessionKey, String> {
        let mut key = vec![0u8; KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| format!("cannot draw a session key: {e}"))?;
        Ok(SessionKey {
            key,
            algorithm: ALGORITHM.to_string(),
            created_ms: now_ms(),
        })
    }

    /// Whether the leader should replace it (older than `ttl`).
    pub fn expired(&self, ttl: Duration) -> bool {
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        now_ms().saturating_sub(self.created_ms) >= ttl
    }

    /// The config record's value.
    pub fn to_json(&self) -> Value {
        json!({
            "key": base64::engine::general_purpose::STANDARD.encode(&self.key),
            "algorithm": self.algorithm,
            "creation-timestamp": self.created_ms,
        })
    }

    /// Reads the config record's value.
    pub fn from_json(v: &Value) -> Result<SessionKey, String> {
        let key = v
            .get("key")
            .and_then(Value::as_str)
            .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
            .filter(|k| !k.is_empty())
            .ok_or("the session-key record has no base64 key")?;
        Ok(SessionKey {
            key,
            algorithm: v
                .get("algorithm")
                .and_then(Value::as_str)
                .unwrap_or(ALGORITHM)
                .to_string(),
            created_ms: v
                .get("creation-timestamp")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        })
    }

    /// The signature of `body`.
    pub fn sign(&self, body: &[u8]) -> Signature {
        let mut m = mac(&self.key);
        m.update(body);
        Signature {
            algorithm: ALGORITHM.to_string(),
            value: base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes()),
        }
    }

    /// Whether `signature` signs `body` with this key (compared in
    /// constant time).
    pub fn verifies(&self, signature: &Signature, body: &[u8]) -> bool {
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(&signature.value) else {
            return false;
        };
        let mut m = mac(&self.key);
        m.update(body);
        m.verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_key_and_body_they_were_made_with() {
        let key = SessionKey::generate().unwrap();
        let other = SessionKey::generate().unwrap();
        assert_ne!(key.key, other.key);
        let sig = key.sign(b"[{\"a\":\"1\"}]");
        assert_eq!(sig.algorithm, "HmacSHA256");
        assert!(key.verifies(&sig, b"[{\"a\":\"1\"}]"));
        assert!(!key.verifies(&sig, b"[{\"a\":\"2\"}]"));
        assert!(!other.verifies(&sig, b"[{\"a\":\"1\"}]"));
        let garbage = Signature {
            algorithm: ALGORITHM.into(),
            value: "not base64!".into(),
        };
        assert!(!key.verifies(&garbage, b""));
        let back = SessionKey::from_json(&key.to_json()).unwrap();
        assert_eq!(back, key);
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.key)));
        assert!(!key.expired(DEFAULT_TTL));
        assert!(key.expired(Duration::ZERO));
    }
}
