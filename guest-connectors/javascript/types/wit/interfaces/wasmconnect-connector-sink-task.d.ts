// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-batches.d.ts" />
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/sink-task@0.2.0' {
  /**
   * Starts the task with one of the configurations `task-configs` returned.
   */
  export function start(config: Config): void;
  /**
   * The task was assigned these partitions; records from them follow.
   */
  export function open(partitions: Array<TopicPartition>): void;
  /**
   * The task lost these partitions; write out anything buffered for them.
   */
  export function close(partitions: Array<TopicPartition>): void;
  /**
   * Delivers a batch of records. Return a retriable error to have the
   * same batch delivered again after a backoff.
   */
  export function put(batch: SinkBatch): void;
  /**
   * Called before the host commits consumer offsets. `current` holds the
   * position after the last record delivered to `put` for each partition;
   * return the positions that are safe to commit (normally `current`, after
   * flushing). An empty list commits nothing.
   */
  export function preCommit(current: Array<PartitionOffset>): Array<PartitionOffset>;
  /**
   * Stops the task; no other call follows.
   */
  export function stop(): void;
  export type Config = import('wasmconnect:connector/types@0.2.0').Config;
  export type TopicPartition = import('wasmconnect:connector/types@0.2.0').TopicPartition;
  export type PartitionOffset = import('wasmconnect:connector/types@0.2.0').PartitionOffset;
  export type TaskError = import('wasmconnect:connector/types@0.2.0').TaskError;
  export type SinkBatch = import('wasmconnect:connector/batches@0.2.0').SinkBatch;
}
