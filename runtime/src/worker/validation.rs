//! Checking a connector configuration before it runs: Kafka Connect's
//! common keys (spec §7.1–§7.2), the plugin's own definition (types and
//! required keys), then the plugin's `validate`.

use crate::bindings::config_def::{ConfigKey, ConfigType};
use crate::config::worker::lookup;
use crate::plugin::{Plugin, World};

/// Problems found, by key, in the order found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Problems(pub Vec<(String, String)>);

impl Problems {
    fn add(&mut self, key: &str, message: String) {
        self.0.push((key.to_string(), message));
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Kafka's message for a configuration that cannot be created.
    pub fn to_message(&self) -> String {
        let mut out = format!(
            "Connector configuration is invalid and contains the following {} error(s):",
            self.0.len()
        );
        for (_, m) in &self.0 {
            out.push('\n');
            out.push_str(m);
        }
        out.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
        out
    }
}

/// The longest connector name, in UTF-8 bytes: a name travels in the
/// `connect` group's assignments as a protocol STRING (i16 length).
pub const MAX_NAME_BYTES: usize = i16::MAX as usize;

/// Checks the connector name (spec §5.1).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Invalid value  for configuration name: String may not be empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        let start: String = name.chars().take(32).collect();
        return Err(format!(
            "Invalid value {start}… for configuration name: String may be at most {MAX_NAME_BYTES} bytes long in UTF-8; this one is {} bytes",
            name.len()
        ));
    }
    let controls: Vec<String> = name
        .chars()
        .filter(|c| c.is_control())
        .map(|c| (c as u32).to_string())
        .collect();
    if !controls.is_empty() {
        return Err(format!(
            "Invalid value {name} for configuration name: String may not contain control sequences but had the following ASCII chars: {}",
            controls.join(", ")
        ));
    }
    Ok(())
}

/// The version the built-in converters report (`GET /connector-plugins`).
pub const CONVERTER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Validates `config` for `plugin`.
pub async fn validate(plugin: &Plugin, config: &[(String, String)]) -> Result<Problems, String> {
    let mut problems = Problems::default();
    match lookup(config, "name") {
        None => problems.add("name", missing("name")),
        Some(name) => {
            if let Err(e) = check_name(name) {
                problems.add("name", e);
            }
        }
    }
    if let Some(v) = lookup(config, "tasks.max") {
        match v.trim().parse::<i32>() {
            Ok(n) if n >= 1 => {}
            Ok(_) => problems.add(
                "tasks.max",
                format!("Invalid value {v} for configuration tasks.max: Value must be at least 1"),
            ),
            Err(_) => problems.add(
                "tasks.max",
                format!("Invalid value {v} for configuration tasks.max: Not a number of type INT"),
            ),
        }
    }
    for key in ["errors.retry.timeout", "errors.retry.delay.max.ms"] {
        if let Some(v) = lookup(config, key)
            && v.trim().parse::<i64>().is_err()
        {
            problems.add(
                key,
                format!("Invalid value {v} for configuration {key}: Not a number of type LONG"),
            );
        }
    }
    let sink = plugin.info().world == World::Sink;
    for (key, message) in super::errors::ErrorSettings::problems(config, sink) {
        problems.add(&key, message);
    }
    // The converters are built into the worker, in one version: a pinned
    // version is honoured by refusing any other (KIP-891).
    for key in [
        "key.converter.plugin.version",
        "value.converter.plugin.version",
        "header.converter.plugin.version",
    ] {
        if let Some(v) = lookup(config, key).filter(|v| !v.trim().is_empty())
            && v.trim() != CONVERTER_VERSION
        {
            problems.add(
                key,
                format!(
                    "Invalid value {v} for configuration {key}: the worker's converters are built in, \
                     version {CONVERTER_VERSION} only"
                ),
            );
        }
    }
    if plugin.info().world == World::Sink {
        let topics = lookup(config, "topics").filter(|v| !v.trim().is_empty());
        let regex = lookup(config, "topics.regex").filter(|v| !v.trim().is_empty());
        match (topics, regex) {
            (Some(_), Some(_)) => {
                let m = "topics and topics.regex are mutually exclusive options, but both are set."
                    .to_string();
                problems.add("topics", m.clone());
                problems.add("topics.regex", m);
            }
            (None, None) => {
                let m = "Must configure one of topics or topics.regex".to_string();
                problems.add("topics", m.clone());
                problems.add("topics.regex", m);
            }
            _ => {}
        }
    }
    for key in plugin.config_definition() {
        check_key(key, config, &mut problems);
    }
    let values = plugin.validate(config).await.map_err(|e| e.to_string())?;
    for value in values {
        for e in value.errors {
            problems.add(&value.name, e);
        }
    }
    Ok(problems)
}

/// Type and presence of one key of the plugin's definition.
pub fn check_key(key: &ConfigKey, config: &[(String, String)], problems: &mut Problems) {
    let name = key.name.as_str();
    let Some(value) = lookup(config, name) else {
        if key.required {
            problems.add(name, missing(name));
        }
        return;
    };
    let v = value.trim();
    let bad = |what: &str| {
        format!("Invalid value {value} for configuration {name}: Not a number of type {what}")
    };
    let problem = match key.type_ {
        ConfigType::Int => v.parse::<i32>().err().map(|_| bad("INT")),
        ConfigType::Short => v.parse::<i16>().err().map(|_| bad("SHORT")),
        ConfigType::Long => v.parse::<i64>().err().map(|_| bad("LONG")),
        ConfigType::Double => v.parse::<f64>().err().map(|_| bad("DOUBLE")),
        ConfigType::Boolean => crate::convert::parse_bool(v)
            .is_none()
            .then(|| format!("Invalid value {value} for configuration {name}: Expected value to be either true or false")),
        ConfigType::String | ConfigType::List | ConfigType::Class | ConfigType::Password => None,
    };
    if let Some(p) = problem {
        problems.add(name, p);
    }
}

fn missing(key: &str) -> String {
    format!("Missing required configuration \"{key}\" which has no default value.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kafkas_rules() {
        assert!(check_name("my connector/with?odd#chars ü").is_ok());
        assert_eq!(
            check_name("").unwrap_err(),
            "Invalid value  for configuration name: String may not be empty"
        );
        assert!(
            check_name("bad\nname")
                .unwrap_err()
                .ends_with("following ASCII chars: 10")
        );
        // The longest name the group protocol carries, then one byte more
        // (a two-byte character across the limit).
        let longest = "a".repeat(MAX_NAME_BYTES);
        assert!(check_name(&longest).is_ok());
        let over = format!("{}é", "a".repeat(MAX_NAME_BYTES - 1));
        assert!(
            check_name(&over)
                .unwrap_err()
                .ends_with("at most 32767 bytes long in UTF-8; this one is 32768 bytes")
        );
    }

    #[test]
    fn the_message_lists_every_problem() {
        let p = Problems(vec![("a".into(), "one".into()), ("b".into(), "two".into())]);
        assert!(p.to_message().starts_with(
            "Connector configuration is invalid and contains the following 2 error(s):\none\ntwo\n"
        ));
    }
}
