// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-batches.d.ts" />
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/record-transform@0.2.0' {
  /**
   * Configures the transform with its (prefix-stripped) settings.
   */
  export function configure(config: Config): void;
  /**
   * Transforms a batch.
   */
  export function apply(batch: TransformBatch): Applied;
  export type Config = import('wasmconnect:connector/types@0.2.0').Config;
  export type TaskError = import('wasmconnect:connector/types@0.2.0').TaskError;
  export type TransformBatch = import('wasmconnect:connector/batches@0.2.0').TransformBatch;
  /**
   * What to do with one input record.
   */
  export type Outcome = OutcomeKeep | OutcomeDrop | OutcomeReplace;
  /**
   * Pass the record on unchanged.
   */
  export interface OutcomeKeep {
    tag: 'keep',
  }
  /**
   * Drop the record.
   */
  export interface OutcomeDrop {
    tag: 'drop',
  }
  /**
   * Pass on this entry of the result's `replacements` instead (each
   * entry serves one outcome).
   */
  export interface OutcomeReplace {
    tag: 'replace',
    val: number,
  }
  /**
   * What `apply` made of a batch.
   */
  export interface Applied {
    /**
     * Exactly one outcome per input record, in order.
     */
    outcomes: Array<Outcome>,
    /**
     * The records `replace` outcomes point to.
     */
    replacements: TransformBatch,
  }
}
