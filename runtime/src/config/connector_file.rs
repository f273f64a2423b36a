//! Connector configuration files given on the `standalone` command line
//! (spec §6.5): a JSON object of settings, a JSON `CreateConnectorRequest`
//! (`{"name":…,"config":{…},"initial_state":…}`), or a properties file.
//! JSON numbers and booleans are taken as their text, as Kafka does.

use std::path::Path;

use super::properties;
use super::worker::lookup;

/// The settings in `path`, with `name` present; errors name the file.
pub fn load(path: &Path) -> Result<Vec<(String, String)>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{}: cannot read the file: {e}", path.display()))?;
    let looks_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let config = if looks_json {
        from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        properties::load(path).map_err(|e| e.to_string())?
    };
    if lookup(&config, "name").is_none_or(|n| n.trim().is_empty()) {
        return Err(format!(
            "{}: the connector configuration has no name",
            path.display()
        ));
    }
    Ok(config)
}

fn from_json(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let serde_json::Value::Object(top) = value else {
        return Err("expected a JSON object".into());
    };
    match top.get("config") {
        Some(serde_json::Value::Object(config)) => {
            let mut out = flat(config)?;
            let name = top.get("name").and_then(|n| n.as_str()).map(str::trim);
            match (name, lookup(&out, "name")) {
                (Some(n), Some(c)) if n != c => {
                    return Err(format!(
                        "Connector name configuration ({c}) doesn't match connector name in the URL ({n})"
                    ));
                }
                (Some(n), None) => out.push(("name".into(), n.to_string())),
                _ => {}
            }
            Ok(out)
        }
        _ => flat(&top),
    }
}

fn flat(map: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, String> {
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "the value of {k} must be a string, number or boolean, not {other}"
                    ));
                }
            };
            Ok((k.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn properties_json_and_create_requests_all_load() {
        let d = tempfile::tempdir().unwrap();
        let p = load(&write(d.path(), "a.properties", "name=a\ntasks.max=1\n")).unwrap();
        assert_eq!(lookup(&p, "tasks.max"), Some("1"));
        let j = load(&write(
            d.path(),
            "b.json",
            r#"{"name":"b","tasks.max":2,"x":true}"#,
        ))
        .unwrap();
        assert_eq!(
            (lookup(&j, "tasks.max"), lookup(&j, "x")),
            (Some("2"), Some("true"))
        );
        let r = load(&write(
            d.path(),
            "c.json",
            r#"{"name":"c","config":{"topic":"t"}}"#,
        ))
        .unwrap();
        assert_eq!(lookup(&r, "name"), Some("c"));
    }

    #[test]
    fn problems_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let err = load(&write(d.path(), "x.properties", "topic=t\n")).unwrap_err();
        assert!(
            err.ends_with("x.properties: the connector configuration has no name"),
            "{err}"
        );
        let err = load(&write(
            d.path(),
            "y.json",
            r#"{"name":"a","config":{"name":"b"}}"#,
        ))
        .unwrap_err();
        assert!(err.contains("doesn't match"), "{err}");
        let err = load(&write(d.path(), "z.json", "{ nope")).unwrap_err();
        assert!(err.contains("z.json: invalid JSON"), "{err}");
    }
}
