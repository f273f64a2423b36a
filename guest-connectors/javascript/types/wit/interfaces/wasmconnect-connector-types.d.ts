// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:connector/types@0.2.0' {
  /**
   * A configuration map: Kafka Connect's `Map<String, String>`, in the
   * order the host received it. Keys are unique.
   */
  export type Config = Array<[string, string]>;
  /**
   * A JSON document as UTF-8 text. Source partitions and source offsets are
   * JSON *objects* (Kafka Connect stores them as JSON maps).
   */
  export type Json = string;
  /**
   * A Kafka topic partition.
   */
  export interface TopicPartition {
    /**
     * Topic name.
     */
    topic: string,
    /**
     * Partition number.
     */
    partition: number,
  }
  /**
   * A consumer position: the offset of the *next* record to read from a
   * partition (Kafka's `OffsetAndMetadata`).
   */
  export interface PartitionOffset {
    /**
     * Topic name.
     */
    topic: string,
    /**
     * Partition number.
     */
    partition: number,
    /**
     * Next offset to consume.
     */
    offset: bigint,
  }
  /**
   * A JSON value together with its optional Kafka Connect schema.
   */
  export interface JsonPayload {
    /**
     * The value as a JSON document (any JSON value, not only objects).
     */
    document: Json,
    /**
     * The Connect schema as JSON, in JsonConverter's schema format
     * (for example `{"type":"string","optional":false}`); `none` means
     * the value is schemaless.
     */
    schema?: Json,
  }
  /**
   * The key or the value of a record.
   * 
   * Sources choose the form that matches their data; the worker's
   * converters turn it into bytes. Sinks receive the form the configured
   * converter produced: `binary` from ByteArrayConverter, `text` from
   * StringConverter, `json` from JsonConverter.
   */
  export type Payload = PayloadBinary | PayloadText | PayloadJson;
  /**
   * Raw bytes, passed through unchanged.
   */
  export interface PayloadBinary {
    tag: 'binary',
    val: Uint8Array,
  }
  /**
   * UTF-8 text.
   */
  export interface PayloadText {
    tag: 'text',
    val: string,
  }
  /**
   * A JSON document with an optional Connect schema.
   */
  export interface PayloadJson {
    tag: 'json',
    val: JsonPayload,
  }
  /**
   * A Kafka record header.
   */
  export interface Header {
    /**
     * Header key.
     */
    key: string,
    /**
     * Header value; `none` is a null header value.
     */
    value?: Uint8Array,
  }
  /**
   * A record produced by a source task (Kafka Connect's `SourceRecord`).
   */
  export interface SourceRecord {
    /**
     * Where the record came from, as a JSON object
     * (for example `{"filename":"/data/in.txt"}`).
     */
    sourcePartition: Json,
    /**
     * How far into that source partition this record is, as a JSON
     * object (for example `{"position":42}`). The host stores the offset
     * of the last record Kafka acknowledged and hands it back through
     * `offsets.read` after a restart.
     */
    sourceOffset: Json,
    /**
     * Destination topic.
     */
    topic: string,
    /**
     * Destination partition; `none` lets the producer's partitioner choose.
     */
    partition?: number,
    /**
     * Record key; `none` is a null key.
     */
    key?: Payload,
    /**
     * Record value; `none` is a null value (a tombstone).
     */
    value?: Payload,
    /**
     * Record headers.
     */
    headers: Array<Header>,
    /**
     * Timestamp in milliseconds since the Unix epoch; `none` lets the
     * producer stamp the record.
     */
    timestamp?: bigint,
    /**
     * A token the task chooses when it wants to hear about this record's
     * fate through `source-task.commit-records`; `none` skips it.
     */
    ackToken?: bigint,
  }
  /**
   * How a sink record's timestamp was assigned.
   * # Variants
   * 
   * ## `"no-timestamp"`
   * 
   * The record has no timestamp.
   * ## `"create-time"`
   * 
   * Set by the producer.
   * ## `"log-append-time"`
   * 
   * Set by the broker when it appended the record.
   */
  export type TimestampType = 'no-timestamp' | 'create-time' | 'log-append-time';
  /**
   * A record delivered to a sink task (Kafka Connect's `SinkRecord`).
   */
  export interface SinkRecord {
    /**
     * Topic the record was consumed from.
     */
    topic: string,
    /**
     * Partition the record was consumed from.
     */
    partition: number,
    /**
     * Offset of the record in its partition.
     */
    offset: bigint,
    /**
     * Record key after conversion; `none` is a null key.
     */
    key?: Payload,
    /**
     * Record value after conversion; `none` is a null value (a tombstone).
     */
    value?: Payload,
    /**
     * Record headers.
     */
    headers: Array<Header>,
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
   * A record as seen by a transform (Kafka Connect's `ConnectRecord`).
   */
  export interface TransformRecord {
    /**
     * Topic.
     */
    topic: string,
    /**
     * Partition, when known.
     */
    partition?: number,
    /**
     * Key; `none` is a null key.
     */
    key?: Payload,
    /**
     * Value; `none` is a null value.
     */
    value?: Payload,
    /**
     * Headers.
     */
    headers: Array<Header>,
    /**
     * Timestamp in milliseconds since the Unix epoch.
     */
    timestamp?: bigint,
  }
  /**
   * A transient failure: the host waits and retries the same call with the
   * same input (Kafka Connect's `RetriableException`).
   */
  export interface RetriableError {
    /**
     * What went wrong, in plain words.
     */
    message: string,
    /**
     * How long the task would like the host to wait before retrying,
     * in milliseconds; `none` uses the host's backoff policy.
     */
    backoffMs?: number,
  }
  /**
   * Why a call failed.
   */
  export type TaskError = TaskErrorRetriable | TaskErrorFatal;
  /**
   * Transient: retry the same call later.
   */
  export interface TaskErrorRetriable {
    tag: 'retriable',
    val: RetriableError,
  }
  /**
   * Permanent: the host stops the task and reports it FAILED with this
   * message in its status `trace`.
   */
  export interface TaskErrorFatal {
    tag: 'fatal',
    val: string,
  }
}
