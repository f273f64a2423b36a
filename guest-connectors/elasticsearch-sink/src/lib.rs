//! Confluent's ElasticsearchSinkConnector as a wasmconnect component
//! (`io.confluent.connect.elasticsearch.ElasticsearchSinkConnector`):
//! records to Elasticsearch 7/8 or OpenSearch 1/2 indices over `_bulk`,
//! through the worker's outbound HTTP (`wasi:http`), which lets requests
//! reach only the servers of `connection.url`.
//!
//! * Topic → index, lowercased as Confluent does; the index is created
//!   when missing and, unless `schema.ignore`, given the mapping the
//!   record's Connect schema implies.
//! * Document ids: the record key, or `topic+partition+offset` with
//!   `key.ignore=true`, so a retried or replayed record overwrites itself.
//!   With keys, documents carry the offset as an external version, so an
//!   older record replayed later does not overwrite a newer one.
//! * Batching: `put` buffers; a `_bulk` request goes out when `batch.size`
//!   records wait, when the oldest has waited `linger.ms`, when
//!   `max.buffered.records` is reached, and at every flush (before the
//!   worker commits offsets), so a committed offset is always written.
//!   Up to `max.in.flight.requests` requests are sent at once.
//! * Failures: an unreachable server, HTTP 429 or 5xx, and items refused
//!   for now are retried with doubling waits from `retry.backoff.ms`,
//!   `max.retries` times, after which the task fails naming the server
//!   and its last answer. A document refused as malformed follows
//!   `behavior.on.malformed.documents`; one that cannot be built follows
//!   `drop.invalid.message`; a failing record goes to the worker's
//!   `errors.tolerance` and dead letter queue.

mod bulk;
mod client;
mod config;
mod documents;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use bulk::{Action, Item, Outcome};
use client::Client;
use config::{EsConfig, Malformed, NullValues};
use serde_json::Value as Json;
use wasmconnect_sdk::{
    Config, ConfigKey, PartitionOffset, PluginKind, PluginMetadata, Redelivery,
    ReplicatingSinkConnector, SinkDescription, SinkRecord, SinkTask, TaskError, TopicPartition,
    debug, errant, fatal, info, problems_error, retriable, warn,
};

/// Doubling retry waits stop growing here.
const MAX_BACKOFF_MS: u64 = 30_000;

/// The connector role: every task runs the connector's configuration.
pub struct ElasticsearchSink;

impl SinkDescription for ElasticsearchSink {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector".into(),
            aliases: vec![
                "ElasticsearchSinkConnector".into(),
                "ElasticsearchSink".into(),
            ],
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Sink,
            description: "Writes records to Elasticsearch or OpenSearch indices".into(),
            task_class: Some("io.confluent.connect.elasticsearch.ElasticsearchSinkTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::definition()
    }

    fn problems(config: &[(String, String)]) -> Vec<(String, String)> {
        EsConfig::parse(config).err().unwrap_or_default()
    }
}

/// A record waiting to be sent, with what it asks of its index.
struct Pending {
    item: Item,
    record: SinkRecord,
}

/// The task: buffers records and writes them with `_bulk`.
pub struct ElasticsearchSinkTask {
    cfg: EsConfig,
    client: Client,
    buffer: Vec<Pending>,
    /// When the oldest buffered record arrived.
    oldest: Option<Instant>,
    /// What was taken already: the worker redelivers a batch after a
    /// retriable failure, and what is buffered or written is not taken twice.
    taken: Redelivery,
    /// Indices known to exist, and the schema to map a new one with.
    indices: HashSet<String>,
    new_indices: HashMap<String, Option<Json>>,
    retries_left: u32,
}

impl SinkTask for ElasticsearchSinkTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let cfg = EsConfig::parse(&config).map_err(problems_error)?;
        info!(
            "Elasticsearch sink writing to {} ({} write, key.ignore={}, schema.ignore={})",
            cfg.urls.join(", "),
            if cfg.upsert { "upsert" } else { "insert" },
            cfg.key_ignore,
            cfg.schema_ignore
        );
        Ok(ElasticsearchSinkTask {
            client: Client::new(&cfg),
            retries_left: cfg.max_retries,
            cfg,
            buffer: Vec::new(),
            oldest: None,
            taken: Redelivery::default(),
            indices: HashSet::new(),
            new_indices: HashMap::new(),
        })
    }

    fn open(&mut self, partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        // The consumer starts these from their committed offsets.
        self.taken.forget(&partitions);
        Ok(())
    }

    fn close(&mut self, partitions: Vec<TopicPartition>) -> Result<(), TaskError> {
        // Their offsets were not committed past what is buffered: the
        // partitions' next owner reads those records again, so they are
        // dropped here rather than sent (which could fail the task while
        // the server is down, as Confluent's close does not send either).
        self.buffer.retain(|p| {
            !partitions
                .iter()
                .any(|c| c.topic == p.record.topic && c.partition == p.record.partition)
        });
        if self.buffer.is_empty() {
            self.oldest = None;
        }
        self.taken.forget(&partitions);
        Ok(())
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), TaskError> {
        for record in records {
            if !self.taken.first_time(&record) {
                continue;
            }
            match self.prepare(&record) {
                Ok(Some(item)) => {
                    self.oldest.get_or_insert_with(Instant::now);
                    self.buffer.push(Pending { item, record });
                }
                Ok(None) => {}
                Err(why) if self.cfg.drop_invalid => {
                    warn!("Dropping {}: {why}", describe(&record));
                }
                Err(why) => errant(&record, &why)?,
            }
        }
        let lingered = self
            .oldest
            .is_some_and(|t| t.elapsed().as_millis() >= u128::from(self.cfg.linger_ms));
        if self.buffer.len() >= self.cfg.batch_size.min(self.cfg.buffered) || lingered {
            self.send_buffered()?;
        }
        Ok(())
    }

    fn flush(&mut self, _current: &[PartitionOffset]) -> Result<(), TaskError> {
        self.send_buffered()
    }
}

impl ElasticsearchSinkTask {
    /// What `record` asks of its index; `Ok(None)` when nothing (a null
    /// value that is ignored); `Err` says why it cannot be written.
    fn prepare(&mut self, record: &SinkRecord) -> Result<Option<Item>, String> {
        let index = documents::index_name(&record.topic);
        let ignore_key = self.cfg.ignores_key(&record.topic);
        let version = (!ignore_key).then_some(record.offset);
        let id = |r: &SinkRecord| {
            if ignore_key {
                Ok(documents::generated_id(&r.topic, r.partition, r.offset))
            } else {
                documents::key_id(r.key.as_ref())
            }
        };
        let Some(value) = &record.value else {
            return match self.cfg.null_values {
                NullValues::Ignore => Ok(None),
                // Without a key there is no document to delete.
                NullValues::Delete if !ignore_key && record.key.is_none() => Ok(None),
                NullValues::Delete => Ok(Some(Item {
                    id: id(record)?,
                    index,
                    action: Action::Delete { version },
                })),
                NullValues::Fail => Err(
                    "the record's value is null (to write tombstones as deletes set behavior.on.null.values=DELETE, to skip them IGNORE)".into(),
                ),
            };
        };
        let (doc, schema) = documents::document(value, self.cfg.ignores_schema(&record.topic))?;
        let id = id(record)?;
        if !self.indices.contains(&index) {
            let entry = self.new_indices.entry(index.clone()).or_default();
            if entry.is_none() {
                *entry = schema;
            }
        }
        let action = if self.cfg.upsert {
            Action::Upsert { doc }
        } else {
            Action::Index { doc, version }
        };
        Ok(Some(Item { index, id, action }))
    }

    /// Creates the indices records are about to go to, with mappings from
    /// their schemas (Confluent does this before the first write).
    fn create_indices(&mut self) -> Result<(), Failure> {
        let wanted: Vec<(String, Option<Json>)> = self.new_indices.drain().collect();
        for (n, (index, schema)) in wanted.iter().enumerate() {
            if let Err(f) = self.create_index(index, schema.as_ref()) {
                // Whatever was not created is tried again next time.
                self.new_indices.extend(wanted[n..].iter().cloned());
                return Err(f);
            }
            self.indices.insert(index.clone());
        }
        Ok(())
    }

    fn create_index(&mut self, index: &str, schema: Option<&Json>) -> Result<(), Failure> {
        let server = self.client.server().to_string();
        let created = self
            .client
            .send(self.client.request("PUT", &format!("/{index}")));
        let answer = created.map_err(|e| Failure::from_http(&server, e))?;
        let exists =
            answer.status == 400 && answer.text().contains("resource_already_exists_exception");
        if !(200..300).contains(&answer.status) && !exists {
            return Err(Failure::from_status(
                &server,
                &format!("creating index {index}"),
                &answer,
            ));
        }
        let Some(mapping) = schema.and_then(documents::mapping) else {
            return Ok(());
        };
        // An index someone else created keeps the mapping it has.
        if exists {
            let got = self
                .client
                .send(self.client.request("GET", &format!("/{index}/_mapping")))
                .map_err(|e| Failure::from_http(&server, e))?;
            let current: Json = serde_json::from_slice(&got.body).unwrap_or(Json::Null);
            let has = current[index]["mappings"]["properties"]
                .as_object()
                .is_some_and(|p| !p.is_empty());
            if has {
                return Ok(());
            }
        }
        let put = self
            .client
            .request("PUT", &format!("/{index}/_mapping"))
            .header("content-type", "application/json")
            .body(mapping.to_string());
        let answer = self
            .client
            .send(put)
            .map_err(|e| Failure::from_http(&server, e))?;
        if !(200..300).contains(&answer.status) {
            return Err(Failure::from_status(
                &server,
                &format!("creating the mapping of index {index}"),
                &answer,
            ));
        }
        debug!("Created index {index} with a mapping from the record schema");
        Ok(())
    }

    /// Sends everything buffered. Items the server refuses for now stay
    /// buffered and the worker retries after a backoff.
    fn send_buffered(&mut self) -> Result<(), TaskError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let outcome = self.create_indices().and_then(|()| self.send_all());
        match outcome {
            Ok(()) => {
                self.oldest = None;
                self.retries_left = self.cfg.max_retries;
                Ok(())
            }
            Err(Failure::Retry(why)) => Err(self.retry(why)),
            Err(Failure::Fatal(why)) => Err(fatal(why)),
        }
    }

    /// Sends the buffer in `_bulk` requests, `max.in.flight.requests` at a
    /// time; keeps what must be sent again.
    fn send_all(&mut self) -> Result<(), Failure> {
        let started = Instant::now();
        let pending = std::mem::take(&mut self.buffer);
        let chunks = chunked(pending, self.cfg.batch_size, self.cfg.bulk_bytes);
        let mut again: Vec<Pending> = Vec::new();
        let mut last_retry: Option<String> = None;
        let mut fatal_failure: Option<String> = None;
        let mut groups = chunks.into_iter().peekable();
        while groups.peek().is_some() {
            let group: Vec<Vec<Pending>> = groups.by_ref().take(self.cfg.in_flight).collect();
            if fatal_failure.is_some()
                || started.elapsed().as_millis() > u128::from(self.cfg.flush_timeout_ms)
            {
                last_retry.get_or_insert_with(|| {
                    format!(
                        "flush.timeout.ms={} passed before everything was sent",
                        self.cfg.flush_timeout_ms
                    )
                });
                again.extend(group.into_iter().flatten());
                continue;
            }
            let server = self.client.server().to_string();
            let requests = group
                .iter()
                .map(|chunk| {
                    let items: Vec<&Item> = chunk.iter().map(|p| &p.item).collect();
                    self.client
                        .request("POST", "/_bulk")
                        .header("content-type", "application/x-ndjson")
                        .body(bulk::body(&items, self.cfg.type_name.as_deref()))
                })
                .collect();
            let answers = self.client.send_all(requests);
            for (chunk, answer) in group.into_iter().zip(answers) {
                let outcomes = match answer {
                    Err(e) if e.is_retriable() => Err(Outcome::Retry(format!("{server}: {e}"))),
                    Err(e) => Err(Outcome::Failed(format!("{server}: {e}"))),
                    Ok(r) => bulk::outcomes(r.status, &r.body, chunk.len()),
                };
                match outcomes {
                    Err(Outcome::Retry(why)) => {
                        last_retry = Some(why);
                        again.extend(chunk);
                    }
                    Err(Outcome::Failed(why)) | Err(Outcome::Malformed(why)) => {
                        fatal_failure = Some(format!(
                            "Elasticsearch at {server} refused a _bulk request: {why}"
                        ));
                        again.extend(chunk);
                    }
                    Err(Outcome::Done) => {}
                    Ok(list) => {
                        for (p, outcome) in chunk.into_iter().zip(list) {
                            match outcome {
                                Outcome::Done => {}
                                Outcome::Retry(why) => {
                                    last_retry = Some(format!("{server}: {why}"));
                                    again.push(p);
                                }
                                Outcome::Malformed(why) => match self.cfg.malformed {
                                    Malformed::Ignore => debug!(
                                        "Ignoring malformed document {}: {why}",
                                        describe(&p.record)
                                    ),
                                    Malformed::Warn => warn!(
                                        "Ignoring malformed document {}: {why}",
                                        describe(&p.record)
                                    ),
                                    Malformed::Fail => {
                                        if let Err(e) = errant(
                                            &p.record,
                                            &format!(
                                                "the document was refused as malformed: {why}"
                                            ),
                                        ) {
                                            fatal_failure = Some(task_message(&e));
                                        }
                                    }
                                },
                                Outcome::Failed(why) => {
                                    if let Err(e) = errant(
                                        &p.record,
                                        &format!("Elasticsearch refused it: {why}"),
                                    ) {
                                        fatal_failure = Some(task_message(&e));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        self.buffer = again;
        if let Some(why) = fatal_failure {
            return Err(Failure::Fatal(why));
        }
        match last_retry {
            Some(why) if !self.buffer.is_empty() => Err(Failure::Retry(why)),
            _ => Ok(()),
        }
    }

    /// A retriable error after a doubling wait, until `max.retries` are
    /// used up; then a fatal one naming the last answer.
    fn retry(&mut self, why: String) -> TaskError {
        if self.retries_left == 0 {
            return fatal(format!(
                "Failed to write to Elasticsearch ({}) after max.retries={} retries: {why}",
                self.cfg.urls.join(", "),
                self.cfg.max_retries
            ));
        }
        let attempt = self.cfg.max_retries - self.retries_left;
        self.retries_left -= 1;
        let backoff = self
            .cfg
            .retry_backoff_ms
            .saturating_mul(1u64 << attempt.min(20))
            .min(MAX_BACKOFF_MS);
        warn!(
            "Writing to Elasticsearch failed, retrying in {backoff} ms ({} retries left): {why}",
            self.retries_left
        );
        retriable(why, Some(u32::try_from(backoff).unwrap_or(u32::MAX)))
    }
}

/// Why sending stopped.
enum Failure {
    Retry(String),
    Fatal(String),
}

impl Failure {
    fn from_http(server: &str, e: wasmconnect_sdk::http::HttpError) -> Failure {
        if e.is_retriable() {
            Failure::Retry(format!("{server}: {e}"))
        } else {
            Failure::Fatal(format!("{server}: {e}"))
        }
    }

    fn from_status(server: &str, what: &str, r: &wasmconnect_sdk::http::Response) -> Failure {
        let why = format!(
            "{server} answered HTTP {} {what}: {}",
            r.status,
            bulk::abridged(&r.text())
        );
        if r.status == 429 || r.status >= 500 {
            Failure::Retry(why)
        } else {
            Failure::Fatal(why)
        }
    }
}

/// Splits `pending` into `_bulk` requests of at most `batch` items and
/// `bytes` bytes (a single larger item goes alone).
fn chunked(pending: Vec<Pending>, batch: usize, bytes: usize) -> Vec<Vec<Pending>> {
    let mut chunks: Vec<Vec<Pending>> = Vec::new();
    let mut size = 0;
    for p in pending {
        let n = p.item.size();
        match chunks.last_mut() {
            Some(last) if last.len() < batch && size + n <= bytes => {
                size += n;
                last.push(p);
            }
            _ => {
                size = n;
                chunks.push(vec![p]);
            }
        }
    }
    chunks
}

fn describe(r: &SinkRecord) -> String {
    format!(
        "(topic='{}',partition={},offset={})",
        r.topic, r.partition, r.offset
    )
}

fn task_message(e: &TaskError) -> String {
    match e {
        TaskError::Fatal(m) => m.clone(),
        TaskError::Retriable(r) => r.message.clone(),
    }
}

wasmconnect_sdk::export_sink!(
    ReplicatingSinkConnector<ElasticsearchSink>,
    ElasticsearchSinkTask
);
