//! # wasmconnect-sdk: write wasmconnect connectors in Rust
//!
//! A wasmconnect plugin is a WebAssembly component implementing one world of
//! the WIT contract in `wit/connector.wit` (`wasmconnect:connector@0.2.0`):
//! `source`, `sink` or `transform`. This crate hides the generated bindings
//! behind a few traits, and the contract's packed batches behind ordinary
//! records:
//!
//! * [`Plugin`]: metadata, configuration definition and validation;
//! * [`Connector`]: starts with the connector configuration and divides work
//!   into task configurations;
//! * [`SourceTask`] / [`SinkTask`] / [`Transform`]: the data path.
//!
//! Enable exactly one of the cargo features `source`, `sink` or `transform`
//! (one component implements one world), implement the traits, and call the
//! matching export macro once:
//!
//! ```ignore
//! wasmconnect_sdk::export_source!(MyConnector, MyTask);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the plugin. A connector instance and
//! each task instance run in separate sandboxes, so plain struct fields are
//! all the state a connector needs.

#[doc(hidden)]
pub mod batch;
mod config;
#[cfg(feature = "database")]
pub mod db;
mod files;
mod host;
#[cfg(feature = "http")]
pub mod http;
mod payload;
#[cfg(feature = "reconfiguration")]
pub mod reconfiguration;
mod records;
#[cfg(all(feature = "sink", not(feature = "source")))]
mod redelivery;
#[cfg(all(feature = "sink", not(feature = "source")))]
pub use redelivery::Redelivery;
#[cfg(all(feature = "sink", not(feature = "source")))]
mod sink_connector;
#[cfg(all(feature = "sink", not(feature = "source")))]
pub use sink_connector::{ReplicatingSinkConnector, SinkDescription, problems_error};

pub use config::{ConfigExt, Key, config_key, validation_errors};
pub use files::FileExt;
pub use host::{connector_name, sleep_unless_stopped, stop_requested, task_id};

/// Generated bindings for the world this crate was built for, and the
/// re-exports every connector needs.
#[cfg(feature = "source")]
pub mod source_bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "source",
        pub_export_macro: true,
        export_macro_name: "__export_source",
        default_bindings_module: "wasmconnect_sdk::source_bindings",
        generate_all,
    });
}

#[cfg(all(feature = "sink", not(feature = "source")))]
pub mod sink_bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "sink",
        pub_export_macro: true,
        export_macro_name: "__export_sink",
        default_bindings_module: "wasmconnect_sdk::sink_bindings",
        generate_all,
    });
}

#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
pub mod transform_bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "transform",
        pub_export_macro: true,
        export_macro_name: "__export_transform",
        default_bindings_module: "wasmconnect_sdk::transform_bindings",
        generate_all,
    });
}

#[cfg(feature = "source")]
use source_bindings as world;

#[cfg(all(feature = "sink", not(feature = "source")))]
use sink_bindings as world;

#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
use transform_bindings as world;

#[cfg(not(any(feature = "source", feature = "sink", feature = "transform")))]
compile_error!("enable one of the features `source`, `sink` or `transform`");

pub use records::{SourceRecord, TransformRecord};
pub use world::exports::wasmconnect::connector::plugin::{PluginKind, PluginMetadata};
pub use world::wasmconnect::connector::config_def::{
    ConfigKey, ConfigType, ConfigValue, Importance, ResourceKind, Width,
};
pub use world::wasmconnect::connector::logging::Level;
pub use world::wasmconnect::connector::types::{
    Header, JsonPayload, PartitionOffset, Payload, RetriableError, SinkRecord, TaskError,
    TimestampType, TopicPartition,
};

#[cfg(any(feature = "source", feature = "sink"))]
pub use world::wasmconnect::connector::files::{File, FileError, OpenMode, open as open_file};

#[cfg(feature = "source")]
pub use world::exports::wasmconnect::connector::source_task::{AckStatus, RecordAck};

#[cfg(feature = "source")]
pub use world::wasmconnect::connector::offsets::read as read_offsets;

/// Reports a record `put` was given that the task could not write (Kafka's
/// `ErrantRecordReporter.report`): the host passes it to the connector's
/// error handling (log, dead letter queue) once `put` returns, and commits
/// its offset with the rest. `Err` carries the failure when the connector
/// does not tolerate errors; the task then fails whatever `put` returns.
#[cfg(all(feature = "sink", not(feature = "source")))]
pub use world::wasmconnect::connector::errant_records::report as report_errant_record;

/// Reports `record` as errant because of `why` (logged at WARN); when the
/// connector does not tolerate errors, returns the fatal error that fails
/// the task, naming the record.
#[cfg(all(feature = "sink", not(feature = "source")))]
pub fn errant(record: &SinkRecord, why: &str) -> Result<(), TaskError> {
    let text = format!(
        "Sink record (topic='{}',partition={},offset={}) could not be written: {why}",
        record.topic, record.partition, record.offset
    );
    match report_errant_record(record, &text) {
        Ok(()) => {
            warn!("{text}; reported to the error handler");
            Ok(())
        }
        Err(_) => Err(fatal(text)),
    }
}

/// What a transform does with one record.
#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Pass the record on unchanged.
    Keep,
    /// Drop the record.
    Drop,
    /// Pass on this record instead.
    Replace(TransformRecord),
}

/// A configuration map as the host passes it: `(key, value)` pairs.
pub type Config = Vec<(String, String)>;

/// Metadata, configuration definition and validation of a plugin.
pub trait Plugin {
    /// The plugin's name, aliases, version, kind and description.
    fn metadata() -> PluginMetadata;
    /// The plugin's own configuration keys (the host adds Kafka Connect's common keys).
    fn config_definition() -> Vec<ConfigKey>;
    /// Extra validation; the host has already checked types and required keys.
    fn validate(_config: &[(String, String)]) -> Vec<ConfigValue> {
        Vec::new()
    }
}

/// The connector role of a source or sink plugin.
pub trait Connector: Plugin + Sized {
    /// Starts the connector with its configuration.
    fn start(config: Config) -> Result<Self, TaskError>;
    /// Returns at most `max_tasks` task configurations.
    fn task_configs(&mut self, max_tasks: u32) -> Result<Vec<Config>, TaskError>;
    /// Stops the connector.
    fn stop(&mut self) {}
    /// Accepts or refuses offsets an operator altered while the connector was
    /// stopped; `Ok(false)` (the default) means the plugin keeps no offsets of
    /// its own.
    fn alter_offsets(
        _config: &[(String, String)],
        _offsets: &[(String, Option<String>)],
    ) -> Result<bool, TaskError> {
        Ok(false)
    }
}

/// A source task: turns an external system's data into records.
#[cfg(feature = "source")]
pub trait SourceTask: Sized {
    /// Starts the task with one of the connector's task configurations.
    fn start(config: Config) -> Result<Self, TaskError>;
    /// Returns the next batch (empty when nothing is ready). Return within a
    /// second or so, so the task can be stopped.
    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError>;
    /// Hears which records (those with an `ack_token`) Kafka acknowledged.
    fn commit_records(&mut self, _acks: Vec<RecordAck>) -> Result<(), TaskError> {
        Ok(())
    }
    /// Hears that the offsets of every acknowledged record are stored.
    fn commit(&mut self) -> Result<(), TaskError> {
        Ok(())
    }
    /// Stops the task.
    fn stop(&mut self) {}
}

/// A sink task: writes records to an external system.
#[cfg(all(feature = "sink", not(feature = "source")))]
pub trait SinkTask: Sized {
    /// Starts the task with one of the connector's task configurations.
    fn start(config: Config) -> Result<Self, TaskError>;
    /// Partitions were assigned to this task.
    fn open(&mut self, _partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        Ok(())
    }
    /// Partitions were taken away; write out what is buffered for them.
    fn close(&mut self, _partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        Ok(())
    }
    /// Writes a batch of records. A task may buffer them; it then writes
    /// them out in [`SinkTask::flush`].
    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError>;
    /// Writes out everything `put` has been given (Kafka's `flush`): after
    /// it returns, the host commits `current`, so a record still buffered
    /// here would be lost if the worker died. The default does nothing,
    /// which is right for a task that writes in `put`.
    fn flush(&mut self, _current: &[PartitionOffset]) -> Result<(), TaskError> {
        Ok(())
    }
    /// The offsets that are safe to commit. The default flushes, then
    /// answers `current`, as Kafka's `preCommit` does; override it only to
    /// commit less than was put (a task that writes asynchronously).
    fn pre_commit(
        &mut self,
        current: Vec<PartitionOffset>,
    ) -> Result<Vec<PartitionOffset>, TaskError> {
        self.flush(&current)?;
        Ok(current)
    }
    /// Stops the task.
    fn stop(&mut self) {}
}

/// A single-message transform over batches.
#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
pub trait Transform: Plugin + Sized {
    /// Builds the transform from its settings.
    fn configure(config: Config) -> Result<Self, TaskError>;
    /// Returns one outcome per record, in order.
    fn apply(&mut self, records: Vec<TransformRecord>) -> Result<Vec<Outcome>, TaskError>;
}

/// A permanent error: the host fails the task with this message.
pub fn fatal(message: impl Into<String>) -> TaskError {
    TaskError::Fatal(message.into())
}

/// A transient error: the host retries the call, after `backoff_ms` if given.
pub fn retriable(message: impl Into<String>, backoff_ms: Option<u32>) -> TaskError {
    TaskError::Retriable(RetriableError {
        message: message.into(),
        backoff_ms,
    })
}

/// Writes a message to the worker's log, tagged with this connector and task.
pub fn log(level: Level, message: &str) {
    world::wasmconnect::connector::logging::log(level, message);
}

/// Logs at INFO with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log($crate::Level::Info, &format!($($arg)*)) };
}

/// Logs at WARN with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log($crate::Level::Warn, &format!($($arg)*)) };
}

/// Logs at DEBUG with `format!` arguments, skipping the formatting when the
/// worker would discard the message.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log_enabled($crate::Level::Debug) {
            $crate::log($crate::Level::Debug, &format!($($arg)*))
        }
    };
}

/// Whether the worker records messages at `level`.
pub fn log_enabled(level: Level) -> bool {
    world::wasmconnect::connector::logging::enabled(level)
}

/// Implements the shared `plugin` and `connector` exports; used by the world
/// macros below.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_connector_exports {
    ($bindings:ident, $exports:ident, $connector:ty, $slot:ident) => {
        impl $crate::$bindings::exports::wasmconnect::connector::plugin::Guest for $exports {
            fn metadata() -> $crate::PluginMetadata {
                <$connector as $crate::Plugin>::metadata()
            }
            fn config_definition() -> ::std::vec::Vec<$crate::ConfigKey> {
                <$connector as $crate::Plugin>::config_definition()
            }
            fn validate(config: $crate::Config) -> ::std::vec::Vec<$crate::ConfigValue> {
                <$connector as $crate::Plugin>::validate(&config)
            }
        }
        impl $crate::$bindings::exports::wasmconnect::connector::connector::Guest for $exports {
            fn start(config: $crate::Config) -> ::std::result::Result<(), $crate::TaskError> {
                let connector = <$connector as $crate::Connector>::start(config)?;
                $slot.with(|slot| *slot.borrow_mut() = Some(connector));
                Ok(())
            }
            fn task_configs(
                max_tasks: u32,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::Config>, $crate::TaskError> {
                $slot.with(|slot| match slot.borrow_mut().as_mut() {
                    Some(c) => <$connector as $crate::Connector>::task_configs(c, max_tasks),
                    None => Err($crate::fatal("task-configs called before start")),
                })
            }
            fn stop() {
                if let Some(mut c) = $slot.with(|slot| slot.borrow_mut().take()) {
                    <$connector as $crate::Connector>::stop(&mut c);
                }
            }
            fn alter_offsets(
                config: $crate::Config,
                offsets: ::std::vec::Vec<(::std::string::String, Option<::std::string::String>)>,
            ) -> ::std::result::Result<bool, $crate::TaskError> {
                <$connector as $crate::Connector>::alter_offsets(&config, &offsets)
            }
        }
    };
}

/// Calls `f` on the started task in `slot`, or fails if `start` was never called.
#[doc(hidden)]
pub fn with_started<T, R>(
    slot: &'static std::thread::LocalKey<std::cell::RefCell<Option<T>>>,
    call: &str,
    f: impl FnOnce(&mut T) -> Result<R, TaskError>,
) -> Result<R, TaskError> {
    slot.with(|slot| match slot.borrow_mut().as_mut() {
        Some(task) => f(task),
        None => Err(fatal(format!("{call} called before start"))),
    })
}

/// Exports a source plugin: `export_source!(ConnectorType, TaskType)`.
#[cfg(feature = "source")]
#[macro_export]
macro_rules! export_source {
    ($connector:ty, $task:ty) => {
        const _: () = {
            use $crate::source_bindings::exports::wasmconnect::connector::source_task;
            struct WasmconnectExports;
            ::std::thread_local! {
                static CONNECTOR: ::std::cell::RefCell<Option<$connector>> =
                    const { ::std::cell::RefCell::new(None) };
                static TASK: ::std::cell::RefCell<Option<$task>> =
                    const { ::std::cell::RefCell::new(None) };
            }
            $crate::__impl_connector_exports!(
                source_bindings,
                WasmconnectExports,
                $connector,
                CONNECTOR
            );
            impl source_task::Guest for WasmconnectExports {
                fn start(config: $crate::Config) -> ::std::result::Result<(), $crate::TaskError> {
                    let task = <$task as $crate::SourceTask>::start(config)?;
                    TASK.with(|slot| *slot.borrow_mut() = Some(task));
                    Ok(())
                }
                fn poll() -> ::std::result::Result<
                    $crate::source_bindings::wasmconnect::connector::batches::SourceBatch,
                    $crate::TaskError,
                > {
                    $crate::with_started(&TASK, "poll", |t| {
                        <$task as $crate::SourceTask>::poll(t).map($crate::batch::pack_source)
                    })
                }
                fn commit_records(
                    acks: ::std::vec::Vec<$crate::RecordAck>,
                ) -> ::std::result::Result<(), $crate::TaskError> {
                    $crate::with_started(&TASK, "commit-records", |t| {
                        <$task as $crate::SourceTask>::commit_records(t, acks)
                    })
                }
                fn commit() -> ::std::result::Result<(), $crate::TaskError> {
                    $crate::with_started(&TASK, "commit", |t| {
                        <$task as $crate::SourceTask>::commit(t)
                    })
                }
                fn stop() {
                    if let Some(mut t) = TASK.with(|slot| slot.borrow_mut().take()) {
                        <$task as $crate::SourceTask>::stop(&mut t);
                    }
                }
            }
            $crate::source_bindings::__export_source!(WasmconnectExports);
        };
    };
}

/// Exports a sink plugin: `export_sink!(ConnectorType, TaskType)`.
#[cfg(all(feature = "sink", not(feature = "source")))]
#[macro_export]
macro_rules! export_sink {
    ($connector:ty, $task:ty) => {
        const _: () = {
            use $crate::sink_bindings::exports::wasmconnect::connector::sink_task;
            struct WasmconnectExports;
            ::std::thread_local! {
                static CONNECTOR: ::std::cell::RefCell<Option<$connector>> =
                    const { ::std::cell::RefCell::new(None) };
                static TASK: ::std::cell::RefCell<Option<$task>> =
                    const { ::std::cell::RefCell::new(None) };
            }
            $crate::__impl_connector_exports!(
                sink_bindings,
                WasmconnectExports,
                $connector,
                CONNECTOR
            );
            impl sink_task::Guest for WasmconnectExports {
                fn start(config: $crate::Config) -> ::std::result::Result<(), $crate::TaskError> {
                    let task = <$task as $crate::SinkTask>::start(config)?;
                    TASK.with(|slot| *slot.borrow_mut() = Some(task));
                    Ok(())
                }
                fn open(
                    partitions: ::std::vec::Vec<$crate::TopicPartition>,
                ) -> ::std::result::Result<(), $crate::TaskError> {
                    $crate::with_started(&TASK, "open", |t| {
                        <$task as $crate::SinkTask>::open(t, partitions)
                    })
                }
                fn close(
                    partitions: ::std::vec::Vec<$crate::TopicPartition>,
                ) -> ::std::result::Result<(), $crate::TaskError> {
                    $crate::with_started(&TASK, "close", |t| {
                        <$task as $crate::SinkTask>::close(t, partitions)
                    })
                }
                fn put(
                    batch: $crate::sink_bindings::wasmconnect::connector::batches::SinkBatch,
                ) -> ::std::result::Result<(), $crate::TaskError> {
                    let records = $crate::batch::unpack_sink(batch)?;
                    $crate::with_started(&TASK, "put", |t| {
                        <$task as $crate::SinkTask>::put(t, records)
                    })
                }
                fn pre_commit(
                    current: ::std::vec::Vec<$crate::PartitionOffset>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::PartitionOffset>,
                    $crate::TaskError,
                > {
                    $crate::with_started(&TASK, "pre-commit", |t| {
                        <$task as $crate::SinkTask>::pre_commit(t, current)
                    })
                }
                fn stop() {
                    if let Some(mut t) = TASK.with(|slot| slot.borrow_mut().take()) {
                        <$task as $crate::SinkTask>::stop(&mut t);
                    }
                }
            }
            $crate::sink_bindings::__export_sink!(WasmconnectExports);
        };
    };
}

/// Exports a transform plugin: `export_transform!(TransformType)`.
#[cfg(all(feature = "transform", not(any(feature = "source", feature = "sink"))))]
#[macro_export]
macro_rules! export_transform {
    ($transform:ty) => {
        const _: () = {
            use $crate::transform_bindings::exports::wasmconnect::connector::{
                plugin, record_transform as transform,
            };
            struct WasmconnectExports;
            ::std::thread_local! {
                static TRANSFORM: ::std::cell::RefCell<Option<$transform>> =
                    const { ::std::cell::RefCell::new(None) };
            }
            impl plugin::Guest for WasmconnectExports {
                fn metadata() -> $crate::PluginMetadata {
                    <$transform as $crate::Plugin>::metadata()
                }
                fn config_definition() -> ::std::vec::Vec<$crate::ConfigKey> {
                    <$transform as $crate::Plugin>::config_definition()
                }
                fn validate(config: $crate::Config) -> ::std::vec::Vec<$crate::ConfigValue> {
                    <$transform as $crate::Plugin>::validate(&config)
                }
            }
            impl transform::Guest for WasmconnectExports {
                fn configure(
                    config: $crate::Config,
                ) -> ::std::result::Result<(), $crate::TaskError> {
                    let t = <$transform as $crate::Transform>::configure(config)?;
                    TRANSFORM.with(|slot| *slot.borrow_mut() = Some(t));
                    Ok(())
                }
                fn apply(
                    batch: $crate::transform_bindings::wasmconnect::connector::batches::TransformBatch,
                ) -> ::std::result::Result<transform::Applied, $crate::TaskError> {
                    let records = $crate::batch::unpack_transform(batch)?;
                    $crate::with_started(&TRANSFORM, "apply", |t| {
                        <$transform as $crate::Transform>::apply(t, records)
                            .map($crate::batch::pack_applied)
                    })
                }
            }
            $crate::transform_bindings::__export_transform!(WasmconnectExports);
        };
    };
}
