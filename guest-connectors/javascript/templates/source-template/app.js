// @ts-check
// The smallest useful wasmconnect source in JavaScript: a ticker that
// writes one numbered record to a topic every `interval.ms`, and after a
// restart goes on from the number after the last one Kafka acknowledged.
// Copy this directory anywhere, rename the plugin, and replace the task:
//
//   cp -r guest-connectors/javascript/templates/source-template my-source
//   bash guest-connectors/javascript/build.sh /tmp/out my-source   # → /tmp/out/js-my-source.wasm
//
// `wasmconnect` (and `wasmconnect/…`) is the kit in lib/: build.sh maps it.
//
// Used as:
//   connector.class=JsSourceTemplate
//   topic=ticks
//   message=hello
import { configKey, json, text, log, connectorName } from 'wasmconnect';
import { defineSource, committedOffset, sleepUnlessStopped } from 'wasmconnect/source.js';

/** @typedef {{ topic: string, message: string, intervalMs: number }} Settings */

// One task per connector; its records all belong to one source partition,
// whose offset is the number of the last record written.
class TickerTask {
  /** @param {Settings} settings */
  constructor(settings) {
    this.settings = settings;
    this.partition = { ticker: connectorName() };
    // Where the last run stopped: the worker hands back the offset of the
    // last record Kafka acknowledged.
    const last = committedOffset(this.partition);
    this.next = typeof last?.n === 'number' ? last.n + 1 : 0;
    this.due = 0;
    log.info(`ticking from ${this.next}`);
  }

  // Called in a loop by the worker: return the records that are ready,
  // or [] after waiting a little when there are none (never spin).
  poll() {
    const wait = this.due - Date.now();
    if (wait > 0) {
      // Short waits keep the task responsive to pause and stop.
      sleepUnlessStopped(Math.min(wait, 500));
      return [];
    }
    this.due = Date.now() + this.settings.intervalMs;
    const n = this.next++;
    return [{
      sourcePartition: this.partition,
      sourceOffset: { n },
      topic: this.settings.topic,
      key: text(String(n)),
      value: json({ n, message: this.settings.message }),
    }];
  }
}

export const { plugin, connector, sourceTask } = defineSource({
  metadata: {
    // A Java-like class name is what operators write in `connector.class`;
    // aliases are shorter names for it.
    name: 'io.wasmconnect.js.SourceTemplate',
    aliases: ['JsSourceTemplate'],
    version: '0.1.0',
    description: 'Writes a numbered record every interval (the JavaScript template source)',
  },

  config: [
    configKey('topic', 'string', { required: true, importance: 'high', doc: 'Topic to write to' }),
    configKey('message', 'string', { default: 'tick', doc: 'Text carried by every record' }),
    configKey('interval.ms', 'long', { default: 1000, doc: 'Milliseconds between records' }),
  ],

  // Runs in validate (collecting every problem), in the connector and in
  // each task: read the configuration here and nothing else.
  configure(config) {
    const intervalMs = Number(config.long('interval.ms', 1000n));
    if (intervalMs < 0) config.error('interval.ms', `Invalid value ${intervalMs} for configuration interval.ms: Value must be at least 0`);
    return { topic: config.string('topic'), message: config.string('message', 'tick'), intervalMs };
  },

  task: TickerTask,
});
