//! The `errant-records` capability (Kafka's `ErrantRecordReporter`,
//! KIP-610): a sink task reports records it could not write during `put`;
//! the host keeps them, and the task loop hands them to the connector's
//! error handling once the call returns (`crate::worker::sink_task`).

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::types::SinkRecord;
use crate::bindings::v0_2::wasmconnect::connector::errant_records as errant_records_v0_2;
use crate::bindings::wasmconnect::connector::errant_records::{self, Host};

/// Reports kept per call at most: a guest reporting without end runs into
/// an error instead of the worker's memory.
const MAX_REPORTS: usize = 100_000;

/// This capability's share of an instance's state.
#[derive(Default)]
pub struct ErrantRecordsState {
    reported: Vec<(SinkRecord, String)>,
    /// `errors.tolerance=all`: reports are answered with success.
    tolerated: bool,
}

impl ErrantRecordsState {
    /// Whether the connector tolerates errors (the answer reports get).
    pub fn tolerate(&mut self, tolerated: bool) {
        self.tolerated = tolerated;
    }

    /// The records reported since the last call, with their errors.
    pub fn take(&mut self) -> Vec<(SinkRecord, String)> {
        std::mem::take(&mut self.reported)
    }
}

/// A store whose data holds an [`ErrantRecordsState`].
pub trait ErrantRecordsView: Send {
    /// The instance's errant-records state.
    fn errant_records(&mut self) -> &mut ErrantRecordsState;
}

/// Adds the `errant-records` import, both contract versions, to `linker`.
pub fn add_to_linker<T: ErrantRecordsView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    errant_records::add_to_linker::<T, HasSelf<ErrantRecordsState>>(linker, T::errant_records)?;
    errant_records_v0_2::add_to_linker::<T, HasSelf<ErrantRecordsState>>(linker, T::errant_records)
}

impl Host for ErrantRecordsState {
    fn report(
        &mut self,
        record: SinkRecord,
        error: String,
    ) -> wasmtime::Result<Result<(), String>> {
        if self.reported.len() >= MAX_REPORTS {
            return Ok(Err(format!(
                "more than {MAX_REPORTS} errant records reported in one call"
            )));
        }
        self.reported.push((record, error));
        Ok(if self.tolerated {
            Ok(())
        } else {
            // The full trace comes when the task loop reports the record.
            Err("Tolerance exceeded in error handler".to_string())
        })
    }
}

/// 0.2.0's `errant-records`: the same call (a reported record is still a
/// `types.sink-record`, which 0.2.0 shares).
impl errant_records_v0_2::Host for ErrantRecordsState {
    fn report(
        &mut self,
        record: SinkRecord,
        error: String,
    ) -> wasmtime::Result<Result<(), String>> {
        Host::report(self, record, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_kept_until_taken_and_answered_by_tolerance() {
        let mut state = ErrantRecordsState::default();
        assert!(
            state
                .report(SinkRecord::bare("t", 0, 1), "bad".into())
                .unwrap()
                .is_err()
        );
        state.tolerate(true);
        assert!(
            state
                .report(SinkRecord::bare("t", 0, 2), "worse".into())
                .unwrap()
                .is_ok()
        );
        let taken = state.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[1].0.offset, 2);
        assert_eq!(taken[1].1, "worse");
        assert!(state.take().is_empty());
    }
}
