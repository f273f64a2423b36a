//! A connector's transformation chain (Kafka Connect's single message
//! transforms): `transforms=a,b`, `transforms.a.type=<transform plugin>`,
//! and `transforms.a.<key>=<value>` for that transform's own settings.
//!
//! Each task instantiates its chain once, every stage in its own sandbox
//! with the connector's limits. Records go through a batch at a time: the
//! first stage sees the whole batch, each later stage what the one before
//! kept. Source tasks apply the chain between `poll` and the converters,
//! sink tasks between the converters and `put`, as Kafka Connect does. A
//! record a stage drops is gone for the rest of the chain, but its offset
//! still advances (a source reports it `filtered`).
//!
//! A stage may name a predicate (`transforms.a.predicate=p`, optionally
//! `transforms.a.negate=true`; see [`super::predicates`]): it then applies
//! only to the records for which the predicate (negated or not) holds, and
//! every other record passes that stage unchanged, as in Kafka's
//! `TransformationStage`.

use std::sync::Arc;

use super::predicates::{self, Predicate};
use super::registry::PluginRegistry;
use crate::bindings::record_transform::Outcome;
use crate::bindings::types::TransformRecord;
use crate::config::Config;
use crate::config::worker::{list, lookup};
use crate::instance::{InstanceSpec, TransformInstance};
use crate::plugin::{Plugin, World};

/// One resolved stage: what a task needs to instantiate it.
#[derive(Clone)]
pub struct StageSpec {
    /// The alias in `transforms`.
    pub alias: String,
    /// The transform plugin `transforms.<alias>.type` names.
    pub plugin: Arc<Plugin>,
    /// Its settings: `transforms.<alias>.*` with the prefix removed.
    pub config: Config,
    /// The predicate `transforms.<alias>.predicate` names, if any.
    pub predicate: Option<StagePredicate>,
}

/// The predicate of one stage.
#[derive(Clone, Debug)]
pub struct StagePredicate {
    /// Its alias in `predicates`.
    pub alias: String,
    /// `transforms.<alias>.negate`.
    pub negate: bool,
    /// The predicate; `Err` when `predicates` does not declare the alias,
    /// which Kafka does not catch at validation but fails the task with
    /// when it starts.
    pub predicate: Result<Arc<Predicate>, String>,
}

/// Keys under `transforms.<alias>.` that belong to the framework, not to
/// the transform.
const FRAMEWORK_KEYS: [&str; 3] = ["type", "predicate", "negate"];

/// Resolves the chain `config` describes: the stages that resolved, and
/// the problems with the rest as `(key, message)` pairs in Kafka's wording.
pub fn resolve(
    registry: &PluginRegistry,
    config: &[(String, String)],
) -> (Vec<StageSpec>, Vec<(String, String)>) {
    let (declared, mut problems) = predicates::resolve(config, |name| {
        registry
            .find(name)
            .filter(|p| p.info().world == World::Transform)
            .map(|p| p.info().name.clone())
    });
    let mut stages = Vec::new();
    let aliases = list(lookup(config, "transforms"));
    for (i, alias) in aliases.iter().enumerate() {
        if aliases[..i].contains(alias) {
            // Reported once, as Kafka's list validator does.
            if problems.iter().any(|(k, _)| k == "transforms") {
                continue;
            }
            problems.push((
                "transforms".to_string(),
                format!(
                    "Invalid value [{}] for configuration transforms: Duplicate alias provided.",
                    aliases.join(", ")
                ),
            ));
            continue;
        }
        let prefix = format!("transforms.{alias}.");
        let type_key = format!("{prefix}type");
        let predicate_key = format!("{prefix}predicate");
        let negate_key = format!("{prefix}negate");
        let Some(class) = lookup(config, &type_key).filter(|c| !c.trim().is_empty()) else {
            problems.push((
                type_key.clone(),
                format!(
                    "Missing required configuration \"{type_key}\" which has no default value."
                ),
            ));
            continue;
        };
        let class = class.trim();
        let Some(plugin) = registry.find(class) else {
            problems.push((
                type_key.clone(),
                format!(
                    "Invalid value {class} for configuration {type_key}: Class {class} could not be found."
                ),
            ));
            continue;
        };
        // Kafka's type validator: runs once the class resolves.
        // Kafka's ConfigDef trims STRING values: `predicate=p ` names `p`.
        let predicate_alias = lookup(config, &predicate_key).map(str::trim);
        if lookup(config, &negate_key).is_some() && predicate_alias.is_none() {
            problems.push((
                type_key.clone(),
                format!(
                    "Config '{negate_key}' was provided but there is no config '{predicate_key}' \
                     defining a predicate to be negated."
                ),
            ));
        }
        if plugin.info().world != World::Transform {
            problems.push((
                type_key.clone(),
                format!(
                    "Invalid value {class} for configuration {type_key}: Class {class} could not be found."
                ),
            ));
            continue;
        }
        let negate = match lookup(config, &negate_key) {
            None => false,
            Some(v) => crate::convert::parse_bool(v).unwrap_or_else(|| {
                problems.push((
                    negate_key.clone(),
                    format!(
                        "Invalid value {v} for configuration {negate_key}: Expected value to be either true or false"
                    ),
                ));
                false
            }),
        };
        let predicate = predicate_alias.map(|p| StagePredicate {
            alias: p.to_string(),
            negate,
            predicate: match declared.iter().find(|d| d.alias == p) {
                Some(d) => d
                    .predicate
                    .clone()
                    .map(Arc::new)
                    .ok_or_else(|| format!("predicate {p} is not valid")),
                None => Err(format!(
                    "Unknown configuration 'predicates.{p}.type': transformation {alias} names \
                     predicate {p}, which 'predicates' does not list"
                )),
            },
        });
        let own = config
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v)))
            .filter(|(k, _)| !FRAMEWORK_KEYS.contains(k))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        stages.push(StageSpec {
            alias: alias.clone(),
            plugin,
            config: own,
            predicate,
        });
    }
    (stages, problems)
}

/// Every problem with the chain: resolution, then each stage's settings.
pub async fn check(
    registry: &PluginRegistry,
    config: &[(String, String)],
) -> Result<(Vec<StageSpec>, Vec<(String, String)>), String> {
    let (stages, mut problems) = resolve(registry, config);
    problems.extend(validate(&stages).await?);
    Ok((stages, problems))
}

/// Checks each stage's settings against its plugin: the definition's
/// types and required keys, then the plugin's own `validate`. Problems are
/// reported under the full key (`transforms.<alias>.<key>`).
pub async fn validate(stages: &[StageSpec]) -> Result<Vec<(String, String)>, String> {
    let mut problems = Vec::new();
    for stage in stages {
        let mut own = super::validation::Problems::default();
        for key in stage.plugin.config_definition() {
            super::validation::check_key(key, &stage.config, &mut own);
        }
        for value in stage
            .plugin
            .validate(&stage.config)
            .await
            .map_err(|e| e.to_string())?
        {
            for e in value.errors {
                own.0.push((value.name.clone(), e));
            }
        }
        for (key, message) in own.0 {
            problems.push((format!("transforms.{}.{key}", stage.alias), message));
        }
    }
    Ok(problems)
}

/// The running chain of one task.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<Stage>,
}

struct Stage {
    alias: String,
    class: String,
    instance: TransformInstance,
    /// The predicate and whether it is negated.
    predicate: Option<(Arc<Predicate>, bool)>,
}

impl TransformChain {
    /// Instantiates and configures every stage.
    pub async fn start(ctx: &super::task::TaskContext) -> Result<TransformChain, String> {
        let (specs, connector, task, limits) =
            (&ctx.transforms[..], &ctx.connector, ctx.task, ctx.limits);
        let mut stages = Vec::with_capacity(specs.len());
        for spec in specs {
            let class = spec.plugin.info().name.clone();
            let predicate = match &spec.predicate {
                None => None,
                Some(p) => match &p.predicate {
                    Ok(predicate) => Some((predicate.clone(), p.negate)),
                    Err(e) => {
                        return Err(format!(
                            "transformation {} ({class}) could not start: {e}",
                            spec.alias
                        ));
                    }
                },
            };
            let context = |e: crate::GuestError| {
                format!(
                    "transformation {} ({class}) could not start: {e}",
                    spec.alias
                )
            };
            let instance_spec = InstanceSpec {
                limits,
                secrets: ctx.secrets.clone(),
                ..InstanceSpec::new(connector.as_str(), Some(task), spec.config.clone())
            };
            let mut instance = TransformInstance::new(&spec.plugin, instance_spec)
                .await
                .map_err(context)?;
            instance.configure(&spec.config).await.map_err(context)?;
            stages.push(Stage {
                alias: spec.alias.clone(),
                class,
                instance,
                predicate,
            });
        }
        Ok(TransformChain { stages })
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs `records` through every stage; the answer has one entry per
    /// input record: `Ok(None)` where a stage dropped it, `Err` where a
    /// stage refused it. A stage with a predicate sees only the records it
    /// applies to (`test XOR negate`); the others pass it unchanged. A
    /// stage that refuses a batch is given its records one at a time, so
    /// only the records it refuses alone are refused
    /// (transformations are per-record functions, so this repeats no
    /// effect). `Err` overall: a stage's instance is gone (a trap, a limit).
    pub async fn apply(
        &mut self,
        records: Vec<TransformRecord>,
    ) -> Result<Vec<Result<Option<TransformRecord>, Refused>>, String> {
        let mut out: Vec<Result<Option<TransformRecord>, Refused>> =
            records.into_iter().map(|r| Ok(Some(r))).collect();
        for stage in &mut self.stages {
            // Indices (into `out`) of the records still alive that this
            // stage applies to.
            let alive: Vec<usize> = (0..out.len())
                .filter(|&i| match &out[i] {
                    Ok(Some(record)) => stage.applies_to(record),
                    _ => false,
                })
                .collect();
            if alive.is_empty() {
                continue;
            }
            let batch: Vec<TransformRecord> = alive
                .iter()
                .filter_map(|&i| out[i].as_mut().ok().and_then(Option::take))
                .collect();
            match stage.instance.apply(&batch).await {
                Ok(outcomes) => {
                    for ((index, record), outcome) in alive.into_iter().zip(batch).zip(outcomes) {
                        out[index] = Ok(outcome.applied_to(record));
                    }
                }
                Err(e) if e.instance_usable() => {
                    for (index, record) in alive.into_iter().zip(batch) {
                        out[index] = match stage.instance.apply(std::slice::from_ref(&record)).await
                        {
                            Ok(mut one) => Ok(one.pop().and_then(|o| o.applied_to(record))),
                            Err(e) if e.instance_usable() => Err(Refused {
                                class: stage.class.clone(),
                                error: stage.failed(&e),
                            }),
                            Err(e) => return Err(stage.failed(&e)),
                        };
                    }
                }
                Err(e) => return Err(stage.failed(&e)),
            }
        }
        Ok(out)
    }
}

/// A record a transformation refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The transformation's class.
    pub class: String,
    /// Why, with the stage named.
    pub error: String,
}

impl Stage {
    /// Kafka's `TransformationStage`: `negate ^ predicate.test(record)`.
    fn applies_to(&self, record: &TransformRecord) -> bool {
        applies(self.predicate.as_ref(), record)
    }

    fn failed(&self, e: &crate::GuestError) -> String {
        format!("transformation {} ({}) failed: {e}", self.alias, self.class)
    }
}

/// Whether a stage with `predicate` (and its `negate`) applies to `record`.
fn applies(predicate: Option<&(Arc<Predicate>, bool)>, record: &TransformRecord) -> bool {
    predicate.is_none_or(|(predicate, negate)| predicate.test(record) ^ negate)
}

impl Outcome {
    /// What remains of `record` after this outcome.
    fn applied_to(self, record: TransformRecord) -> Option<TransformRecord> {
        match self {
            Outcome::Keep => Some(record),
            Outcome::Drop => None,
            Outcome::Replace(replacement) => Some(replacement),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::pairs as config;

    fn problems(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let registry = PluginRegistry::from_plugins(Vec::new());
        let (stages, problems) = resolve(&registry, &config(pairs));
        assert!(stages.is_empty());
        problems
    }

    #[test]
    fn no_transforms_is_an_empty_chain() {
        assert!(problems(&[]).is_empty());
        assert!(problems(&[("transforms", " ")]).is_empty());
    }

    #[test]
    fn a_missing_or_unknown_type_is_named_as_kafka_names_it() {
        assert_eq!(
            problems(&[("transforms", "a")]),
            [(
                "transforms.a.type".to_string(),
                "Missing required configuration \"transforms.a.type\" which has no default value."
                    .to_string()
            )]
        );
        assert_eq!(
            problems(&[("transforms", "a"), ("transforms.a.type", "Nope")]),
            [(
                "transforms.a.type".to_string(),
                "Invalid value Nope for configuration transforms.a.type: Class Nope could not be found."
                    .to_string()
            )]
        );
    }

    #[test]
    fn duplicate_aliases_and_predicate_problems_are_reported() {
        let found = problems(&[
            ("transforms", "a, a"),
            ("transforms.a.type", "Nope"),
            ("transforms.a.predicate", "p"),
            ("predicates", "p"),
        ]);
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["predicates.p.type", "transforms.a.type", "transforms"]
        );
        assert!(
            found[2].1.ends_with("Duplicate alias provided."),
            "{found:?}"
        );
    }

    #[test]
    fn a_predicate_selects_the_records_a_stage_applies_to() {
        let (declared, found) = predicates::resolve(
            &config(&[
                ("predicates", "t"),
                ("predicates.t.type", "RecordIsTombstone"),
            ]),
            |_| None,
        );
        assert!(found.is_empty(), "{found:?}");
        let tombstones = Arc::new(declared[0].predicate.clone().unwrap());
        let record = |value: Option<&str>| TransformRecord {
            topic: "t".into(),
            partition: None,
            key: None,
            value: value.map(|v| crate::bindings::types::Payload::Text(v.into())),
            headers: Vec::new(),
            timestamp: None,
        };
        let (tombstone, live) = (record(None), record(Some("x")));
        assert!(applies(None, &tombstone) && applies(None, &live));
        let plain = (tombstones.clone(), false);
        assert!(applies(Some(&plain), &tombstone) && !applies(Some(&plain), &live));
        let negated = (tombstones, true);
        assert!(!applies(Some(&negated), &tombstone) && applies(Some(&negated), &live));
    }

    #[test]
    fn an_undeclared_predicate_fails_the_task_not_the_validation() {
        // Kafka's validation passes it; its task fails at start.
        let found = problems(&[("transforms.a.predicate", "p")]);
        assert!(found.is_empty(), "{found:?}");
    }
}
