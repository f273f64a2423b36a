// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/batches@0.2.0' {
  export type TimestampType = import('wasmconnect:connector/types@0.2.0').TimestampType;
  /**
   * Bytes `offset .. offset + len` of a batch's `data`.
   */
  export interface Span {
    /**
     * First byte.
     */
    offset: number,
    /**
     * Number of bytes.
     */
    len: number,
  }
  /**
   * Entries `start .. start + count` of a batch's `headers`.
   */
  export interface HeaderRange {
    /**
     * First entry.
     */
    start: number,
    /**
     * Number of entries.
     */
    count: number,
  }
  /**
   * Which case of `types.payload` a packed payload is.
   * # Variants
   * 
   * ## `"binary"`
   * 
   * Raw bytes.
   * ## `"text"`
   * 
   * UTF-8 text.
   * ## `"json"`
   * 
   * A JSON document, with `schema` when it has a Connect schema.
   */
  export type PayloadKind = 'binary' | 'text' | 'json';
  /**
   * A key or value (`types.payload`).
   */
  export interface PackedPayload {
    /**
     * Which form it has.
     */
    kind: PayloadKind,
    /**
     * The bytes, the text or the JSON document.
     */
    bytes: Span,
    /**
     * For `json`: the Connect schema as JSON, when there is one.
     */
    schema?: Span,
  }
  /**
   * A record header (`types.header`).
   */
  export interface PackedHeader {
    /**
     * Header key (UTF-8).
     */
    key: Span,
    /**
     * Header value; `none` is a null value.
     */
    value?: Span,
  }
  /**
   * `types.sink-record`, packed.
   */
  export interface PackedSinkRecord {
    /**
     * Index into the batch's `topics`.
     */
    topic: number,
    /**
     * Partition the record was consumed from.
     */
    partition: number,
    /**
     * Offset of the record in its partition.
     */
    offset: bigint,
    /**
     * Key; `none` is a null key.
     */
    key?: PackedPayload,
    /**
     * Value; `none` is a null value (a tombstone).
     */
    value?: PackedPayload,
    /**
     * The record's entries of the batch's `headers`.
     */
    headers: HeaderRange,
    /**
     * Timestamp in milliseconds since the Unix epoch.
     */
    timestamp?: bigint,
    /**
     * How the timestamp was assigned.
     */
    timestampType: TimestampType,
  }
  /**
   * The records `sink-task.put` delivers.
   */
  export interface SinkBatch {
    /**
     * Every byte the records point to.
     */
    data: Uint8Array,
    /**
     * The batch's distinct topics.
     */
    topics: Array<string>,
    /**
     * Every header of the batch, each record's consecutive.
     */
    headers: Array<PackedHeader>,
    /**
     * The records, in order.
     */
    records: Array<PackedSinkRecord>,
  }
  /**
   * `types.source-record`, packed.
   */
  export interface PackedSourceRecord {
    /**
     * The source partition, a JSON object.
     */
    sourcePartition: Span,
    /**
     * The source offset, a JSON object.
     */
    sourceOffset: Span,
    /**
     * Index into the batch's `topics`.
     */
    topic: number,
    /**
     * Destination partition; `none` lets the producer's partitioner choose.
     */
    partition?: number,
    /**
     * Key; `none` is a null key.
     */
    key?: PackedPayload,
    /**
     * Value; `none` is a null value (a tombstone).
     */
    value?: PackedPayload,
    /**
     * The record's entries of the batch's `headers`.
     */
    headers: HeaderRange,
    /**
     * Timestamp in milliseconds since the Unix epoch; `none` lets the
     * producer stamp the record.
     */
    timestamp?: bigint,
    /**
     * As `types.source-record.ack-token`.
     */
    ackToken?: bigint,
  }
  /**
   * The records `source-task.poll` returns.
   */
  export interface SourceBatch {
    /**
     * Every byte the records point to.
     */
    data: Uint8Array,
    /**
     * The batch's distinct topics.
     */
    topics: Array<string>,
    /**
     * Every header of the batch, each record's consecutive.
     */
    headers: Array<PackedHeader>,
    /**
     * The records, in order.
     */
    records: Array<PackedSourceRecord>,
  }
  /**
   * `types.transform-record`, packed.
   */
  export interface PackedTransformRecord {
    /**
     * Index into the batch's `topics`.
     */
    topic: number,
    /**
     * Partition, when known.
     */
    partition?: number,
    /**
     * Key; `none` is a null key.
     */
    key?: PackedPayload,
    /**
     * Value; `none` is a null value.
     */
    value?: PackedPayload,
    /**
     * The record's entries of the batch's `headers`.
     */
    headers: HeaderRange,
    /**
     * Timestamp in milliseconds since the Unix epoch.
     */
    timestamp?: bigint,
  }
  /**
   * Records a transform reads or writes.
   */
  export interface TransformBatch {
    /**
     * Every byte the records point to.
     */
    data: Uint8Array,
    /**
     * The batch's distinct topics.
     */
    topics: Array<string>,
    /**
     * Every header of the batch, each record's consecutive.
     */
    headers: Array<PackedHeader>,
    /**
     * The records, in order.
     */
    records: Array<PackedTransformRecord>,
  }
}
