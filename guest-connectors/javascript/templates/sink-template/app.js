// @ts-check
// The smallest useful wasmconnect sink in JavaScript: it appends every
// record to a file, one line each (`topic/partition/offset<TAB>value`),
// and syncs the file before the worker commits offsets. Copy this
// directory anywhere, rename the plugin, and replace the task:
//
//   cp -r guest-connectors/javascript/templates/sink-template my-sink
//   bash guest-connectors/javascript/build.sh /tmp/out my-sink   # → /tmp/out/js-my-sink.wasm
//
// `wasmconnect` (and `wasmconnect/…`) is the kit in lib/: build.sh maps it.
//
// Used as:
//   connector.class=JsSinkTemplate
//   topics=orders
//   file=/data/orders.txt      (within the worker's sandbox.allowed.dirs)
import { configKey, decode, stringifyJson } from 'wasmconnect';
import { defineSink } from 'wasmconnect/sink.js';
import { openFile } from 'wasmconnect/files.js';

/** @typedef {{ file: string }} Settings */
/** @typedef {import('wasmconnect/sink.js').SinkRecord} SinkRecord */

class FileTask {
  /** @param {Settings} settings */
  constructor(settings) {
    // The worker grants exactly the path the `file` key names (it is
    // declared with resource 'write-file' below).
    this.file = openFile(settings.file, 'append');
  }

  /** @param {SinkRecord[]} records */
  put(records) {
    if (records.length === 0) return;
    const lines = records.map((r) => `${r.topic}/${r.partition}/${r.offset}\t${show(r.value)}\n`);
    this.file.append(lines.join(''));
  }

  // Before the worker commits the offsets of what put received: make it
  // durable, so a crash never loses a committed record.
  flush() {
    this.file.sync();
  }
}

// A value as one line of text: strings as they are, bytes as hex, JSON as JSON.
/** @param {SinkRecord['value']} payload */
function show(payload) {
  const v = decode(payload);
  if (v === null) return 'null';
  if (typeof v === 'string') return v.replace(/\n/g, '\\n');
  if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  return stringifyJson(v);
}

export const { plugin, connector, sinkTask } = defineSink({
  metadata: {
    name: 'io.wasmconnect.js.SinkTemplate',
    aliases: ['JsSinkTemplate'],
    version: '0.1.0',
    description: 'Appends every record to a file, one line each (the JavaScript template sink)',
  },

  config: [
    configKey('file', 'string', { required: true, importance: 'high', resource: 'write-file', doc: 'File to append records to' }),
  ],

  configure(config) {
    const file = config.string('file');
    if (file === '') config.error('file', 'Invalid value  for configuration file: must name a file');
    return { file };
  },

  task: FileTask,
});
