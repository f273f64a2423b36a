// Types of lib/files.js: files the connector's configuration names.
import { TaskError } from './wasmconnect.js';

export class FileError extends TaskError {
  constructor(kind: 'not-granted' | 'not-found' | 'io', path: string, detail: string);
  readonly kind: 'not-granted' | 'not-found' | 'io';
  readonly path: string;
}

export class File {
  readonly path: string;
  read(offset: number | bigint, maxLen?: number): Uint8Array;
  readAll(offset?: number | bigint): Uint8Array;
  readText(offset?: number | bigint): string;
  append(data: Uint8Array | string): void;
  sync(): void;
  size(): number;
}

/** Opens `path`, as the configuration spells it, for 'read' or 'append'. */
export function openFile(path: string, mode?: 'read' | 'append'): File;
