// Checks the built transform template and ValueFilter with batches packed by hand,
// including batches the worker would never send (spans outside the data,
// bad indexes, text that is not UTF-8): the kit must turn those into a
// fatal task error, not a trap. `plugin test` covers the rest.
//
//   bash guest-connectors/zig/build.sh /tmp/zig-out
//   node guest-connectors/zig/test/check.mjs /tmp/zig-out
//
// Needs jco from the polyglot toolchains (scripts/setup-polyglot.sh).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTransform as loadComponent, taskErrorOf } from '../../javascript/test/harness.mjs';

const out = process.argv[2] ?? process.env.WASMCONNECT_ZIG_OUT ?? '/tmp/zig-out';
const enc = new TextEncoder();
const dec = new TextDecoder();

// The component's raw `record-transform` export (batches in, `applied`
// out), run by Node through jco with the JavaScript kit's harness.
async function loadTransform(name) {
  return (await loadComponent(join(out, name), { logLevel: 'error' })).component.recordTransform;
}

const bytesOf = (b) => (typeof b === 'string' ? enc.encode(b) : b);

// A transform-batch of plain records, packed as the worker packs them:
// { topic, partition?, key?, value?, headers?: [[key, value?]], timestamp? },
// a key or value being { kind, bytes (string or Uint8Array), schema? }.
function pack(records) {
  const data = [];
  const topics = [];
  const headers = [];
  const span = (b) => {
    const offset = data.length;
    data.push(...bytesOf(b));
    return { offset, len: data.length - offset };
  };
  const payload = (p) => p && {
    kind: p.kind,
    bytes: span(p.bytes),
    schema: p.schema === undefined ? undefined : span(p.schema),
  };
  const packed = records.map((r) => {
    if (!topics.includes(r.topic)) topics.push(r.topic);
    const start = headers.length;
    for (const [key, value] of r.headers ?? []) {
      headers.push({ key: span(key), value: value === undefined ? undefined : span(value) });
    }
    return {
      topic: topics.indexOf(r.topic),
      partition: r.partition,
      key: payload(r.key),
      value: payload(r.value),
      headers: { start, count: headers.length - start },
      timestamp: r.timestamp,
    };
  });
  return { data: new Uint8Array(data), topics, headers, records: packed };
}

// The plain records of a batch (bytes as arrays, schemas as text).
function unpack(batch) {
  const get = (s) => [...batch.data.slice(s.offset, s.offset + s.len)];
  const payload = (p) => p && { kind: p.kind, bytes: get(p.bytes), schema: p.schema && dec.decode(new Uint8Array(get(p.schema))) };
  return batch.records.map((r) => ({
    topic: batch.topics[r.topic],
    partition: r.partition,
    key: payload(r.key),
    value: payload(r.value),
    headers: batch.headers.slice(r.headers.start, r.headers.start + r.headers.count)
      .map((h) => [dec.decode(new Uint8Array(get(h.key))), h.value && get(h.value)]),
    timestamp: r.timestamp,
  }));
}

const input = [
  { topic: 't1', partition: 3, key: { kind: 'binary', bytes: new Uint8Array([0, 255, 7]) }, value: { kind: 'text', bytes: 'héllo' }, headers: [['a', 'x'], ['n', undefined], ['e', '']], timestamp: 1700000000000n },
  { topic: 't2', value: { kind: 'json', bytes: '{"a":1}', schema: '{"type":"struct"}' } },
  { topic: 't1', key: { kind: 'text', bytes: '' } },
  { topic: 't1', value: { kind: 'json', bytes: '[1,2]' }, headers: [['only', 'y']] },
];

test('transform template replaces every record with itself plus via: zig', async () => {
  const t = await loadTransform('zig-transform-template.wasm');
  t.configure([]);
  const batch = pack(input);
  const applied = t.apply(batch);
  assert.deepEqual(applied.outcomes, input.map((_, i) => ({ tag: 'replace', val: i })));
  const got = unpack(applied.replacements);
  assert.equal(got.length, input.length);
  got.forEach((g, i) => {
    const want = input[i];
    const payload = (p) => p && { kind: p.kind, bytes: [...bytesOf(p.bytes)], schema: p.schema };
    assert.deepEqual(g, {
      topic: want.topic,
      partition: want.partition,
      key: payload(want.key),
      value: payload(want.value),
      headers: [...(want.headers ?? []), ['via', 'zig']]
        .map(([k, v]) => [k, v === undefined ? undefined : [...bytesOf(v)]]),
      timestamp: want.timestamp,
    });
  });
  assert.deepEqual(applied.replacements.topics, ['t1', 't2']);
  // Batch after batch in one instance: nothing leaks into the next.
  for (let n = 0; n < 200; n++) assert.deepEqual(t.apply(pack(input)), applied);
  const empty = t.apply(pack([]));
  assert.deepEqual(empty.outcomes, []);
  assert.equal(empty.replacements.records.length, 0);
  assert.equal(empty.replacements.data.length, 0);
});

test('filter keeps and drops on the value', async () => {
  const t = await loadTransform('zig-filter.wasm');
  t.configure([['pattern', 'll']]);
  assert.deepEqual(t.apply(pack(input)).outcomes.map((o) => o.tag), ['drop', 'keep', 'keep', 'keep']);
  t.configure([['pattern', '1'], ['on.match', 'keep']]);
  const a = t.apply(pack(input));
  assert.deepEqual(a.outcomes.map((o) => o.tag), ['drop', 'keep', 'drop', 'keep']);
  assert.equal(a.replacements.records.length, 0);
});

test('a malformed batch is a fatal error naming the record, not a trap', async () => {
  const t = await loadTransform('zig-filter.wasm');
  t.configure([['pattern', 'x']]);
  const cases = [
    ['span outside', (b) => { b.records[1].value.bytes.len = 1000; }, /record 1 \(value\): bytes 1[0-9]+\.\.[0-9]+ lie outside the [0-9]+ bytes of data/],
    ['huge offset', (b) => { b.records[0].key.bytes.offset = 0xffffffff; }, /record 0 \(key\): bytes 4294967295\.\.4294967298 lie outside/],
    ['topic index', (b) => { b.records[2].topic = 9; }, /record 2 \(topic\): topic index 9 out of 2$/],
    ['header range', (b) => { b.records[3].headers = { start: 3, count: 2 }; }, /record 3 \(headers\): headers 3\.\.5 out of 4$/],
    ['header range overflow', (b) => { b.records[3].headers = { start: 0xffffffff, count: 0xffffffff }; }, /record 3 \(headers\)/],
    ['header key span', (b) => { b.headers[1].key.len = 999; }, /record 0 \(headers\): bytes/],
    ['header value span', (b) => { b.headers[3].value = { offset: 2, len: 999 }; }, /record 3 \(headers\): bytes 2\.\.1001/],
    ['schema span', (b) => { b.records[1].value.schema.offset = 5000; }, /record 1 \(value\)/],
    ['bad utf-8 text', (b) => { b.data[b.records[0].value.bytes.offset] = 0xff; }, /record 0 \(value\): bytes [0-9]+\.\.[0-9]+ are not UTF-8 text/],
    ['bad utf-8 header key', (b) => { b.data[b.headers[0].key.offset] = 0xc3; }, /record 0 \(headers\): .* not UTF-8/],
  ];
  for (const [name, spoil, message] of cases) {
    const b = pack(input);
    spoil(b);
    const e = taskErrorOf(() => t.apply(b));
    assert.equal(e?.tag, 'fatal', name);
    assert.match(e.val, /^the host sent a malformed batch: /, name);
    assert.match(e.val, message, `${name}: ${e.val}`);
  }
  // Binary bytes need not be UTF-8, and the instance still works.
  const b = pack([{ topic: 't', key: { kind: 'binary', bytes: new Uint8Array([0xff, 0xfe]) }, value: { kind: 'binary', bytes: new Uint8Array([0xc3]) } }]);
  assert.deepEqual(t.apply(b).outcomes, [{ tag: 'keep' }]);
});

test('configure checks the declared keys before init, and a bad one leaves no instance', async () => {
  const t = await loadTransform('zig-filter.wasm');
  const refused = (config) => taskErrorOf(() => t.configure(config));
  assert.deepEqual(refused([['on.match', 'keep']]), {
    tag: 'fatal', val: 'Missing required configuration "pattern" which has no default value.',
  });
  assert.deepEqual(refused([['pattern', 'x'], ['on.match', 'nope']]), {
    tag: 'fatal', val: 'Invalid value nope for configuration on.match: must be one of drop, keep',
  });
  const e = taskErrorOf(() => t.apply(pack(input)));
  assert.equal(e?.tag, 'fatal');
  assert.match(e.val, /before start \(or configure\) succeeded/);
  // Blank values count as unset; settings are trimmed.
  assert.equal(refused([['pattern', '   ']])?.tag, 'fatal');
  t.configure([['pattern', ' ll '], ['on.match', ' keep ']]);
  assert.deepEqual(t.apply(pack(input)).outcomes.map((o) => o.tag), ['keep', 'drop', 'drop', 'drop']);
});
