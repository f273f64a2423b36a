//! Configuration definitions and validation results as Kafka Connect shows
//! them: `ConfigKeyInfo` (spec §3.8) and `ConfigInfos` (spec §4).
//!
//! The framework's own keys (spec §7.1–§7.3) come first, in Kafka's order
//! and groups; the plugin's keys follow. Errors come from the worker's
//! validation (framework checks, the plugin's definition, its `validate`).

use serde_json::{Value, json};

use crate::bindings::config_def::{ConfigKey, ConfigType, Importance, Width};
use crate::config::worker::lookup;
use crate::plugin::{Plugin, World};
use crate::worker::transforms::StageSpec;
use crate::worker::validation;

/// One framework key: name, type, default (`None` = required), importance,
/// group, order in group, width, display name, documentation.
type Def = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    i32,
    &'static str,
    &'static str,
    &'static str,
);

const COMMON: &[Def] = &[
    (
        "name",
        "STRING",
        None,
        "HIGH",
        "Common",
        1,
        "MEDIUM",
        "Connector name",
        "Globally unique name to use for this connector.",
    ),
    (
        "connector.class",
        "STRING",
        None,
        "HIGH",
        "Common",
        2,
        "LONG",
        "Connector class",
        "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector.",
    ),
    (
        "tasks.max",
        "INT",
        Some("1"),
        "HIGH",
        "Common",
        3,
        "SHORT",
        "Tasks max",
        "Maximum number of tasks to use for this connector.",
    ),
    (
        "tasks.max.enforce",
        "BOOLEAN",
        Some("true"),
        "LOW",
        "Common",
        4,
        "SHORT",
        "Enforce tasks max",
        "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector.",
    ),
    (
        "key.converter",
        "CLASS",
        Some(""),
        "LOW",
        "Common",
        5,
        "SHORT",
        "Key converter class",
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
    ),
    (
        "value.converter",
        "CLASS",
        Some(""),
        "LOW",
        "Common",
        6,
        "SHORT",
        "Value converter class",
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
    ),
    (
        "header.converter",
        "CLASS",
        Some(""),
        "LOW",
        "Common",
        7,
        "SHORT",
        "Header converter class",
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
    ),
    (
        "transforms",
        "LIST",
        Some(""),
        "LOW",
        "Transforms",
        8,
        "LONG",
        "Transforms",
        "Aliases for the transformations to be applied to records.",
    ),
    (
        "predicates",
        "LIST",
        Some(""),
        "LOW",
        "Predicates",
        9,
        "LONG",
        "Predicates",
        "Aliases for the predicates used by transformations.",
    ),
    (
        "config.action.reload",
        "STRING",
        Some("restart"),
        "LOW",
        "Common",
        10,
        "MEDIUM",
        "Reload Action",
        "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.",
    ),
    (
        "errors.retry.timeout",
        "LONG",
        Some("0"),
        "MEDIUM",
        "Error Handling",
        1,
        "MEDIUM",
        "Retry Timeout for Errors",
        "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
    ),
    (
        "errors.retry.delay.max.ms",
        "LONG",
        Some("60000"),
        "MEDIUM",
        "Error Handling",
        2,
        "MEDIUM",
        "Maximum Delay Between Retries for Errors",
        "The maximum duration in milliseconds between consecutive retry attempts.",
    ),
    (
        "errors.tolerance",
        "STRING",
        Some("none"),
        "MEDIUM",
        "Error Handling",
        3,
        "SHORT",
        "Error Tolerance",
        "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
    ),
    (
        "errors.log.enable",
        "BOOLEAN",
        Some("false"),
        "MEDIUM",
        "Error Handling",
        4,
        "SHORT",
        "Log Errors",
        "If true, write each error and the details of the failed operation and problematic record to the Connect application log.",
    ),
    (
        "errors.log.include.messages",
        "BOOLEAN",
        Some("false"),
        "MEDIUM",
        "Error Handling",
        5,
        "SHORT",
        "Log Error Details",
        "Whether to include in the log the Connect record that resulted in a failure.",
    ),
];

const SINK: &[Def] = &[
    (
        "topics",
        "LIST",
        Some(""),
        "HIGH",
        "Common",
        4,
        "LONG",
        "Topics",
        "List of topics to consume, separated by commas",
    ),
    (
        "topics.regex",
        "STRING",
        Some(""),
        "HIGH",
        "Common",
        4,
        "LONG",
        "Topics regex",
        "Regular expression giving topics to consume.",
    ),
    (
        "errors.deadletterqueue.topic.name",
        "STRING",
        Some(""),
        "MEDIUM",
        "Error Handling",
        6,
        "MEDIUM",
        "Dead Letter Queue Topic Name",
        "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector.",
    ),
    (
        "errors.deadletterqueue.topic.replication.factor",
        "SHORT",
        Some("3"),
        "MEDIUM",
        "Error Handling",
        7,
        "MEDIUM",
        "Dead Letter Queue Topic Replication Factor",
        "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
    ),
    (
        "errors.deadletterqueue.context.headers.enable",
        "BOOLEAN",
        Some("false"),
        "MEDIUM",
        "Error Handling",
        8,
        "MEDIUM",
        "Enable Error Context Headers",
        "If true, add headers containing error context to the messages written to the dead letter queue.",
    ),
];

const SOURCE: &[Def] = &[
    (
        "topic.creation.groups",
        "LIST",
        Some(""),
        "LOW",
        "Topic Creation",
        1,
        "LONG",
        "Topic Creation Groups",
        "Groups of configurations for topics created by source connectors",
    ),
    (
        "exactly.once.support",
        "STRING",
        Some("requested"),
        "MEDIUM",
        "Exactly Once Support",
        2,
        "SHORT",
        "Exactly once support",
        "Permitted values are requested, required.",
    ),
    (
        "transaction.boundary",
        "STRING",
        Some("poll"),
        "MEDIUM",
        "Exactly Once Support",
        3,
        "SHORT",
        "Transaction Boundary",
        "Permitted values are: poll, interval, connector.",
    ),
    (
        "transaction.boundary.interval.ms",
        "LONG",
        Some(""),
        "LOW",
        "Exactly Once Support",
        4,
        "SHORT",
        "Transaction boundary interval",
        "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks.",
    ),
    (
        "offsets.storage.topic",
        "STRING",
        Some(""),
        "LOW",
        "offsets.topic",
        1,
        "LONG",
        "Offsets topic",
        "The name of a separate offsets topic to use for this connector.",
    ),
];

/// Kafka's name for a config type.
pub fn type_name(t: ConfigType) -> &'static str {
    match t {
        ConfigType::Boolean => "BOOLEAN",
        ConfigType::String => "STRING",
        ConfigType::Int => "INT",
        ConfigType::Short => "SHORT",
        ConfigType::Long => "LONG",
        ConfigType::Double => "DOUBLE",
        ConfigType::List => "LIST",
        ConfigType::Class => "CLASS",
        ConfigType::Password => "PASSWORD",
    }
}

fn importance_name(i: Importance) -> &'static str {
    match i {
        Importance::High => "HIGH",
        Importance::Medium => "MEDIUM",
        Importance::Low => "LOW",
    }
}

fn width_name(w: Width) -> &'static str {
    match w {
        Width::None => "NONE",
        Width::Short => "SHORT",
        Width::Medium => "MEDIUM",
        Width::Long => "LONG",
    }
}

/// A `ConfigKeyInfo` object and its group.
struct KeyInfo {
    name: String,
    group: Option<String>,
    json: Value,
}

fn framework_key(d: &Def) -> KeyInfo {
    let (name, ty, default, importance, group, order, width, display, doc) = *d;
    // An empty default stands for Kafka's null default.
    let default_value = default.filter(|v| !v.is_empty());
    KeyInfo {
        name: name.to_string(),
        group: Some(group.to_string()),
        json: json!({
            "name": name, "type": ty, "required": default.is_none(), "default_value": default_value,
            "importance": importance, "documentation": doc, "group": group, "width": width,
            "display_name": display, "dependents": [], "order": order,
        }),
    }
}

fn plugin_key(k: &ConfigKey) -> KeyInfo {
    let default = if k.required {
        None
    } else {
        k.default_value.clone()
    };
    let default = if k.type_ == ConfigType::Password && default.is_some() {
        Some("[hidden]".to_string())
    } else {
        default
    };
    KeyInfo {
        name: k.name.clone(),
        group: k.group.clone(),
        json: json!({
            "name": k.name, "type": type_name(k.type_), "required": k.required, "default_value": default,
            "importance": importance_name(k.importance), "documentation": k.documentation, "group": k.group,
            "width": width_name(k.width),
            "display_name": if k.display_name.is_empty() { k.name.clone() } else { k.display_name.clone() },
            "dependents": k.dependents, "order": k.order_in_group,
        }),
    }
}

/// The definitions of a plugin, framework keys first (the plugin's own
/// definition wins on a name clash, keeping the framework key's place).
fn definitions(plugin: &Plugin) -> Vec<KeyInfo> {
    let extra: &[Def] = match plugin.info().world {
        World::Sink => SINK,
        World::Source => SOURCE,
        World::Transform => &[],
    };
    let own: Vec<KeyInfo> = plugin.config_definition().iter().map(plugin_key).collect();
    let mut out: Vec<KeyInfo> = Vec::new();
    if plugin.info().world != World::Transform {
        for d in COMMON.iter().chain(extra) {
            out.push(
                own.iter()
                    .find(|k| k.name == d.0)
                    .map(|k| KeyInfo {
                        name: k.name.clone(),
                        group: k.group.clone(),
                        json: k.json.clone(),
                    })
                    .unwrap_or_else(|| framework_key(d)),
            );
        }
    }
    for k in own {
        if !out.iter().any(|o| o.name == k.name) {
            out.push(k);
        }
    }
    out
}

/// The keys one transformation adds, as Kafka's validate shows them: its
/// `type`, then its own keys, all prefixed with `transforms.<alias>.` and
/// grouped under `Transforms: <alias>`.
fn transform_definitions(stage: &StageSpec) -> Vec<KeyInfo> {
    let prefix = format!("transforms.{}.", stage.alias);
    let group = format!("Transforms: {}", stage.alias);
    let type_key = ConfigKey {
        name: "type".into(),
        type_: ConfigType::Class,
        required: true,
        default_value: None,
        importance: Importance::High,
        documentation: "Class for the 'transforms' transformation.".into(),
        group: None,
        order_in_group: 0,
        width: Width::Long,
        display_name: "Transformation type for transforms".into(),
        dependents: Vec::new(),
        resource: None,
    };
    std::iter::once(&type_key)
        .chain(stage.plugin.config_definition())
        .enumerate()
        .map(|(order, key)| {
            let mut info = plugin_key(key);
            info.name = format!("{prefix}{}", key.name);
            info.group = Some(group.clone());
            info.json["name"] = json!(info.name);
            info.json["group"] = json!(group);
            info.json["order"] = json!(order);
            info
        })
        .collect()
}

/// `GET /connector-plugins/{plugin}/config`: the plugin's keys, then the
/// framework keys it did not define.
pub fn plugin_config(plugin: &Plugin) -> Value {
    let all = definitions(plugin);
    let own: Vec<&str> = plugin
        .config_definition()
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    let mut out: Vec<Value> = all
        .iter()
        .filter(|k| own.contains(&k.name.as_str()))
        .map(|k| k.json.clone())
        .collect();
    out.extend(
        all.iter()
            .filter(|k| !own.contains(&k.name.as_str()))
            .map(|k| k.json.clone()),
    );
    Value::Array(out)
}

/// `ConfigInfos` for `config` (`nulls` are keys given as JSON null), with
/// the definitions and problems of its transformation chain as
/// [`crate::worker::transforms::check`] found them.
pub async fn config_infos(
    plugin: &Plugin,
    class: &str,
    config: &[(String, String)],
    nulls: &[String],
    (stages, chain_problems): &(Vec<StageSpec>, Vec<(String, String)>),
) -> Result<Value, String> {
    let mut problems = validation::validate(plugin, config).await?;
    problems.0.extend(chain_problems.iter().cloned());
    let mut defs = definitions(plugin);
    defs.extend(stages.iter().flat_map(transform_definitions));
    let mut groups: Vec<String> = Vec::new();
    for d in &defs {
        if let Some(g) = &d.group
            && !groups.contains(g)
        {
            groups.push(g.clone());
        }
    }
    let mut error_count = 0;
    let mut configs = Vec::new();
    for key in nulls {
        error_count += 1;
        configs.push(json!({"definition": null, "value": {
            "name": key, "value": null, "recommended_values": [],
            "errors": ["Null value can not be supplied as the configuration value."], "visible": true}}));
    }
    for d in defs {
        let errors: Vec<&str> = problems
            .0
            .iter()
            .filter(|(k, _)| *k == d.name)
            .map(|(_, m)| m.as_str())
            .collect();
        error_count += errors.len();
        let value = lookup(config, &d.name)
            .map(str::to_string)
            .or_else(|| d.json["default_value"].as_str().map(str::to_string));
        configs.push(json!({"definition": d.json, "value": {
            "name": d.name, "value": value, "recommended_values": [], "errors": errors, "visible": true}}));
    }
    Ok(json!({"name": class, "error_count": error_count, "groups": groups, "configs": configs}))
}
