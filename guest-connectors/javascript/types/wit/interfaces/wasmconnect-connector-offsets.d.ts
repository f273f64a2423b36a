// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/offsets@0.2.0' {
  /**
   * Looks up the last committed offset of each source partition (JSON
   * objects). The result is aligned with `partitions`; `none` means no
   * offset has been committed for that partition.
   */
  export function read(partitions: Array<Json>): Array<Json | undefined>;
  export type Json = import('wasmconnect:connector/types@0.2.0').Json;
  export type TaskError = import('wasmconnect:connector/types@0.2.0').TaskError;
}
