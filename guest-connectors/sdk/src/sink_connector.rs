//! The connector role most sinks need, written once: validate the
//! configuration, hand every task the same configuration, keep no offsets
//! of its own (a sink's offsets are its consumer group's).

use std::marker::PhantomData;

use crate::{Config, ConfigKey, ConfigValue, Connector, Plugin, PluginMetadata, TaskError, fatal};

/// What a sink whose tasks all run the connector's configuration says of
/// itself. Implement it on a marker type and export
/// [`ReplicatingSinkConnector`] of that type:
///
/// ```ignore
/// struct MySink;
/// impl SinkDescription for MySink { /* metadata, keys, problems */ }
/// wasmconnect_sdk::export_sink!(wasmconnect_sdk::ReplicatingSinkConnector<MySink>, MyTask);
/// ```
pub trait SinkDescription {
    /// Name, aliases, version, kind and description.
    fn metadata() -> PluginMetadata;
    /// The connector's own configuration keys.
    fn config_definition() -> Vec<ConfigKey>;
    /// What is wrong with `config`, as (key, message); empty when nothing.
    fn problems(config: &[(String, String)]) -> Vec<(String, String)>;
}

/// The connector role of a [`SinkDescription`]: `validate` reports its
/// problems against their keys, `start` refuses a configuration with any,
/// and `tasks.max` tasks each get the connector's configuration.
pub struct ReplicatingSinkConnector<D> {
    config: Config,
    described: PhantomData<D>,
}

impl<D: SinkDescription> Plugin for ReplicatingSinkConnector<D> {
    fn metadata() -> PluginMetadata {
        D::metadata()
    }

    fn config_definition() -> Vec<ConfigKey> {
        D::config_definition()
    }

    fn validate(config: &[(String, String)]) -> Vec<ConfigValue> {
        crate::validation_errors(config, D::problems(config))
    }
}

impl<D: SinkDescription> Connector for ReplicatingSinkConnector<D> {
    fn start(config: Config) -> Result<Self, TaskError> {
        let problems = D::problems(&config);
        if !problems.is_empty() {
            return Err(problems_error(problems));
        }
        Ok(ReplicatingSinkConnector {
            config,
            described: PhantomData,
        })
    }

    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        Ok(vec![self.config.clone(); max_tasks.max(1) as usize])
    }

    fn alter_offsets(
        _config: &[(String, String)],
        _offsets: &[(String, Option<String>)],
    ) -> Result<bool, TaskError> {
        // Offsets live only in the consumer group.
        Ok(true)
    }
}

/// The fatal error that refuses a configuration: every problem's message.
pub fn problems_error(problems: Vec<(String, String)>) -> TaskError {
    fatal(
        problems
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join("; "),
    )
}
