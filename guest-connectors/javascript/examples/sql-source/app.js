// @ts-check
// SqlPollSource: Confluent's JDBC source in its incrementing mode, for one
// table. Every poll asks the database (through the worker's
// wasmconnect:database/sql; importing wasmconnect/db.js builds the
// component for `source-with-database`) for the rows whose incrementing
// column is greater than the last one seen, in that column's order, and
// writes each row as a JSON object to the topic. The last id is the
// record's source offset, so a restarted task resumes after the last row
// Kafka acknowledged. As with Confluent's incrementing mode, this sees new
// rows only, never updates or deletes, and it can miss rows: an
// auto-increment id is handed out when a transaction inserts, not when it
// commits, so a row whose transaction commits after a row with a higher
// id has been read is skipped for good. Use it for append-only tables
// whose ids become visible in order (one writer, or short transactions),
// or accept the gap.
//
// Start tries to connect, so that a URL the worker does not grant or a
// wrong password fails the task at once; but a database that cannot be
// reached (down, restarting) only delays the connection to a later poll.
// A connection the database reports lost is closed and forgotten, and
// polls fail retriably until a new one opens.
//
//   connector.class=SqlPollSource
//   connection.url=jdbc:sqlite:/data/shop.db        (or jdbc:postgresql://…, jdbc:mysql://…)
//   table=orders
//   incrementing.column.name=id
//   topic=orders
//
// Records: key the id as text, value the row as a schemaless JSON object
// (column → value: numbers, strings, null; decimals as strings, dates and
// times as ISO-8601 text, bytes as base64). Source partition
// {"table":"orders"}, offset {"incrementing":42}.
import { configKey, json, text, log, fatal, retriable } from 'wasmconnect';
import { defineSource, committedOffset, sleepUnlessStopped } from 'wasmconnect/source.js';
import { connect, DatabaseError } from 'wasmconnect/db.js';

/**
 * @typedef {{ url: string, user: string, password: string, table: string, column: string,
 *             topic: string, maxRows: number, intervalMs: number }} Settings
 */

// A table or column name, optionally schema-qualified: letters, digits
// and underscores only, so that it can be quoted into SQL safely.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
// How long one poll may wait for the next query: short, so that the
// worker can pause or stop the task promptly.
const MAX_WAIT_MS = 500;

/** @param {Uint8Array} bytes */
function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

class SqlPollTask {
  /** @param {Settings} settings */
  constructor(settings) {
    this.settings = settings;
    this.partition = { table: settings.table };
    /** @type {import('wasmconnect/db.js').Database | null} */
    this.db = null;
    this.first = '';
    this.after = '';
    const committed = committedOffset(this.partition);
    /** @type {number | bigint | null} */
    this.last = committed === null ? null : committed.incrementing;
    if (this.last !== null && typeof this.last !== 'number' && typeof this.last !== 'bigint') {
      throw fatal(`the committed offset of table ${settings.table} is ${JSON.stringify(committed)}: expected {"incrementing": <integer>}`);
    }
    this.nextQuery = 0;
    try {
      this.connection();
    } catch (e) {
      if (!SqlPollTask.unreachable(e)) throw e;
      log.warn(`cannot reach the database yet, will retry at the next poll: ${e instanceof Error ? e.message : String(e)}`);
    }
    log.info(this.last === null ? `reading ${settings.table} from its first row` : `reading ${settings.table} after ${settings.column} ${this.last}`);
  }

  // The open connection, opening it (and building the queries, whose
  // quoting and placeholders depend on the dialect) when there is none.
  connection() {
    if (this.db !== null) return this.db;
    const { settings } = this;
    const db = connect(settings.url, { user: settings.user, password: settings.password });
    const q = db.dialect === 'mysql' ? (/** @type {string} */ s) => `\`${s}\`` : (/** @type {string} */ s) => `"${s}"`;
    const table = settings.table.split('.').map(q).join('.');
    const column = q(settings.column);
    const tail = `ORDER BY ${column} ASC LIMIT ${settings.maxRows}`;
    this.first = `SELECT * FROM ${table} WHERE ${column} IS NOT NULL ${tail}`;
    this.after = `SELECT * FROM ${table} WHERE ${column} > ${db.placeholder(1)} ${tail}`;
    this.db = db;
    return db;
  }

  /** @param {unknown} e */
  static connectionLost(e) {
    return e instanceof DatabaseError && (e.connectionLost || (typeof e.sqlstate === 'string' && e.sqlstate.startsWith('08')));
  }

  // Whether a failure to connect is worth retrying later: not a refused
  // grant or bad credentials, which no retry mends.
  /** @param {unknown} e */
  static unreachable(e) {
    return SqlPollTask.connectionLost(e) || (e instanceof DatabaseError && e.kind === 'retriable');
  }

  // The next rows after this.last. A lost connection is closed and
  // forgotten, so that the retry opens a fresh one instead of failing on
  // the dead handle forever.
  fetchRows() {
    try {
      const db = this.connection();
      return this.last === null ? db.query(this.first) : db.query(this.after, [this.last]);
    } catch (e) {
      if (!SqlPollTask.connectionLost(e)) throw e;
      const lost = /** @type {DatabaseError} */ (e);
      const db = this.db;
      this.db = null;
      try {
        db?.close();
      } catch (closing) {
        log.debug(() => `closing the lost connection: ${closing instanceof Error ? closing.message : String(closing)}`);
      }
      throw lost.retriable ? lost : retriable(`lost the connection to the database: ${lost.message}`);
    }
  }

  poll() {
    const wait = this.nextQuery - Date.now();
    if (wait > 0) {
      sleepUnlessStopped(Math.min(wait, MAX_WAIT_MS));
      return [];
    }
    const { settings } = this;
    const rows = this.fetchRows();
    // A full batch means more rows may be waiting: ask again at once.
    this.nextQuery = rows.length === settings.maxRows ? 0 : Date.now() + settings.intervalMs;
    return rows.map((row) => {
      const id = row[settings.column];
      if (typeof id !== 'number' && typeof id !== 'bigint') {
        throw fatal(`column ${settings.column} of ${settings.table} holds ${JSON.stringify(id)}: the incrementing column must hold integers`);
      }
      this.last = id;
      for (const [k, v] of Object.entries(row)) if (v instanceof Uint8Array) row[k] = base64(v);
      return {
        sourcePartition: this.partition,
        sourceOffset: { incrementing: id },
        topic: settings.topic,
        key: text(String(id)),
        value: json(row),
      };
    });
  }

  stop() {
    this.db?.close();
    this.db = null;
  }
}

export const { plugin, connector, sourceTask } = defineSource({
  metadata: {
    name: 'io.wasmconnect.js.SqlPollSource',
    aliases: ['JsSqlPollSource'],
    version: '0.1.0',
    description: 'Polls a database table for rows with a growing id and writes them as JSON records',
  },

  config: [
    configKey('connection.url', 'string', {
      required: true, importance: 'high', resource: 'url', group: 'Database',
      doc: 'JDBC or native URL of the database (jdbc:sqlite:/path/x.db, jdbc:postgresql://host:5432/db, mysql://…).',
    }),
    configKey('connection.user', 'string', { importance: 'high', group: 'Database', doc: 'User name, when the URL has none.' }),
    configKey('connection.password', 'password', { importance: 'high', group: 'Database', doc: 'Password, when the URL has none.' }),
    configKey('table', 'string', { required: true, importance: 'high', doc: 'The table to read (schema.table allowed).' }),
    configKey('incrementing.column.name', 'string', {
      default: 'id', importance: 'high',
      doc: 'An integer column whose values only grow (an auto-increment key): rows above the last one seen are new.',
    }),
    configKey('topic', 'string', { required: true, importance: 'high', doc: 'The topic to write rows to.' }),
    configKey('batch.max.rows', 'int', { default: 100, importance: 'low', doc: 'Most rows per query.' }),
    configKey('poll.interval.ms', 'int', { default: 5000, importance: 'medium', doc: 'Milliseconds between queries that found no full batch.' }),
  ],

  configure(config) {
    const table = config.string('table');
    if (!IDENTIFIER.test(table)) {
      config.error('table', `Invalid value ${table} for configuration table: expected a table name of letters, digits and underscores (schema.table allowed)`);
    }
    const column = config.string('incrementing.column.name', 'id');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) {
      config.error('incrementing.column.name', `Invalid value ${column} for configuration incrementing.column.name: expected a column name of letters, digits and underscores`);
    }
    const maxRows = config.int('batch.max.rows', 100);
    if (maxRows < 1) config.error('batch.max.rows', `Invalid value ${maxRows} for configuration batch.max.rows: Value must be at least 1`);
    const intervalMs = config.int('poll.interval.ms', 5000);
    if (intervalMs < 0) config.error('poll.interval.ms', `Invalid value ${intervalMs} for configuration poll.interval.ms: Value must be at least 0`);
    return {
      url: config.string('connection.url'),
      user: config.string('connection.user', ''),
      password: config.string('connection.password', ''),
      table,
      column,
      topic: config.string('topic'),
      maxRows,
      intervalMs,
    };
  },

  task: SqlPollTask,
});
