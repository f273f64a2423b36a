// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:database/sql@0.1.0' {
  /**
   * Which database a connection reached.
   * # Variants
   * 
   * ## `"postgresql"`
   * 
   * ## `"mysql"`
   * 
   * ## `"sqlite"`
   */
  export type Dialect = 'postgresql' | 'mysql' | 'sqlite';
  /**
   * What went wrong, with what the database said.
   */
  export interface ErrorDetail {
    /**
     * The driver's or server's message.
     */
    message: string,
    /**
     * SQLSTATE, where the database has one ("23505", "40001").
     */
    sqlstate?: string,
    /**
     * MySQL/MariaDB error number or SQLite extended result code.
     */
    vendorCode?: number,
    /**
     * The connection is unusable: open a new one.
     */
    connectionLost: boolean,
  }
  /**
   * Why a call failed.
   */
  export type DbError = DbErrorNotGranted | DbErrorRetriable | DbErrorFatal;
  /**
   * The URL is not the value of one of this connector's `url` keys,
   * or names something the worker does not allow.
   */
  export interface DbErrorNotGranted {
    tag: 'not-granted',
    val: string,
  }
  /**
   * Transient: connection lost, serialization failure, deadlock,
   * lock wait timeout, too many connections, or a statement
   * cancelled at the call timeout. Retrying the transaction (after
   * reopening when `connection-lost`) may succeed.
   */
  export interface DbErrorRetriable {
    tag: 'retriable',
    val: ErrorDetail,
  }
  /**
   * Permanent for this input: syntax, constraint violation, bad
   * value, permission, missing table.
   */
  export interface DbErrorFatal {
    tag: 'fatal',
    val: ErrorDetail,
  }
  /**
   * A parameter value.
   */
  export type Value = ValueNull | ValueBoolean | ValueInt | ValueFloat32 | ValueFloat64 | ValueDecimal | ValueText | ValueBytes | ValueDate | ValueTime | ValueTimestamp | ValueTimestampTz;
  export interface ValueNull {
    tag: 'null',
  }
  export interface ValueBoolean {
    tag: 'boolean',
    val: boolean,
  }
  export interface ValueInt {
    tag: 'int',
    val: bigint,
  }
  export interface ValueFloat32 {
    tag: 'float32',
    val: number,
  }
  export interface ValueFloat64 {
    tag: 'float64',
    val: number,
  }
  /**
   * An exact number as decimal text ("-12.340").
   */
  export interface ValueDecimal {
    tag: 'decimal',
    val: string,
  }
  export interface ValueText {
    tag: 'text',
    val: string,
  }
  export interface ValueBytes {
    tag: 'bytes',
    val: Uint8Array,
  }
  /**
   * Days since 1970-01-01 (proleptic Gregorian).
   */
  export interface ValueDate {
    tag: 'date',
    val: number,
  }
  /**
   * Microseconds since midnight.
   */
  export interface ValueTime {
    tag: 'time',
    val: bigint,
  }
  /**
   * A timestamp without zone: microseconds since 1970-01-01T00:00,
   * read as UTC.
   */
  export interface ValueTimestamp {
    tag: 'timestamp',
    val: bigint,
  }
  /**
   * An instant: microseconds since the Unix epoch.
   */
  export interface ValueTimestampTz {
    tag: 'timestamp-tz',
    val: bigint,
  }
  /**
   * How a result value is delivered in a `cell`.
   * # Variants
   * 
   * ## `"null"`
   * 
   * ## `"boolean"`
   * 
   * `num` is 0 or 1.
   * ## `"int"`
   * 
   * `num`.
   * ## `"float32"`
   * 
   * `num` holds the f32's bits (low 32).
   * ## `"float64"`
   * 
   * `num` holds the f64's bits.
   * ## `"decimal"`
   * 
   * Decimal text in `bytes`.
   * ## `"text"`
   * 
   * UTF-8 in `bytes` (checked by the host).
   * ## `"bytes"`
   * 
   * `bytes`.
   * ## `"date"`
   * 
   * `num`: days since 1970-01-01.
   * ## `"time"`
   * 
   * `num`: microseconds since midnight.
   * ## `"timestamp"`
   * 
   * `num`: microseconds since 1970-01-01T00:00 without zone.
   * ## `"timestamp-tz"`
   * 
   * `num`: microseconds since the Unix epoch.
   * ## `"other"`
   * 
   * A type the host does not decode (arrays, ranges, geometry):
   * the driver's raw bytes for it in `bytes` (PostgreSQL's binary
   * wire format). Confluent's connectors skip such columns.
   */
  export type ValueKind = 'null' | 'boolean' | 'int' | 'float32' | 'float64' | 'decimal' | 'text' | 'bytes' | 'date' | 'time' | 'timestamp' | 'timestamp-tz' | 'other';
  /**
   * A result column, with what JDBC's `ResultSetMetaData` reports: a
   * source derives Connect schemas from it.
   */
  export interface Column {
    /**
     * The label the query gave it.
     */
    name: string,
    /**
     * The database's own type name ("numeric", "timestamptz",
     * "DECIMAL", "BIGINT UNSIGNED", SQLite's declared type).
     */
    typeName: string,
    /**
     * How its values arrive.
     */
    kind: ValueKind,
    /**
     * `none` when the database cannot tell (expressions).
     */
    nullable?: boolean,
    /**
     * Numeric precision or character length; `none` if unconstrained.
     */
    precision?: number,
    /**
     * Numeric scale; `none` if unconstrained.
     */
    scale?: number,
    /**
     * Whether the database fills it (serial, identity, auto_increment).
     */
    autoIncrement: boolean,
    /**
     * The table it comes from, when it comes straight from one.
     */
    tableName?: string,
  }
  /**
   * Bytes `offset .. offset + len` of a row batch's `data`.
   */
  export interface Span {
    offset: number,
    len: number,
  }
  /**
   * One value of a row.
   */
  export interface Cell {
    kind: ValueKind,
    num: bigint,
    bytes: Span,
  }
  /**
   * Rows packed as `wasmconnect:connector/batches` packs records: one
   * buffer and a fixed-size cell per value, row by row
   * (`cells` has `rows × columns` entries).
   */
  export interface RowBatch {
    data: Uint8Array,
    cells: Array<Cell>,
    rows: number,
    /**
     * The cursor is exhausted: no further `next` returns rows.
     */
    done: boolean,
  }
  
  export class Connection implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Opens `url`, which must be the value of one of this connector's
    * `url` configuration keys. `user` and `password` override the
    * URL's own.
    */
    static open(url: string, user: string | undefined, password: string | undefined): Connection;
    /**
    * The database reached.
    */
    dialect(): Dialect;
    /**
    * Prepares `sql`, written with the dialect's placeholders (`$1`
    * for PostgreSQL, `?` for MySQL and SQLite).
    */
    prepare(sql: string): Statement;
    /**
    * Runs statements without parameters or results (DDL, `SET`),
    * several separated by `;`.
    */
    executeScript(sql: string): void;
    /**
    * Starts a transaction: statements until `commit` or `rollback`
    * take effect together.
    */
    begin(): void;
    commit(): void;
    rollback(): void;
    [Symbol.dispose](): void;
  }
  
  export class Cursor implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The result columns.
    */
    columns(): Array<Column>;
    /**
    * Up to `max-rows` further rows.
    */
    next(maxRows: number): RowBatch;
    [Symbol.dispose](): void;
  }
  
  export class Statement implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The number of parameters.
    */
    parameterCount(): number;
    /**
    * The result columns (empty for statements without results).
    */
    columns(): Array<Column>;
    /**
    * Runs a query; its rows arrive through the cursor. A connection
    * has one open cursor: running another statement on it closes
    * the cursor.
    */
    query(params: Array<Value>): Cursor;
    /**
    * Runs a statement; the rows it affected.
    */
    execute(params: Array<Value>): bigint;
    /**
    * Runs the statement once per parameter row, in order; the rows
    * each affected. The first failure stops the batch.
    */
    executeBatch(rows: Array<Array<Value>>): BigUint64Array;
    [Symbol.dispose](): void;
  }
}
