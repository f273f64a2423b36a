// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:tasks/reconfiguration@0.1.0' {
  /**
   * From now on, while the connector runs, call `task-configs` again
   * every `interval-ms` milliseconds (values under 1,000 count as
   * 1,000); `0` stops it. Only the connector instance may ask: from a
   * task, it does nothing.
   */
  export function recheckEvery(intervalMs: number): void;
}
