// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/errant-records@0.2.0' {
  /**
   * Reports `errant`, a record `put` was given, as failed with `error`.
   * Returns the trace the task fails with when the connector does not
   * tolerate errors (`errors.tolerance=none`, the default): the task
   * fails once `put` returns, whatever `put` returns.
   */
  export function report(errant: SinkRecord, error: string): void;
  export type SinkRecord = import('wasmconnect:connector/types@0.2.0').SinkRecord;
}
