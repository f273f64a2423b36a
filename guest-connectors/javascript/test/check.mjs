// Checks the built transform template and MaskField components with real
// records, the source and sink templates and examples (roles.test.mjs),
// and (types.test.mjs) the TypeScript declarations.
//
//   bash guest-connectors/javascript/build.sh /tmp/jsout
//   node guest-connectors/javascript/test/check.mjs /tmp/jsout
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTransform, taskErrorOf } from './harness.mjs';
// The declarations and type checks, which need no component.
import './types.test.mjs';
// Sources and sinks, through the same harness.
import './roles.test.mjs';

const out = process.argv[2] ?? process.env.WASMCONNECT_JS_OUT ?? '/tmp/jsout';
const utf8 = new TextDecoder();

const record = (value, extra = {}) => ({ topic: 't', partition: 0, key: undefined, value, headers: [], timestamp: 1700000000000n, ...extra });
const jsonPayload = (doc, schema) => ({ tag: 'json', val: { document: typeof doc === 'string' ? doc : JSON.stringify(doc), schema: schema && JSON.stringify(schema) } });
const field = (name, type, extra = {}) => ({ field: name, type, optional: false, ...extra });

test('template stamps a header and keeps everything else', async () => {
  const { plugin, recordTransform: t } = await loadTransform(join(out, 'js-transform-template.wasm'));
  assert.equal(plugin.metadata().name, 'io.wasmconnect.js.TransformTemplate');
  assert.deepEqual(plugin.validate([['header.name', '']]).map((v) => v.name), ['header.name']);
  t.configure([['header.value', 'from-js']]);
  const r = record({ tag: 'text', val: 'hello' }, { headers: [{ key: 'a', value: undefined }] });
  const [o] = t.apply([r]);
  assert.equal(o.tag, 'replace');
  assert.deepEqual(o.val.value, r.value);
  assert.equal(o.val.timestamp, 1700000000000n);
  assert.equal(o.val.headers.length, 2);
  assert.equal(o.val.headers[1].key, 'wasmconnect.transform');
  assert.equal(utf8.decode(o.val.headers[1].value), 'from-js');
});

test('template: records of every shape cross the boundary intact', async () => {
  const { recordTransform: t } = await loadTransform(join(out, 'js-transform-template.wasm'));
  t.configure([['header.value', 'ünïcödé ✓']]);
  const bytes = (...b) => Uint8Array.from(b);
  const ascii = [
    record({ tag: 'text', val: 'plain' }, { key: { tag: 'binary', val: bytes(0x41, 0x42) } }),
    record({ tag: 'binary', val: bytes() }, { topic: 'other', partition: undefined, timestamp: undefined }),
    record(jsonPayload({ a: 1 }, { type: 'struct', fields: [] }), { headers: [{ key: 'h', value: bytes(0x7a) }, { key: '', value: undefined }] }),
  ];
  const mixed = [
    record({ tag: 'text', val: 'grüße, 日本, 🎉' }, { key: { tag: 'binary', val: bytes(0xff, 0x00, 0xc3) } }),
    record(undefined, { key: jsonPayload('"ключ"'), headers: [{ key: 'bin', value: bytes(0x80, 0xfe) }] }),
    record({ tag: 'text', val: '' }, { topic: 'τ', partition: 7 }),
  ];
  for (const records of [ascii, mixed, [], [...ascii, ...mixed]]) {
    const outcomes = t.apply(records);
    assert.equal(outcomes.length, records.length);
    outcomes.forEach((o, i) => {
      assert.equal(o.tag, 'replace');
      const { headers, ...rest } = o.val;
      const { headers: before, ...expected } = records[i];
      assert.deepEqual(rest, expected);
      assert.deepEqual(headers.slice(0, -1), before);
      assert.equal(headers.at(-1).key, 'wasmconnect.transform');
      assert.equal(utf8.decode(headers.at(-1).value), 'ünïcödé ✓');
    });
  }
});

test('a malformed batch is a fatal error naming the problem, not a trap', async () => {
  const { component } = await loadTransform(join(out, 'js-transform-template.wasm'));
  const raw = component.recordTransform;
  raw.configure([]);
  const text = (offset, len) => ({ kind: 'text', bytes: { offset, len }, schema: undefined });
  const packed = (extra) => ({ topic: 0, partition: 0, key: undefined, value: text(0, 2), headers: { start: 0, count: 0 }, timestamp: undefined, ...extra });
  const batch = (records, data = Uint8Array.from([0x68, 0x69, 0x21]), headers = []) => ({ data, topics: ['t'], headers, records });
  const cases = [
    [batch([packed(), packed({ value: text(1, 5) })]), /^the host sent a malformed batch: record 1: span 1\.\.6 lies outside the batch's 3 bytes of data$/],
    [batch([packed({ key: { kind: 'binary', bytes: { offset: 4, len: 0 }, schema: undefined } })]), /record 0: span 4\.\.4 lies outside/],
    [batch([packed({ value: { kind: 'json', bytes: { offset: 0, len: 2 }, schema: { offset: 2, len: 9 } } })]), /record 0: span 2\.\.11 lies outside/],
    [batch([packed({ topic: 1 })]), /record 0: topic index 1, but the batch has 1 topics/],
    [batch([packed({ headers: { start: 0, count: 2 } })], undefined, [{ key: { offset: 0, len: 1 }, value: undefined }]), /record 0: headers 0\.\.2, but the batch has 1 headers/],
    [batch([packed({ headers: { start: 0, count: 1 } })], undefined, [{ key: { offset: 0, len: 1 }, value: { offset: 3, len: 1 } }]), /record 0: span 3\.\.4 lies outside/],
    [batch([packed()], Uint8Array.from([0xc3, 0x28, 0x21])), /record 0: text at 0\.\.2 is not UTF-8/],
  ];
  for (const [b, message] of cases) {
    const e = taskErrorOf(() => raw.apply(b));
    assert.equal(e?.tag, 'fatal', `${message}: got ${JSON.stringify(e)}`);
    assert.match(e.val, message);
  }
  // The instance survives: a good batch still works.
  assert.equal(raw.apply(batch([packed()])).outcomes[0].tag, 'replace');
});

test('MaskField', async (t) => {
  const { plugin, recordTransform: mask, logs } = await loadTransform(join(out, 'js-mask-field.wasm'));
  const masked = (config, records) => {
    mask.configure(config);
    return mask.apply(records);
  };

  await t.test('metadata and definition', () => {
    const m = plugin.metadata();
    assert.equal(m.name, 'io.wasmconnect.js.MaskField$Value');
    assert.deepEqual(m.aliases, ['MaskField', 'JsMaskField']);
    assert.equal(m.kind, 'transform');
    const keys = plugin.configDefinition();
    assert.deepEqual(keys.map((k) => [k.name, k.type, k.required, k.defaultValue]), [
      ['fields', 'list', true, undefined],
      ['replacement', 'string', false, undefined],
      ['target', 'string', false, 'value'],
    ]);
  });

  await t.test('validate reports empty fields, a bad target and an empty replacement, not what the host checks', () => {
    assert.deepEqual(plugin.validate([]), []); // the host reports the missing required key
    assert.deepEqual(plugin.validate([['fields', 'a,b']]), []);
    const v = plugin.validate([['fields', ' , '], ['target', 'header'], ['replacement', '']]);
    assert.deepEqual(v.map((x) => x.name), ['fields', 'replacement', 'target']);
    assert.match(v[0].errors[0], /Empty list/);
    assert.deepEqual(v[2].recommendedValues, ['value', 'key']);
    assert.equal(v[2].value, 'header');
  });

  await t.test('configure refuses what validate reports', () => {
    assert.deepEqual(taskErrorOf(() => mask.configure([])), {
      tag: 'fatal', val: 'Missing required configuration "fields" which has no default value.',
    });
    assert.equal(taskErrorOf(() => mask.configure([['fields', 'a'], ['target', 'nope']])).tag, 'fatal');
  });

  const schema = {
    type: 'struct', name: 'payment', optional: false,
    fields: [
      field('id', 'int64'),
      field('ssn', 'string'),
      field('amount', 'float64'),
      field('active', 'boolean'),
      field('tags', 'array', { items: { type: 'string', optional: false } }),
      field('note', 'string', { optional: true }),
      field('card', 'struct', { fields: [field('number', 'string'), field('cvv', 'int32')] }),
      field('price', 'bytes', { name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } }),
    ],
  };
  const doc = '{"id":9007199254740993,"ssn":"123-45-6789","amount":12.5,"active":true,"tags":["a"],"note":null,'
    + '"card":{"number":"4111111111111111","cvv":123},"price":"Aeo="}';

  await t.test('json with schema: type-appropriate empty values, schema and big integers kept', () => {
    const value = jsonPayload(doc, schema);
    const [o] = masked([['fields', 'ssn,amount,active,tags,note,card.number,card.cvv,price,missing']], [record(value)]);
    assert.equal(o.tag, 'replace');
    assert.equal(o.val.value.tag, 'json');
    assert.equal(o.val.value.val.schema, value.val.schema);
    assert.equal(o.val.value.val.document,
      '{"id":9007199254740993,"ssn":"","amount":0,"active":false,"tags":[],"note":null,'
      + '"card":{"number":"","cvv":0},"price":"AA=="}');
  });

  await t.test('replacement: strings take it, numbers parse it, others are fatal', () => {
    const [o] = masked([['fields', 'ssn,card.number'], ['replacement', '****']], [record(jsonPayload(doc, schema))]);
    assert.match(o.val.value.val.document, /"ssn":"\*\*\*\*".*"number":"\*\*\*\*"/);
    const [n] = masked([['fields', 'card.cvv,id'], ['replacement', '7']], [record(jsonPayload(doc, schema))]);
    assert.match(n.val.value.val.document, /^\{"id":7,.*"cvv":7\}/);
    mask.configure([['fields', 'card.cvv'], ['replacement', '****']]);
    const e = taskErrorOf(() => mask.apply([record(jsonPayload(doc, schema))]));
    assert.equal(e.tag, 'fatal');
    assert.match(e.val, /Unable to convert \*\*\*\* to a number of type int32 \(field card\.cvv\)/);
    mask.configure([['fields', 'active'], ['replacement', 'x']]);
    assert.match(taskErrorOf(() => mask.apply([record(jsonPayload(doc, schema))])).val,
      /Cannot mask value of type boolean with custom replacement/);
    mask.configure([['fields', 'card']]);
    assert.match(taskErrorOf(() => mask.apply([record(jsonPayload(doc, schema))])).val, /Cannot mask value of type struct/);
  });

  await t.test('schemaless json, arrays on the path, literal dotted keys', () => {
    const v = jsonPayload({ user: { email: 'a@b', age: 3 }, items: [{ price: 5 }, { price: 7, sku: 'x' }], 'a.b': 'lit', m: { k: 1 } });
    const [o] = masked([['fields', 'user.email,user.age,items.price,a.b,m']], [record(v)]);
    assert.equal(o.val.value.val.schema, undefined);
    assert.deepEqual(JSON.parse(o.val.value.val.document),
      { user: { email: '', age: 0 }, items: [{ price: 0 }, { price: 0, sku: 'x' }], 'a.b': '', m: {} });
  });

  await t.test('text holding a JSON object stays text; other payloads are kept', () => {
    const records = [
      record({ tag: 'text', val: '{"ssn":"1","n":1}' }),
      record({ tag: 'text', val: 'conformance record 0' }),
      record({ tag: 'text', val: '{not json' }),
      record({ tag: 'binary', val: new TextEncoder().encode('{"ssn":"1"}') }),
      record(undefined),
      record(jsonPayload('[{"ssn":"1"}]')),
      record(jsonPayload('"ssn"', { type: 'string', optional: false })),
      record(jsonPayload({ other: 1 })),
    ];
    const outcomes = masked([['fields', 'ssn']], records);
    assert.deepEqual(outcomes[0], { tag: 'replace', val: { ...records[0], value: { tag: 'text', val: '{"ssn":"","n":1}' } } });
    assert.deepEqual(outcomes.slice(1).map((o) => o.tag), Array(7).fill('keep'));
  });

  await t.test('target=key masks the key and leaves the value', () => {
    const r = record(jsonPayload({ ssn: 'v' }), { key: jsonPayload({ ssn: 'k' }) });
    const [o] = masked([['fields', 'ssn'], ['target', 'KEY']], [r]);
    assert.equal(o.val.key.val.document, '{"ssn":""}');
    assert.deepEqual(o.val.value, r.value);
  });

  await t.test('a batch of 10k records', () => {
    const records = Array.from({ length: 10000 }, (_, i) => record(jsonPayload({ id: i, ssn: `${i}`, name: 'x'.repeat(50) })));
    mask.configure([['fields', 'ssn']]);
    const started = performance.now();
    const outcomes = mask.apply(records);
    const ms = performance.now() - started;
    assert.equal(outcomes.length, 10000);
    assert.ok(outcomes.every((o) => o.tag === 'replace'));
    console.log(`# 10000 records masked in ${ms.toFixed(0)} ms (${(ms * 1000 / 10000).toFixed(1)} µs/record, jco + Node host)`);
  });

  assert.ok(Array.isArray(logs));
});
