//! The connector role of a source or sink plugin (Kafka's `Connector`):
//! validation, start, task configurations, offsets alteration and stop, in
//! either contract version (their calls are the same in both).

use super::{Config, Core, InstanceSpec, StopHandle, guarded, task_result, wrong_world};
use crate::bindings::config_def::ConfigValue;
use crate::bindings::{connector, plugin as plugin_api, v0_2};
use crate::error::GuestError;
use crate::plugin::{Plugin, Versioned, World, each_version, either_version};

/// The connector role of a source or sink plugin.
pub struct ConnectorInstance {
    core: Core,
    api: Versioned<connector::Guest, v0_2::connector::Guest>,
    plugin_api: Versioned<plugin_api::Guest, v0_2::plugin::Guest>,
}

impl ConnectorInstance {
    /// Instantiates the connector role of `plugin`.
    pub async fn new(plugin: &Plugin, spec: InstanceSpec) -> Result<Self, GuestError> {
        // Checked before the code is loaded; the world decides which
        // exports were resolved.
        if !matches!(plugin.info().world, World::Source | World::Sink) {
            return Err(wrong_world(plugin, "connector"));
        }
        let mut core = Core::new(plugin, spec).await?;
        let code = core.code.clone();
        let indices = code
            .exports
            .connector
            .as_ref()
            .ok_or_else(|| wrong_world(plugin, "connector"))?;
        let api = each_version!(indices, |v| core.load(|s, i| v.load(s, i))?);
        let plugin_api = each_version!(&code.exports.plugin, |v| core.load(|s, i| v.load(s, i))?);
        Ok(ConnectorInstance {
            core,
            api,
            plugin_api,
        })
    }

    /// `plugin.validate` on this instance.
    pub async fn validate(
        &mut self,
        config: &[(String, String)],
    ) -> Result<Vec<ConfigValue>, GuestError> {
        let (core, api, config) = (&mut self.core, &self.plugin_api, config.to_vec());
        either_version!(api, |api| guarded!(core, "validate", |store| api
            .call_validate(store, &config)))
    }

    /// `connector.start`.
    pub async fn start(&mut self, config: &[(String, String)]) -> Result<(), GuestError> {
        let (core, api, config) = (&mut self.core, &self.api, config.to_vec());
        task_result(
            "start",
            either_version!(api, |api| guarded!(core, "start", |store| api
                .call_start(store, &config))),
        )
    }

    /// How often the connector asked for its task configurations to be
    /// regenerated (`wasmconnect:tasks/reconfiguration`), if it did.
    pub fn recheck_interval(&self) -> Option<std::time::Duration> {
        self.core.store.data().reconfiguration.interval()
    }

    /// `connector.task-configs`; more than `max_tasks` configurations breaks
    /// the contract and is a fatal error.
    pub async fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, GuestError> {
        let (core, api) = (&mut self.core, &self.api);
        let configs = task_result(
            "task-configs",
            either_version!(api, |api| guarded!(core, "task-configs", |store| api
                .call_task_configs(store, max_tasks))),
        )?;
        if configs.len() > max_tasks as usize {
            return Err(GuestError::Fatal {
                call: "task-configs",
                message: format!(
                    "the connector returned {} task configurations, more than tasks.max ({max_tasks})",
                    configs.len()
                ),
            });
        }
        Ok(configs)
    }

    /// `connector.alter-offsets`.
    pub async fn alter_offsets(
        &mut self,
        config: &[(String, String)],
        offsets: &[(String, Option<String>)],
    ) -> Result<bool, GuestError> {
        let (core, api, config, offsets) =
            (&mut self.core, &self.api, config.to_vec(), offsets.to_vec());
        task_result(
            "alter-offsets",
            either_version!(api, |api| guarded!(core, "alter-offsets", |store| api
                .call_alter_offsets(store, &config, &offsets))),
        )
    }

    /// `connector.stop`.
    pub async fn stop(&mut self) -> Result<(), GuestError> {
        self.core.stop_handle().stop();
        let (core, api) = (&mut self.core, &self.api);
        either_version!(api, |api| guarded!(core, "stop", |store| api
            .call_stop(store)))
    }

    /// A handle that raises this instance's stop flag.
    pub fn stop_handle(&self) -> StopHandle {
        self.core.stop_handle()
    }
}
