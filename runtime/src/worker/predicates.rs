//! Kafka Connect's predicates (KIP-585): `predicates=p1,p2`,
//! `predicates.p1.type=<class>`, `predicates.p1.<key>=<value>`, used by a
//! transformation through `transforms.a.predicate=p1` (and
//! `transforms.a.negate=true`). A stage applies to a record when
//! `predicate.test(record) XOR negate`; any other record passes that stage
//! unchanged (Kafka's `TransformationStage.apply`).
//!
//! The three predicates Kafka ships are host-native here, not components:
//! each is a pure function of a record's topic, headers or value, far too
//! small to be worth a sandbox round trip per record.
//!
//! * `org.apache.kafka.connect.transforms.predicates.TopicNameMatches`
//!   (`pattern`): the whole topic matches a regular expression. Java's
//!   `Pattern` is approximated by the `regex` crate, anchored at both ends
//!   as `Matcher.matches()` is: look-around, back-references and
//!   possessive quantifiers are refused at validation ("Invalid regex"),
//!   and a few constructs differ in meaning (`\h`, embedded flags beyond
//!   `imsxU`, POSIX classes' Unicode behaviour).
//! * `HasHeaderKey` (`name`): at least one header with that key.
//! * `RecordIsTombstone`: the value is null.
//!
//! Each resolves by its full class name or its simple name, as Kafka's
//! plugin aliases do. Validation follows `ConnectorConfig.enrich`: problems
//! are reported under `predicates.<alias>.<key>`, with Kafka's wording (its
//! embedded validators name the unprefixed key in the message).

use regex::Regex;

use crate::bindings::config_def::{ConfigKey, ConfigType, Importance, Width};
use crate::bindings::types::{Payload, TransformRecord};
use crate::config::worker::{list, lookup};

/// The package of Kafka's predicates.
const PACKAGE: &str = "org.apache.kafka.connect.transforms.predicates.";

/// A predicate class: its names and configuration definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredicateClass {
    /// `TopicNameMatches`.
    TopicNameMatches,
    /// `HasHeaderKey`.
    HasHeaderKey,
    /// `RecordIsTombstone`.
    RecordIsTombstone,
}

/// The version the built-in predicates report (`GET /connector-plugins`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl PredicateClass {
    /// Every built-in predicate, in the order Kafka lists them.
    pub const ALL: [PredicateClass; 3] = [
        PredicateClass::HasHeaderKey,
        PredicateClass::RecordIsTombstone,
        PredicateClass::TopicNameMatches,
    ];

    /// The simple class name.
    pub fn simple_name(self) -> &'static str {
        match self {
            PredicateClass::TopicNameMatches => "TopicNameMatches",
            PredicateClass::HasHeaderKey => "HasHeaderKey",
            PredicateClass::RecordIsTombstone => "RecordIsTombstone",
        }
    }

    /// The full class name.
    pub fn class_name(self) -> String {
        format!("{PACKAGE}{}", self.simple_name())
    }

    /// The class `name` (full or simple) names.
    pub fn find(name: &str) -> Option<PredicateClass> {
        let name = name.trim();
        let simple = name.strip_prefix(PACKAGE).unwrap_or(name);
        PredicateClass::ALL
            .into_iter()
            .find(|c| c.simple_name() == simple)
    }

    /// Its configuration keys, as its `ConfigDef` declares them.
    pub fn config_definition(self) -> Vec<ConfigKey> {
        let key = |name: &str, documentation: &str| {
            framework_key(name, ConfigType::String, true, None, documentation)
        };
        match self {
            PredicateClass::TopicNameMatches => vec![key(
                "pattern",
                "A Java regular expression for matching against the name of a record's topic.",
            )],
            PredicateClass::HasHeaderKey => vec![key("name", "The header name.")],
            PredicateClass::RecordIsTombstone => Vec::new(),
        }
    }

    /// Builds the predicate from its settings (`predicates.<alias>.*`,
    /// prefix removed), or every problem with them as `(key, message)`
    /// with the key unprefixed.
    fn configure(self, own: &[(String, String)]) -> Result<Predicate, Vec<(String, String)>> {
        let required = |key: &str| -> Result<String, (String, String)> {
            // Kafka's ConfigDef trims STRING values before any check.
            match lookup(own, key).map(str::trim) {
                None => Err((key.to_string(), String::new())),
                Some("") => Err((
                    key.to_string(),
                    format!("Invalid value  for configuration {key}: String must be non-empty"),
                )),
                Some(v) => Ok(v.to_string()),
            }
        };
        let test = match self {
            PredicateClass::RecordIsTombstone => Test::RecordIsTombstone,
            PredicateClass::HasHeaderKey => {
                Test::HasHeaderKey(required("name").map_err(|p| vec![p])?)
            }
            PredicateClass::TopicNameMatches => {
                let pattern = required("pattern").map_err(|p| vec![p])?;
                // `Matcher.matches()`: the whole topic, not a substring.
                match Regex::new(&format!("^(?:{pattern})$")) {
                    Ok(regex) => Test::TopicNameMatches(regex),
                    Err(e) => {
                        return Err(vec![(
                            "pattern".to_string(),
                            format!(
                                "Invalid value {pattern} for configuration pattern: Invalid regex: {}",
                                first_line(&e.to_string())
                            ),
                        )]);
                    }
                }
            }
        };
        Ok(Predicate { test })
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A configured predicate.
#[derive(Debug, Clone)]
pub struct Predicate {
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    TopicNameMatches(Regex),
    HasHeaderKey(String),
    RecordIsTombstone,
}

impl Predicate {
    /// Whether `record` satisfies the predicate.
    pub fn test(&self, record: &TransformRecord) -> bool {
        match &self.test {
            Test::TopicNameMatches(regex) => regex.is_match(&record.topic),
            Test::HasHeaderKey(name) => record.headers.iter().any(|h| &h.key == name),
            // A JSON `null` document is Connect's null value too (what
            // JsonConverter makes of a `null` payload).
            Test::RecordIsTombstone => match &record.value {
                None => true,
                Some(Payload::Json(json)) => json.document.trim() == "null",
                Some(_) => false,
            },
        }
    }
}

/// One alias of `predicates`, as resolved.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The alias.
    pub alias: String,
    /// Its class, when `predicates.<alias>.type` names a known one.
    pub class: Option<PredicateClass>,
    /// The predicate, when its settings are valid.
    pub predicate: Option<Predicate>,
}

/// Resolves `predicates` in `config`: every unique alias, and the problems
/// as `(key, message)` in Kafka's wording. `transform_classes` tells
/// whether a name resolves to something that is not a predicate (a
/// transformation), which Kafka reports as not implementing `Predicate`.
pub fn resolve(
    config: &[(String, String)],
    other_class: impl Fn(&str) -> Option<String>,
) -> (Vec<Declared>, Vec<(String, String)>) {
    let mut problems = Vec::new();
    let mut declared: Vec<Declared> = Vec::new();
    let aliases = list(lookup(config, "predicates"));
    for alias in &aliases {
        if declared.iter().any(|d| &d.alias == alias) {
            // Kafka's alias validator, once per value, which it shows as
            // the parsed list (`List.toString`).
            if !problems.iter().any(|(k, _)| k == "predicates") {
                problems.push((
                    "predicates".to_string(),
                    format!(
                        "Invalid value [{}] for configuration predicates: Duplicate alias provided.",
                        aliases.join(", ")
                    ),
                ));
            }
            continue;
        }
        let prefix = format!("predicates.{alias}.");
        let type_key = format!("{prefix}type");
        let mut entry = Declared {
            alias: alias.clone(),
            class: None,
            predicate: None,
        };
        match lookup(config, &type_key).map(str::trim) {
            None | Some("") => problems.push((
                type_key.clone(),
                format!("Missing required configuration \"{type_key}\" which has no default value."),
            )),
            Some(name) => match PredicateClass::find(name) {
                Some(class) => {
                    entry.class = Some(class);
                    let version_key = format!("{prefix}plugin.version");
                    if let Some(v) = lookup(config, &version_key).filter(|v| !v.trim().is_empty())
                        && v.trim() != VERSION
                    {
                        problems.push((
                            version_key.clone(),
                            format!(
                                "Invalid value {v} for configuration {version_key}: the worker's \
                                 predicates are built in, version {VERSION} only"
                            ),
                        ));
                    }
                    let own: Vec<(String, String)> = config
                        .iter()
                        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
                        .collect();
                    match class.configure(&own) {
                        Ok(p) => entry.predicate = Some(p),
                        Err(found) => {
                            for (key, message) in found {
                                let full = format!("{prefix}{key}");
                                let message = if message.is_empty() {
                                    format!(
                                        "Missing required configuration \"{full}\" which has no default value."
                                    )
                                } else {
                                    message
                                };
                                problems.push((full, message));
                            }
                        }
                    }
                }
                None => problems.push((
                    type_key.clone(),
                    match other_class(name) {
                        Some(full) => format!(
                            "Class class {full} does not implement the Predicate interface"
                        ),
                        None => format!(
                            "Invalid value {name} for configuration {type_key}: Class {name} could not be found."
                        ),
                    },
                )),
            },
        }
        declared.push(entry);
    }
    (declared, problems)
}

/// A key the framework declares (a predicate's own, or the `type`,
/// `predicate`, `negate` and `plugin.version` keys validate lists), as
/// Kafka's `ConfigDef` declares them: medium importance, no group, no
/// width, displayed under its own name.
pub fn framework_key(
    name: &str,
    type_: ConfigType,
    required: bool,
    default: Option<&str>,
    documentation: &str,
) -> ConfigKey {
    ConfigKey {
        name: name.into(),
        type_,
        required,
        default_value: default.map(str::to_string),
        importance: Importance::Medium,
        documentation: documentation.into(),
        group: None,
        order_in_group: -1,
        width: Width::None,
        display_name: name.into(),
        dependents: Vec::new(),
        resource: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bindings::types::{Header, JsonPayload};
    use crate::config::pairs as config;

    fn record(topic: &str, headers: &[&str], value: Option<&str>) -> TransformRecord {
        TransformRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: value.map(|v| {
                Payload::Json(JsonPayload {
                    document: v.into(),
                    schema: None,
                })
            }),
            headers: headers
                .iter()
                .map(|h| Header {
                    key: h.to_string(),
                    value: None,
                })
                .collect(),
            timestamp: None,
        }
    }

    fn one(pairs: &[(&str, &str)]) -> Result<Predicate, Vec<(String, String)>> {
        let (declared, problems) = resolve(&config(pairs), |_| None);
        if problems.is_empty() {
            Ok(declared[0].predicate.clone().expect("configured"))
        } else {
            Err(problems)
        }
    }

    #[test]
    fn classes_resolve_by_full_or_simple_name() {
        assert_eq!(
            PredicateClass::find("org.apache.kafka.connect.transforms.predicates.HasHeaderKey"),
            Some(PredicateClass::HasHeaderKey)
        );
        assert_eq!(
            PredicateClass::find(" TopicNameMatches "),
            Some(PredicateClass::TopicNameMatches)
        );
        assert_eq!(PredicateClass::find("Filter"), None);
        assert_eq!(PredicateClass::find("org.example.RecordIsTombstone"), None);
    }

    #[test]
    fn topic_name_matches_the_whole_topic() {
        let p = one(&[
            ("predicates", "p"),
            ("predicates.p.type", "TopicNameMatches"),
            ("predicates.p.pattern", "orders-.*|audit"),
        ])
        .unwrap();
        assert!(p.test(&record("orders-eu", &[], Some("1"))));
        assert!(p.test(&record("audit", &[], Some("1"))));
        assert!(!p.test(&record("audit-log", &[], Some("1"))));
        assert!(!p.test(&record("my-orders-eu", &[], Some("1"))));
    }

    #[test]
    fn has_header_key_and_record_is_tombstone() {
        let has = one(&[
            ("predicates", "h"),
            ("predicates.h.type", "HasHeaderKey"),
            ("predicates.h.name", "trace"),
        ])
        .unwrap();
        assert!(has.test(&record("t", &["a", "trace"], Some("1"))));
        assert!(!has.test(&record("t", &["Trace"], Some("1"))));
        let tomb = one(&[
            ("predicates", "t"),
            ("predicates.t.type", "RecordIsTombstone"),
        ])
        .unwrap();
        assert!(tomb.test(&record("t", &[], None)));
        assert!(tomb.test(&record("t", &[], Some(" null"))));
        assert!(!tomb.test(&record("t", &[], Some("{}"))));
    }

    #[test]
    fn problems_are_worded_as_kafka_words_them() {
        let problems = one(&[
            ("predicates", "a,b,c,d,e,a"),
            ("predicates.b.type", "Nope"),
            ("predicates.c.type", "TopicNameMatches"),
            ("predicates.c.pattern", "(unclosed"),
            ("predicates.d.type", "HasHeaderKey"),
            ("predicates.d.name", ""),
            ("predicates.e.type", "TopicNameMatches"),
        ])
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "predicates.a.type",
                "predicates.b.type",
                "predicates.c.pattern",
                "predicates.d.name",
                "predicates.e.pattern",
                "predicates"
            ]
        );
        assert_eq!(
            problems[0].1,
            "Missing required configuration \"predicates.a.type\" which has no default value."
        );
        assert_eq!(
            problems[1].1,
            "Invalid value Nope for configuration predicates.b.type: Class Nope could not be found."
        );
        assert!(
            problems[2]
                .1
                .starts_with("Invalid value (unclosed for configuration pattern: Invalid regex: "),
            "{problems:?}"
        );
        assert_eq!(
            problems[3].1,
            "Invalid value  for configuration name: String must be non-empty"
        );
        assert_eq!(
            problems[4].1,
            "Missing required configuration \"predicates.e.pattern\" which has no default value."
        );
        assert_eq!(
            problems[5].1,
            "Invalid value [a, b, c, d, e, a] for configuration predicates: Duplicate alias provided."
        );
    }

    #[test]
    fn a_transformation_class_is_not_a_predicate() {
        let (_, problems) = resolve(
            &config(&[("predicates", "p"), ("predicates.p.type", "Filter")]),
            |n| (n == "Filter").then(|| "org.apache.kafka.connect.transforms.Filter".to_string()),
        );
        assert_eq!(
            problems[0].1,
            "Class class org.apache.kafka.connect.transforms.Filter does not implement the Predicate interface"
        );
    }
}
