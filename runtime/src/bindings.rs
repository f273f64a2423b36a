//! Host-side bindings generated from the contract, both versions the
//! worker runs.
//!
//! The top level is `wasmconnect:connector@0.1.0` (`wit/v0.1.0/`): its
//! `types` (sink, source and transform records, task errors) and
//! `config-def` are the worker's own model of records and configuration,
//! which the worker's data path works on whatever a plugin's version.
//! [`v0_2`] is `@0.2.0` (`wit/`), generated so that it shares those two
//! interfaces, which 0.2.0 keeps unchanged: only its batches, its plugin
//! metadata and its imports' small enums are types of its own, and
//! [`crate::instance`] packs and unpacks batches at the call.
//!
//! Each version's host-only world `wasmconnect:host/all` includes the
//! `source`, `sink` and `transform` worlds so that the shared types are
//! generated once. A plugin implements only one of them; the worker loads
//! the exports of the world and version it found (see [`crate::plugin`])
//! interface by interface.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    inline: "
        package wasmconnect:host;
        world all {
            include wasmconnect:connector/source@0.1.0;
            include wasmconnect:connector/sink@0.1.0;
            include wasmconnect:connector/transform@0.1.0;
        }
    ",
    world: "wasmconnect:host/all",
    with: {
        "wasi": wasmtime_wasi::p2::bindings,
        "wasmconnect:connector/files.file": crate::host::files::HostFile,
    },
    imports: { default: trappable },
    exports: { default: async },
    require_store_data_send: true,
    additional_derives: [PartialEq],
});

/// `wasmconnect:connector@0.2.0`, sharing `types` and `config-def` with the
/// top level.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package wasmconnect:host;
            world all {
                include wasmconnect:connector/source@0.2.0;
                include wasmconnect:connector/sink@0.2.0;
                include wasmconnect:connector/transform@0.2.0;
            }
        ",
        world: "wasmconnect:host/all",
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasmconnect:connector/types": crate::bindings::wasmconnect::connector::types,
            "wasmconnect:connector/config-def": crate::bindings::wasmconnect::connector::config_def,
            "wasmconnect:connector/files.file": crate::host::files::HostFile,
        },
        imports: { default: trappable },
        exports: { default: async },
        require_store_data_send: true,
        additional_derives: [PartialEq],
    });

    pub use self::exports::wasmconnect::connector::{
        connector, plugin, record_transform, sink_task, source_task,
    };
    pub use self::wasmconnect::connector::batches;
}

/// `wasmconnect:database@0.1.0`, the `sql` import any connector world may
/// add (see [`crate::host::database`]). Its calls wait on the network, so
/// they are async host functions: the guest stays suspended while the
/// driver works.
pub mod database {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmconnect:database/client@0.1.0",
        with: {
            "wasmconnect:database/sql.connection": crate::host::database::HostConnection,
            "wasmconnect:database/sql.statement": crate::host::database::HostStatement,
            "wasmconnect:database/sql.cursor": crate::host::database::HostCursor,
        },
        imports: { default: async | trappable },
        require_store_data_send: true,
    });

    pub use self::wasmconnect::database::sql;
}

/// `wasmconnect:tasks@0.1.0`: a connector asking for its task
/// configurations to be rechecked (see [`crate::host::reconfiguration`]).
pub mod tasks {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmconnect:tasks/client@0.1.0",
        imports: { default: trappable },
        require_store_data_send: true,
    });

    pub use self::wasmconnect::tasks::reconfiguration;
}

pub use self::exports::wasmconnect::connector::{
    connector, plugin, record_transform, sink_task, source_task,
};
pub use self::wasmconnect::connector::{config_def, types};

#[cfg(test)]
impl types::SinkRecord {
    /// A record with no key, value, headers or timestamp, for unit tests.
    pub(crate) fn bare(topic: &str, partition: i32, offset: i64) -> Self {
        types::SinkRecord {
            topic: topic.into(),
            partition,
            offset,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
            timestamp_type: types::TimestampType::NoTimestamp,
        }
    }
}
