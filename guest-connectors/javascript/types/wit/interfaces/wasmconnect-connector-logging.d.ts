// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:connector/logging@0.2.0' {
  /**
   * Whether a message at `level` would be recorded; lets plugins skip
   * formatting messages nobody will read.
   */
  export function enabled(level: Level): boolean;
  /**
   * Records a message.
   */
  export function log(level: Level, message: string): void;
  /**
   * Log severity.
   * # Variants
   * 
   * ## `"trace"`
   * 
   * ## `"debug"`
   * 
   * ## `"info"`
   * 
   * ## `"warn"`
   * 
   * ## `"error"`
   */
  export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
}
