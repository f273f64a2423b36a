// Databases the connector's configuration names (the
// `wasmconnect:database/sql@0.1.0` import, wit/deps/database.wit).
//
//   import { connect } from 'wasmconnect/db.js';
//   const db = connect(settings.url, { user, password });
//   const rows = db.query(`SELECT id, name FROM t WHERE id > ${db.placeholder(1)}`, [41]);
//   // → [{ id: 42, name: 'x' }, …]
//   db.transaction(() => db.executeMany('INSERT INTO t (id, name) VALUES (?, ?)', [[1, 'a'], [2, 'b']]));
//
// The URL must be the value of one of the connector's configuration keys
// declared with `resource: 'url'` (JDBC form `jdbc:sqlite:/path/x.db`,
// `jdbc:postgresql://host/db`, or native `postgres://…`, `sqlite:/path`):
// the worker grants exactly those databases, within its
// sandbox.allowed.hosts / sandbox.allowed.dirs. Importing this module
// makes build.sh build the app for the `source-with-database` or
// `sink-with-database` world.
//
// Values, JavaScript → database: null/undefined → NULL, boolean,
// integer numbers and BigInt → int (64-bit), other numbers → float64,
// string → text, Uint8Array → bytes, Date → timestamp-tz; sqlValue.*()
// builds any other (decimal, date, time, timestamp, float32).
// Database → JavaScript: NULL → null, boolean, int → number (BigInt
// beyond ±2^53), float → number, decimal → string ("12.340"), text →
// string, bytes and `other` → Uint8Array, date → 'YYYY-MM-DD', time →
// 'HH:MM:SS[.ffffff]', timestamp → 'YYYY-MM-DDTHH:MM:SS[.ffffff]',
// timestamp-tz → the same with 'Z': exact, and ready for JSON.
//
// Failures throw a DatabaseError (a TaskError): retriable for lost
// connections, deadlocks and timeouts (the worker retries the call),
// fatal otherwise, with the database's message and SQLSTATE.

import { Connection as HostConnection } from 'wasmconnect:database/sql@0.1.0';
import { TaskError } from './wasmconnect.js';

/** Rows fetched per host call unless a query says otherwise. */
export const DEFAULT_BATCH = 500;

/** A failed database call; `kind` is 'not-granted', 'retriable' or 'fatal'. */
export class DatabaseError extends TaskError {
  constructor(kind, message, detail = {}) {
    const text = kind === 'not-granted'
      ? `database not granted: ${message}`
      : detail.sqlstate ? `${message} (SQLSTATE ${detail.sqlstate})` : message;
    super(text, kind === 'retriable' ? { tag: 'retriable', val: { message: text, backoffMs: undefined } } : { tag: 'fatal', val: text });
    this.name = 'DatabaseError';
    this.kind = kind;
    this.sqlstate = detail.sqlstate;
    this.vendorCode = detail.vendorCode;
    this.connectionLost = Boolean(detail.connectionLost);
  }
}

// Runs a host call, turning a db-error into a DatabaseError.
function host(f) {
  try {
    return f();
  } catch (e) {
    const p = e?.payload;
    if (p?.tag === 'not-granted') throw new DatabaseError('not-granted', p.val);
    if (p?.tag === 'retriable' || p?.tag === 'fatal') throw new DatabaseError(p.tag, p.val.message, p.val);
    throw e;
  }
}

function dispose(resource) {
  const d = typeof Symbol.dispose === 'symbol' ? resource?.[Symbol.dispose] : undefined;
  if (typeof d === 'function') d.call(resource);
}

/** Explicit database values, for what the plain JavaScript types do not say. */
export const sqlValue = Object.freeze({
  decimal: (text) => ({ tag: 'decimal', val: String(text) }),
  float32: (n) => ({ tag: 'float32', val: Number(n) }),
  /** Days since 1970-01-01, or a 'YYYY-MM-DD' string. */
  date: (d) => ({ tag: 'date', val: typeof d === 'string' ? Math.round(Date.parse(`${d}T00:00:00Z`) / 86_400_000) : d }),
  /** Microseconds since midnight. */
  time: (micros) => ({ tag: 'time', val: BigInt(micros) }),
  /** A zoneless timestamp: microseconds since 1970-01-01T00:00, or a Date read as UTC. */
  timestamp: (t) => ({ tag: 'timestamp', val: t instanceof Date ? BigInt(t.getTime()) * 1000n : BigInt(t) }),
});

const TAGS = new Set(['null', 'boolean', 'int', 'float32', 'float64', 'decimal', 'text', 'bytes', 'date', 'time', 'timestamp', 'timestamp-tz']);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The WIT `value` of a JavaScript value (see the module header). */
export function toValue(v, position = 1) {
  if (v === null || v === undefined) return { tag: 'null' };
  switch (typeof v) {
    case 'boolean':
      return { tag: 'boolean', val: v };
    case 'number':
      return Number.isInteger(v) ? { tag: 'int', val: BigInt(v) } : { tag: 'float64', val: v };
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) throw new DatabaseError('fatal', `parameter ${position}: ${v} does not fit in 64 bits: pass sqlValue.decimal('${v}')`);
      return { tag: 'int', val: v };
    case 'string':
      return { tag: 'text', val: v };
    default:
  }
  if (v instanceof Uint8Array) return { tag: 'bytes', val: v };
  if (v instanceof Date) return { tag: 'timestamp-tz', val: BigInt(v.getTime()) * 1000n };
  if (typeof v === 'object' && TAGS.has(v.tag)) return v;
  throw new DatabaseError('fatal', `parameter ${position}: cannot pass ${Array.isArray(v) ? 'an array' : typeof v} to the database`);
}

const params = (list) => {
  if (!Array.isArray(list)) throw new DatabaseError('fatal', `parameters must be an array, not ${typeof list}`);
  return list.map((v, i) => toValue(v, i + 1));
};

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });
const pad = (n, w = 2) => String(n).padStart(w, '0');
const bits = new DataView(new ArrayBuffer(8));

function fraction(micros) {
  return micros === 0 ? '' : `.${pad(micros, 6)}`;
}

function dateText(days) {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  return `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function timeText(micros) {
  const s = Math.floor(micros / 1_000_000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${fraction(micros % 1_000_000)}`;
}

function timestampText(micros) {
  const days = Number(micros / 86_400_000_000n) - (micros % 86_400_000_000n < 0n ? 1 : 0);
  const rest = Number(micros - BigInt(days) * 86_400_000_000n);
  return `${dateText(days)}T${timeText(rest)}`;
}

function intValue(n) {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
}

function cellValue(cell, data, column) {
  const span = cell.bytes;
  const bytes = () => {
    const end = span.offset + span.len;
    if (end > data.length) throw new DatabaseError('fatal', `the host sent a malformed row batch: column ${column.name}: bytes ${span.offset}..${end} lie outside ${data.length}`);
    return data.subarray(span.offset, end);
  };
  const num = cell.num;
  switch (cell.kind) {
    case 'null': return null;
    case 'boolean': return num !== 0n;
    case 'int': return intValue(num);
    case 'float32':
      bits.setUint32(0, Number(BigInt.asUintN(32, num)));
      return bits.getFloat32(0);
    case 'float64':
      bits.setBigInt64(0, num);
      return bits.getFloat64(0);
    case 'decimal':
    case 'text':
      return utf8.decode(bytes());
    case 'date': return dateText(Number(num));
    case 'time': return timeText(Number(num));
    case 'timestamp': return timestampText(num);
    case 'timestamp-tz': return `${timestampText(num)}Z`;
    default: return bytes().slice();
  }
}

/** The rows of a row batch as objects keyed by column name. */
export function unpackRows(batch, columns) {
  const width = columns.length;
  const { rows, cells } = batch;
  if (cells.length !== rows * width) {
    throw new DatabaseError('fatal', `the host sent a malformed row batch: ${cells.length} cells for ${rows} rows of ${width} columns`);
  }
  const data = new Uint8Array(batch.data.buffer, batch.data.byteOffset, batch.data.length);
  const out = new Array(rows);
  for (let r = 0, c = 0; r < rows; r++) {
    const row = {};
    for (let k = 0; k < width; k++, c++) row[columns[k].name] = cellValue(cells[c], data, columns[k]);
    out[r] = row;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

/** An open database connection (see connect). */
export class Database {
  #handle;
  #inTransaction = false;

  constructor(handle) {
    this.#handle = handle;
    /** 'postgresql', 'mysql' or 'sqlite'. */
    this.dialect = host(() => handle.dialect());
  }

  #open() {
    if (this.#handle === undefined) throw new DatabaseError('fatal', 'the connection is closed');
    return this.#handle;
  }

  // Runs `f` on a prepared statement and lets the statement go.
  #withStatement(sql, f) {
    const handle = this.#open();
    const statement = host(() => handle.prepare(sql));
    try {
      return f(statement);
    } finally {
      dispose(statement);
    }
  }

  /** The dialect's placeholder for parameter `n` (from 1): `$n` on PostgreSQL, `?` elsewhere. */
  placeholder(n) {
    return this.dialect === 'postgresql' ? `$${n}` : '?';
  }

  /** `count` placeholders separated by commas, from `start`. */
  placeholders(count, start = 1) {
    return Array.from({ length: count }, (_, i) => this.placeholder(start + i)).join(', ');
  }

  /** Every row of a query, as objects keyed by column name; `options.batch` rows per host call. */
  query(sql, values = [], options = {}) {
    return [...this.iterate(sql, values, options)];
  }

  /** The first row of a query, or undefined. */
  queryOne(sql, values = []) {
    for (const row of this.iterate(sql, values, { batch: 1 })) return row;
    return undefined;
  }

  /** The rows of a query, fetched `options.batch` at a time as they are iterated. */
  *iterate(sql, values = [], options = {}) {
    const batch = options.batch ?? DEFAULT_BATCH;
    const wit = params(values);
    const handle = this.#open();
    const statement = host(() => handle.prepare(sql));
    let cursor;
    try {
      cursor = host(() => statement.query(wit));
      const columns = host(() => cursor.columns());
      for (;;) {
        const rows = host(() => cursor.next(batch));
        yield* unpackRows(rows, columns);
        if (rows.done || rows.rows === 0) return;
      }
    } finally {
      dispose(cursor);
      dispose(statement);
    }
  }

  /** Runs a statement; the number of rows it affected. */
  execute(sql, values = []) {
    const wit = params(values);
    return this.#withStatement(sql, (s) => Number(host(() => s.execute(wit))));
  }

  /** Runs a statement once per parameter row; the rows each affected. */
  executeMany(sql, rows) {
    const wit = rows.map((r, i) => {
      try {
        return params(r);
      } catch (e) {
        throw new DatabaseError('fatal', `row ${i + 1}: ${e.message}`);
      }
    });
    return this.#withStatement(sql, (s) => Array.from(host(() => s.executeBatch(wit)), Number));
  }

  /** Runs statements without parameters or results, separated by `;`. */
  executeScript(sql) {
    const handle = this.#open();
    host(() => handle.executeScript(sql));
  }

  /** Runs `f` in a transaction: committed when it returns, rolled back when it throws. */
  transaction(f) {
    const handle = this.#open();
    if (this.#inTransaction) throw new DatabaseError('fatal', 'transaction: one is already open on this connection');
    host(() => handle.begin());
    this.#inTransaction = true;
    try {
      const result = f(this);
      host(() => handle.commit());
      return result;
    } catch (e) {
      try {
        handle.rollback();
      } catch {
        // The transaction's own failure is what matters.
      }
      throw e;
    } finally {
      this.#inTransaction = false;
    }
  }

  /** Closes the connection; it cannot be used afterwards. */
  close() {
    const handle = this.#handle;
    this.#handle = undefined;
    dispose(handle);
  }
}

/**
 * Opens the database at `url`, which must be the value of one of the
 * connector's `url` configuration keys; `user` and `password` override
 * the URL's own.
 */
export function connect(url, { user, password } = {}) {
  return new Database(host(() => HostConnection.open(url, user || undefined, password || undefined)));
}
