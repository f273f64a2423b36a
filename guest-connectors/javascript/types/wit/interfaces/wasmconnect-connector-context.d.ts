// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasi-io-poll.d.ts" />
declare module 'wasmconnect:connector/context@0.2.0' {
  /**
   * The connector's name.
   */
  export function connectorName(): string;
  /**
   * The task number, or `none` in the connector instance.
   */
  export function taskId(): number | undefined;
  /**
   * Whether the host has asked this instance to stop (or pause).
   */
  export function stopRequested(): boolean;
  /**
   * A pollable that becomes ready when the host asks this instance to stop.
   * Include it in `wasi:io/poll.poll` when waiting for data.
   */
  export function stopSignal(): Pollable;
  export type Pollable = import('wasi:io/poll@0.2.12').Pollable;
}
