// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/connector@0.2.0' {
  /**
   * Starts the connector with its full configuration.
   */
  export function start(config: Config): void;
  /**
   * Divides the work into at most `max-tasks` task configurations (fewer is
   * fine). Each becomes one task instance.
   */
  export function taskConfigs(maxTasks: number): Array<Config>;
  /**
   * Stops the connector; no other call follows.
   */
  export function stop(): void;
  /**
   * Called when an operator alters or resets offsets through the REST API
   * while the connector is stopped (KIP-875). Each entry pairs a source
   * partition (or, for sinks, `{"kafka_topic":…,"kafka_partition":…}`)
   * with its new offset, `none` meaning reset. Return `ok(true)` when the
   * plugin acknowledged the change, `ok(false)` when it manages no offsets
   * of its own, or an error to refuse the change.
   */
  export function alterOffsets(config: Config, offsets: Array<[Json, Json | undefined]>): boolean;
  export type Config = import('wasmconnect:connector/types@0.2.0').Config;
  export type Json = import('wasmconnect:connector/types@0.2.0').Json;
  export type TaskError = import('wasmconnect:connector/types@0.2.0').TaskError;
}
