// Types of lib/connector.js: what sources and sinks share (see lib/source.d.ts, lib/sink.d.ts).
import type * as wit from 'wasmconnect:connector/types@0.2.0';
import type { Config, PluginExport, PluginSpec } from './wasmconnect.js';

/** Waits up to `ms`, returning early (true) once the host asks the instance to stop. */
export function sleepUnlessStopped(ms: number): boolean;

/** One offset change of KIP-875 (alter or reset while the connector is stopped). */
export interface OffsetChange { partition: any, offset: any | null }

/** What sources and sinks share. `S` is what configure returns, `T` the task. */
export interface ConnectorSpec<S, T> extends PluginSpec<S> {
  /** The task class: `new task(settings, config)` starts a task. */
  task: new (settings: S, config: Config) => T;
  /** Per-task settings, merged over the connector's configuration; one task with it when absent. */
  taskConfigs?(settings: S, maxTasks: number, config: Config): Array<Record<string, string | number | boolean | null | undefined>>;
  /** Offsets altered or reset over REST; true when acknowledged. */
  alterOffsets?(config: Config, changes: OffsetChange[]): boolean;
}

export interface ConnectorExport {
  start(config: wit.Config): void;
  taskConfigs(maxTasks: number): wit.Config[];
  stop(): void;
  alterOffsets(config: wit.Config, offsets: Array<[string, string | undefined]>): boolean;
}

/** Stops a task object if it has a `stop`, logging (not throwing) a failure. */
export function stopQuietly(task: { stop?(): void } | undefined): void;
export function settle<R, A = R>(run: () => R | Promise<R>, context: string, after?: (v: R) => A): A | Promise<A>;

export function defineConnector<S, T>(spec: ConnectorSpec<S, T>, kind: 'source' | 'sink', caller: string): {
  plugin: PluginExport, connector: ConnectorExport, startTask(config: wit.Config): T,
};
