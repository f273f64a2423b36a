// Sink connectors in JavaScript: defineSink builds the `plugin`,
// `connector` and `sinkTask` exports of the `sink` world
// (wit/connector.wit) from a spec and a task class.
//
//   import { configKey, decode } from 'wasmconnect';
//   import { defineSink } from 'wasmconnect/sink.js';
//
//   class PrintTask {
//     constructor(settings) { this.prefix = settings.prefix; }   // the task's start
//     put(records) { for (const r of records) console.log(this.prefix, decode(r.value)); }
//   }
//   export const { plugin, connector, sinkTask } = defineSink({
//     metadata: { name: 'com.example.PrintSink', version: '1.0.0' },
//     config: [configKey('prefix', 'string', { default: '>' })],
//     configure: (config) => ({ prefix: config.string('prefix', '>') }),
//     task: PrintTask,
//   });
//
// The kit unpacks each packed sink batch (lib/batch.js) into records
// { topic, partition, offset (BigInt), key, value, headers, timestamp
// (BigInt ms or undefined), timestampType }. Errors thrown by the task
// become task errors: retriable(…) has the worker deliver the same batch
// again after a backoff, fatal(…) fails the task, anything else is fatal
// with the call named.

import { report } from 'wasmconnect:connector/errant-records@0.2.0';
import { MalformedBatch, unpackSink } from './batch.js';
import { defineConnector, settle, stopQuietly } from './connector.js';
import { fatal, toTaskError } from './wasmconnect.js';

export { sleepUnlessStopped } from './connector.js';

/**
 * Reports `record` (one `put` was given) as failed with `error` (a
 * message or an Error), Kafka's ErrantRecordReporter: it goes through the
 * connector's error handling (errors.tolerance, the dead letter queue)
 * once put returns, and put goes on with the rest of its batch. When the
 * connector does not tolerate errors the task fails once put returns.
 */
export function reportErrant(record, error) {
  const message = error instanceof Error ? error.message : String(error);
  try {
    report(record, message);
  } catch (e) {
    // The host answered with the trace the task will fail with: that
    // happens anyway, so the rest of the batch may as well go on.
    return typeof e?.payload === 'string' ? e.payload : String(e?.message ?? e);
  }
  return undefined;
}

/**
 * Builds the exports of a sink connector:
 *
 * spec.metadata, spec.config, spec.configure, spec.validate: as for
 *   defineTransform (configure runs in the connector, in each task and,
 *   collecting, in validate).
 * spec.task: a class; `new Task(settings, config)` starts a task. Its
 *   methods: put(records); optional open(partitions), close(partitions)
 *   (arrays of { topic, partition }), flush(offsets) (write out what is
 *   buffered before the worker commits `offsets`, [{ topic, partition,
 *   offset }]; without it every offset delivered to put is committed),
 *   preCommit(offsets) → the offsets safe to commit, stop(). Every method
 *   but the constructor and stop may be async (to await fetch(…), say).
 * spec.taskConfigs, spec.alterOffsets: see lib/connector.js.
 */
export function defineSink(spec) {
  const { plugin, connector, startTask } = defineConnector(spec, 'sink', 'defineSink');
  let task;
  const started = (call) => {
    if (task === undefined) throw fatal(`${call} called before start`);
    return task;
  };

  const sinkTask = {
    start(entries) {
      task = startTask(entries);
    },
    open(partitions) {
      const t = started('open');
      return settle(() => t.open?.(partitions), 'open failed', () => undefined);
    },
    close(partitions) {
      const t = started('close');
      return settle(() => t.close?.(partitions), 'close failed', () => undefined);
    },
    put(batch) {
      const t = started('put');
      let records;
      try {
        records = unpackSink(batch);
      } catch (e) {
        throw e instanceof MalformedBatch ? fatal(`the host sent a malformed batch: ${e.message}`) : toTaskError(e);
      }
      return settle(() => t.put(records), 'put failed', () => undefined);
    },
    preCommit(current) {
      const t = started('preCommit');
      if (t.preCommit) return settle(() => t.preCommit(current), 'preCommit failed');
      return settle(() => t.flush?.(current), 'flush failed', () => current);
    },
    stop() {
      const t = task;
      task = undefined;
      stopQuietly(t);
    },
  };

  return { plugin, connector, sinkTask };
}
