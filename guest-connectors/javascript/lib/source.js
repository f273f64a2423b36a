// Source connectors in JavaScript: defineSource builds the `plugin`,
// `connector` and `sourceTask` exports of the `source` world
// (wit/connector.wit) from a spec and a task class.
//
//   import { configKey, json } from 'wasmconnect';
//   import { defineSource, committedOffset } from 'wasmconnect/source.js';
//
//   class CounterTask {
//     constructor(settings) {           // the task's start
//       const committed = committedOffset({ counter: 'c' });
//       this.next = committed ? committed.n + 1 : 0;
//       this.topic = settings.topic;
//     }
//     poll() {                          // → records; [] when nothing is ready
//       const n = this.next++;
//       return [{ sourcePartition: { counter: 'c' }, sourceOffset: { n }, topic: this.topic, value: json(n) }];
//     }
//   }
//   export const { plugin, connector, sourceTask } = defineSource({
//     metadata: { name: 'com.example.CounterSource', version: '1.0.0' },
//     config: [configKey('topic', 'string', { required: true })],
//     configure: (config) => ({ topic: config.string('topic') }),
//     task: CounterTask,
//   });
//
// The kit packs what poll returns into the contract's source batch
// (lib/batch.js), turning source partitions and offsets given as objects
// into JSON. Errors thrown by the task become task errors: retriable(…)
// and fatal(…) as they are, anything else fatal with the call named.

import { read as readOffsets } from 'wasmconnect:connector/offsets@0.2.0';
import { NotARecord, packSource } from './batch.js';
import { defineConnector, settle, stopQuietly } from './connector.js';
import { fatal, parseJson, stringifyJson, toTaskError } from './wasmconnect.js';

export { sleepUnlessStopped } from './connector.js';

/**
 * The committed offsets of `partitions` (source partition objects, or
 * their JSON text), read from the worker's offset store: one parsed
 * offset object per partition, in order, or null where none was
 * committed. Call it when a task starts (in its constructor) to resume
 * where the last run's acknowledged records ended.
 */
export function committedOffsets(partitions) {
  const keys = partitions.map((p) => (typeof p === 'string' ? p : stringifyJson(p)));
  let found;
  try {
    found = readOffsets(keys);
  } catch (e) {
    throw toTaskError(e, 'reading committed offsets failed');
  }
  return found.map((o, i) => {
    if (o === undefined) return null;
    try {
      return parseJson(o);
    } catch (e) {
      throw fatal(`the committed offset of source partition ${keys[i]} is not JSON: ${e.message}`);
    }
  });
}

/** The committed offset of one source partition (see committedOffsets), or null. */
export function committedOffset(partition) {
  return committedOffsets([partition])[0];
}

const asJson = (v, what, i) => {
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw fatal(`poll returned record ${i} whose ${what} is ${v === undefined ? 'missing' : String(v)}: expected an object`);
  }
  return stringifyJson(v);
};

const asTimestamp = (t) => {
  if (t === undefined || t === null) return undefined;
  if (t instanceof Date) return BigInt(t.getTime());
  return typeof t === 'bigint' ? t : BigInt(Math.trunc(t));
};

// A record as authors write it, in the shape lib/batch.js packs.
function sourceRecord(r, i) {
  if (r === null || typeof r !== 'object') throw fatal(`poll returned ${String(r)} as record ${i}: expected a record object`);
  if (typeof r.topic !== 'string' || r.topic === '') throw fatal(`poll returned record ${i} without a topic`);
  return {
    sourcePartition: asJson(r.sourcePartition, 'sourcePartition', i),
    sourceOffset: asJson(r.sourceOffset, 'sourceOffset', i),
    topic: r.topic,
    partition: r.partition ?? undefined,
    key: r.key ?? undefined,
    value: r.value ?? undefined,
    headers: r.headers ?? [],
    timestamp: asTimestamp(r.timestamp),
    ackToken: r.ackToken === undefined || r.ackToken === null ? undefined : BigInt(r.ackToken),
  };
}

// What poll returned, packed into a source batch.
function packPolled(records) {
  records ??= [];
  if (!Array.isArray(records)) throw fatal(`poll returned ${String(records)}: expected an array of records`);
  try {
    return packSource(records.map(sourceRecord));
  } catch (e) {
    if (e instanceof NotARecord) throw fatal(`poll returned a malformed record ${e.index}: ${e.message}`);
    throw toTaskError(e, 'poll failed');
  }
}

/**
 * Builds the exports of a source connector:
 *
 * spec.metadata, spec.config, spec.configure, spec.validate: as for
 *   defineTransform (configure runs in the connector, in each task and,
 *   collecting, in validate).
 * spec.task: a class; `new Task(settings, config)` starts a task. Its
 *   methods: poll() → array of records (or undefined: nothing ready);
 *   optional commitRecords(acks), commit(), stop(). poll, commitRecords
 *   and commit may be async (to await fetch(…), say).
 * spec.taskConfigs, spec.alterOffsets: see lib/connector.js.
 *
 * A record: { sourcePartition, sourceOffset (objects or JSON text), topic,
 * partition?, key?, value? (payloads: text(), json(), binary()),
 * headers?, timestamp? (ms, a number, BigInt or Date), ackToken? }.
 * commitRecords gets [{ token, written: { partition, offset } | undefined,
 * filtered: boolean }] for records that carried an ackToken.
 */
export function defineSource(spec) {
  const { plugin, connector, startTask } = defineConnector(spec, 'source', 'defineSource');
  let task;

  const sourceTask = {
    start(entries) {
      task = startTask(entries);
    },
    poll() {
      if (task === undefined) throw fatal('poll called before start');
      const t = task;
      return settle(() => t.poll(), 'poll failed', packPolled);
    },
    commitRecords(acks) {
      const t = task;
      if (!t?.commitRecords) return undefined;
      const mapped = acks.map((a) => ({
        token: a.token,
        written: a.status.tag === 'written' ? { partition: a.status.val[0], offset: a.status.val[1] } : undefined,
        filtered: a.status.tag === 'filtered',
      }));
      return settle(() => t.commitRecords(mapped), 'commitRecords failed', () => undefined);
    },
    commit() {
      const t = task;
      return settle(() => t?.commit?.(), 'commit failed', () => undefined);
    },
    stop() {
      const t = task;
      task = undefined;
      stopQuietly(t);
    },
  };

  return { plugin, connector, sourceTask };
}
