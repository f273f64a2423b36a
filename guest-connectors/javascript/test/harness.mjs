// Runs a built transform component in Node, without a worker, so you can
// feed it the records you care about (the conformance kit only sends plain
// text records). jco transpiles the component to JS + core wasm; this file
// stands in for the worker's logging and context imports, and packs and
// unpacks batches as the worker does (with the kit's own lib/batch.js).
//
//   import { loadTransform } from './harness.mjs';
//   const t = await loadTransform('/tmp/out/js-mask-field.wasm');
//   t.recordTransform.configure([['fields', 'ssn']]);
//   t.recordTransform.apply([record]);   // → outcomes, replacements in place:
//                                        //   { tag: 'keep' | 'drop' } or { tag: 'replace', val: record }
//   t.component.recordTransform.apply(batch)  // the export itself: a transform-batch in, `applied` out
//   t.logs                               // → [{ level, message }, …]
//
// Errors come back as jco's ComponentError: `e.payload` is the task-error
// ({ tag: 'fatal', val } or { tag: 'retriable', val: { message, backoffMs } }).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packTransform, unpackTransform } from '../lib/batch.js';

const polyglot = process.env.WASMCONNECT_POLYGLOT ?? join(process.env.HOME, '.cache/wasmconnect/polyglot');
const nodeModules = join(polyglot, 'node/node_modules');

/**
 * Transpiles and instantiates `wasmPath`; returns its `plugin` export, a
 * `recordTransform` that takes and returns records (see above), the
 * instance's own exports as `component` and the `logs` it wrote.
 * `options.logLevel`: the lowest level `enabled` reports (default 'trace').
 */
export async function loadTransform(wasmPath, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmconnect-js-harness-'));
  // The transpiled component is imported from here once; nothing needs it
  // after the process ends.
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // The transpiled module imports @bytecodealliance/preview2-shim for WASI.
  symlinkSync(nodeModules, join(dir, 'node_modules'));
  execFileSync(join(nodeModules, '.bin/jco'), [
    'transpile', resolve(wasmPath), '-o', dir, '--name', 'component', '--no-typescript',
    '--map', 'wasmconnect:connector/*=./host.js#*',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });

  const levels = ['trace', 'debug', 'info', 'warn', 'error'];
  const min = levels.indexOf(options.logLevel ?? 'trace');
  const logs = [];
  const id = `__wasmconnectHarness${Math.random().toString(36).slice(2)}`;
  globalThis[id] = {
    logging: {
      enabled: (level) => levels.indexOf(level) >= min,
      log: (level, message) => logs.push({ level, message }),
    },
    context: {
      connectorName: () => options.connectorName ?? 'harness',
      taskId: () => options.taskId,
      stopRequested: () => false,
      stopSignal: () => {
        throw new Error('the harness has no stop signal');
      },
    },
  };
  writeFileSync(join(dir, 'host.js'),
    `export const logging = globalThis.${id}.logging;\nexport const context = globalThis.${id}.context;\n`);
  const component = await import(pathToFileURL(join(dir, 'component.js')).href);
  const raw = component.recordTransform;
  const recordTransform = {
    configure: (config) => raw.configure(config),
    apply: (records) => unpackApplied(raw.apply(packTransform(records)), records.length),
  };
  return { plugin: component.plugin, recordTransform, component, logs, dir };
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
