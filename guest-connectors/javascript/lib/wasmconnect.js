// wasmconnect JavaScript authoring kit.
//
// Thin helpers over the bindings componentize-js generates for the worlds
// of wit/connector.wit (wasmconnect:connector@0.2.0): what every role
// shares (errors, logging, configuration, payloads, JSON) and
// defineTransform. build.sh bundles it with your app.js and maps the bare
// name `wasmconnect` to it (`wasmconnect/…` to the other modules of lib/):
//
//   import { defineTransform, configKey, fatal } from 'wasmconnect';
//
// Role modules, each importing what only its worlds provide:
//   wasmconnect/source.js  defineSource, committedOffset(s), sleepUnlessStopped
//   wasmconnect/sink.js    defineSink, reportErrant, sleepUnlessStopped
//   wasmconnect/files.js   openFile (sources and sinks)
//   wasmconnect/db.js      connect (the *-with-database worlds)
//
// `record-transform.apply` receives its records packed into one buffer
// (interface `batches`); defineTransform unpacks them (lib/batch.js) into
// the records of interface `types`, which authors read and return, and
// packs the replacements back.
//
// How WIT values look in JavaScript (componentize-js 0.23):
//   record        plain object, fields in camelCase (`backoffMs`, `taskClass`)
//   variant       { tag: 'json', val: { document, schema } }; no payload: { tag: 'keep' }
//   enum          kebab-case string: 'transform', 'read-file', 'info'
//   option<T>     the value, or undefined for none
//   list<u8>      Uint8Array
//   s64 / u64     BigInt (a record's timestamp)
//   config        array of [key, value] string pairs
//   result<T, E>  return T for ok; throw an Error whose own `payload`
//                 property is E for err (what `retriable()` / `fatal()` build)
//
// An Error thrown without a `payload` traps the component instance; the
// functions defineTransform builds turn such errors into `fatal` task errors
// instead, so a bug fails the task with its message rather than a trap.
//
// The module's top level runs once, at build time (Wizer snapshot), where
// host imports are not available: call log(), connectorName() and the like
// only from inside exported functions.

import { log as hostLog, enabled as hostEnabled } from 'wasmconnect:connector/logging@0.2.0';
import {
  connectorName as hostConnectorName,
  taskId as hostTaskId,
  stopRequested as hostStopRequested,
} from 'wasmconnect:connector/context@0.2.0';
import { MalformedBatch, NotARecord, packTransform, unpackTransform } from './batch.js';

// ---------------------------------------------------------------------------
// Errors (the WIT `task-error` variant)
// ---------------------------------------------------------------------------

/**
 * An error that crosses the component boundary as a `task-error`.
 * `payload` is the WIT value: `{ tag: 'retriable', val: { message, backoffMs } }`
 * or `{ tag: 'fatal', val: message }`.
 */
export class TaskError extends Error {
  constructor(message, payload) {
    super(message);
    this.name = 'TaskError';
    this.payload = payload;
  }

  /** Whether the host will retry the call (true) or fail the task (false). */
  get retriable() {
    return this.payload.tag === 'retriable';
  }
}

/**
 * A transient failure: the host waits (`backoffMs`, or its own policy when
 * omitted) and retries the same call with the same input.
 *   throw retriable('service unavailable', 2000);
 */
export function retriable(message, backoffMs) {
  const val = { message: String(message), backoffMs: backoffMs == null ? undefined : backoffMs >>> 0 };
  return new TaskError(val.message, { tag: 'retriable', val });
}

/**
 * A permanent failure: the host stops the task and reports it FAILED with
 * `message` in its status trace.
 *   throw fatal(`field ${name} is not a string`);
 */
export function fatal(message) {
  const text = String(message);
  return new TaskError(text, { tag: 'fatal', val: text });
}

/** Any thrown value as a TaskError; unexpected errors become fatal, prefixed with `context`. */
export function toTaskError(e, context) {
  if (e instanceof TaskError) return e;
  if (e && typeof e === 'object' && Object.hasOwn(e, 'payload')) {
    return new TaskError(String(e.message ?? e.payload), e.payload);
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return fatal(context ? `${context}: ${what}` : what);
}

// ---------------------------------------------------------------------------
// Logging and context
// ---------------------------------------------------------------------------

function logAt(level) {
  // A function argument is only called (and its result formatted) when the
  // level is enabled: log.debug(() => `record ${JSON.stringify(r)}`).
  return (message) => {
    if (typeof message === 'function') {
      if (!hostEnabled(level)) return;
      message = message();
    }
    hostLog(level, String(message));
  };
}

/**
 * The worker's log, tagged with the connector and task:
 *   log.info('configured'); log.debug(() => expensive());
 * console.log and console.error reach the worker's log too (as INFO and
 * WARN lines marked stream=stdout/stderr), but without levels or the
 * enabled() check.
 */
export const log = Object.freeze({
  trace: logAt('trace'),
  debug: logAt('debug'),
  info: logAt('info'),
  warn: logAt('warn'),
  error: logAt('error'),
  /** Whether a message at `level` ('trace' … 'error') would be recorded. */
  enabled: (level) => hostEnabled(level),
});

/** The connector's name. */
export const connectorName = () => hostConnectorName();
/** The task number, or undefined outside a task. */
export const taskId = () => hostTaskId();
/** Whether the host asked this instance to stop (or pause). */
export const stopRequested = () => hostStopRequested();

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

const CONFIG_TYPES = ['boolean', 'string', 'int', 'short', 'long', 'double', 'list', 'class', 'password'];
const IMPORTANCES = ['high', 'medium', 'low'];
const WIDTHS = ['none', 'short', 'medium', 'long'];
const RESOURCES = ['read-file', 'write-file', 'read-directory', 'write-directory', 'network-endpoint', 'url'];

function oneOf(what, value, allowed) {
  if (!allowed.includes(value)) {
    throw new TypeError(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * One configuration key (the WIT `config-key`, Kafka's ConfigKeyInfo) with
 * Kafka's defaults: optional, null default, MEDIUM importance, no group.
 *
 *   configKey('fields', 'list', { required: true, importance: 'high', doc: 'Names of fields to mask.' })
 *   configKey('target', 'string', { default: 'value', doc: '…' })
 *
 * `type`: boolean | string | int | short | long | double | list | class | password.
 * Options: required, default (text, number, boolean or, for lists, an
 * array), importance, doc, group, order, width, displayName, dependents,
 * resource ('read-file', 'network-endpoint', …).
 */
export function configKey(name, type, options = {}) {
  const o = options;
  let def = o.default;
  if (Array.isArray(def)) def = def.join(',');
  return {
    name: String(name),
    type: oneOf(`the type of ${name}`, type, CONFIG_TYPES),
    required: Boolean(o.required),
    defaultValue: o.required || def == null ? undefined : String(def),
    importance: oneOf(`the importance of ${name}`, o.importance ?? 'medium', IMPORTANCES),
    documentation: o.doc ?? '',
    group: o.group,
    orderInGroup: o.order ?? -1,
    width: oneOf(`the width of ${name}`, o.width ?? 'none', WIDTHS),
    displayName: o.displayName || name, // Kafka's ConfigDef: the name when none is given
    dependents: o.dependents ?? [],
    resource: o.resource == null ? undefined : oneOf(`the resource of ${name}`, o.resource, RESOURCES),
  };
}

/** A configuration problem tied to one key; fatal when thrown from configure. */
export class ConfigError extends TaskError {
  constructor(key, message, kind = 'invalid') {
    super(message, { tag: 'fatal', val: message });
    this.name = 'ConfigError';
    this.key = key;
    this.kind = kind; // 'missing' | 'type' | 'invalid'
  }
}

const INT_RANGES = { short: [-32768, 32767], int: [-2147483648, 2147483647] };

/**
 * The configuration the host passes (`[[key, value], …]`) with typed getters.
 * Values are trimmed, as Kafka's ConfigDef does. A getter called without a
 * default on an unset key reports the key as missing.
 *
 * Strict (what configure receives): a bad value throws a ConfigError, which
 * fails the call as a fatal task error naming the key.
 * Collecting (what validate gives your configure function): a bad value is
 * recorded against its key and the getter returns the default, so one pass
 * over your settings reports every problem.
 */
export class Config {
  /**
   * @param entries    the WIT config: an array of [key, value] pairs (later pairs win)
   * @param options    { collect: true } to record problems instead of throwing;
   *                   { definition } the config-keys, so collected problems the host
   *                   already reports (missing required keys, bad numbers and booleans)
   *                   are not reported twice
   */
  constructor(entries = [], options = {}) {
    this.map = new Map(entries);
    this.collecting = Boolean(options.collect);
    this.definition = new Map((options.definition ?? []).map((k) => [k.name, k]));
    this.problems = new Map(); // key -> { errors: [], recommended: [] }
  }

  /** The value of `key` as given (untrimmed), or undefined. */
  raw(key) {
    return this.map.get(key);
  }

  /** Whether `key` is set to something other than blanks. */
  has(key) {
    const v = this.map.get(key);
    return v !== undefined && v.trim() !== '';
  }

  /** Every key and value, as a plain object. */
  toObject() {
    return Object.fromEntries(this.map);
  }

  /**
   * Reports a problem with `key`: throws a ConfigError (strict) or records
   * it (collecting). `recommended` lists values a UI may offer instead.
   */
  error(key, message, recommended = [], kind = 'invalid') {
    if (!this.collecting) throw new ConfigError(key, message, kind);
    const declared = this.definition.get(key);
    // The host checks presence of required keys and the syntax of numbers
    // and booleans itself; do not say it twice.
    if (kind === 'missing' && declared?.required) return;
    if (kind === 'type' && declared && ['int', 'short', 'long', 'double', 'boolean'].includes(declared.type)) return;
    const p = this.problems.get(key) ?? { errors: [], recommended: [] };
    p.errors.push(message);
    p.recommended.push(...recommended.filter((r) => !p.recommended.includes(r)));
    this.problems.set(key, p);
  }

  // `def`, or (collecting, so that the rest of a configure function can
  // run on) an empty value of the getter's type when there is no default.
  #or(def, empty) {
    return def === undefined && this.collecting ? empty : def;
  }

  // The trimmed value, the default when unset, or a "missing" problem.
  #value(key, def, args) {
    const v = this.map.get(key);
    if (v !== undefined) return v.trim();
    if (args < 2) this.error(key, `Missing required configuration "${key}" which has no default value.`, [], 'missing');
    return undefined;
  }

  // Each getter returns `def` when the key is unset. Collecting, a bad or
  // missing value yields `def` too, or an empty value of the getter's type
  // ('', 0, false, []) when there is no default.

  /** A string; `def` when unset. */
  string(key, def) {
    const v = this.#value(key, def, arguments.length);
    return v === undefined ? this.#or(def, '') : v;
  }

  /** A 32-bit integer; `def` when unset. */
  int(key, def) {
    return this.#integer(key, def, arguments.length, 'int');
  }

  /** A 16-bit integer; `def` when unset. */
  short(key, def) {
    return this.#integer(key, def, arguments.length, 'short');
  }

  /** A 64-bit integer as a BigInt; `def` when unset. */
  long(key, def) {
    const v = this.#value(key, def, arguments.length);
    if (v === undefined) return this.#or(def, 0n);
    if (/^[+-]?\d+$/.test(v)) {
      const n = BigInt(v);
      if (BigInt.asIntN(64, n) === n) return n;
    }
    this.error(key, `Invalid value ${this.map.get(key)} for configuration ${key}: Not a number of type LONG`, [], 'type');
    return this.#or(def, 0n);
  }

  /** A number (Kafka's DOUBLE); `def` when unset. */
  number(key, def) {
    const v = this.#value(key, def, arguments.length);
    if (v === undefined) return this.#or(def, 0);
    const n = v === '' ? NaN : Number(v);
    if (!Number.isNaN(n)) return n;
    this.error(key, `Invalid value ${this.map.get(key)} for configuration ${key}: Not a number of type DOUBLE`, [], 'type');
    return this.#or(def, 0);
  }

  #integer(key, def, args, type) {
    const v = this.#value(key, def, args);
    if (v === undefined) return this.#or(def, 0);
    const [lo, hi] = INT_RANGES[type];
    if (/^[+-]?\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi) return Number(v);
    this.error(key, `Invalid value ${this.map.get(key)} for configuration ${key}: Not a number of type ${type.toUpperCase()}`, [], 'type');
    return this.#or(def, 0);
  }

  /** `true` or `false` (any case); `def` when unset. */
  bool(key, def) {
    const v = this.#value(key, def, arguments.length);
    if (v === undefined) return this.#or(def, false);
    const lower = v.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    this.error(key, `Invalid value ${this.map.get(key)} for configuration ${key}: Expected value to be either true or false`, ['true', 'false'], 'type');
    return this.#or(def, false);
  }

  /** A comma-separated list, items trimmed, empty items dropped; `def` when unset. */
  list(key, def) {
    const v = this.#value(key, def, arguments.length);
    if (v === undefined) return this.#or(def, []);
    return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }

  /** A string that must be one of `choices` (compared case-insensitively); `def` when unset. */
  choice(key, choices, def) {
    const v = this.#value(key, def, arguments.length < 3 ? 1 : 2);
    if (v === undefined) return this.#or(def, choices[0]);
    const found = choices.find((c) => c.toLowerCase() === v.toLowerCase());
    if (found !== undefined) return found;
    this.error(key, `Invalid value ${this.map.get(key)} for configuration ${key}: String must be one of: ${choices.join(', ')}`, choices);
    return this.#or(def, choices[0]);
  }

  /** The recorded problems as WIT config-values (one per key with errors). */
  configValues() {
    return [...this.problems].map(([name, p]) => ({
      name,
      value: this.map.get(name),
      recommendedValues: p.recommended,
      errors: p.errors,
      visible: true,
    }));
  }
}

// ---------------------------------------------------------------------------
// JSON that keeps 64-bit integers
// ---------------------------------------------------------------------------

// Kafka's int64 values do not fit a JS number beyond 2^53. parseJson turns
// such integers into BigInt (from their exact source text) and
// stringifyJson writes BigInt back as plain JSON integers, so a document
// passes through a transform without losing digits.
//
// Every JS function call is costly inside the component (SpiderMonkey runs
// as an interpreter there), so the common case is one native JSON.parse
// and a walk that only calls itself for nested objects and arrays.

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function bigIntReviver(_key, value, context) {
  if (typeof value === 'number' && (value > MAX_SAFE || value < -MAX_SAFE) && context && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

function bigIntReplacer(_key, value) {
  return typeof value === 'bigint' ? JSON.rawJSON(value.toString()) : value;
}

// Whether a parsed container holds a number beyond ±2^53 (possibly rounded).
function hasHugeNumber(container) {
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const v = container[i];
      if (typeof v === 'number') {
        if (v > MAX_SAFE || v < -MAX_SAFE) return true;
      } else if (v !== null && typeof v === 'object' && hasHugeNumber(v)) {
        return true;
      }
    }
    return false;
  }
  for (const k in container) {
    const v = container[k];
    if (typeof v === 'number') {
      if (v > MAX_SAFE || v < -MAX_SAFE) return true;
    } else if (v !== null && typeof v === 'object' && hasHugeNumber(v)) {
      return true;
    }
  }
  return false;
}

/** JSON.parse, except that integers beyond 2^53 become BigInt. Throws SyntaxError. */
export function parseJson(text) {
  const value = JSON.parse(text);
  const huge = typeof value === 'object'
    ? value !== null && hasHugeNumber(value)
    : typeof value === 'number' && (value > MAX_SAFE || value < -MAX_SAFE);
  return huge ? JSON.parse(text, bigIntReviver) : value;
}

/** JSON.stringify, except that BigInt values are written as JSON integers. */
export function stringifyJson(value) {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (e instanceof TypeError) return JSON.stringify(value, bigIntReplacer);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Payloads (the WIT `payload` variant) and records
// ---------------------------------------------------------------------------

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A `text` payload. */
export const text = (s) => ({ tag: 'text', val: String(s) });

/** A `binary` payload from a Uint8Array (or a string, encoded as UTF-8). */
export const binary = (bytes) => ({ tag: 'binary', val: typeof bytes === 'string' ? utf8Encoder.encode(bytes) : bytes });

/**
 * A `json` payload from a JS value; `schema` is the Connect schema in
 * JsonConverter's format, as an object or JSON text, or undefined for none.
 */
export const json = (value, schema) => ({
  tag: 'json',
  val: { document: stringifyJson(value), schema: schema == null ? undefined : typeof schema === 'string' ? schema : stringifyJson(schema) },
});

/**
 * A payload as a JS value: text → string, binary → Uint8Array, json → the
 * parsed document (objects, arrays, numbers, …; integers beyond 2^53 as
 * BigInt). A null key or value (undefined) decodes to null. Throws a
 * SyntaxError if a json payload's document is not JSON.
 */
export function decode(payload) {
  if (payload == null) return null;
  switch (payload.tag) {
    case 'text':
    case 'binary':
      return payload.val;
    case 'json':
      return parseJson(payload.val.document);
    default:
      throw new TypeError(`not a payload: ${JSON.stringify(payload)}`);
  }
}

// Records of a batch nearly always share their schema: parse each schema
// text once. Cached schemas are frozen, so one record cannot change another's.
const schemaCache = new Map();
const SCHEMA_CACHE_SIZE = 64;

function deepFreeze(v) {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze(v[k]);
  }
  return v;
}

/**
 * A json payload's Connect schema, parsed (and frozen: copy it to change
 * it); undefined for other payloads and for schemaless json.
 */
export function schemaOf(payload) {
  if (payload?.tag !== 'json' || payload.val.schema == null) return undefined;
  const textSchema = payload.val.schema;
  let schema = schemaCache.get(textSchema);
  if (schema === undefined) {
    schema = deepFreeze(parseJson(textSchema));
    if (schemaCache.size >= SCHEMA_CACHE_SIZE) schemaCache.delete(schemaCache.keys().next().value);
    schemaCache.set(textSchema, schema);
  }
  return schema;
}

const fieldIndexes = new WeakMap();

/**
 * The schema of `name` one level inside a Connect schema: a struct's field
 * schema (with `field`, `type`, `optional`, …) or a map's value schema;
 * undefined for other schemas and for fields the struct does not have.
 */
export function fieldSchema(schema, name) {
  if (schema == null) return undefined;
  if (schema.type === 'map') return schema.values;
  if (schema.type !== 'struct' || !Array.isArray(schema.fields)) return undefined;
  let index = fieldIndexes.get(schema);
  if (index === undefined) {
    index = new Map();
    for (const f of schema.fields) index.set(f.field, f);
    fieldIndexes.set(schema, index);
  }
  return index.get(name);
}

/**
 * A JS value as a payload of the same kind as `like` (the payload it came
 * from), so a transform keeps the converter's format:
 *   json    → the value as a JSON document, with `like`'s schema unless
 *             options.schema is given (null removes it)
 *   text    → strings as they are, anything else as JSON text
 *   binary  → Uint8Array as it is, strings as UTF-8, anything else as JSON
 * Without `like`: strings become text, Uint8Array binary, the rest json.
 * null and undefined encode to undefined (a null key or value).
 */
export function encode(value, like, options = {}) {
  if (value == null) return undefined;
  const kind = like?.tag ?? (typeof value === 'string' ? 'text' : value instanceof Uint8Array ? 'binary' : 'json');
  switch (kind) {
    case 'text':
      return text(typeof value === 'string' ? value : stringifyJson(value));
    case 'binary':
      return binary(value instanceof Uint8Array ? value : typeof value === 'string' ? value : stringifyJson(value));
    case 'json': {
      const schema = Object.hasOwn(options, 'schema') ? options.schema : like?.val.schema;
      return json(value, schema);
    }
    default:
      throw new TypeError(`not a payload kind: ${kind}`);
  }
}

/** A header (`value` a string, encoded as UTF-8, a Uint8Array, or null). */
export function header(key, value) {
  return { key: String(key), value: value == null ? undefined : typeof value === 'string' ? utf8Encoder.encode(value) : value };
}

/** The last header named `key` decoded as UTF-8; null if its value is null, undefined if absent. */
export function headerText(record, key) {
  for (let i = record.headers.length - 1; i >= 0; i--) {
    const h = record.headers[i];
    if (h.key === key) return h.value === undefined ? null : utf8Decoder.decode(h.value);
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The `plugin` export every role shares
// ---------------------------------------------------------------------------

/**
 * The `plugin` export of a source, sink or transform built from a spec's
 * metadata, config and configure/validate functions (what defineSource,
 * defineSink and defineTransform share). `caller` names the define
 * function in errors about the spec.
 *
 * validate runs `spec.configure` on a collecting Config, then
 * `spec.validate`, and returns one config-value per key with problems.
 */
export function definePlugin(spec, kind, caller = 'definePlugin') {
  const meta = spec.metadata ?? {};
  if (!meta.name) throw new TypeError(`${caller}: metadata.name is required`);
  const metadata = {
    name: meta.name,
    aliases: meta.aliases ?? [],
    version: meta.version ?? '0.1.0',
    kind,
    description: meta.description ?? '',
    taskClass: meta.taskClass,
  };
  const definition = spec.config ?? [];
  const configureFn = spec.configure ?? (() => undefined);
  const plugin = {
    metadata: () => metadata,
    configDefinition: () => definition,
    validate(entries) {
      const config = new Config(entries, { collect: true, definition });
      try {
        configureFn(config);
        spec.validate?.(config);
      } catch (e) {
        if (e instanceof ConfigError) {
          config.problems.set(e.key, { errors: [e.message], recommended: [] });
        } else if (config.problems.size === 0) {
          // A bug rather than a bad value (those were recorded and are
          // likely what tripped it): report it on the first key.
          config.problems.set(definition[0]?.name ?? 'name', {
            errors: [`validation failed: ${toTaskError(e).message}`],
            recommended: [],
          });
        }
      }
      return config.configValues();
    },
  };
  return { plugin, metadata, definition, configureFn };
}

// ---------------------------------------------------------------------------
// Transforms
// ---------------------------------------------------------------------------

/** Outcomes of `record-transform.apply`. */
export const KEEP = Object.freeze({ tag: 'keep' });
export const DROP = Object.freeze({ tag: 'drop' });
export const replace = (record) => ({ tag: 'replace', val: record });

function isOutcome(r) {
  return r !== null && typeof r === 'object' && (r.tag === 'keep' || r.tag === 'drop' || r.tag === 'replace');
}

function describe(record, i) {
  return `record ${i} (topic ${record.topic}, partition ${record.partition ?? 'unknown'})`;
}

/**
 * Builds the `plugin` and `recordTransform` exports of a transform:
 *
 *   export const { plugin, recordTransform } = defineTransform({
 *     metadata: { name: 'com.example.MyTransform', aliases: ['MyTransform'],
 *                 version: '1.0.0', description: 'One sentence.' },
 *     config: [configKey('suffix', 'string', { default: '!' })],
 *     configure(config) { return { suffix: config.string('suffix', '!') }; },
 *     apply(record, settings) { … },
 *   });
 *
 * spec.metadata     name (a class-like name), aliases, version, description;
 *                   kind is 'transform'
 * spec.config       the config-keys (see configKey)
 * spec.configure    (config: Config) → settings, passed to apply. validate runs
 *                   it too, on a collecting Config, to report every bad key:
 *                   keep it free of effects other than reading config and
 *                   calling config.error(key, message)
 * spec.validate     optional (config: Config) → void: further checks, reporting
 *                   through config.error(key, message)
 * spec.apply        (record, settings, index) → outcome, per record:
 *                   undefined keeps the record, null drops it, a record
 *                   replaces it (copy it: { ...record, value: … }), or return
 *                   KEEP, DROP or replace(record) explicitly
 * spec.applyBatch   instead of apply: (records, settings) → one outcome per record
 *
 * Errors: throw retriable(…) or fatal(…); any other exception becomes a
 * fatal error naming the record it happened on.
 */
export function defineTransform(spec) {
  if (!spec.apply === !spec.applyBatch) throw new TypeError('defineTransform: give exactly one of apply and applyBatch');
  const { plugin, definition, configureFn } = definePlugin(spec, 'transform', 'defineTransform');
  let settings;
  let configured = false;

  const recordTransform = {
    configure(entries) {
      try {
        settings = configureFn(new Config(entries, { definition }));
        configured = true;
      } catch (e) {
        throw toTaskError(e);
      }
    },
    apply(batch) {
      if (!configured) throw fatal('apply called before configure');
      let records;
      try {
        records = unpackTransform(batch);
      } catch (e) {
        throw e instanceof MalformedBatch ? fatal(`the host sent a malformed batch: ${e.message}`) : toTaskError(e);
      }
      const n = records.length;
      const outcomes = new Array(n);
      // Packed in one go once every record has its outcome.
      const replaced = [];
      if (spec.applyBatch) {
        let out;
        try {
          out = spec.applyBatch(records, settings);
        } catch (e) {
          throw toTaskError(e);
        }
        if (!Array.isArray(out)) throw fatal(`applyBatch returned ${String(out)}: expected an array of outcomes`);
        if (out.length !== n) throw fatal(`applyBatch returned ${out.length} outcomes for ${n} records`);
        for (let i = 0; i < n; i++) outcomes[i] = toOutcome(out[i], records[i], i, replaced);
      } else {
        const applyOne = spec.apply;
        let i = 0;
        try {
          for (; i < n; i++) {
            const r = applyOne(records[i], settings, i);
            // The common cases inline: calls are dear in the interpreter.
            if (r === undefined) outcomes[i] = KEEP;
            else if (r === null) outcomes[i] = DROP;
            else if (typeof r.topic === 'string') outcomes[i] = { tag: 'replace', val: replaced.push(r) - 1 };
            else outcomes[i] = toOutcome(r, records[i], i, replaced);
          }
        } catch (e) {
          throw toTaskError(e, describe(records[i], i));
        }
      }
      let replacements;
      try {
        replacements = packTransform(replaced);
      } catch (e) {
        if (!(e instanceof NotARecord)) throw toTaskError(e);
        const i = outcomes.findIndex((o) => o.tag === 'replace' && o.val === e.index);
        throw fatal(`apply returned a malformed record for ${describe(records[i], i)}: ${e.message}`);
      }
      return { outcomes, replacements };
    },
  };

  return { plugin, recordTransform };
}

// An outcome as the contract has it: a replacement record joins
// `replaced` and the outcome points at it.
function toOutcome(r, record, i, replaced) {
  if (r === undefined) return KEEP;
  if (r === null) return DROP;
  if (isOutcome(r)) {
    if (r.tag !== 'replace') return r;
    if (r.val === null || typeof r.val !== 'object') {
      throw fatal(`apply returned replace(${String(r.val)}) for ${describe(record, i)}: expected a record to replace it with`);
    }
    return { tag: 'replace', val: replaced.push(r.val) - 1 };
  }
  if (typeof r === 'object' && typeof r.topic === 'string') return { tag: 'replace', val: replaced.push(r) - 1 };
  throw fatal(`apply returned ${String(r)} for ${describe(record, i)}: expected undefined, null, a record or an outcome`);
}
