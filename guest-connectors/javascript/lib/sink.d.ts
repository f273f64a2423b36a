// Types of lib/sink.js (defineSink), on the contract's generated types.
import type { SinkBatch } from 'wasmconnect:connector/batches@0.2.0';
import type * as wit from 'wasmconnect:connector/types@0.2.0';
import type { ConnectorExport, ConnectorSpec } from './connector.js';
import type { PluginExport } from './wasmconnect.js';

export { sleepUnlessStopped } from './connector.js';

/** A record put receives: topic, partition, offset (BigInt), key, value, headers, timestamp, timestampType. */
export type SinkRecord = wit.SinkRecord;
export type TopicPartition = wit.TopicPartition;
export type PartitionOffset = wit.PartitionOffset;

/** What a sink task class provides. */
export interface SinkTask {
  put(records: SinkRecord[]): void | Promise<void>;
  open?(partitions: TopicPartition[]): void | Promise<void>;
  close?(partitions: TopicPartition[]): void | Promise<void>;
  /** Writes out what is buffered before the worker commits `offsets`. */
  flush?(offsets: PartitionOffset[]): void | Promise<void>;
  /** The offsets safe to commit (instead of flush). */
  preCommit?(offsets: PartitionOffset[]): PartitionOffset[] | Promise<PartitionOffset[]>;
  stop?(): void;
}

export interface SinkSpec<S, T extends SinkTask> extends ConnectorSpec<S, T> {}

export function defineSink<S, T extends SinkTask>(spec: SinkSpec<S, T>): {
  plugin: PluginExport,
  connector: ConnectorExport,
  sinkTask: {
    start(config: wit.Config): void,
    open(partitions: TopicPartition[]): void | Promise<void>,
    close(partitions: TopicPartition[]): void | Promise<void>,
    put(batch: SinkBatch): void | Promise<void>,
    preCommit(current: PartitionOffset[]): PartitionOffset[] | Promise<PartitionOffset[]>,
    stop(): void,
  },
};

/** Reports a record put was given as failed (Kafka's ErrantRecordReporter); the host's trace if the task will fail. */
export function reportErrant(record: SinkRecord, error: unknown): string | undefined;
