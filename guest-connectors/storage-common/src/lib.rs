//! What Confluent's storage sinks (S3, HDFS) share, as pure logic over the
//! SDK's sink records, so each connector adds only its store:
//!
//! * [`settings`]: the keys both read (`topics.dir`, `flush.size`,
//!   `rotate.*`, `partitioner.class` and its keys, `format.class`, …),
//!   with Confluent's names, defaults and checks;
//! * [`partitioner`]: the directory a record goes to (Default, Field and
//!   TimeBased partitioners, with Joda-style `path.format`);
//! * [`format`]: the bytes a record becomes (JSON lines, raw bytes);
//! * [`writer`]: files per topic partition and encoded partition, when
//!   they rotate (`flush.size`, `rotate.interval.ms`,
//!   `rotate.schedule.interval.ms`), their names
//!   (`<topics.dir>/<topic>/<encodedPartition>/<topic>+<partition>+<startOffset>.<ext>`)
//!   and the offsets that are safe to commit once they are stored;
//! * [`task`]: the sink task over a connector's store.
//!
//! Files are named by their first record's offset and offsets are
//! committed only after the files holding them are stored, so a task that
//! restarts rebuilds the same files and overwrites them: exactly once in
//! the store, as Confluent's connectors do. Tested on the host:
//! `cargo test -p storage-common --target x86_64-unknown-linux-gnu`.

pub mod format;
pub mod partitioner;
pub mod settings;
pub mod task;
pub mod time;
pub mod writer;
