//! Confluent's HdfsSinkConnector as a wasmconnect component
//! (`io.confluent.connect.hdfs.HdfsSinkConnector`) for HDFS 3 over
//! WebHDFS, through the worker's outbound HTTP (`wasi:http`), which lets
//! requests reach only `hdfs.url` and `webhdfs.datanode.urls`.
//!
//! Files are named as Confluent names them,
//! `<topics.dir>/<topic>/<encodedPartition>/<topic>+<partition>+<start>+<end>.<ext>`,
//! cut by `flush.size`, `rotate.interval.ms` and
//! `rotate.schedule.interval.ms`, partitioned by the Default, Field or
//! TimeBased partitioners and written as JSON lines or text
//! (`storage-common`). Each is written under `logs.dir` and renamed into
//! place (`webhdfs.rs`), and offsets are committed only once their files
//! are in place, so a task that restarts writes the same files again: no
//! record lost, none in two files. Where Confluent's connector keeps a
//! write-ahead log in `logs.dir` to finish interrupted renames, a rename
//! here is one namenode call that either happened or did not.

mod config;
mod webhdfs;

use config::HdfsConfig;
use storage_common::task::StorageTask;
use wasmconnect_sdk::{
    ConfigKey, PluginKind, PluginMetadata, ReplicatingSinkConnector, SinkDescription,
};
use webhdfs::Hdfs;

/// The connector role: every task runs the connector's configuration.
pub struct HdfsSink;

impl SinkDescription for HdfsSink {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.confluent.connect.hdfs.HdfsSinkConnector".into(),
            aliases: vec!["HdfsSinkConnector".into(), "HdfsSink".into()],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Writes records to files in HDFS over WebHDFS, exactly once".into(),
            task_class: Some("io.confluent.connect.hdfs.HdfsSinkTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::definition()
    }

    fn problems(config: &[(String, String)]) -> Vec<(String, String)> {
        HdfsConfig::parse(config).err().unwrap_or_default()
    }
}

// The task: records into files, files into HDFS (`storage-common`).
wasmconnect_sdk::export_sink!(ReplicatingSinkConnector<HdfsSink>, StorageTask<Hdfs>);
