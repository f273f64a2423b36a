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
//! Not supported yet, and refused at validation rather than ignored:
//! predicates (`transforms.a.predicate`, `predicates=…`).

use std::sync::Arc;

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
    let mut problems = Vec::new();
    let mut stages = Vec::new();
    let aliases = list(lookup(config, "transforms"));
    for (i, alias) in aliases.iter().enumerate() {
        if aliases[..i].contains(alias) {
            problems.push((
                "transforms".to_string(),
                format!(
                    "Invalid value {} for configuration transforms: Duplicate alias provided.",
                    aliases.join(",")
                ),
            ));
            continue;
        }
        let prefix = format!("transforms.{alias}.");
        let type_key = format!("{prefix}type");
        if lookup(config, &format!("{prefix}predicate")).is_some_and(|p| !p.trim().is_empty()) {
            problems.push((
                format!("{prefix}predicate"),
                format!(
                    "Transformation {alias} names a predicate; predicates are not supported by \
                     this worker yet (filter inside the transform instead)"
                ),
            ));
        }
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
        match registry.find(class) {
            Some(plugin) if plugin.info().world == World::Transform => {
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
                });
            }
            _ => problems.push((
                type_key.clone(),
                format!(
                    "Invalid value {class} for configuration {type_key}: Class {class} could not be found."
                ),
            )),
        }
    }
    if lookup(config, "predicates").is_some_and(|p| !p.trim().is_empty()) {
        problems.push((
            "predicates".to_string(),
            "predicates are not supported by this worker yet".to_string(),
        ));
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
}

impl TransformChain {
    /// Instantiates and configures every stage.
    pub async fn start(ctx: &super::task::TaskContext) -> Result<TransformChain, String> {
        let (specs, connector, task, limits) =
            (&ctx.transforms[..], &ctx.connector, ctx.task, ctx.limits);
        let mut stages = Vec::with_capacity(specs.len());
        for spec in specs {
            let class = spec.plugin.info().name.clone();
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
    /// stage refused it. A stage that refuses a batch is given its records
    /// one at a time, so only the records it refuses alone are refused
    /// (transformations are per-record functions, so this repeats no
    /// effect). `Err` overall: a stage's instance is gone (a trap, a limit).
    pub async fn apply(
        &mut self,
        records: Vec<TransformRecord>,
    ) -> Result<Vec<Result<Option<TransformRecord>, Refused>>, String> {
        let mut out: Vec<Result<Option<TransformRecord>, Refused>> =
            records.into_iter().map(|r| Ok(Some(r))).collect();
        for stage in &mut self.stages {
            // Indices (into `out`) of the records still alive.
            let alive: Vec<usize> = (0..out.len())
                .filter(|&i| matches!(out[i], Ok(Some(_))))
                .collect();
            if alive.is_empty() {
                break;
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
    fn failed(&self, e: &crate::GuestError) -> String {
        format!("transformation {} ({}) failed: {e}", self.alias, self.class)
    }
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
    fn duplicate_aliases_and_predicates_are_refused() {
        let found = problems(&[
            ("transforms", "a, a"),
            ("transforms.a.type", "Nope"),
            ("transforms.a.predicate", "p"),
            ("predicates", "p"),
        ]);
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "transforms.a.predicate",
                "transforms.a.type",
                "transforms",
                "predicates"
            ]
        );
        assert!(
            found[2].1.ends_with("Duplicate alias provided."),
            "{found:?}"
        );
    }
}
