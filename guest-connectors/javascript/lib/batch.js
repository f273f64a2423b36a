// Packed batches of records (interface `batches` of wit/connector.wit,
// wasmconnect:connector@0.2.0) to and from the records connector code
// works with.
//
// A batch crosses the component boundary as one byte buffer (`data`) plus
// fixed-size entries pointing into it. defineTransform unpacks what
// `apply` receives into ordinary records and packs the replacements it
// returns; defineSink unpacks what `put` receives, defineSource packs what
// `poll` returns. Authors never see this module. It imports nothing from the
// host, so test/harness.mjs uses it in Node to play the worker's part.
//
// Inside the component SpiderMonkey interprets this code: a method call
// costs about a microsecond there, a closure call or a loop turn about a
// third of that. So the loops keep their state in locals, reach it
// through closures rather than `this`, and leave the bytes to native
// calls: one TextDecoder.decode per text, one TextEncoder.encode for all
// the text of a batch being built.

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// What no record's topic can be, so the first record looks its topic up.
const NO_TOPIC = Symbol('no topic');

/** A batch that breaks the contract: a span, index or range pointing outside it, or text that is not UTF-8. */
export class MalformedBatch extends Error {
  constructor(message) {
    super(message);
    this.name = 'MalformedBatch';
  }
}

function outside(offset, end, size) {
  return new MalformedBatch(`span ${offset}..${end} lies outside the batch's ${size} bytes of data`);
}

function textAt(span, data, size) {
  const offset = span.offset;
  const end = offset + span.len;
  if (end > size) throw outside(offset, end, size);
  try {
    return strictUtf8.decode(data.subarray(offset, end));
  } catch {
    throw new MalformedBatch(`text at ${offset}..${end} is not UTF-8`);
  }
}

function payloadAt(p, data, size) {
  const span = p.bytes;
  switch (p.kind) {
    case 'text':
      return { tag: 'text', val: textAt(span, data, size) };
    case 'json':
      return {
        tag: 'json',
        val: { document: textAt(span, data, size), schema: p.schema === undefined ? undefined : textAt(p.schema, data, size) },
      };
    default: {
      const offset = span.offset;
      const end = offset + span.len;
      if (end > size) throw outside(offset, end, size);
      return { tag: 'binary', val: data.subarray(offset, end) };
    }
  }
}

/**
 * The records of a `transform-batch`, shaped as componentize-js lifted
 * the records of contract 0.1.0: `{ topic, partition, key, value,
 * headers, timestamp }`, payloads `{ tag: 'text' | 'binary' | 'json',
 * val }`, headers `{ key, value }`, every field present (undefined for
 * none).
 *
 * Binary payloads and header values are views into the batch's buffer,
 * which the bindings copied out of linear memory for this call: they stay
 * valid, but one kept keeps the whole buffer alive.
 *
 * Throws a MalformedBatch naming the record that points outside the batch
 * or holds text that is not UTF-8.
 */
export function unpackTransform(batch) {
  return unpack(batch, 'transform');
}

/**
 * The records of a `sink-batch`, shaped as unpackTransform's plus the
 * sink record's `offset` (BigInt) and `timestampType` ('no-timestamp',
 * 'create-time' or 'log-append-time'); `partition` is always a number.
 * Throws a MalformedBatch as unpackTransform does.
 */
export function unpackSink(batch) {
  return unpack(batch, 'sink');
}

/**
 * The records of a `source-batch` (what the worker reads from `poll`;
 * test/harness.mjs plays that part), shaped as packSource takes them:
 * `sourcePartition` and `sourceOffset` as JSON text, `ackToken`.
 */
export function unpackSource(batch) {
  return unpack(batch, 'source');
}

// `kind` ('transform', 'sink' or 'source') says which fields the entries
// have beyond those every packed record has.
function unpack(batch, kind) {
  // The bindings build `data` in their own realm: a view made here makes
  // every subarray a Uint8Array of this realm, as `instanceof` expects.
  const data = new Uint8Array(batch.data.buffer, batch.data.byteOffset, batch.data.length);
  const size = data.length;
  const topics = batch.topics;
  const packedHeaders = batch.headers;
  const packed = batch.records;
  const n = packed.length;
  const records = new Array(n);
  let i = 0;
  try {
    for (; i < n; i++) {
      const r = packed[i];
      if (r.topic >= topics.length) throw new MalformedBatch(`topic index ${r.topic}, but the batch has ${topics.length} topics`);
      const range = r.headers;
      const count = range.count;
      const headers = new Array(count);
      if (count !== 0) {
        const start = range.start;
        if (start + count > packedHeaders.length) {
          throw new MalformedBatch(`headers ${start}..${start + count}, but the batch has ${packedHeaders.length} headers`);
        }
        for (let h = 0; h < count; h++) {
          const ph = packedHeaders[start + h];
          let value = ph.value;
          if (value !== undefined) {
            const end = value.offset + value.len;
            if (end > size) throw outside(value.offset, end, size);
            value = data.subarray(value.offset, end);
          }
          headers[h] = { key: textAt(ph.key, data, size), value };
        }
      }
      const key = r.key;
      const value = r.value;
      const record = {
        topic: topics[r.topic],
        partition: r.partition,
        key: key === undefined ? undefined : payloadAt(key, data, size),
        value: value === undefined ? undefined : payloadAt(value, data, size),
        headers,
        timestamp: r.timestamp,
      };
      if (kind === 'sink') {
        record.offset = r.offset;
        record.timestampType = r.timestampType;
      } else if (kind === 'source') {
        record.sourcePartition = textAt(r.sourcePartition, data, size);
        record.sourceOffset = textAt(r.sourceOffset, data, size);
        record.ackToken = r.ackToken;
      }
      records[i] = record;
    }
  } catch (e) {
    throw e instanceof MalformedBatch ? new MalformedBatch(`record ${i}: ${e.message}`) : e;
  }
  return records;
}

/** A record packTransform cannot pack; `index` is its position in the records given. */
export class NotARecord extends TypeError {
  constructor(index, message) {
    super(message);
    this.name = 'NotARecord';
    this.index = index;
  }
}

/**
 * The `transform-batch` of records shaped as unpackTransform returns them.
 * Throws a NotARecord for one that is not such a record (a payload
 * without a known tag, a header key that is not a string, …).
 *
 * The buffer holds all text first, then all bytes: text spans are
 * counted in UTF-16 units and the text encoded in one call at the end,
 * which leaves them right when it is all ASCII and re-lays them otherwise.
 */
export function packTransform(records) {
  return pack(records, 'transform');
}

/**
 * The `source-batch` of source records: as packTransform's records, plus
 * `sourcePartition` and `sourceOffset` (JSON text, packed as text spans)
 * and `ackToken` (a BigInt or undefined). Throws a NotARecord as
 * packTransform does.
 */
export function packSource(records) {
  return pack(records, 'source');
}

/**
 * The `sink-batch` of sink records as unpackSink returns them (what the
 * worker hands `put`; test/harness.mjs plays that part).
 */
export function packSink(records) {
  return pack(records, 'sink');
}

// `kind` as for unpack.
function pack(records, kind) {
  const texts = [];
  const textSpans = [];
  let textLength = 0;
  const blobs = [];
  const blobSpans = [];
  let blobLength = 0;

  // `owner` and `part` name what is packed, for the error message only:
  // constants, so that a record that packs builds no message.
  const text = (s, owner, part) => {
    if (typeof s !== 'string') throw new TypeError(`the ${owner}'s ${part} is ${describeValue(s)}, not a string`);
    const span = { offset: textLength, len: s.length };
    texts.push(s);
    textSpans.push(span);
    textLength += s.length;
    return span;
  };
  const bytes = (b, owner, part) => {
    if (!(b instanceof Uint8Array)) b = toUint8Array(b, `the ${owner}'s ${part}`);
    const span = { offset: blobLength, len: b.length };
    blobs.push(b);
    blobSpans.push(span);
    blobLength += b.length;
    return span;
  };
  const payload = (p, what) => {
    switch (p.tag) {
      case 'text':
        return { kind: 'text', bytes: text(p.val, what, 'text'), schema: undefined };
      case 'json': {
        const j = p.val;
        if (j == null) throw new TypeError(`the ${what} is a json payload without a value`);
        return {
          kind: 'json',
          bytes: text(j.document, what, 'document'),
          schema: j.schema == null ? undefined : text(j.schema, what, 'schema'),
        };
      }
      case 'binary':
        return { kind: 'binary', bytes: bytes(p.val, what, 'bytes'), schema: undefined };
      default:
        throw new TypeError(`the ${what} is ${describeValue(p)}, not a payload ({ tag: 'text' | 'binary' | 'json', val })`);
    }
  };

  const topics = [];
  let topicIndex;
  let lastTopic = NO_TOPIC;
  let lastTopicIndex = 0;
  const headers = [];
  const n = records.length;
  const packed = new Array(n);
  let i = 0;
  try {
    for (; i < n; i++) {
      const r = records[i];
      if (r.topic !== lastTopic) {
        if (typeof r.topic !== 'string') throw new TypeError(`the topic is ${describeValue(r.topic)}, not a string`);
        topicIndex ??= new Map();
        let t = topicIndex.get(r.topic);
        if (t === undefined) {
          t = topics.length;
          topics.push(r.topic);
          topicIndex.set(r.topic, t);
        }
        lastTopic = r.topic;
        lastTopicIndex = t;
      }
      const hs = r.headers;
      if (hs == null || typeof hs.length !== 'number') throw new TypeError(`the headers are ${describeValue(hs)}, not an array`);
      const start = headers.length;
      for (let h = 0; h < hs.length; h++) {
        const header = hs[h];
        headers.push({
          key: text(header.key, 'header', 'key'),
          value: header.value == null ? undefined : bytes(header.value, 'header', 'value'),
        });
      }
      const key = r.key;
      const value = r.value;
      const entry = {
        topic: lastTopicIndex,
        partition: r.partition,
        key: key == null ? undefined : payload(key, 'key'),
        value: value == null ? undefined : payload(value, 'value'),
        headers: { start, count: hs.length },
        timestamp: r.timestamp,
      };
      if (kind === 'sink') {
        entry.offset = r.offset;
        entry.timestampType = r.timestampType;
      } else if (kind === 'source') {
        entry.sourcePartition = text(r.sourcePartition, 'record', 'source partition');
        entry.sourceOffset = text(r.sourceOffset, 'record', 'source offset');
        entry.ackToken = r.ackToken;
      }
      packed[i] = entry;
    }
  } catch (e) {
    if (e instanceof TypeError) throw new NotARecord(i, e.message);
    throw e;
  }

  let data;
  let textBytes = textLength;
  if (textLength !== 0) {
    const joined = texts.join('');
    data = utf8.encode(joined);
    if (data.length !== joined.length) {
      // Some text is not ASCII: lay each string out by its UTF-8 length
      // (at most three bytes per UTF-16 unit).
      data = new Uint8Array(joined.length * 3 + blobLength);
      let pos = 0;
      for (let t = 0; t < texts.length; t++) {
        const span = textSpans[t];
        span.offset = pos;
        span.len = utf8.encodeInto(texts[t], data.subarray(pos)).written;
        pos += span.len;
      }
      textBytes = pos;
      data = data.subarray(0, pos + blobLength);
    } else if (blobLength !== 0) {
      const all = new Uint8Array(textLength + blobLength);
      all.set(data);
      data = all;
    }
  } else {
    data = new Uint8Array(blobLength);
  }
  for (let b = 0; b < blobs.length; b++) {
    const span = blobSpans[b];
    span.offset += textBytes;
    data.set(blobs[b], span.offset);
  }
  return { data, topics, headers, records: packed };
}

// What the componentize-js bindings took for a list<u8> besides a
// Uint8Array of this realm: other views and ArrayBuffers (their bytes),
// arrays of bytes.
function toUint8Array(b, what) {
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (Array.isArray(b)) {
    for (let i = 0; i < b.length; i++) {
      const v = b[i];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`${what} holds ${describeValue(v)} at ${i}, not a byte`);
    }
    return Uint8Array.from(b);
  }
  throw new TypeError(`${what} is ${describeValue(b)}, not a Uint8Array`);
}

function describeValue(v) {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return 'a string';
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`;
  return Array.isArray(v) ? 'an array' : `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
}
