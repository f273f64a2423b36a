// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-batches.d.ts" />
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/source-task@0.2.0' {
  /**
   * Starts the task with one of the configurations `task-configs` returned.
   */
  export function start(config: Config): void;
  /**
   * Returns the next batch of records; an empty batch means nothing is
   * ready yet. Return regularly (within a second or so) so the task can be
   * paused or stopped.
   */
  export function poll(): SourceBatch;
  /**
   * Reports that records were acknowledged (or filtered). Called in
   * batches, in the order the records were polled.
   */
  export function commitRecords(acks: Array<RecordAck>): void;
  /**
   * Called after the host durably stored the offsets of every record it
   * acknowledged so far (Kafka's `SourceTask.commit`).
   */
  export function commit(): void;
  /**
   * Stops the task; no other call follows.
   */
  export function stop(): void;
  export type Config = import('wasmconnect:connector/types@0.2.0').Config;
  export type TaskError = import('wasmconnect:connector/types@0.2.0').TaskError;
  export type SourceBatch = import('wasmconnect:connector/batches@0.2.0').SourceBatch;
  /**
   * What became of a record that carried an `ack-token`.
   */
  export type AckStatus = AckStatusWritten | AckStatusFiltered;
  /**
   * Kafka acknowledged the record at this partition and offset.
   */
  export interface AckStatusWritten {
    tag: 'written',
    val: [number, bigint],
  }
  /**
   * A transform dropped the record; it was never written.
   */
  export interface AckStatusFiltered {
    tag: 'filtered',
  }
  /**
   * The fate of one record, identified by the token the task gave it.
   */
  export interface RecordAck {
    /**
     * The record's `ack-token`.
     */
    token: bigint,
    /**
     * What happened to it.
     */
    status: AckStatus,
  }
}
