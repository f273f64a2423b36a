// Types of the kit's shared module (lib/wasmconnect.js), written by hand
// on the contract's types generated from wit/ (types/wit/, see
// types/generate.mjs). `import … from 'wasmconnect'` resolves here for
// TypeScript and for `// @ts-check` JavaScript (tsconfig.json maps it).
/// <reference path="../types/wit/transform.d.ts" />
/// <reference path="../types/wit/source-with-database.d.ts" />
/// <reference path="../types/wit/sink-with-http.d.ts" />

import type * as wit from 'wasmconnect:connector/types@0.2.0';
import type { ConfigKey, ConfigType, ConfigValue, Importance, ResourceKind, Width } from 'wasmconnect:connector/config-def@0.2.0';
import type { PluginKind, PluginMetadata } from 'wasmconnect:connector/plugin@0.2.0';
import type { Outcome as WitOutcome } from 'wasmconnect:connector/record-transform@0.2.0';

export type { ConfigKey, ConfigValue, PluginMetadata };

/** A key or value: `{ tag: 'text', val }`, `{ tag: 'binary', val }` or `{ tag: 'json', val: { document, schema? } }`. */
export type Payload = wit.Payload;
/** A record header; `value` undefined for a null header value. */
export type Header = wit.Header;
/** A record as a transform sees it. */
export type TransformRecord = wit.TransformRecord;
/** A Kafka Connect schema as JsonConverter writes it (parsed). */
export type ConnectSchema = { type?: string, optional?: boolean, name?: string, fields?: Array<ConnectSchema & { field: string }>, [key: string]: unknown };

// ---------------------------------------------------------------- errors

/** A failure crossing the component boundary as a WIT `task-error`. */
export class TaskError extends Error {
  constructor(message: string, payload: wit.TaskError);
  readonly payload: wit.TaskError;
  /** Whether the host retries the call (true) or fails the task (false). */
  get retriable(): boolean;
}
/** A transient failure: the host waits (`backoffMs`, or its own policy) and retries the same call. */
export function retriable(message: string, backoffMs?: number): TaskError;
/** A permanent failure: the task fails with `message` in its status trace. */
export function fatal(message: string): TaskError;
/** Any thrown value as a TaskError; unexpected errors become fatal, prefixed with `context`. */
export function toTaskError(e: unknown, context?: string): TaskError;

// ------------------------------------------------------- logging, context

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
type LogFn = (message: string | (() => string)) => void;
/** The worker's log, tagged with connector and task; a function argument is only called when the level is on. */
export const log: Readonly<Record<LogLevel, LogFn> & { enabled(level: LogLevel): boolean }>;
export function connectorName(): string;
export function taskId(): number | undefined;
export function stopRequested(): boolean;

// ---------------------------------------------------------- configuration

export interface ConfigKeyOptions {
  required?: boolean;
  default?: string | number | boolean | bigint | string[];
  importance?: Importance;
  doc?: string;
  group?: string;
  order?: number;
  width?: Width;
  displayName?: string;
  dependents?: string[];
  resource?: ResourceKind;
}
/** One configuration key with Kafka's ConfigDef defaults (optional, null default, MEDIUM). */
export function configKey(name: string, type: ConfigType, options?: ConfigKeyOptions): ConfigKey;

/** A configuration problem tied to one key. */
export class ConfigError extends TaskError {
  constructor(key: string, message: string, kind?: 'missing' | 'type' | 'invalid');
  readonly key: string;
  readonly kind: 'missing' | 'type' | 'invalid';
}

/** The configuration with typed getters; a getter without a default reports an unset key as missing. */
export class Config {
  constructor(entries?: wit.Config, options?: { collect?: boolean, definition?: ConfigKey[] });
  raw(key: string): string | undefined;
  has(key: string): boolean;
  toObject(): Record<string, string>;
  error(key: string, message: string, recommended?: string[], kind?: 'missing' | 'type' | 'invalid'): void;
  string(key: string): string;
  string<D>(key: string, def: D): string | D;
  int(key: string): number;
  int<D>(key: string, def: D): number | D;
  short(key: string): number;
  short<D>(key: string, def: D): number | D;
  long(key: string): bigint;
  long<D>(key: string, def: D): bigint | D;
  number(key: string): number;
  number<D>(key: string, def: D): number | D;
  bool(key: string): boolean;
  bool<D>(key: string, def: D): boolean | D;
  list(key: string): string[];
  list<D>(key: string, def: D): string[] | D;
  choice<C extends string>(key: string, choices: readonly C[]): C;
  choice<C extends string, D>(key: string, choices: readonly C[], def: D): C | D;
  configValues(): ConfigValue[];
}

// ------------------------------------------------------ JSON and payloads

/** JSON.parse, with integers beyond 2^53 as BigInt. */
export function parseJson(text: string): any;
/** JSON.stringify, with BigInt written as JSON integers. */
export function stringifyJson(value: unknown): string;
export function text(s: unknown): Payload & { tag: 'text' };
export function binary(bytes: Uint8Array | string): Payload & { tag: 'binary' };
export function json(value: unknown, schema?: string | ConnectSchema | null): Payload & { tag: 'json' };
/** text → string, binary → Uint8Array, json → the parsed document; undefined → null. */
export function decode(payload: Payload | undefined): any;
/** A value as a payload of the same kind as `like`. */
export function encode(value: unknown, like?: Payload, options?: { schema?: string | ConnectSchema | null }): Payload | undefined;
export function schemaOf(payload: Payload | undefined): ConnectSchema | undefined;
export function fieldSchema(schema: ConnectSchema | undefined, name: string): ConnectSchema | undefined;
export function header(key: string, value: string | Uint8Array | null | undefined): Header;
export function headerText(record: { headers: Header[] }, key: string): string | null | undefined;

// ---------------------------------------------------------------- plugins

export interface Metadata {
  /** The class name operators write in connector.class or transforms.X.type. */
  name: string;
  aliases?: string[];
  version?: string;
  description?: string;
  taskClass?: string;
}

/** What every role's spec shares. `S` is what configure returns. */
export interface PluginSpec<S> {
  metadata: Metadata;
  config?: ConfigKey[];
  /** Reads the configuration (strict in tasks, collecting in validate) into settings. */
  configure?(config: Config): S;
  /** Further checks, reported with config.error. */
  validate?(config: Config): void;
}

export interface PluginExport {
  metadata(): PluginMetadata;
  configDefinition(): ConfigKey[];
  validate(config: wit.Config): ConfigValue[];
}

export function definePlugin<S>(spec: PluginSpec<S>, kind: PluginKind, caller?: string): {
  plugin: PluginExport, metadata: PluginMetadata, definition: ConfigKey[], configureFn: (config: Config) => S,
};

// -------------------------------------------------------------- transforms

export type Outcome = { tag: 'keep' } | { tag: 'drop' } | { tag: 'replace', val: TransformRecord };
export const KEEP: Readonly<{ tag: 'keep' }>;
export const DROP: Readonly<{ tag: 'drop' }>;
export function replace(record: TransformRecord): Outcome;

export interface TransformSpec<S> extends PluginSpec<S> {
  /** undefined keeps the record, null drops it, a record replaces it. */
  apply?(record: TransformRecord, settings: S, index: number): TransformRecord | Outcome | null | undefined | void;
  applyBatch?(records: TransformRecord[], settings: S): Array<TransformRecord | Outcome | null | undefined>;
}

export function defineTransform<S>(spec: TransformSpec<S>): {
  plugin: PluginExport,
  recordTransform: {
    configure(config: wit.Config): void,
    apply(batch: import('wasmconnect:connector/batches@0.2.0').TransformBatch): { outcomes: WitOutcome[], replacements: import('wasmconnect:connector/batches@0.2.0').TransformBatch },
  },
};
