//! The worker's view of Kafka: where it is, whether it answers,
//! creating the topics connectors write to, and the producers source tasks
//! share ([`super::producers`]).
//!
//! With `bootstrap.servers` absent or `embedded`, the worker starts
//! librdkafka's in-process mock cluster. It is for trying wasmconnect on a
//! machine with nothing installed: data lives in memory only and each
//! partition keeps at most 5 MiB, so the worker says so loudly.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::mocking::MockCluster;
use tokio::sync::oneshot;

use super::producers::ProducerPool;
use crate::config::KafkaTarget;
use crate::config::clients::{admin, describe_client_error};

type CreateRequest = (String, i32, oneshot::Sender<Result<(), String>>);

/// Kafka as the worker uses it.
pub struct Kafka {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
    embedded: Option<Mutex<mpsc::Sender<CreateRequest>>>,
    known_topics: Mutex<HashSet<String>>,
    cluster_id: Mutex<Option<String>>,
    producers: ProducerPool,
}

impl Kafka {
    /// Connects to `target` (starting the embedded cluster if asked for).
    pub fn connect(
        target: &KafkaTarget,
        admin_settings: &[(String, String)],
    ) -> Result<Kafka, String> {
        let (bootstrap, embedded) = match target {
            KafkaTarget::Bootstrap(servers) => (servers.clone(), None),
            KafkaTarget::Embedded => {
                let (bootstrap, requests) = start_embedded()?;
                tracing::warn!(
                    bootstrap = %bootstrap,
                    "EMBEDDED DEV BROKER: bootstrap.servers is absent or `embedded`, so this worker runs librdkafka's \
                     in-process mock cluster. Data lives in memory only and is lost when the worker stops; \
                     set bootstrap.servers to use a real Kafka cluster"
                );
                (bootstrap, Some(Mutex::new(requests)))
            }
        };
        let admin = admin(&bootstrap, admin_settings)
            .create()
            .map_err(|e| describe_client_error("admin", &e))?;
        Ok(Kafka {
            bootstrap,
            admin,
            embedded,
            known_topics: Mutex::new(HashSet::new()),
            cluster_id: Mutex::new(None),
            producers: ProducerPool::default(),
        })
    }

    /// The bootstrap servers clients use.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The producers the worker's source tasks share.
    pub fn producers(&self) -> &ProducerPool {
        &self.producers
    }

    /// Whether this is the in-process mock cluster.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Waits until the cluster answers a metadata request, or says why not;
    /// remembers the cluster id.
    pub async fn check_reachable(&self, timeout: Duration) -> Result<(), String> {
        let bootstrap = self.bootstrap.clone();
        let probe = tokio::task::spawn_blocking(move || -> Result<Option<String>, String> {
            let consumer: BaseConsumer = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .create()
                .map_err(|e| describe_client_error("metadata", &e))?;
            consumer.fetch_metadata(None, timeout).map_err(|e| {
                format!(
                    "cannot reach Kafka at {bootstrap} within {} ms: {e}",
                    timeout.as_millis()
                )
            })?;
            Ok(consumer.client().fetch_cluster_id(timeout))
        });
        let id = probe.await.map_err(|e| e.to_string())??;
        if let Ok(mut c) = self.cluster_id.lock() {
            *c = id;
        }
        Ok(())
    }

    /// The Kafka cluster id, when the cluster reported one.
    pub fn cluster_id(&self) -> Option<String> {
        self.cluster_id.lock().ok().and_then(|c| c.clone())
    }

    /// Creates `topic` unless it exists (or was created before by this
    /// worker). `partitions` and `replication` of -1 take the broker's
    /// defaults.
    pub async fn ensure_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication: i32,
    ) -> Result<(), String> {
        if self
            .known_topics
            .lock()
            .map(|t| t.contains(topic))
            .unwrap_or(false)
        {
            return Ok(());
        }
        if let Some(embedded) = &self.embedded {
            let (tx, rx) = oneshot::channel();
            embedded
                .lock()
                .map_err(|_| "embedded broker lock poisoned".to_string())?
                .send((topic.to_string(), partitions.max(1), tx))
                .map_err(|_| "the embedded broker has stopped".to_string())?;
            rx.await
                .map_err(|_| "the embedded broker has stopped".to_string())??;
        } else {
            let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
            let results = self
                .admin
                .create_topics(
                    &[new],
                    &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
                )
                .await
                .map_err(|e| format!("cannot create topic {topic}: {e}"))?;
            for result in results {
                match result {
                    Ok(_) => tracing::info!(topic, partitions, replication, "created topic"),
                    Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => return Err(format!("cannot create topic {topic}: {code}")),
                }
            }
        }
        if let Ok(mut known) = self.known_topics.lock() {
            known.insert(topic.to_string());
        }
        Ok(())
    }
}

/// Starts the mock cluster on its own thread (it is not `Send`); topic
/// creation requests reach it over a channel.
fn start_embedded() -> Result<(String, mpsc::Sender<CreateRequest>), String> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (req_tx, req_rx) = mpsc::channel::<CreateRequest>();
    std::thread::Builder::new()
        .name("embedded-kafka".into())
        .spawn(move || {
            let cluster = match MockCluster::new(1) {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot start the embedded broker: {e}")));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
            // Serve until every sender is gone (the worker stopped).
            while let Ok((topic, partitions, reply)) = req_rx.recv() {
                let result = match cluster.create_topic(&topic, partitions, 1) {
                    // Two tasks writing to one new topic race to create it.
                    Err(e)
                        if e.rdkafka_error_code() == Some(RDKafkaErrorCode::TopicAlreadyExists) =>
                    {
                        Ok(())
                    }
                    other => other.map_err(|e| {
                        format!("cannot create topic {topic} on the embedded broker: {e}")
                    }),
                };
                let _ = reply.send(result);
            }
        })
        .map_err(|e| format!("cannot start the embedded broker thread: {e}"))?;
    let bootstrap = ready_rx
        .recv()
        .map_err(|_| "the embedded broker thread ended before it started".to_string())??;
    Ok((bootstrap, req_tx))
}
