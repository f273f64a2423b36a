// Types of lib/source.js (defineSource), on the contract's generated types.
import type { SourceBatch } from 'wasmconnect:connector/batches@0.2.0';
import type { RecordAck } from 'wasmconnect:connector/source-task@0.2.0';
import type * as wit from 'wasmconnect:connector/types@0.2.0';
import type { ConnectorExport, ConnectorSpec } from './connector.js';
import type { Header, Payload, PluginExport } from './wasmconnect.js';

export { sleepUnlessStopped } from './connector.js';

/** A JSON object: a source partition or offset. */
export type JsonObject = { [key: string]: unknown };

/** A record poll returns. */
export interface SourceRecord {
  /** Where it came from ({ table: 'orders' }), or that object's JSON text. */
  sourcePartition: JsonObject | string;
  /** How far into that partition ({ incrementing: 42 }), or its JSON text. */
  sourceOffset: JsonObject | string;
  topic: string;
  /** The Kafka partition; the producer's partitioner chooses when absent. */
  partition?: number;
  key?: Payload | null;
  value?: Payload | null;
  headers?: Header[];
  /** Milliseconds since the epoch; the producer stamps the record when absent. */
  timestamp?: number | bigint | Date;
  /** Asks for this record's fate through commitRecords. */
  ackToken?: number | bigint;
}

/** The fate of a record that carried an ackToken. */
export interface Ack {
  token: bigint;
  /** Where Kafka wrote it; undefined when filtered. */
  written: { partition: number, offset: bigint } | undefined;
  /** A transform dropped it. */
  filtered: boolean;
}

/** What a source task class provides. */
export interface SourceTask {
  poll(): SourceRecord[] | undefined | void | Promise<SourceRecord[] | undefined | void>;
  commitRecords?(acks: Ack[]): void | Promise<void>;
  commit?(): void | Promise<void>;
  stop?(): void;
}

export interface SourceSpec<S, T extends SourceTask> extends ConnectorSpec<S, T> {}

export function defineSource<S, T extends SourceTask>(spec: SourceSpec<S, T>): {
  plugin: PluginExport,
  connector: ConnectorExport,
  sourceTask: {
    start(config: wit.Config): void,
    poll(): SourceBatch | Promise<SourceBatch>,
    commitRecords(acks: RecordAck[]): void | Promise<void>,
    commit(): void | Promise<void>,
    stop(): void,
  },
};

/** The committed offsets of these source partitions, in order (null where none). */
export function committedOffsets(partitions: Array<JsonObject | string>): Array<any | null>;
/** The committed offset of one source partition, or null. */
export function committedOffset(partition: JsonObject | string): any | null;
