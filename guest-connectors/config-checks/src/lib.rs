//! Reading a connector's configuration map (`[(key, value)]`) with the
//! checks and messages of Kafka's `ConfigDef`: text, numbers with a
//! minimum, booleans, one-of choices, and Confluent keys a connector does
//! not implement. Each function adds what is wrong to a [`Problems`] list,
//! so `validate` can report every problem at once and `start` can refuse
//! them. Pure logic (no WIT), shared by the bundled connectors and tested
//! on the host: `cargo test -p config-checks --target x86_64-unknown-linux-gnu`.

/// Problems found, as (key, message).
pub type Problems = Vec<(String, String)>;

/// The value of `key` (the last one, as in a properties file).
pub fn value<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value of `key`, trimmed, when set and not blank.
pub fn text(config: &[(String, String)], key: &str) -> Option<String> {
    value(config, key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `key` as a number of at least `min`, or `default` when unset.
pub fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    config: &[(String, String)],
    key: &str,
    default: T,
    min: T,
    problems: &mut Problems,
) -> T {
    let Some(raw) = text(config, key) else {
        return default;
    };
    match raw.parse::<T>() {
        Ok(v) if v >= min => v,
        Ok(_) => {
            problems.push((
                key.into(),
                format!(
                    "Invalid value {raw} for configuration {key}: Value must be at least {min}"
                ),
            ));
            default
        }
        Err(_) => {
            problems.push((
                key.into(),
                format!("Invalid value {raw} for configuration {key}: Not a number"),
            ));
            default
        }
    }
}

/// `key` as `true` or `false` (any case), or `default` when unset.
pub fn boolean(
    config: &[(String, String)],
    key: &str,
    default: bool,
    problems: &mut Problems,
) -> bool {
    match text(config, key) {
        None => default,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            problems.push((
                key.into(),
                format!(
                    "Invalid value {v} for configuration {key}: Expected value to be either true or false"
                ),
            ));
            default
        }
    }
}

/// `key` as one of `allowed` (any case; returned as listed), or `default`
/// when unset.
pub fn choice(
    config: &[(String, String)],
    key: &str,
    default: &'static str,
    allowed: &[&'static str],
    problems: &mut Problems,
) -> &'static str {
    let Some(v) = text(config, key) else {
        return default;
    };
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(&v)) {
        Some(a) => a,
        None => {
            problems.push((
                key.into(),
                format!(
                    "Invalid value {v} for configuration {key}: String must be one of: {}",
                    allowed.join(", ")
                ),
            ));
            default
        }
    }
}

/// Refuses Confluent keys a connector does not implement, each given with
/// the one value that means "not used", rather than ignoring them.
pub fn refuse_unsupported(
    config: &[(String, String)],
    unsupported: &[(&str, &str)],
    problems: &mut Problems,
) {
    for &(key, unused) in unsupported {
        if let Some(v) = text(config, key)
            && !v.eq_ignore_ascii_case(unused)
        {
            problems.push((
                key.into(),
                format!("{key} is not supported by this connector (only '{unused}')"),
            ));
        }
    }
}

/// A configuration map from string pairs (tests and examples).
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A comma-separated list, items trimmed, blanks dropped.
pub fn list(config: &[(String, String)], key: &str) -> Vec<String> {
    value(config, key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::pairs as config;

    #[test]
    fn numbers_booleans_and_choices_are_checked_with_kafkas_messages() {
        let c = config(&[
            ("a", " 5 "),
            ("b", "0"),
            ("c", "x"),
            ("t", "TRUE"),
            ("f", "no"),
            ("m", "UPSERT"),
            ("n", "merge"),
            ("l", " a, ,b "),
        ]);
        let mut problems = Problems::new();
        assert_eq!(number(&c, "a", 1, 1, &mut problems), 5);
        assert_eq!(number(&c, "b", 7, 1, &mut problems), 7);
        assert_eq!(number(&c, "c", 7, 1, &mut problems), 7);
        assert_eq!(number(&c, "unset", 9, 1, &mut problems), 9);
        assert!(boolean(&c, "t", false, &mut problems));
        assert!(boolean(&c, "f", true, &mut problems));
        let modes = ["insert", "upsert"];
        assert_eq!(choice(&c, "m", "insert", &modes, &mut problems), "upsert");
        assert_eq!(choice(&c, "n", "insert", &modes, &mut problems), "insert");
        assert_eq!(list(&c, "l"), ["a", "b"]);
        assert_eq!(
            problems,
            [
                ("b".into(), "Invalid value 0 for configuration b: Value must be at least 1".into()),
                ("c".into(), "Invalid value x for configuration c: Not a number".into()),
                ("f".into(), "Invalid value no for configuration f: Expected value to be either true or false".into()),
                ("n".into(), "Invalid value merge for configuration n: String must be one of: insert, upsert".into()),
            ]
        );
    }

    #[test]
    fn unsupported_keys_are_refused_unless_unused() {
        let c = config(&[("quote", "never"), ("types", "TABLE")]);
        let mut problems = Problems::new();
        refuse_unsupported(
            &c,
            &[("quote", "always"), ("types", "table"), ("unset", "x")],
            &mut problems,
        );
        assert_eq!(
            problems,
            [(
                "quote".into(),
                "quote is not supported by this connector (only 'always')".into()
            )]
        );
    }
}
