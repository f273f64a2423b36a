//! Which Kafka client settings a connector configuration may override
//! (`producer.override.*`, `consumer.override.*`, `admin.override.*`).
//!
//! Two rules decide, in this order:
//!
//! 1. **librdkafka settings that load code, run commands or read files**
//!    ([`is_unsafe`]: `plugin.library.paths`, `sasl.kerberos.kinit.cmd`,
//!    `*.location`, …) are refused whatever the policy, unless the worker
//!    file names them in `connector.client.config.override.unsafe.allow`.
//!    A REST caller must not be able to make the worker `dlopen` a library
//!    or read a key file (the class of CVE-2023-25194; the Java clients
//!    have no such settings, librdkafka does).
//! 2. **The worker's `connector.client.config.override.policy`**, as Kafka
//!    Connect reads it (KIP-458, KIP-722, KIP-1188): `All` (the default),
//!    `None`, `Principal` (only `sasl.jaas.config`, `sasl.mechanism`,
//!    `security.protocol`) or `Allowlist` (the keys listed in
//!    `connector.client.config.override.allowlist`), by alias or by Kafka's
//!    class name, with Kafka's messages.
//!
//! Validation reports every refused key under its full name; a refused key
//! that reaches client creation anyway (a configuration written before the
//! policy changed) is left out of the client, with a warning.

use super::worker::{list, lookup};

/// The three override prefixes, one per client.
pub const PREFIXES: [&str; 3] = [
    "producer.override.",
    "consumer.override.",
    "admin.override.",
];

/// The worker keys this module reads.
pub const POLICY_KEY: &str = "connector.client.config.override.policy";
pub const ALLOWLIST_KEY: &str = "connector.client.config.override.allowlist";
pub const UNSAFE_ALLOW_KEY: &str = "connector.client.config.override.unsafe.allow";

/// librdkafka settings that load code or run commands.
const CODE: &[&str] = &[
    "plugin.library.paths",
    "sasl.kerberos.kinit.cmd",
    "ssl.engine.location",
    "ssl.engine.id",
    "ssl.providers",
    "ssl_engine_callback_data",
];

/// librdkafka settings that name files the worker reads.
const FILES: &[&str] = &["sasl.kerberos.keytab", "ssl.ca.certificate.stores"];

/// Whether librdkafka would load code, run a command or read a file for
/// `key` (the key without its override prefix).
pub fn is_unsafe(key: &str) -> bool {
    let key = key.trim();
    CODE.contains(&key)
        || FILES.contains(&key)
        || key.ends_with(".location")
        || key.ends_with(".cmd")
}

/// Kafka's override policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    All,
    None,
    Principal,
    Allowlist(Vec<String>),
}

/// What `Principal` lets a connector set: its own identity.
const PRINCIPAL: &[&str] = &["sasl.jaas.config", "sasl.mechanism", "security.protocol"];

impl Policy {
    fn name(&self) -> &'static str {
        match self {
            Policy::All => "All",
            Policy::None => "None",
            Policy::Principal => "Principal",
            Policy::Allowlist(_) => "Allowlist",
        }
    }

    fn allows(&self, key: &str) -> bool {
        match self {
            Policy::All => true,
            Policy::None => false,
            Policy::Principal => PRINCIPAL.contains(&key),
            Policy::Allowlist(keys) => keys.iter().any(|k| k == key),
        }
    }
}

/// The worker's rules for connector client overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRules {
    policy: Policy,
    /// Unsafe keys the operator lets connectors set.
    unsafe_allowed: Vec<String>,
}

impl Default for OverrideRules {
    fn default() -> Self {
        OverrideRules {
            policy: Policy::All,
            unsafe_allowed: Vec::new(),
        }
    }
}

impl OverrideRules {
    /// The rules the worker file sets; an unknown policy is an error naming
    /// the key and the choices.
    pub fn from_worker(props: &[(String, String)]) -> Result<OverrideRules, String> {
        let value = lookup(props, POLICY_KEY).map(str::trim).unwrap_or("All");
        let short = value
            .strip_prefix("org.apache.kafka.connect.connector.policy.")
            .and_then(|c| c.strip_suffix("ConnectorClientConfigOverridePolicy"))
            .unwrap_or(value);
        let policy = match short {
            "" | "All" => Policy::All,
            "None" => Policy::None,
            "Principal" => Policy::Principal,
            "Allowlist" => Policy::Allowlist(list(lookup(props, ALLOWLIST_KEY))),
            _ => {
                return Err(format!(
                    "Invalid value {value} for configuration {POLICY_KEY}: \
                     expected All, None, Principal or Allowlist"
                ));
            }
        };
        Ok(OverrideRules {
            policy,
            unsafe_allowed: list(lookup(props, UNSAFE_ALLOW_KEY)),
        })
    }

    /// Why the override `key` (without its prefix) is refused, if it is.
    fn refusal(&self, key: &str) -> Option<String> {
        if is_unsafe(key) && !self.unsafe_allowed.iter().any(|k| k == key) {
            return Some(format!(
                "'{key}' makes the Kafka client load code, run a command or read a file, \
                 so a connector may not override it; the worker's {UNSAFE_ALLOW_KEY} can allow it"
            ));
        }
        if !self.policy.allows(key) {
            return Some(format!(
                "The '{}' policy does not allow '{key}' to be overridden in the connector configuration.",
                self.policy.name()
            ));
        }
        None
    }

    /// Every refused override of `connector`: (full key, message).
    pub fn problems(&self, connector: &[(String, String)]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, _) in connector {
            for prefix in PREFIXES {
                if let Some(client_key) = key.strip_prefix(prefix)
                    && let Some(message) = self.refusal(client_key)
                {
                    out.push((key.clone(), message));
                }
            }
        }
        out
    }

    /// The overrides `connector` makes with `prefix`, prefix stripped,
    /// without the refused ones (each refusal logged).
    pub fn permitted(&self, connector: &[(String, String)], prefix: &str) -> Vec<(String, String)> {
        connector
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v)))
            .filter(|(k, _)| match self.refusal(k) {
                Some(why) => {
                    tracing::warn!(key = %format!("{prefix}{k}"), "client override left out: {why}");
                    false
                }
                None => true,
            })
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pairs;

    fn rules(props: &[(&str, &str)]) -> OverrideRules {
        OverrideRules::from_worker(&pairs(props)).unwrap()
    }

    #[test]
    fn code_loading_keys_are_refused_under_every_policy_unless_allowed() {
        let connector = pairs(&[
            ("consumer.override.plugin.library.paths", "/tmp/evil.so"),
            ("producer.override.ssl.key.location", "/root/key.pem"),
            ("admin.override.sasl.kerberos.kinit.cmd", "touch /tmp/x"),
            ("producer.override.linger.ms", "5"),
        ]);
        let refused: Vec<String> = rules(&[])
            .problems(&connector)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            refused,
            [
                "consumer.override.plugin.library.paths",
                "producer.override.ssl.key.location",
                "admin.override.sasl.kerberos.kinit.cmd"
            ]
        );
        let allowing = rules(&[(UNSAFE_ALLOW_KEY, "ssl.key.location")]);
        assert_eq!(allowing.problems(&connector).len(), 2);
        assert_eq!(
            allowing.permitted(&connector, "producer.override."),
            pairs(&[("ssl.key.location", "/root/key.pem"), ("linger.ms", "5")])
        );
        assert!(
            rules(&[])
                .permitted(&connector, "consumer.override.")
                .is_empty()
        );
    }

    #[test]
    fn policies_read_as_kafka_reads_them() {
        let connector = pairs(&[
            ("producer.override.acks", "0"),
            ("producer.override.sasl.jaas.config", "x"),
        ]);
        let none = rules(&[(POLICY_KEY, "None")]).problems(&connector);
        assert_eq!(
            none[0],
            (
                "producer.override.acks".to_string(),
                "The 'None' policy does not allow 'acks' to be overridden in the connector configuration."
                    .to_string()
            )
        );
        assert_eq!(none.len(), 2);
        let principal = rules(&[(
            POLICY_KEY,
            "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy",
        )]);
        assert_eq!(principal.problems(&connector).len(), 1);
        let listed = rules(&[
            (POLICY_KEY, "Allowlist"),
            (ALLOWLIST_KEY, "acks, linger.ms"),
        ]);
        assert_eq!(
            listed.problems(&connector)[0].0,
            "producer.override.sasl.jaas.config"
        );
        assert!(rules(&[]).problems(&connector).is_empty(), "All by default");
        let bad = OverrideRules::from_worker(&pairs(&[(POLICY_KEY, "Some")])).unwrap_err();
        assert!(
            bad.contains("expected All, None, Principal or Allowlist"),
            "{bad}"
        );
    }
}
