// What sources and sinks share: the `connector` export (Kafka's
// Connector: start, task configurations, stop, alter-offsets), starting
// and stopping the author's task object, and waiting without spinning.
//
// lib/source.js and lib/sink.js build on this module; authors import
// those, not this one. It imports wasi:clocks/monotonic-clock, which the
// transform world does not name: build.sh builds sources and sinks
// against worlds that add it (see build.sh).

import { subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import { poll } from 'wasi:io/poll@0.2.12';
import { stopSignal } from 'wasmconnect:connector/context@0.2.0';
import { Config, definePlugin, fatal, stopRequested, toTaskError } from './wasmconnect.js';

/**
 * Waits up to `ms` milliseconds, returning early once the host asks this
 * instance to stop. Whether a stop was requested (true) or the time ran
 * out (false). A source that found nothing new calls this before
 * returning an empty batch, so that an idle task does not query its
 * system in a tight loop:
 *
 *   if (rows.length === 0) { sleepUnlessStopped(settings.pollIntervalMs); return []; }
 *
 * Keep waits well under the worker's call deadline (a second or so).
 */
export function sleepUnlessStopped(ms) {
  if (stopRequested()) return true;
  const wait = Math.max(0, Math.floor(Number(ms) || 0));
  if (wait === 0) return false;
  const stop = stopSignal();
  const timer = subscribeDuration(BigInt(wait) * 1_000_000n);
  try {
    return poll([stop, timer]).includes(0);
  } finally {
    // Both are host resources: a task that waits on every poll would
    // otherwise fill the instance's resource table until GC runs.
    release(timer);
    release(stop);
  }
}

function release(resource) {
  const dispose = typeof Symbol.dispose === 'symbol' ? resource[Symbol.dispose] : undefined;
  if (typeof dispose === 'function') dispose.call(resource);
}

/**
 * Stops a task object if it has a `stop`. The contract's stop cannot fail,
 * so a failure is only worth a log line.
 */
export function stopQuietly(task) {
  try {
    task?.stop?.();
  } catch (e) {
    console.error(`stop failed: ${toTaskError(e).message}`);
  }
}

/**
 * Runs a task method, converting what it throws into a task error named
 * after `context`, then hands its result to `after`. Methods may be
 * async: a promise they return is chained, and componentize-js runs the
 * event loop until the export's promise settles (how `await fetch(…)`
 * works inside a synchronous WIT call).
 */
export function settle(run, context, after = (v) => v) {
  const failed = (e) => {
    throw toTaskError(e, context);
  };
  let result;
  try {
    result = run();
  } catch (e) {
    failed(e);
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    return result.then(after, failed);
  }
  return after(result);
}

/**
 * A task configuration from what `taskConfigs` returned for one task: an
 * object of key → value, a Map, or [key, value] pairs, merged over the
 * connector's own configuration (so tasks see every connector key plus
 * what is particular to them).
 */
function taskConfig(base, extra, i) {
  let pairs;
  if (extra instanceof Map || Array.isArray(extra)) pairs = [...extra];
  else if (extra !== null && typeof extra === 'object') pairs = Object.entries(extra);
  else throw fatal(`taskConfigs returned ${String(extra)} for task ${i}: expected an object of settings`);
  const merged = new Map(base);
  for (const [k, v] of pairs) {
    if (v === undefined || v === null) merged.delete(String(k));
    else merged.set(String(k), String(v));
  }
  return [...merged];
}

/**
 * The `plugin` and `connector` exports of a source or sink, and a
 * `startTask(entries)` that configures and builds the author's task.
 *
 * spec.taskConfigs(settings, maxTasks, config) → an array of per-task
 *   settings (objects), merged over the connector's configuration; one
 *   task with the connector's configuration when absent.
 * spec.alterOffsets(config, changes) → boolean, for KIP-875 offset changes
 *   while the connector is stopped; `changes` is [{ partition, offset }]
 *   with parsed JSON (offset null for a reset). Without it the kit answers
 *   false (the plugin keeps no offsets of its own).
 * spec.task: a class (or a function returning an object) built per task as
 *   new Task(settings, config).
 */
export function defineConnector(spec, kind, caller) {
  if (typeof spec.task !== 'function') {
    throw new TypeError(`${caller}: task must be a class whose instances ${kind === 'source' ? 'poll' : 'put'} records`);
  }
  const { plugin, metadata, definition, configureFn } = definePlugin(spec, kind, caller);
  let connectorEntries;
  let connectorSettings;

  const connector = {
    start(entries) {
      try {
        connectorSettings = configureFn(new Config(entries, { definition }));
        connectorEntries = entries;
      } catch (e) {
        throw toTaskError(e);
      }
    },
    taskConfigs(maxTasks) {
      if (connectorEntries === undefined) throw fatal('taskConfigs called before start');
      if (!spec.taskConfigs) return [connectorEntries];
      let configs;
      try {
        configs = spec.taskConfigs(connectorSettings, maxTasks, new Config(connectorEntries, { definition }));
      } catch (e) {
        throw toTaskError(e, 'taskConfigs failed');
      }
      if (!Array.isArray(configs)) throw fatal(`taskConfigs returned ${String(configs)}: expected an array`);
      if (configs.length > maxTasks) throw fatal(`taskConfigs returned ${configs.length} configurations for at most ${maxTasks} tasks`);
      return configs.map((c, i) => taskConfig(connectorEntries, c, i));
    },
    stop() {
      connectorEntries = undefined;
      connectorSettings = undefined;
    },
    alterOffsets(entries, offsets) {
      if (!spec.alterOffsets) return false;
      try {
        const changes = offsets.map(([partition, offset]) => ({
          partition: JSON.parse(partition),
          offset: offset === undefined ? null : JSON.parse(offset),
        }));
        return Boolean(spec.alterOffsets(new Config(entries, { definition }), changes));
      } catch (e) {
        throw toTaskError(e, 'alterOffsets refused');
      }
    },
  };

  function startTask(entries) {
    try {
      const config = new Config(entries, { definition });
      const settings = configureFn(config);
      return new spec.task(settings, config);
    } catch (e) {
      throw toTaskError(e, 'start failed');
    }
  }

  return { plugin, connector, metadata, startTask };
}
