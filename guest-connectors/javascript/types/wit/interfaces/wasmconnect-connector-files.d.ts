// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:connector/files@0.2.0' {
  /**
   * Opens `path`, exactly as it appears in the connector's configuration.
   */
  export function open(path: string, mode: OpenMode): File;
  /**
   * Why a file operation failed.
   */
  export type FileError = FileErrorNotGranted | FileErrorNotFound | FileErrorIo;
  /**
   * The path is not named by a key the host granted, or not for this mode.
   */
  export interface FileErrorNotGranted {
    tag: 'not-granted',
    val: string,
  }
  /**
   * The file does not exist.
   */
  export interface FileErrorNotFound {
    tag: 'not-found',
    val: string,
  }
  /**
   * Any other I/O failure, in plain words.
   */
  export interface FileErrorIo {
    tag: 'io',
    val: string,
  }
  /**
   * How to open a file.
   * # Variants
   * 
   * ## `"read"`
   * 
   * Read only.
   * ## `"append"`
   * 
   * Create if missing and append.
   */
  export type OpenMode = 'read' | 'append';
  
  export class File implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Reads up to `max-len` bytes starting at byte `offset`; an empty
    * list means end of file.
    */
    read(offset: bigint, maxLen: number): Uint8Array;
    /**
    * Appends bytes at the end of the file (files opened in `append` mode).
    */
    append(data: Uint8Array): void;
    /**
    * Flushes appended bytes to stable storage.
    */
    sync(): void;
    /**
    * The file's current size in bytes.
    */
    size(): bigint;
    [Symbol.dispose](): void;
  }
}
