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
