// Types of lib/db.js, on the generated wasmconnect:database/sql types.
import type { Column, Dialect, RowBatch, Value } from 'wasmconnect:database/sql@0.1.0';
import { TaskError } from './wasmconnect.js';

export type { Column, Dialect, Value };

export const DEFAULT_BATCH: number;

export class DatabaseError extends TaskError {
  constructor(kind: 'not-granted' | 'retriable' | 'fatal', message: string, detail?: { sqlstate?: string, vendorCode?: number, connectionLost?: boolean });
  readonly kind: 'not-granted' | 'retriable' | 'fatal';
  readonly sqlstate: string | undefined;
  readonly vendorCode: number | undefined;
  readonly connectionLost: boolean;
}

/** What a parameter may be: plain values, or an explicit WIT value (sqlValue.*). */
export type Param = null | undefined | boolean | number | bigint | string | Uint8Array | Date | Value;
/** A value read back: see lib/db.js for the mapping. */
export type SqlResult = null | boolean | number | bigint | string | Uint8Array;
export type Row = Record<string, SqlResult>;

export const sqlValue: Readonly<{
  decimal(text: string | number | bigint): Value,
  float32(n: number): Value,
  date(d: number | string): Value,
  time(micros: number | bigint): Value,
  timestamp(t: number | bigint | Date): Value,
}>;

export function toValue(v: Param, position?: number): Value;
export function unpackRows(batch: RowBatch, columns: Column[]): Row[];

export class Database {
  readonly dialect: Dialect;
  placeholder(n: number): string;
  placeholders(count: number, start?: number): string;
  query(sql: string, values?: Param[], options?: { batch?: number }): Row[];
  queryOne(sql: string, values?: Param[]): Row | undefined;
  iterate(sql: string, values?: Param[], options?: { batch?: number }): Generator<Row, void, undefined>;
  execute(sql: string, values?: Param[]): number;
  executeMany(sql: string, rows: Param[][]): number[];
  executeScript(sql: string): void;
  transaction<R>(f: (db: Database) => R): R;
  close(): void;
}

/** Opens the database a `url` configuration key names. */
export function connect(url: string, credentials?: { user?: string, password?: string }): Database;
