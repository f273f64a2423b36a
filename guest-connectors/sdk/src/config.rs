//! Reading configuration maps and declaring configuration keys.

use crate::{
    ConfigKey, ConfigType, ConfigValue, Importance, ResourceKind, TaskError, Width, fatal,
};

/// Lookups on a configuration map (`[(key, value)]`).
pub trait ConfigExt {
    /// The value of `key`, if set.
    fn value(&self, key: &str) -> Option<&str>;

    /// The value of `key` when set and not blank.
    fn get_non_blank(&self, key: &str) -> Option<&str> {
        self.value(key).filter(|v| !v.trim().is_empty())
    }

    /// `key` parsed as `T`, or `default` when unset; a value that does not
    /// parse is a fatal error naming the key.
    fn parse_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, TaskError> {
        match self.get_non_blank(key) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| fatal(format!("Invalid value {raw} for configuration {key}"))),
        }
    }
}

impl ConfigExt for [(String, String)] {
    fn value(&self, key: &str) -> Option<&str> {
        // Last one wins, as in a Java properties file.
        self.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl ConfigExt for Vec<(String, String)> {
    fn value(&self, key: &str) -> Option<&str> {
        ConfigExt::value(self.as_slice(), key)
    }
}

/// A builder for a [`ConfigKey`] with Kafka's defaults: optional, null
/// default, MEDIUM importance, no group, order -1, width NONE.
pub struct Key(ConfigKey);

impl Key {
    /// Starts a key definition.
    pub fn new(name: &str, ty: ConfigType) -> Self {
        Key(ConfigKey {
            name: name.to_string(),
            type_: ty,
            required: false,
            default_value: None,
            importance: Importance::Medium,
            documentation: String::new(),
            group: None,
            order_in_group: -1,
            width: Width::None,
            display_name: String::new(),
            dependents: Vec::new(),
            resource: None,
        })
    }

    /// The key has no default and must be set.
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self.0.default_value = None;
        self
    }

    /// The default value, as text.
    pub fn default_value(mut self, value: &str) -> Self {
        self.0.default_value = Some(value.to_string());
        self
    }

    /// Importance.
    pub fn importance(mut self, importance: Importance) -> Self {
        self.0.importance = importance;
        self
    }

    /// Documentation shown to operators.
    pub fn doc(mut self, text: &str) -> Self {
        self.0.documentation = text.to_string();
        self
    }

    /// The UI group and the position in it.
    pub fn group(mut self, group: &str, order: i32) -> Self {
        self.0.group = Some(group.to_string());
        self.0.order_in_group = order;
        self
    }

    /// UI width hint.
    pub fn width(mut self, width: Width) -> Self {
        self.0.width = width;
        self
    }

    /// Display name.
    pub fn display_name(mut self, name: &str) -> Self {
        self.0.display_name = name.to_string();
        self
    }

    /// Marks the key's value as naming a resource the host must grant.
    pub fn resource(mut self, kind: ResourceKind) -> Self {
        self.0.resource = Some(kind);
        self
    }
}

impl From<Key> for ConfigKey {
    fn from(key: Key) -> ConfigKey {
        key.0
    }
}

/// A key in one call, as a definition that lists many reads best: name,
/// type, default (`None`: null), importance, group and order within it,
/// documentation.
pub fn config_key(
    name: &str,
    ty: ConfigType,
    default: Option<&str>,
    importance: Importance,
    group: &str,
    order: i32,
    doc: &str,
) -> ConfigKey {
    let mut key = Key::new(name, ty)
        .importance(importance)
        .group(group, order)
        .doc(doc);
    if let Some(d) = default {
        key = key.default_value(d);
    }
    key.into()
}

/// What `validate` answers for problems found as (key, message) pairs: a
/// value per key named, with its messages and the value given. Keys with
/// no problem need no entry (the host fills those in).
pub fn validation_errors(
    config: &[(String, String)],
    problems: Vec<(String, String)>,
) -> Vec<ConfigValue> {
    let mut values: Vec<ConfigValue> = Vec::new();
    for (name, error) in problems {
        match values.iter_mut().find(|v| v.name == name) {
            Some(v) => v.errors.push(error),
            None => values.push(ConfigValue {
                value: config.value(&name).map(str::to_string),
                name,
                recommended_values: Vec::new(),
                errors: vec![error],
                visible: true,
            }),
        }
    }
    values
}
