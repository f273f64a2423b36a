//! Kafka's `ConfigDef` for transforms: each transform lists its keys as
//! [`Def`]s (name, type, default, importance, documentation, validator as
//! in Kafka), and [`parse`] reads a configuration map into [`Settings`]
//! with `ConfigDef`'s parsing, validators and exact messages. [`validate`]
//! reports every key's problems for the REST API; [`to_config_keys`]
//! describes the keys to the host.

use wasmconnect_sdk::{ConfigKey, ConfigType, ConfigValue, Importance, Key};

/// A key's type (`ConfigDef.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Bool,
    List,
}

/// A key's default: none (the key is required), null, or a value.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Required,
    Null,
    Value(&'static str),
}

/// A key's validator (`ConfigDef.Validator`).
#[derive(Clone, Copy)]
pub enum Check {
    None,
    /// `ConfigDef.NonEmptyString`.
    NonEmptyString,
    /// `ConfigDef.NonNullValidator`.
    NonNull,
    /// `ConfigDef.ValidString.in(…)`.
    OneOf(&'static [&'static str]),
    /// `ConfigDef.CaseInsensitiveValidString.in(…)`.
    OneOfIgnoringCase(&'static [&'static str]),
    /// `ConfigDef.ValidList.anyNonDuplicateValues(isEmptyAllowed, false)`.
    NonDuplicateList {
        empty_allowed: bool,
    },
    /// `NonEmptyListValidator`.
    NonEmptyList,
    /// A transform's own check of the parsed value; `Err` is the full message.
    Custom(fn(&str, &Setting) -> Result<(), String>),
}

/// One configuration key.
#[derive(Clone, Copy)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
    pub importance: Importance,
    pub doc: &'static str,
    pub check: Check,
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Null,
    Str(String),
    Int(i32),
    Bool(bool),
    List(Vec<String>),
}

/// The parsed configuration of a transform (`SimpleConfig`).
#[derive(Debug, Clone, Default)]
pub struct Settings(Vec<(String, Setting)>);

impl Settings {
    fn get(&self, name: &str) -> &Setting {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or(&Setting::Null)
    }

    /// A STRING key; `None` when null.
    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Setting::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// An INT key; `None` when null.
    pub fn int(&self, name: &str) -> Option<i32> {
        match self.get(name) {
            Setting::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A BOOLEAN key (false when null).
    pub fn boolean(&self, name: &str) -> bool {
        matches!(self.get(name), Setting::Bool(true))
    }

    /// A LIST key (empty when null).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Setting::List(l) => l.clone(),
            _ => Vec::new(),
        }
    }
}

/// `ConfigException(name, value, message)`'s text.
pub fn invalid(name: &str, value: &str, message: &str) -> String {
    format!("Invalid value {value} for configuration {name}: {message}")
}

/// How Java prints a parsed value in a message (`[a, b]` for lists).
pub fn show(setting: &Setting) -> String {
    match setting {
        Setting::Null => "null".into(),
        Setting::Str(s) => s.clone(),
        Setting::Int(i) => i.to_string(),
        Setting::Bool(b) => b.to_string(),
        Setting::List(l) => format!("[{}]", l.join(", ")),
    }
}

fn value_of<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn parse_text(def: &Def, raw: &str) -> Result<Setting, String> {
    let trimmed = raw.trim();
    Ok(match def.kind {
        // ConfigDef keeps STRING values as given (only numbers and lists are trimmed).
        Kind::Str => Setting::Str(raw.to_string()),
        Kind::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Setting::Bool(true),
            "false" => Setting::Bool(false),
            _ => {
                return Err(invalid(
                    def.name,
                    trimmed,
                    "Expected value to be either true or false",
                ));
            }
        },
        Kind::Int => Setting::Int(
            trimmed
                .parse()
                .map_err(|_| invalid(def.name, trimmed, "Not a number of type INT"))?,
        ),
        Kind::List => {
            if trimmed.is_empty() {
                Setting::List(Vec::new())
            } else {
                Setting::List(trimmed.split(',').map(|s| s.trim().to_string()).collect())
            }
        }
    })
}

fn check(def: &Def, value: &Setting) -> Result<(), String> {
    let name = def.name;
    match def.check {
        Check::None => Ok(()),
        Check::NonEmptyString => match value {
            Setting::Str(s) if s.is_empty() => Err(invalid(name, s, "String must be non-empty")),
            _ => Ok(()),
        },
        Check::NonNull => match value {
            Setting::Null => Err(invalid(name, "null", "entry must be non null")),
            _ => Ok(()),
        },
        Check::OneOf(options) => match value {
            Setting::Str(s) if options.contains(&s.as_str()) => Ok(()),
            other => Err(invalid(
                name,
                &show(other),
                &format!("String must be one of: {}", options.join(", ")),
            )),
        },
        Check::OneOfIgnoringCase(options) => match value {
            Setting::Str(s) if options.iter().any(|o| o.eq_ignore_ascii_case(s)) => Ok(()),
            other => Err(invalid(
                name,
                &show(other),
                &format!(
                    "String must be one of (case insensitive): {}",
                    options.join(", ")
                ),
            )),
        },
        Check::NonDuplicateList { empty_allowed } => {
            let Setting::List(items) = value else {
                return Err(format!("Configuration '{name}' values must not be null."));
            };
            if !empty_allowed && items.is_empty() {
                return Err(format!(
                    "Configuration '{name}' must not be empty. Valid values include: any non-empty value"
                ));
            }
            let mut seen: Vec<&String> = Vec::new();
            for item in items {
                if seen.contains(&item) {
                    return Err(format!(
                        "Configuration '{name}' values must not be duplicated."
                    ));
                }
                seen.push(item);
            }
            if items.iter().any(String::is_empty) {
                return Err(format!("Configuration '{name}' values must not be empty."));
            }
            Ok(())
        }
        Check::NonEmptyList => match value {
            Setting::List(items) if !items.is_empty() => Ok(()),
            other => Err(invalid(name, &show(other), "Empty list")),
        },
        Check::Custom(f) => f(name, value),
    }
}

fn parse_one(def: &Def, config: &[(String, String)]) -> Result<Setting, String> {
    let value = match (value_of(config, def.name), def.default) {
        (Some(raw), _) => parse_text(def, raw)?,
        (None, Default::Required) => {
            return Err(format!(
                "Missing required configuration \"{}\" which has no default value.",
                def.name
            ));
        }
        (None, Default::Null) => Setting::Null,
        (None, Default::Value(d)) => parse_text(def, d)?,
    };
    // ConfigDef runs validators on defaults too, except a null default.
    if !(value == Setting::Null && value_of(config, def.name).is_none()) {
        check(def, &value)?;
    }
    Ok(value)
}

/// Parses and validates `config` against `defs` (`new SimpleConfig(CONFIG_DEF, props)`):
/// the first problem, in definition order, is the error.
pub fn parse(defs: &[Def], config: &[(String, String)]) -> Result<Settings, String> {
    let mut out = Vec::with_capacity(defs.len());
    for def in defs {
        out.push((def.name.to_string(), parse_one(def, config)?));
    }
    Ok(Settings(out))
}

/// Every key's problems (`ConfigDef.validate`), for the REST API.
pub fn validate(defs: &[Def], config: &[(String, String)]) -> Vec<ConfigValue> {
    defs.iter()
        .filter_map(|def| {
            parse_one(def, config).err().map(|error| ConfigValue {
                name: def.name.to_string(),
                value: value_of(config, def.name).map(str::to_string),
                recommended_values: Vec::new(),
                errors: vec![error],
                visible: true,
            })
        })
        .collect()
}

/// The keys as the host shows them (`ConfigKeyInfo`).
pub fn to_config_keys(defs: &[Def]) -> Vec<ConfigKey> {
    defs.iter()
        .map(|d| {
            let ty = match d.kind {
                Kind::Str => ConfigType::String,
                Kind::Int => ConfigType::Int,
                Kind::Bool => ConfigType::Boolean,
                Kind::List => ConfigType::List,
            };
            let mut key = Key::new(d.name, ty).importance(d.importance).doc(d.doc);
            match d.default {
                Default::Required => key = key.required(),
                Default::Null => {}
                Default::Value(v) => key = key.default_value(v),
            }
            key.into()
        })
        .collect()
}

/// `replace.null.with.default`, shared by most field transforms.
pub const REPLACE_NULL_WITH_DEFAULT: Def = Def {
    name: "replace.null.with.default",
    kind: Kind::Bool,
    default: Default::Value("true"),
    importance: Importance::Medium,
    doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    check: Check::None,
};

#[cfg(test)]
mod tests {
    use super::*;

    const DEFS: &[Def] = &[
        Def {
            name: "fields",
            kind: Kind::List,
            default: Default::Required,
            importance: Importance::High,
            doc: "",
            check: Check::NonDuplicateList {
                empty_allowed: false,
            },
        },
        REPLACE_NULL_WITH_DEFAULT,
    ];

    fn cfg(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_with_config_def_messages() {
        let s = parse(DEFS, &cfg(&[("fields", " a , b ")])).unwrap();
        assert_eq!(s.list("fields"), vec!["a", "b"]);
        assert!(s.boolean("replace.null.with.default"));
        assert_eq!(
            parse(DEFS, &cfg(&[])).unwrap_err(),
            "Missing required configuration \"fields\" which has no default value."
        );
        assert_eq!(
            parse(DEFS, &cfg(&[("fields", "a,a")])).unwrap_err(),
            "Configuration 'fields' values must not be duplicated."
        );
        assert_eq!(
            parse(
                DEFS,
                &cfg(&[("fields", "a"), ("replace.null.with.default", "x")])
            )
            .unwrap_err(),
            "Invalid value x for configuration replace.null.with.default: Expected value to be either true or false"
        );
        let v = validate(DEFS, &cfg(&[("fields", "")]));
        assert_eq!(
            v[0].errors,
            vec![
                "Configuration 'fields' must not be empty. Valid values include: any non-empty value"
            ]
        );
    }
}
