//! Distributed mode's worker keys (Kafka Connect's `DistributedConfig`,
//! spec §6.3), with Kafka's defaults except where noted.
//!
//! `scheduled.rebalance.max.delay.ms` defaults to 30 s instead of Kafka's
//! 5 minutes: the time a dead worker's connectors and tasks wait before
//! they run elsewhere. A restarting worker reclaims its share within that
//! time; past it, failover matters more than avoiding a second move.

use std::time::Duration;

use super::worker::lookup;

/// Our default for `scheduled.rebalance.max.delay.ms` (Kafka: 300 000).
pub const DEFAULT_MAX_DELAY_MS: u64 = 30_000;

/// One internal topic's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageTopic {
    pub topic: String,
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication: i32,
}

/// The distributed keys of a worker configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributedConfig {
    pub group_id: String,
    pub config: StorageTopic,
    pub offsets: StorageTopic,
    pub status: StorageTopic,
    /// `plugin.storage.topic` (default `<group.id>-plugins`, one partition,
    /// the config topic's replication): uploaded components, shared.
    pub plugins: StorageTopic,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub rebalance_timeout: Duration,
    pub scheduled_rebalance_max_delay: Duration,
    /// `inter.worker.key.ttl.ms`: how long the leader keeps one session
    /// key for signed internal requests.
    pub key_ttl: Duration,
    /// `connect.protocol`: only `sessioned` and `compatible` (incremental)
    /// are offered; `eager` is refused.
    pub protocol: String,
    /// Host and port other workers reach this one's REST API at.
    pub advertised_host: String,
    pub advertised_port: u16,
    /// `http` or `https`: the scheme of the listener other workers use.
    pub advertised_listener: String,
}

impl DistributedConfig {
    /// Reads the keys; `advertised_scheme`, `rest_port` and `hostname`
    /// come from the advertised listener (its scheme and port; its host,
    /// else this machine's name).
    pub fn from_properties(
        props: &[(String, String)],
        advertised_scheme: &str,
        rest_port: u16,
        hostname: &str,
    ) -> Result<DistributedConfig, String> {
        let get = |k: &str| lookup(props, k).map(str::trim).filter(|v| !v.is_empty());
        let required = |k: &str| {
            get(k).map(str::to_string).ok_or_else(|| {
                format!("Missing required configuration \"{k}\" which has no default value.")
            })
        };
        let number = |k: &str, default: i64, min: i64| -> Result<i64, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => {
                    let n: i64 = v.parse().map_err(|_| {
                        format!("Invalid value {v} for configuration {k}: Not a number of type INT")
                    })?;
                    if n < min {
                        return Err(format!(
                            "Invalid value {n} for configuration {k}: Value must be at least {min}"
                        ));
                    }
                    Ok(n)
                }
            }
        };
        let ms = |k: &str, default: i64| -> Result<Duration, String> {
            Ok(Duration::from_millis(number(k, default, 0)? as u64))
        };
        let topic = |prefix: &str, partitions: i64| -> Result<StorageTopic, String> {
            let replication = number(&format!("{prefix}.replication.factor"), 3, -1)?;
            if replication == 0 {
                return Err(format!(
                    "Invalid value 0 for configuration {prefix}.replication.factor: Value must be -1 or at least 1"
                ));
            }
            Ok(StorageTopic {
                topic: required(&format!("{prefix}.topic"))?,
                partitions: number(&format!("{prefix}.partitions"), partitions, 1)? as i32,
                replication: replication as i32,
            })
        };
        let protocol = get("connect.protocol").unwrap_or("sessioned").to_string();
        if !matches!(protocol.as_str(), "sessioned" | "compatible") {
            return Err(format!(
                "Invalid value {protocol} for configuration connect.protocol: this worker offers sessioned and compatible (incremental) only"
            ));
        }
        let listener = advertised_scheme.to_string();
        let group_id = required("group.id")?;
        let config_topic = topic("config.storage", 1)?;
        let plugins = StorageTopic {
            topic: get("plugin.storage.topic")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{group_id}-plugins")),
            partitions: 1,
            replication: config_topic.replication,
        };
        let config = DistributedConfig {
            group_id,
            config: config_topic,
            plugins,
            offsets: topic("offset.storage", 25)?,
            status: topic("status.storage", 5)?,
            session_timeout: ms("session.timeout.ms", 10_000)?,
            heartbeat_interval: ms("heartbeat.interval.ms", 3_000)?,
            rebalance_timeout: ms("rebalance.timeout.ms", 60_000)?,
            scheduled_rebalance_max_delay: ms(
                "scheduled.rebalance.max.delay.ms",
                DEFAULT_MAX_DELAY_MS as i64,
            )?,
            key_ttl: ms("inter.worker.key.ttl.ms", 3_600_000)?,
            protocol,
            advertised_host: get("rest.advertised.host.name")
                .unwrap_or(hostname)
                .to_string(),
            advertised_port: number("rest.advertised.port", i64::from(rest_port), 1)?
                .try_into()
                .map_err(|_| {
                    "Invalid value for configuration rest.advertised.port: not a port".to_string()
                })?,
            advertised_listener: listener,
        };
        if config.config.partitions != 1 {
            return Err(
                "config.storage.partitions must be 1: the config topic has one partition".into(),
            );
        }
        if config.heartbeat_interval >= config.session_timeout {
            return Err(format!(
                "heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
                config.heartbeat_interval.as_millis(),
                config.session_timeout.as_millis()
            ));
        }
        Ok(config)
    }

    /// The worker id other workers and the status topic use: `host:port`.
    pub fn worker_id(&self) -> String {
        format!("{}:{}", self.advertised_host, self.advertised_port)
    }

    /// The REST URL in this worker's group metadata.
    pub fn url(&self) -> String {
        format!(
            "{}://{}:{}/",
            self.advertised_listener, self.advertised_host, self.advertised_port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::pairs as props;

    fn minimal() -> Vec<(String, String)> {
        props(&[
            ("group.id", "connect-cluster"),
            ("config.storage.topic", "connect-configs"),
            ("offset.storage.topic", "connect-offsets"),
            ("status.storage.topic", "connect-status"),
        ])
    }

    #[test]
    fn defaults_are_kafkas_but_the_rebalance_delay() {
        let c = DistributedConfig::from_properties(&minimal(), "http", 8083, "w1").unwrap();
        assert_eq!(
            c.offsets,
            StorageTopic {
                topic: "connect-offsets".into(),
                partitions: 25,
                replication: 3
            }
        );
        assert_eq!(c.status.partitions, 5);
        assert_eq!(c.config.partitions, 1);
        assert_eq!(c.session_timeout, Duration::from_secs(10));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.rebalance_timeout, Duration::from_secs(60));
        assert_eq!(c.scheduled_rebalance_max_delay, Duration::from_secs(30));
        assert_eq!(c.protocol, "sessioned");
        assert_eq!(c.worker_id(), "w1:8083");
        assert_eq!(c.url(), "http://w1:8083/");
    }

    #[test]
    fn bad_settings_are_named() {
        let mut p = minimal();
        p.retain(|(k, _)| k != "group.id");
        assert_eq!(
            DistributedConfig::from_properties(&p, "http", 8083, "h").unwrap_err(),
            "Missing required configuration \"group.id\" which has no default value."
        );
        let mut p = minimal();
        p.push(("offset.storage.partitions".into(), "0".into()));
        assert!(
            DistributedConfig::from_properties(&p, "http", 8083, "h")
                .unwrap_err()
                .contains("offset.storage.partitions: Value must be at least 1")
        );
        let mut p = minimal();
        p.push(("connect.protocol".into(), "eager".into()));
        assert!(
            DistributedConfig::from_properties(&p, "http", 8083, "h")
                .unwrap_err()
                .contains("eager")
        );
        let mut p = minimal();
        p.push(("heartbeat.interval.ms".into(), "20000".into()));
        assert!(
            DistributedConfig::from_properties(&p, "http", 8083, "h")
                .unwrap_err()
                .contains("must be lower than session.timeout.ms")
        );
        let mut p = minimal();
        p.extend(props(&[
            ("rest.advertised.host.name", "10.0.0.5"),
            ("rest.advertised.port", "18083"),
        ]));
        assert_eq!(
            DistributedConfig::from_properties(&p, "http", 8083, "h")
                .unwrap()
                .worker_id(),
            "10.0.0.5:18083"
        );
    }
}
