//! Source tasks' producers, shared: one librdkafka producer per distinct
//! producer configuration in a worker, where Kafka Connect gives every
//! task its own.
//!
//! A producer costs librdkafka's main thread, a thread per broker, the
//! polling thread, and its own buffers and connections: a worker running
//! 1,000 source tasks with a producer each ran 4,000 threads. Tasks whose
//! settings are the same (the worker's `producer.*` and no
//! `producer.override.*`, the common case) now share one. What stays per
//! task:
//! - acknowledgements: each record carries a [`Ticket`](super::acks::Ticket)
//!   naming its task's tracker, so a delivery report reaches the task that
//!   sent the record, and a failed delivery fails only that task;
//! - waiting for them: a stopping task waits for its own records (its
//!   tracker's count), never flushes the shared producer;
//! - transactions: an exactly-once task's producer has a transactional id of
//!   its own (fencing works per id), so those tasks create their own
//!   producer and do not come here.
//!
//! A shared producer's client id is `connector-producer-shared-<n>` unless
//! the worker's settings name one. A task whose connector overrides any
//! producer setting (the client id included) gets a producer of its own,
//! shared only with tasks whose settings match it exactly. A producer that
//! librdkafka declared unusable (a fatal idempotence error) is not handed
//! out again: the tasks that held it fail and their successors get a new
//! one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use rdkafka::ClientConfig;
use rdkafka::producer::{Producer, ThreadedProducer};

use super::acks::AckContext;
use crate::config::clients::describe_client_error;

/// A source task's producer.
pub type SourceProducer = ThreadedProducer<AckContext>;

/// The producers a worker's source tasks share, by their settings.
#[derive(Default)]
pub struct ProducerPool {
    shared: Mutex<Vec<Shared>>,
    created: AtomicU64,
}

/// A producer in use, and the settings it was made with.
struct Shared {
    settings: Vec<(String, String)>,
    producer: Weak<SourceProducer>,
}

impl ProducerPool {
    /// A producer for `settings`, a task's producer settings whose client
    /// id is `task_client_id` unless the worker or the connector set
    /// another: the producer already running with the same settings (but
    /// for that per-task id), or a new one.
    pub fn get(
        &self,
        mut settings: ClientConfig,
        task_client_id: &str,
    ) -> Result<Arc<SourceProducer>, String> {
        let own_id = settings.get("client.id") == Some(task_client_id);
        if own_id {
            settings.remove("client.id");
        }
        let key: Vec<(String, String)> = settings
            .config_map()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut shared = self
            .shared
            .lock()
            .map_err(|_| "the producer pool is poisoned".to_string())?;
        shared.retain(|s| s.producer.strong_count() > 0);
        let running = shared
            .iter()
            .filter(|s| s.settings == key)
            .find_map(|s| s.producer.upgrade());
        if let Some(producer) = running {
            if producer.client().fatal_error().is_none() {
                return Ok(producer);
            }
            shared.retain(|s| s.settings != key);
        }
        if own_id {
            let n = self.created.fetch_add(1, Ordering::Relaxed);
            settings.set("client.id", format!("connector-producer-shared-{n}"));
        }
        let producer = Arc::new(
            settings
                .create_with_context(AckContext)
                .map_err(|e| describe_client_error("producer", &e))?,
        );
        shared.push(Shared {
            settings: key,
            producer: Arc::downgrade(&producer),
        });
        Ok(producer)
    }

    /// Producers alive now.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.shared
            .lock()
            .map(|s| s.iter().filter(|s| s.producer.strong_count() > 0).count())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings that create a producer without reaching a broker
    /// (librdkafka connects lazily).
    fn settings(client_id: &str, linger: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", "127.0.0.1:1")
            .set("client.id", client_id)
            .set("linger.ms", linger);
        c
    }

    /// The producer `pool` gives a task whose client id is its default,
    /// `client_id`.
    fn task_producer(pool: &ProducerPool, client_id: &str, linger: &str) -> Arc<SourceProducer> {
        pool.get(settings(client_id, linger), client_id).unwrap()
    }

    #[test]
    fn tasks_with_the_same_settings_share_one_producer() {
        let pool = ProducerPool::default();
        let a = task_producer(&pool, "connector-producer-a-0", "5");
        let b = task_producer(&pool, "connector-producer-b-3", "5");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(pool.live(), 1);
        let other = task_producer(&pool, "connector-producer-c-0", "50");
        assert!(!Arc::ptr_eq(&a, &other), "different settings, own producer");
        assert_eq!(pool.live(), 2);
    }

    #[test]
    fn a_client_id_someone_chose_is_a_setting_like_any_other() {
        let pool = ProducerPool::default();
        let a = pool
            .get(settings("billing", "5"), "connector-producer-a-0")
            .unwrap();
        let b = task_producer(&pool, "connector-producer-b-0", "5");
        assert!(!Arc::ptr_eq(&a, &b));
        let c = pool
            .get(settings("billing", "5"), "connector-producer-c-0")
            .unwrap();
        assert!(Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn a_producer_nobody_holds_is_forgotten() {
        let pool = ProducerPool::default();
        let a = task_producer(&pool, "connector-producer-a-0", "5");
        drop(a);
        assert_eq!(pool.live(), 0);
        let _b = task_producer(&pool, "connector-producer-a-0", "5");
        assert_eq!(pool.live(), 1);
    }
}
