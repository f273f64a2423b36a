// Runs a built component in Node, without a worker, so you can feed it
// the records you care about (the conformance kit only sends plain text
// records). jco transpiles the component to JS + core wasm; this file
// stands in for the worker's imports (logging, context, offsets, files,
// errant-records; databases refuse every URL), and packs and unpacks
// batches as the worker does (with the kit's own lib/batch.js). WASI,
// wasi:http included, is jco's preview2-shim: `fetch` reaches real servers.
//
//   import { loadTransform, loadSource, loadSink } from './harness.mjs';
//   const t = await loadTransform('/tmp/out/js-mask-field.wasm');
//   t.recordTransform.configure([['fields', 'ssn']]);
//   t.recordTransform.apply([record]);   // → outcomes, replacements in place:
//                                        //   { tag: 'keep' | 'drop' } or { tag: 'replace', val: record }
//   t.component.recordTransform.apply(batch)  // the export itself: a transform-batch in, `applied` out
//   t.logs                               // → [{ level, message }, …]
//
//   const s = await loadSource(wasm, { offsets: { '{"table":"t"}': '{"id":4}' } });
//   s.sourceTask.start(config); s.sourceTask.poll();   // → records (partitions and offsets as JSON text)
//   const k = await loadSink(wasm, { files: { '/out.txt': 'append' } });
//   await k.sinkTask.put([record]); k.files.get('/out.txt'); k.errant
//
// Errors come back as jco's ComponentError: `e.payload` is the task-error
// ({ tag: 'fatal', val } or { tag: 'retriable', val: { message, backoffMs } }).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packSink, packTransform, unpackSource, unpackTransform } from '../lib/batch.js';

const polyglot = process.env.WASMCONNECT_POLYGLOT ?? join(process.env.HOME, '.cache/wasmconnect/polyglot');
const nodeModules = join(polyglot, 'node/node_modules');
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

// An error a host import returns as its result's `err`.
const hostError = (payload) => Object.assign(new Error(JSON.stringify(payload)), { payload });

/**
 * Files the harness grants, in memory: `grants` maps a path to the mode
 * the configuration would grant it for ('read' or 'append'); `contents`
 * holds each file's bytes (strings are taken as UTF-8).
 */
function memoryFiles(grants, contents) {
  const utf8 = new TextEncoder();
  const data = new Map(Object.entries(contents).map(([p, c]) => [p, typeof c === 'string' ? utf8.encode(c) : c]));
  const syncs = new Map();
  class File {
    constructor(path) {
      this.path = path;
    }

    read(offset, maxLen) {
      const bytes = data.get(this.path) ?? new Uint8Array();
      return bytes.slice(Number(offset), Number(offset) + maxLen);
    }

    append(more) {
      if (grants[this.path] !== 'append') throw hostError({ tag: 'not-granted', val: `${this.path} is open for reading` });
      const old = data.get(this.path) ?? new Uint8Array();
      const joined = new Uint8Array(old.length + more.length);
      joined.set(old);
      joined.set(more, old.length);
      data.set(this.path, joined);
    }

    sync() {
      syncs.set(this.path, (syncs.get(this.path) ?? 0) + 1);
    }

    size() {
      return BigInt((data.get(this.path) ?? new Uint8Array()).length);
    }
  }
  const open = (path, mode) => {
    if (grants[path] !== mode && !(grants[path] === 'append' && mode === 'read')) {
      throw hostError({ tag: 'not-granted', val: `${path} is not granted for ${mode}` });
    }
    if (mode === 'read' && !data.has(path)) throw hostError({ tag: 'not-found', val: path });
    return new File(path);
  };
  return { host: { File, open }, data, syncs };
}

// A directory removed when the process ends.
function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'wasmconnect-js-harness-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const transpiledDirs = new Map();

// The directory holding `wasmPath` transpiled by jco, its imports of the
// worker's interfaces pointed at ./host.js.
function transpiled(wasmPath) {
  let dir = transpiledDirs.get(wasmPath);
  if (dir === undefined) {
    dir = scratch();
    execFileSync(join(nodeModules, '.bin/jco'), [
      'transpile', wasmPath, '-o', dir, '--name', 'component', '--no-typescript',
      '--map', 'wasmconnect:connector/*=./host.js#*', '--map', 'wasmconnect:database/*=./host.js#*',
      '--map', 'wasmconnect:tasks/*=./host.js#*',
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    transpiledDirs.set(wasmPath, dir);
  }
  return dir;
}

/**
 * Transpiles and instantiates `wasmPath` with the harness's host. Returns
 * the component's exports, the `logs` it wrote, the `errant` records it
 * reported, its in-memory `files` (path → bytes) and their `syncs`.
 *
 * options.logLevel       the lowest level `enabled` reports (default 'trace')
 * options.connectorName  what context says (default 'harness'); options.taskId
 * options.offsets        committed source offsets: partition JSON → offset JSON
 * options.grants         files the configuration names: path → 'read' | 'append'
 * options.files          their contents: path → bytes or text
 * options.errantTrace    what errant-records.report answers (default: accepted)
 */
export async function loadComponent(wasmPath, options = {}) {
  const dir = scratch();
  // Every load is a fresh instance, so each imports its own copy of the
  // transpiled module (transpiled once per component).
  cpSync(transpiled(resolve(wasmPath)), dir, { recursive: true });
  symlinkSync(nodeModules, join(dir, 'node_modules'));

  // The clock the component's WASI uses: the same module instance.
  const require = createRequire(join(nodeModules, 'package.json'));
  const { monotonicClock } = await import(pathToFileURL(require.resolve('@bytecodealliance/preview2-shim/clocks')).href);

  const min = LEVELS.indexOf(options.logLevel ?? 'trace');
  const logs = [];
  const errant = [];
  const offsets = new Map(Object.entries(options.offsets ?? {}));
  const files = memoryFiles(options.grants ?? {}, options.files ?? {});
  // The database interface's resources; no connection ever opens.
  class Connection {
    static open(url) {
      throw hostError({ tag: 'not-granted', val: `${url}: the Node harness has no databases` });
    }
  }
  class Statement {}
  class Cursor {}
  const id = `__wasmconnectHarness${Math.random().toString(36).slice(2)}`;
  globalThis[id] = {
    logging: {
      enabled: (level) => LEVELS.indexOf(level) >= min,
      log: (level, message) => logs.push({ level, message }),
    },
    context: {
      connectorName: () => options.connectorName ?? 'harness',
      taskId: () => options.taskId,
      stopRequested: () => false,
      // Nobody stops a harness instance: a pollable that is not ready
      // within any wait a test makes.
      stopSignal: () => monotonicClock.subscribeDuration(3_600_000_000_000n),
    },
    offsets: { read: (partitions) => partitions.map((p) => offsets.get(p)) },
    files: files.host,
    errantRecords: {
      report(record, error) {
        errant.push({ record, error });
        if (options.errantTrace !== undefined) throw hostError(options.errantTrace);
      },
    },
    sql: { Connection, Statement, Cursor },
    // The *-with-database worlds import it; the kit does not call it.
    reconfiguration: {
      recheckEvery: () => {
        throw new Error('the Node harness does not reconfigure tasks');
      },
    },
  };
  writeFileSync(join(dir, 'host.js'), ['logging', 'context', 'offsets', 'files', 'errantRecords', 'sql', 'reconfiguration']
    .map((name) => `export const ${name} = globalThis.${id}.${name};\n`).join(''));
  const component = await import(pathToFileURL(join(dir, 'component.js')).href);
  return { component, logs, errant, files: files.data, syncs: files.syncs, dir };
}

/**
 * A transform component: its `plugin` export, a `recordTransform` that
 * takes and returns records (see above), the instance's own exports as
 * `component` and the `logs` it wrote.
 */
export async function loadTransform(wasmPath, options = {}) {
  const loaded = await loadComponent(wasmPath, options);
  const raw = loaded.component.recordTransform;
  const recordTransform = {
    configure: (config) => raw.configure(config),
    apply: (records) => unpackApplied(raw.apply(packTransform(records)), records.length),
  };
  return { ...loaded, plugin: loaded.component.plugin, recordTransform };
}

/**
 * A source component: `plugin`, `connector` and a `sourceTask` whose
 * `poll` returns the records unpacked (source partitions and offsets as
 * JSON text).
 */
export async function loadSource(wasmPath, options = {}) {
  const loaded = await loadComponent(wasmPath, options);
  const { plugin, connector, sourceTask: raw } = loaded.component;
  const sourceTask = { ...raw, poll: () => unpackSource(raw.poll()) };
  return { ...loaded, plugin, connector, sourceTask };
}

/**
 * A sink component: `plugin`, `connector` and a `sinkTask` whose `put`
 * takes records as the kit unpacks them ({ topic, partition, offset, key,
 * value, headers, timestamp, timestampType }).
 */
export async function loadSink(wasmPath, options = {}) {
  const loaded = await loadComponent(wasmPath, options);
  const { plugin, connector, sinkTask: raw } = loaded.component;
  const sinkTask = { ...raw, put: (records) => raw.put(packSink(records)) };
  return { ...loaded, plugin, connector, sinkTask };
}

/**
 * What `record-transform.apply` returned, as one outcome per record with
 * its replacement in place; throws what the worker would refuse.
 */
export function unpackApplied(applied, count) {
  const { outcomes } = applied;
  if (outcomes.length !== count) throw new Error(`apply returned ${outcomes.length} outcomes for ${count} records`);
  let replacements;
  try {
    replacements = unpackTransform(applied.replacements);
  } catch (e) {
    throw new Error(`apply returned malformed replacements: ${e.message}`);
  }
  const used = new Array(replacements.length).fill(false);
  return outcomes.map((o, i) => {
    if (o.tag !== 'replace') return o;
    if (o.val >= replacements.length) {
      throw new Error(`outcome ${i} replaces with replacement ${o.val}, but there are ${replacements.length}`);
    }
    if (used[o.val]) throw new Error(`outcome ${i} and another both replace with replacement ${o.val}`);
    used[o.val] = true;
    return { tag: 'replace', val: replacements[o.val] };
  });
}

/** The task-error a call threw, or undefined if it did not throw. */
export function taskErrorOf(f) {
  try {
    f();
  } catch (e) {
    if (e && 'payload' in e) return e.payload;
    throw e;
  }
  return undefined;
}
