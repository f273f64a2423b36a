//! Confluent's S3SinkConnector as a wasmconnect component
//! (`io.confluent.connect.s3.S3SinkConnector`): records to objects in any
//! S3-compatible store, through the worker's outbound HTTP (`wasi:http`),
//! which lets requests reach only `store.url`.
//!
//! Objects are named as Confluent names them,
//! `<topics.dir>/<topic>/<encodedPartition>/<topic>+<kafkaPartition>+<startOffset>.<ext>`,
//! rotate by `flush.size`, `rotate.interval.ms` and
//! `rotate.schedule.interval.ms`, and are partitioned by the Default,
//! Field or TimeBased partitioners (`storage-common`). Offsets are
//! committed only once the objects holding their records are stored, so a
//! task that restarts writes the same objects again: no record is lost and
//! none appears in two objects (Confluent's exactly-once property).
//! Objects over `s3.part.size` go up as multipart uploads; requests are
//! signed with AWS Signature Version 4 (`sigv4.rs`). A store that cannot
//! be reached, or answers 5xx, 429 or `SlowDown`, is retried with doubling
//! waits from `s3.retry.backoff.ms`, `s3.part.retries` times, after which
//! the task fails naming the store and its answer.

mod config;
mod sigv4;
mod store;

use config::S3Config;
use storage_common::task::StorageTask;
use store::Bucket;
use wasmconnect_sdk::{
    ConfigKey, PluginKind, PluginMetadata, ReplicatingSinkConnector, SinkDescription,
};

/// The connector role: every task runs the connector's configuration.
pub struct S3Sink;

impl SinkDescription for S3Sink {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.confluent.connect.s3.S3SinkConnector".into(),
            aliases: vec!["S3SinkConnector".into(), "S3Sink".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Writes records to objects in S3 or any S3-compatible store, exactly once"
                .into(),
            task_class: Some("io.confluent.connect.s3.S3SinkTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::definition()
    }

    fn problems(config: &[(String, String)]) -> Vec<(String, String)> {
        S3Config::parse(config).err().unwrap_or_default()
    }
}

// The task: records into files, files into objects (`storage-common`).
wasmconnect_sdk::export_sink!(ReplicatingSinkConnector<S3Sink>, StorageTask<Bucket>);
