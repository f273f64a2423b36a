//! The `offsets` capability: the committed source offsets a source task
//! resumes from (Kafka's `OffsetStorageReader`).
//!
//! Source partitions and offsets are JSON objects. Partitions are compared
//! in canonical form (keys sorted, no whitespace), so `{"b":1,"a":2}` and
//! `{"a":2,"b":1}` name the same partition.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::types::TaskError;
use crate::bindings::v0_2::wasmconnect::connector::offsets as offsets_v0_2;
use crate::bindings::wasmconnect::connector::offsets::{self, Host};

/// Where committed source offsets are read from.
pub trait OffsetReader: Send + Sync {
    /// The committed offset of each of `connector`'s `partitions`
    /// (canonical JSON), aligned with `partitions`.
    fn read(&self, connector: &str, partitions: &[String]) -> Result<Vec<Option<String>>, String>;
}

/// `json` re-serialised canonically, or an error naming what is wrong.
pub fn canonical_object(json: &str) -> Result<String, String> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v.to_string()),
        Ok(_) => Err(format!("expected a JSON object, got {json}")),
        Err(e) => Err(format!("not valid JSON ({e}): {json}")),
    }
}

/// Offsets kept in memory, keyed by connector and canonical partition.
#[derive(Debug, Default)]
pub struct MemoryOffsets {
    offsets: Mutex<HashMap<(String, String), String>>,
}

impl MemoryOffsets {
    /// Records `offset` for `connector`'s `partition` (both JSON objects).
    pub fn put(&self, connector: &str, partition: &str, offset: &str) -> Result<(), String> {
        let key = (connector.to_string(), canonical_object(partition)?);
        let value = canonical_object(offset)?;
        self.offsets
            .lock()
            .map_err(|_| "offset store lock poisoned".to_string())?
            .insert(key, value);
        Ok(())
    }
}

impl OffsetReader for MemoryOffsets {
    fn read(&self, connector: &str, partitions: &[String]) -> Result<Vec<Option<String>>, String> {
        let offsets = self
            .offsets
            .lock()
            .map_err(|_| "offset store lock poisoned".to_string())?;
        partitions
            .iter()
            .map(|p| Ok(offsets.get(&(connector.to_string(), p.clone())).cloned()))
            .collect()
    }
}

/// This capability's share of an instance's state.
pub struct OffsetsState {
    connector: Arc<str>,
    reader: Option<Arc<dyn OffsetReader>>,
}

impl OffsetsState {
    /// `connector`'s offsets from `reader` (none: the instance sees an
    /// empty store).
    pub fn new(connector: Arc<str>, reader: Option<Arc<dyn OffsetReader>>) -> Self {
        OffsetsState { connector, reader }
    }
}

/// A store whose data holds an [`OffsetsState`].
pub trait OffsetsView: Send {
    /// The instance's offsets state.
    fn offsets(&mut self) -> &mut OffsetsState;
}

/// Adds the `offsets` import, both contract versions, to `linker`.
pub fn add_to_linker<T: OffsetsView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    offsets::add_to_linker::<T, HasSelf<OffsetsState>>(linker, T::offsets)?;
    offsets_v0_2::add_to_linker::<T, HasSelf<OffsetsState>>(linker, T::offsets)
}

impl Host for OffsetsState {
    fn read(
        &mut self,
        partitions: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<Option<String>>, TaskError>> {
        let canonical: Result<Vec<String>, String> =
            partitions.iter().map(|p| canonical_object(p)).collect();
        let canonical = match canonical {
            Ok(c) => c,
            Err(e) => {
                return Ok(Err(TaskError::Fatal(format!(
                    "invalid source partition: {e}"
                ))));
            }
        };
        // An instance given no offset store sees an empty one.
        let Some(reader) = &self.reader else {
            return Ok(Ok(vec![None; canonical.len()]));
        };
        Ok(reader.read(&self.connector, &canonical).map_err(|e| {
            TaskError::Retriable(crate::bindings::types::RetriableError {
                message: format!("cannot read source offsets: {e}"),
                backoff_ms: None,
            })
        }))
    }
}

/// 0.2.0's `offsets`: the same call.
impl offsets_v0_2::Host for OffsetsState {
    fn read(
        &mut self,
        partitions: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<Option<String>>, TaskError>> {
        Host::read(self, partitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_match_whatever_their_key_order() {
        let store = MemoryOffsets::default();
        store
            .put("c", r#"{"b":1,"a":"x"}"#, r#"{"position":7}"#)
            .unwrap();
        let got = store
            .read("c", &[canonical_object(r#"{ "a":"x", "b":1 }"#).unwrap()])
            .unwrap();
        assert_eq!(got, vec![Some(r#"{"position":7}"#.to_string())]);
        assert_eq!(
            store
                .read("other", &[canonical_object(r#"{"a":"x","b":1}"#).unwrap()])
                .unwrap(),
            vec![None]
        );
    }

    #[test]
    fn non_objects_are_refused_with_the_reason() {
        assert!(
            canonical_object("[1]")
                .unwrap_err()
                .contains("expected a JSON object")
        );
        assert!(
            canonical_object("{")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }
}
