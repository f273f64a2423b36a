//! Host-side bindings generated from `wit/connector.wit`.
//!
//! One host-only world, `wasmconnect:host/all`, includes the `source`,
//! `sink` and `transform` worlds so that the shared types are generated
//! once. A plugin implements only one of them; the worker loads the exports
//! of the world it found (see [`crate::plugin`]) interface by interface.

wasmtime::component::bindgen!({
    path: "../wit",
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
