// Files the connector's configuration names (the `files` import of the
// source and sink worlds). A plugin sees no filesystem: it opens exactly
// the paths held by configuration keys declared with
// `resource: 'read-file'` (read) or `resource: 'write-file'` (append),
// spelled as in the configuration.
//
//   import { openFile } from 'wasmconnect/files.js';
//   const out = openFile(settings.path, 'append');
//   out.append('a line\n');
//   out.sync();
//
// Failures throw a FileError, a fatal TaskError naming the path (not
// granted, not found), or a retriable one for other I/O errors.

import { open } from 'wasmconnect:connector/files@0.2.0';
import { TaskError } from './wasmconnect.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const CHUNK = 64 * 1024;

/** A failed file operation; `kind` is 'not-granted', 'not-found' or 'io'. */
export class FileError extends TaskError {
  constructor(kind, path, detail) {
    const message = kind === 'not-granted'
      ? `${path}: not granted (declare the key holding it with resource 'read-file' or 'write-file'): ${detail}`
      : kind === 'not-found'
        ? `${path}: no such file: ${detail}`
        : `${path}: ${detail}`;
    // Other I/O errors (a full disk, a busy file) may pass.
    const payload = kind === 'io' ? { tag: 'retriable', val: { message, backoffMs: undefined } } : { tag: 'fatal', val: message };
    super(message, payload);
    this.name = 'FileError';
    this.kind = kind;
    this.path = path;
  }
}

function call(path, f) {
  try {
    return f();
  } catch (e) {
    const p = e?.payload;
    if (p && typeof p.tag === 'string') throw new FileError(p.tag, path, p.val);
    throw e;
  }
}

/** An open file (see openFile). */
export class File {
  #handle;

  constructor(path, handle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Up to `maxLen` bytes from byte `offset`; empty at the end of the file. */
  read(offset, maxLen = CHUNK) {
    return call(this.path, () => this.#handle.read(BigInt(offset), maxLen));
  }

  /** The whole file from byte `offset` on, as bytes. */
  readAll(offset = 0) {
    const parts = [];
    let pos = BigInt(offset);
    let total = 0;
    for (;;) {
      const chunk = call(this.path, () => this.#handle.read(pos, CHUNK));
      if (chunk.length === 0) break;
      parts.push(chunk);
      total += chunk.length;
      pos += BigInt(chunk.length);
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  /** The whole file from byte `offset` on, decoded as UTF-8. */
  readText(offset = 0) {
    return utf8Decoder.decode(this.readAll(offset));
  }

  /** Appends bytes, or a string as UTF-8 (files opened for 'append'). */
  append(data) {
    const bytes = typeof data === 'string' ? utf8.encode(data) : data;
    call(this.path, () => this.#handle.append(bytes));
  }

  /** Flushes appended bytes to stable storage. */
  sync() {
    call(this.path, () => this.#handle.sync());
  }

  /** The file's size in bytes (a number). */
  size() {
    return Number(call(this.path, () => this.#handle.size()));
  }
}

/** Opens `path` (as the configuration spells it) for 'read' or 'append'. */
export function openFile(path, mode = 'read') {
  if (mode !== 'read' && mode !== 'append') throw new TypeError(`openFile: mode must be 'read' or 'append', not ${JSON.stringify(mode)}`);
  return new File(path, call(path, () => open(path, mode)));
}
