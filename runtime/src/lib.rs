//! # wasmconnect runtime
//!
//! The host side of wasmconnect: a Kafka Connect–compatible worker whose
//! connectors are WebAssembly components. This crate holds the library the
//! `wasmconnect` binary is built from.
//!
//! Where things are:
//!
//! * [`sandbox`]: the one wasmtime `Engine` (pooling allocator, epoch ticker),
//!   the on-disk cache of precompiled components, per-instance limits, the
//!   capabilities a connector's configuration grants, and guest stdio.
//! * [`host`]: the imports the host gives guests (logging, identity and stop
//!   signal, committed source offsets, granted files).
//! * [`plugin`]: loading a component, finding which world it implements and
//!   reading its metadata and configuration definition.
//! * [`instance`]: one running connector or task instance (one `Store`
//!   each), with every call bounded by a deadline and every fault turned into
//!   a [`GuestError`].
//! * [`bindings`]: the types generated from the contract, both versions
//!   (`wit/connector.wit`, 0.2.0, and `wit/v0.1.0/`).
//! * [`config`]: property files, the worker configuration, Kafka client settings.
//! * [`convert`]: Kafka Connect's converters (JSON, string, byte array).
//! * [`herder`]: what runs where and the answer to every request on
//!   connectors: standalone, or one member of a cluster.
//! * [`worker`]: starts and stops connector instances and task loops (the
//!   source and sink loops, transformation chains), whatever the mode.
//! * [`distributed`]: distributed mode's Kafka-backed parts (the `connect`
//!   group, the leader's assignor, the config, offset, status and plugin
//!   topics).
//! * `conformance` (feature `conformance`, on by default): the checks behind
//!   `wasmconnect plugin test`.
//! * `bench` (feature `bench`, off by default): `wasmconnect bench`, with a
//!   native twin of the datagen guest; only this feature links guest code
//!   (`datagen-core`), so the worker itself never does.
//! * [`store`]: the seams to where state lives (record logs, source offsets),
//!   with in-memory implementations.
//! * [`rest`]: the Kafka Connect REST API.
//! * [`metrics`]: `GET /metrics`, Kafka Connect's metrics for Prometheus.
//! * [`logs`]: the log, with levels changeable at run time.
//! * [`allocator`]: the binary's memory allocator and its tuning.

pub mod allocator;
#[cfg(feature = "bench")]
pub mod bench;
pub mod bindings;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod convert;
pub mod distributed;
pub mod error;
pub mod herder;
pub mod host;
pub mod instance;
pub mod logs;
pub mod metrics;
pub mod plugin;
pub mod rest;
pub mod sandbox;
pub mod store;
pub mod worker;

pub use error::GuestError;
pub use instance::{
    ConnectorInstance, InstanceSpec, SinkTaskInstance, SourceTaskInstance, StopHandle,
    TransformInstance,
};
pub use plugin::{Contract, Plugin, PluginError, PluginInfo, World};
pub use sandbox::{Sandbox, SandboxConfig};
