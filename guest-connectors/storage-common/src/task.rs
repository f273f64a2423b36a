//! The sink task of a storage connector, whatever its store: records into
//! files ([`crate::writer`]), files into the store in order, offsets
//! committed only as far as the store holds. A connector supplies its
//! [`Store`] built [`FromConfig`], and exports `StorageTask<ItsStore>` as
//! its task.
//!
//! A store that fails for now ([`StoreError::Retry`]) makes the call
//! return a retriable error after a doubling wait, until `retries` are used
//! up; files wait in order, and the records the worker then delivers
//! again are not taken twice.

use std::collections::VecDeque;

use wasmconnect_sdk::{
    Config, PartitionOffset, Redelivery, SinkRecord, SinkTask, TaskError, TopicPartition, debug,
    errant, fatal, retriable, warn,
};

use crate::settings::StorageSettings;
use crate::writer::{Done, Writer};

/// Doubling retry waits stop growing here.
const MAX_BACKOFF_MS: u64 = 30_000;

/// Why a store did not take a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Worth retrying: unreachable, timed out, busy.
    Retry(String),
    /// Not worth retrying: refused, misconfigured.
    Fatal(String),
}

/// Where files go.
pub trait Store {
    /// Checks the store before the first file (a bucket exists, say).
    fn prepare(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Stores `file` whole: after `Ok` a reader sees all of it, before it
    /// none of it.
    fn store(&mut self, file: &Done) -> Result<(), StoreError>;
    /// "S3 store http://…", for messages.
    fn describe(&self) -> String;
}

/// A store a connector configuration describes: the connector's task is
/// then `StorageTask<ItsStore>`.
pub trait FromConfig: Store + Sized {
    /// The store, the storage settings and the retries `config` asks for;
    /// `Err` refuses it.
    fn from_config(
        config: &[(String, String)],
    ) -> Result<(Self, StorageSettings, Retries), TaskError>;
}

/// How failed stores are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    /// Retries before the task fails.
    pub max: u32,
    /// The first wait; it doubles with each retry.
    pub backoff_ms: u64,
    /// The configuration key of `max`, for messages.
    pub key: &'static str,
}

/// A storage sink task's state.
pub struct StorageTask<S: Store> {
    store: S,
    writer: Writer,
    pending: VecDeque<Done>,
    taken: Redelivery,
    prepared: bool,
    retries: Retries,
    retries_left: u32,
}

impl<S: Store> StorageTask<S> {
    pub fn new(store: S, settings: StorageSettings, retries: Retries) -> StorageTask<S> {
        StorageTask {
            store,
            writer: Writer::new(settings),
            pending: VecDeque::new(),
            taken: Redelivery::default(),
            prepared: false,
            retries_left: retries.max,
            retries,
        }
    }

    /// Partitions assigned or revoked: the consumer reads them again from
    /// their committed offsets, so what was not stored is dropped.
    fn forget(&mut self, partitions: &[TopicPartition]) {
        self.taken.forget(partitions);
        self.writer.forget(partitions);
        self.pending.retain(|d| {
            !partitions
                .iter()
                .any(|p| p.topic == d.topic && p.partition == d.partition)
        });
    }

    fn store_pending(&mut self) -> Result<(), TaskError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if !self.prepared {
            self.store.prepare().map_err(|e| self.failed(e))?;
            self.prepared = true;
        }
        while let Some(file) = self.pending.front() {
            if let Err(e) = self.store.store(file) {
                return Err(self.failed(e));
            }
            debug!(
                "Stored {} ({} records, {} bytes)",
                file.path,
                file.records,
                file.data.len()
            );
            self.writer.stored(file);
            self.pending.pop_front();
            self.retries_left = self.retries.max;
        }
        Ok(())
    }

    fn failed(&mut self, e: StoreError) -> TaskError {
        let store = self.store.describe();
        match e {
            StoreError::Fatal(why) => fatal(format!("{store} refused: {why}")),
            StoreError::Retry(why) if self.retries_left == 0 => fatal(format!(
                "Failed to write to {store} after {}={} retries: {why}",
                self.retries.key, self.retries.max
            )),
            StoreError::Retry(why) => {
                let attempt = self.retries.max - self.retries_left;
                self.retries_left -= 1;
                let backoff = self
                    .retries
                    .backoff_ms
                    .saturating_mul(1u64 << attempt.min(20))
                    .min(MAX_BACKOFF_MS);
                warn!(
                    "Writing to {store} failed, retrying in {backoff} ms ({} retries left): {why}",
                    self.retries_left
                );
                retriable(why, Some(u32::try_from(backoff).unwrap_or(u32::MAX)))
            }
        }
    }
}

impl<S: FromConfig> SinkTask for StorageTask<S> {
    fn start(config: Config) -> Result<Self, TaskError> {
        let (store, settings, retries) = S::from_config(&config)?;
        Ok(StorageTask::new(store, settings, retries))
    }

    fn open(&mut self, partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        self.forget(&partitions);
        Ok(())
    }

    fn close(&mut self, partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        self.forget(&partitions);
        Ok(())
    }

    /// The records into files, and the files done into the store.
    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        let now = now_ms();
        for record in &records {
            if !self.taken.first_time(record) {
                continue;
            }
            match self.writer.add(record, now) {
                Ok(done) => self.pending.extend(done),
                Err(why) => {
                    errant(record, &why)?;
                    self.writer.skip(record);
                }
            }
        }
        self.pending.extend(self.writer.tick(now));
        self.store_pending()
    }

    /// Stores what is done; answers the offsets the store holds, among the
    /// partitions of `current`.
    fn pre_commit(
        &mut self,
        current: Vec<PartitionOffset>,
    ) -> Result<Vec<PartitionOffset>, TaskError> {
        self.pending.extend(self.writer.tick(now_ms()));
        self.store_pending()?;
        Ok(self
            .writer
            .committable()
            .into_iter()
            .filter(|s| {
                current
                    .iter()
                    .any(|c| c.topic == s.topic && c.partition == s.partition)
            })
            .collect())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
