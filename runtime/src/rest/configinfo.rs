//! Configuration definitions and validation results as Kafka Connect shows
//! them: `ConfigKeyInfo` (spec §3.8) and `ConfigInfos` (spec §4).
//!
//! The framework's own keys come first, as Kafka Connect itself describes
//! them (`framework_keys.json`); the plugin's keys follow. Errors come from the worker's
//! validation (framework checks, the plugin's definition, its `validate`).

use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::bindings::config_def::{ConfigKey, ConfigType, Importance, Width};
use crate::config::worker::lookup;
use crate::plugin::{Plugin, World};
use crate::worker::predicates::{self, PredicateClass};
use crate::worker::transforms::StageSpec;
use crate::worker::validation;

/// The framework's keys exactly as Kafka Connect 4.3 describes them
/// (`framework_keys.json`, captured from it by the compatibility suite):
/// `common` for every connector, then `source` or `sink`.
static FRAMEWORK: LazyLock<FrameworkKeys> = LazyLock::new(|| {
    // The file is part of the binary and checked by a unit test below, so a
    // parse failure cannot reach a user; an empty table would still serve.
    serde_json::from_str(include_str!("framework_keys.json")).unwrap_or_default()
});

#[derive(Default, serde::Deserialize)]
struct FrameworkKeys {
    common: Vec<Value>,
    source: Vec<Value>,
    sink: Vec<Value>,
}

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

/// A framework key; `connector.plugin.version` defaults to the plugin's
/// own version, as in Kafka.
fn framework_key(def: &Value, plugin_version: &str) -> KeyInfo {
    let mut json = def.clone();
    if json["name"] == "connector.plugin.version" {
        json["default_value"] = json!(plugin_version);
    }
    KeyInfo {
        name: json["name"].as_str().unwrap_or_default().to_string(),
        group: json["group"].as_str().map(str::to_string),
        json,
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
            "dependents": k.dependents, "order_in_group": k.order_in_group,
        }),
    }
}

/// The definitions of a plugin, framework keys first (the plugin's own
/// definition wins on a name clash, keeping the framework key's place).
fn definitions(plugin: &Plugin) -> Vec<KeyInfo> {
    let extra: &[Value] = match plugin.info().world {
        World::Sink => &FRAMEWORK.sink,
        World::Source => &FRAMEWORK.source,
        World::Transform => &[],
    };
    let version = &plugin.info().version;
    let own: Vec<KeyInfo> = plugin.config_definition().iter().map(plugin_key).collect();
    let mut out: Vec<KeyInfo> = Vec::new();
    if plugin.info().world != World::Transform {
        for d in FRAMEWORK.common.iter().chain(extra) {
            out.push(
                own.iter()
                    .find(|k| d["name"] == k.name.as_str())
                    .map(|k| KeyInfo {
                        name: k.name.clone(),
                        group: k.group.clone(),
                        json: k.json.clone(),
                    })
                    .unwrap_or_else(|| framework_key(d, version)),
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
    let type_key = class_key(
        "Class for the 'transforms' transformation.".into(),
        "Transformation type for transforms".into(),
    );
    // Every transformation gets these two implicitly (Kafka's
    // `TransformationStage` keys), masking any of its own of that name.
    let implicit = [
        implicit_key(
            "predicate",
            ConfigType::String,
            None,
            "The alias of a predicate used to determine whether to apply this transformation.",
        ),
        implicit_key(
            "negate",
            ConfigType::Boolean,
            Some("false"),
            "Whether the configured predicate should be negated.",
        ),
    ];
    let own = stage
        .plugin
        .config_definition()
        .iter()
        .filter(|k| k.name != "predicate" && k.name != "negate");
    std::iter::once(&type_key)
        .chain(&implicit)
        .chain(own)
        .enumerate()
        .map(|(order, key)| grouped(key, &prefix, &group, order))
        .collect()
}

/// A framework `type` key naming a plugin class, as Kafka's validate shows
/// it for a transformation or a predicate.
fn class_key(documentation: String, display_name: String) -> ConfigKey {
    ConfigKey {
        name: "type".into(),
        type_: ConfigType::Class,
        required: true,
        default_value: None,
        importance: Importance::High,
        documentation,
        group: None,
        order_in_group: 0,
        width: Width::Long,
        display_name,
        dependents: Vec::new(),
        resource: None,
    }
}

/// `key` as one alias's entry of validate: named `<prefix><key>`, in
/// `group` at position `order`.
fn grouped(key: &ConfigKey, prefix: &str, group: &str, order: usize) -> KeyInfo {
    let mut info = plugin_key(key);
    info.name = format!("{prefix}{}", key.name);
    info.group = Some(group.to_string());
    info.json["name"] = json!(info.name);
    info.json["group"] = json!(group);
    info.json["order_in_group"] = json!(order);
    info
}

fn implicit_key(
    name: &str,
    type_: ConfigType,
    default: Option<&str>,
    documentation: &str,
) -> ConfigKey {
    predicates::framework_key(name, type_, false, default, documentation)
}

/// The keys each alias of `predicates` adds, as Kafka's validate shows
/// them: `type`, `plugin.version`, then the predicate's own keys (when its
/// class is known), prefixed with `predicates.<alias>.` and grouped under
/// `Predicates: <alias>`.
fn predicate_definitions(config: &[(String, String)]) -> Vec<KeyInfo> {
    let (declared, _) = predicates::resolve(config, |_| None);
    let mut out = Vec::new();
    for d in declared {
        let alias = &d.alias;
        let group = format!("Predicates: {alias}");
        let type_key = class_key(
            format!("Class for the '{alias}' predicate."),
            format!("Predicate type for {alias}"),
        );
        let version_key = ConfigKey {
            name: "plugin.version".into(),
            type_: ConfigType::String,
            required: false,
            default_value: Some(predicates::VERSION.into()),
            documentation: format!("Version of the '{alias}' predicate."),
            display_name: format!("Predicate version for {alias}"),
            importance: Importance::High,
            width: Width::Long,
            ..type_key.clone()
        };
        let own = d.class.map(|c| c.config_definition()).unwrap_or_default();
        let prefix = format!("predicates.{alias}.");
        for (order, key) in [type_key, version_key].iter().chain(&own).enumerate() {
            out.push(grouped(key, &prefix, &group, order));
        }
    }
    out
}

/// `GET /connector-plugins/{plugin}/config` for a built-in predicate.
pub fn predicate_config(class: PredicateClass) -> Value {
    Value::Array(
        class
            .config_definition()
            .iter()
            .map(|k| plugin_key(k).json)
            .collect(),
    )
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
    defs.extend(predicate_definitions(config));
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
    // Problems with keys no definition covers (client overrides the
    // worker refuses): listed with a null definition, as nulls are.
    let defined: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    let mut undefined: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, message) in &problems.0 {
        if defined.contains(key) || nulls.contains(key) {
            continue;
        }
        match undefined.iter_mut().find(|(k, _)| k == key) {
            Some((_, messages)) => messages.push(message),
            None => undefined.push((key, vec![message])),
        }
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
    for (key, errors) in undefined {
        error_count += errors.len();
        configs.push(json!({"definition": null, "value": {
            "name": key, "value": lookup(config, key), "recommended_values": [],
            "errors": errors, "visible": true}}));
    }
    Ok(json!({"name": class, "error_count": error_count, "groups": groups, "configs": configs}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_framework_keys_parse_in_kafkas_order() {
        let names = |keys: &[Value]| -> Vec<String> {
            keys.iter()
                .map(|k| k["name"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        let common = names(&FRAMEWORK.common);
        assert_eq!(common.len(), 19);
        assert_eq!(
            common[..3],
            ["name", "connector.class", "connector.plugin.version"]
        );
        assert_eq!(names(&FRAMEWORK.source)[0], "topic.creation.groups");
        assert_eq!(names(&FRAMEWORK.sink)[..2], ["topics", "topics.regex"]);
        assert!(
            FRAMEWORK
                .common
                .iter()
                .all(|k| k["order_in_group"].is_i64())
        );
    }
}
