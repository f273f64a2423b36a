//! # Differential conformance: one scenario, two implementations
//!
//! The compatibility suite (`tests/tests/compat.rs`) replays one list of
//! REST [`Step`]s against Apache Kafka Connect and against wasmconnect, side
//! by side, and compares status codes and JSON bodies after [`normalise`].
//! A difference is allowed only when `docs/compatibility.md` lists its
//! scenario id with the reason; [`Report::check`] fails on any other, and
//! reports a listed difference that did not happen.
//!
//! Normalisation, the only liberties taken (also listed in the document):
//! * each side's working directory in any string becomes `{dir}`;
//! * values of `worker_id`, `trace`, `version`, `commit`,
//!   `kafka_cluster_id` and `last_modified` fields, and the default and
//!   value of `connector.plugin.version`, become `{worker_id}`, `{trace}`,
//!   …: they name hosts, builds, stack traces and clocks, not behaviour;
//! * fields only we add ([`ADDED`]: `resources` in task statuses) are
//!   left out of our replies;
//! * `GET /connectors` lists and plugin lists are sorted (Kafka does not
//!   define their order), and Kafka's MirrorMaker 2 connectors, which we do
//!   not bundle, are left out of plugin lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Reply, Rest};

/// One implementation under comparison: where requests go and the
/// directory its files live in.
pub struct Side {
    /// `kafka-connect` or `wasmconnect`.
    pub name: &'static str,
    /// The worker the scenario talks to.
    pub rest: Rest,
    /// The side's working directory (`{dir}` in scenario bodies).
    pub dir: PathBuf,
}

/// A request body.
#[derive(Clone)]
pub enum Body {
    /// No body.
    None,
    /// JSON; `{dir}` in any string is replaced by the side's directory.
    Json(Value),
    /// Raw bytes with a content type (malformed requests).
    Raw(&'static str, &'static str),
}

/// A predicate over a reply, for [`Step::Wait`].
pub type Until = Box<dyn Fn(&Reply) -> bool + Send + Sync>;

/// A scenario step.
pub enum Step {
    /// Send one request to both sides and compare the replies.
    Call {
        /// The scenario id that `docs/compatibility.md` refers to.
        id: &'static str,
        /// HTTP method.
        method: &'static str,
        /// Path and query.
        path: String,
        /// Body.
        body: Body,
    },
    /// Poll `GET path` on each side until `until` holds (60 s); a side that
    /// never gets there is a difference under `id`.
    Wait {
        /// Scenario id.
        id: &'static str,
        /// Path polled.
        path: String,
        /// The condition.
        until: Until,
    },
    /// Run something against each side's directory (append input lines).
    Act {
        /// What it does, for the log.
        what: &'static str,
        /// The action.
        run: fn(&Path),
    },
}

impl Step {
    /// A compared call without a body.
    pub fn call(id: &'static str, method: &'static str, path: impl Into<String>) -> Step {
        Step::Call {
            id,
            method,
            path: path.into(),
            body: Body::None,
        }
    }

    /// A compared call with a JSON body.
    pub fn json(
        id: &'static str,
        method: &'static str,
        path: impl Into<String>,
        body: Value,
    ) -> Step {
        Step::Call {
            id,
            method,
            path: path.into(),
            body: Body::Json(body),
        }
    }

    /// A compared call with a raw body.
    pub fn raw(
        id: &'static str,
        method: &'static str,
        path: impl Into<String>,
        content_type: &'static str,
        text: &'static str,
    ) -> Step {
        Step::Call {
            id,
            method,
            path: path.into(),
            body: Body::Raw(content_type, text),
        }
    }

    /// A wait on `GET path`.
    pub fn wait(
        id: &'static str,
        path: impl Into<String>,
        until: impl Fn(&Reply) -> bool + Send + Sync + 'static,
    ) -> Step {
        Step::Wait {
            id,
            path: path.into(),
            until: Box::new(until),
        }
    }
}

/// One observed difference.
#[derive(Debug)]
pub struct Difference {
    /// Scenario id.
    pub id: &'static str,
    /// The request, as `METHOD path`.
    pub request: String,
    /// Kafka Connect's normalised reply (status, body), or what it failed.
    pub kafka: String,
    /// Ours.
    pub ours: String,
}

/// The outcome of one scenario run in one mode.
pub struct Report {
    /// `standalone` or `distributed`.
    pub mode: &'static str,
    /// Ids of the compared steps, in order.
    pub compared: Vec<&'static str>,
    /// What differed.
    pub differences: Vec<Difference>,
}

impl Report {
    /// Fails on a difference that `docs/compatibility.md` does not list for
    /// this mode, and on a listed one that no longer happens.
    pub fn check(&self, allowed: &BTreeMap<String, BTreeSet<String>>) {
        let listed = |id: &str| {
            allowed
                .get(id)
                .is_some_and(|modes| modes.contains(self.mode) || modes.contains("both"))
        };
        let differing: BTreeSet<&str> = self.differences.iter().map(|d| d.id).collect();
        let mut failures = Vec::new();
        for d in &self.differences {
            if !listed(d.id) {
                failures.push(format!(
                    "{} ({}): {}\n    kafka connect: {}\n    wasmconnect:   {}",
                    d.id, self.mode, d.request, d.kafka, d.ours
                ));
            }
        }
        // A listed difference that did not happen is reported, not failed:
        // some depend on when Kafka's worker reads its status topic back.
        for id in &self.compared {
            if listed(id) && !differing.contains(id) {
                eprintln!(
                    "  note: {id} ({}) is listed in docs/compatibility.md but did not differ this run",
                    self.mode
                );
            }
        }
        eprintln!(
            "compat {}: {} compared steps, {} differ ({} listed as deliberate)",
            self.mode,
            self.compared.len(),
            differing.len(),
            differing.iter().filter(|id| listed(id)).count()
        );
        for d in &self.differences {
            eprintln!("  differs: {} {}", d.id, d.request);
        }
        assert!(
            failures.is_empty(),
            "{} difference(s) from Kafka Connect not listed in docs/compatibility.md:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// The allowed differences: `docs/compatibility.md`'s table rows
/// ``| `id` | modes | … |``, modes being `standalone`, `distributed` or
/// `both`.
pub fn allowed_differences(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    doc.lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `")?.splitn(2, '`');
            let id = cells.next()?.to_string();
            let modes = cells.next()?.trim_start_matches(" |").split('|').next()?;
            let modes = modes
                .split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            Some((id, modes))
        })
        .collect()
}

/// Runs `steps` against both sides (each request to both at once) and
/// collects the differences.
pub async fn run(mode: &'static str, kafka: &Side, ours: &Side, steps: &[Step]) -> Report {
    let mut report = Report {
        mode,
        compared: Vec::new(),
        differences: Vec::new(),
    };
    for step in steps {
        match step {
            Step::Call {
                id,
                method,
                path,
                body,
            } => {
                let (k, o) = tokio::join!(
                    send(kafka, method, path, body),
                    send(ours, method, path, body)
                );
                report.compared.push(id);
                let (k, o) = (shown(&k), shown(&o));
                if k != o {
                    report.differences.push(Difference {
                        id,
                        request: format!("{method} {path}"),
                        kafka: k,
                        ours: o,
                    });
                }
            }
            Step::Wait { id, path, until } => {
                let (k, o) = tokio::join!(wait(kafka, path, until), wait(ours, path, until));
                if k.is_err() || o.is_err() {
                    report.compared.push(id);
                    report.differences.push(Difference {
                        id,
                        request: format!("wait on GET {path}"),
                        kafka: k.err().unwrap_or_else(|| "reached".into()),
                        ours: o.err().unwrap_or_else(|| "reached".into()),
                    });
                }
            }
            Step::Act { what, run } => {
                eprintln!("compat {mode}: {what}");
                run(&kafka.dir);
                run(&ours.dir);
            }
        }
    }
    report
}

fn shown(r: &Reply) -> String {
    format!("{} {}", r.status, r.body)
}

/// Sends one request and normalises the reply. A distributed worker answers
/// 409 while a rebalance is under way; that is retried for 30 s on either
/// side, since when it happens is timing, not behaviour.
async fn send(side: &Side, method: &str, path: &str, body: &Body) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut req = side.rest.raw(method, path);
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&with_dir(v, &side.dir)),
            Body::Raw(content_type, text) => req
                .header("content-type", *content_type)
                .body(text.to_string()),
        };
        let mut reply = side.rest.send(req).await;
        if reply.is_rebalancing() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        reply.body = normalise(reply.body, path, &side.dir, side.name == "kafka-connect");
        return reply;
    }
}

async fn wait(side: &Side, path: &str, until: &Until) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = side.rest.call("GET", path, None).await;
        if until(&r) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("never reached; last reply {}", shown(&r)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `v` with `{dir}` replaced by `dir` in every string.
fn with_dir(v: &Value, dir: &Path) -> Value {
    map_strings(v.clone(), &|s| {
        s.replace("{dir}", &dir.display().to_string())
    })
}

fn map_strings(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (f(&k), map_strings(x, f)))
                .collect(),
        ),
        other => other,
    }
}

const OPAQUE: [&str; 6] = [
    "worker_id",
    "trace",
    "version",
    "commit",
    "kafka_cluster_id",
    "last_modified",
];

/// Fields only wasmconnect adds, listed in `docs/compatibility.md`: a
/// client that ignores unknown fields (as Kafka's own do) sees no change.
const ADDED: [&str; 1] = ["resources"];

/// The normalisation described in the module docs.
pub fn normalise(body: Value, path: &str, dir: &Path, kafka_side: bool) -> Value {
    let dir = dir.display().to_string();
    let mut body = map_strings(body, &|s| s.replace(&dir, "{dir}"));
    hide_opaque(&mut body, kafka_side);
    let path = path.split('?').next().unwrap_or(path);
    if let Value::Array(items) = &mut body {
        if path == "/connectors" {
            items.sort_by_key(|v| v.to_string());
        }
        if path == "/connector-plugins" {
            if kafka_side {
                items.retain(|p| {
                    !p["class"]
                        .as_str()
                        .is_some_and(|c| c.starts_with("org.apache.kafka.connect.mirror."))
                });
            }
            items.sort_by_key(|p| p["class"].as_str().unwrap_or_default().to_string());
        }
    }
    body
}

fn hide_opaque(v: &mut Value, kafka_side: bool) {
    match v {
        Value::Object(o) => {
            if !kafka_side {
                o.retain(|k, _| !ADDED.contains(&k.as_str()));
            }
            // The default and value of `connector.plugin.version` are the
            // plugin's version (Kafka's 4.3.1 against our component's).
            let plugin_version =
                o.get("name").and_then(Value::as_str) == Some("connector.plugin.version");
            for (k, x) in o.iter_mut() {
                let versioned = plugin_version && (k == "default_value" || k == "value");
                if (OPAQUE.contains(&k.as_str()) || versioned) && (x.is_string() || x.is_number()) {
                    *x = Value::String(format!("{{{k}}}"));
                } else {
                    hide_opaque(x, kafka_side);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| hide_opaque(x, kafka_side)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_document_table_names_ids_and_modes() {
        let doc = "text\n| scenario | modes | what | why |\n|---|---|---|---|\n\
                   | `create-bad-json` | both | message | Java's parser |\n\
                   | `loggers` | standalone, distributed | x | y |\n";
        let allowed = allowed_differences(doc);
        assert_eq!(allowed.len(), 2);
        assert_eq!(
            allowed["create-bad-json"],
            BTreeSet::from(["both".to_string()])
        );
        assert_eq!(
            allowed["loggers"],
            BTreeSet::from(["standalone".to_string(), "distributed".to_string()])
        );
    }

    #[test]
    fn normalising_hides_hosts_builds_and_directories() {
        let body = json!({"name": "s", "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "4.3.1"},
                          "config": {"file": "/tmp/x/in.txt"}});
        let n = normalise(body, "/connectors/s/status", Path::new("/tmp/x"), true);
        assert_eq!(
            n,
            json!({"name": "s", "connector": {"state": "RUNNING", "worker_id": "{worker_id}", "version": "{version}"},
                   "config": {"file": "{dir}/in.txt"}})
        );
    }

    #[test]
    fn plugin_lists_are_sorted_and_mirror_maker_left_out_on_kafkas_side() {
        let body = json!([{"class": "b"}, {"class": "org.apache.kafka.connect.mirror.MirrorSourceConnector"}, {"class": "a"}]);
        let n = normalise(
            body,
            "/connector-plugins?connectorsOnly=true",
            Path::new("/d"),
            true,
        );
        assert_eq!(n, json!([{"class": "a"}, {"class": "b"}]));
    }
}
