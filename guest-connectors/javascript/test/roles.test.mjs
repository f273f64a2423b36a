// Checks the built source and sink components in Node (test/harness.mjs):
// the source template's offsets and records, the sink template's file,
// WebhookSink's requests and its answers to what an endpoint says, and
// SqlPollSource's configuration. tests/tests/polyglot_javascript.rs runs
// the examples end to end in a worker.
//
//   bash guest-connectors/javascript/build.sh /tmp/jsout
//   node guest-connectors/javascript/test/check.mjs /tmp/jsout   (imports this file)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadSink, loadSource, taskErrorOf } from './harness.mjs';

const out = process.argv[2] ?? process.env.WASMCONNECT_JS_OUT ?? '/tmp/jsout';
const utf8 = new TextDecoder();

const sinkRecord = (offset, value, extra = {}) => ({
  topic: 'orders', partition: 1, offset: BigInt(offset), key: { tag: 'text', val: `k${offset}` }, value,
  headers: [], timestamp: 1700000000000n + BigInt(offset), timestampType: 'create-time', ...extra,
});

test('source template: numbered records, resumed after the committed offset', async () => {
  const wasm = join(out, 'js-source-template.wasm');
  const fresh = await loadSource(wasm, { connectorName: 'ticks' });
  assert.equal(fresh.plugin.metadata().kind, 'source');
  assert.deepEqual(fresh.plugin.validate([['topic', 't'], ['interval.ms', '-1']]).map((v) => [v.name, v.errors]),
    [['interval.ms', ['Invalid value -1 for configuration interval.ms: Value must be at least 0']]]);
  const config = [['topic', 'ticks'], ['message', 'hi'], ['interval.ms', '0']];
  fresh.connector.start(config);
  assert.deepEqual(fresh.connector.taskConfigs(3), [config]);
  fresh.sourceTask.start(config);
  const [first] = fresh.sourceTask.poll();
  assert.deepEqual({ ...first, value: first.value.val.document }, {
    sourcePartition: '{"ticker":"ticks"}', sourceOffset: '{"n":0}', ackToken: undefined,
    topic: 'ticks', partition: undefined, key: { tag: 'text', val: '0' }, value: '{"n":0,"message":"hi"}',
    headers: [], timestamp: undefined,
  });

  const resumed = await loadSource(wasm, { connectorName: 'ticks', offsets: { '{"ticker":"ticks"}': '{"n":41}' } });
  resumed.sourceTask.start(config);
  assert.equal(resumed.sourceTask.poll()[0].sourceOffset, '{"n":42}');
  assert.deepEqual(resumed.logs.at(-1), { level: 'info', message: 'ticking from 42' });

  // Not yet due: an empty batch after a bounded wait.
  const slow = await loadSource(wasm);
  slow.sourceTask.start([['topic', 't'], ['interval.ms', '60000']]);
  assert.equal(slow.sourceTask.poll().length, 1);
  const started = Date.now();
  assert.deepEqual(slow.sourceTask.poll(), []);
  assert.ok(Date.now() - started >= 400, 'waited before answering');
});

test('sink template: one line per record, synced before a commit', async () => {
  const path = '/data/out.txt';
  const sink = await loadSink(join(out, 'js-sink-template.wasm'), { grants: { [path]: 'append' } });
  assert.equal(sink.plugin.configDefinition()[0].resource, 'write-file');
  sink.sinkTask.start([['file', path]]);
  sink.sinkTask.put([
    sinkRecord(5, { tag: 'text', val: 'two\nlines' }),
    sinkRecord(6, { tag: 'json', val: { document: '{"a": [1, 12345678901234567890]}' } }),
    sinkRecord(7, { tag: 'binary', val: Uint8Array.of(0, 255) }),
    sinkRecord(8, undefined),
  ]);
  assert.equal(utf8.decode(sink.files.get(path)),
    'orders/1/5\ttwo\\nlines\norders/1/6\t{"a":[1,12345678901234567890]}\norders/1/7\t00ff\norders/1/8\tnull\n');
  const current = [{ topic: 'orders', partition: 1, offset: 9n }];
  assert.deepEqual(sink.sinkTask.preCommit(current), current);
  assert.equal(sink.syncs.get(path), 1);

  const refused = await loadSink(join(out, 'js-sink-template.wasm'));
  const err = taskErrorOf(() => refused.sinkTask.start([['file', '/etc/passwd']]));
  assert.equal(err.tag, 'fatal');
  assert.match(err.val, /^\/etc\/passwd: not granted .*: \/etc\/passwd is not granted for append$/);
});

// An HTTP endpoint answering each request with the next of `answers`
// ([status, headers, body]). It runs in a worker thread: the component's
// fetch (preview2-shim's wasi:http) blocks this thread until the answer
// comes. `received()` resolves to what it got so far.
async function endpoint(answers) {
  const server = new Worker(`
    const { createServer } = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const answers = workerData;
    const got = [];
    const server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const [status, headers, body] = answers.shift() ?? [200, {}, 'ok'];
        res.writeHead(status, headers).end(body);
      });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', (m) => (m === 'received' ? parentPort.postMessage(got) : server.close(() => process.exit(0))));
  `, { eval: true, workerData: answers });
  const next = () => new Promise((done) => server.once('message', done));
  const port = await next();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () => {
      const got = next();
      server.postMessage('received');
      return got;
    },
    close: () => server.postMessage('close'),
  };
}

test('WebhookSink: batches as JSON arrays; 5xx retriable, 4xx and redirects fatal', async () => {
  const hook = await endpoint([[200, {}, 'ok'], [200, {}, 'ok'], [503, { 'retry-after': '7' }, 'busy'], [400, {}, 'bad record'],
    [307, { location: 'http://127.0.0.1:1/elsewhere' }, '']]);
  try {
    const sink = await loadSink(join(out, 'js-webhook-sink.wasm'));
    const config = [['webhook.url', hook.url], ['webhook.headers', 'X-Env:test, Authorization:Bearer a:b'], ['batch.size', '2']];
    assert.deepEqual(sink.plugin.validate([['webhook.url', 'ftp://x'], ['webhook.headers', 'no-colon'], ['batch.size', '0']])
      .map((v) => v.name), ['webhook.url', 'webhook.headers', 'batch.size']);
    sink.sinkTask.start(config);
    sink.sinkTask.put([
      sinkRecord(5, { tag: 'json', val: { document: '{"n":12345678901234567890}' } }),
      sinkRecord(6, { tag: 'text', val: 'Zoë ☃' }, { key: undefined, timestamp: undefined, timestampType: 'no-timestamp' }),
      sinkRecord(7, { tag: 'binary', val: Uint8Array.of(255, 0) }),
    ]);
    const got = await hook.received();
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((r) => [r.method, r.url, r.headers['content-type'], r.headers['x-batch-id'], r.headers['x-env'], r.headers.authorization]), [
      ['POST', '/hook', 'application/json', 'orders-1-5', 'test', 'Bearer a:b'],
      ['POST', '/hook', 'application/json', 'orders-1-7', 'test', 'Bearer a:b'],
    ]);
    assert.equal(got[0].body, '[{"topic":"orders","partition":1,"offset":5,"timestamp":1700000000005,"key":"k5","value":{"n":12345678901234567890}},'
      + '{"topic":"orders","partition":1,"offset":6,"timestamp":null,"key":null,"value":"Zoë ☃"}]');
    assert.equal(got[1].body, '[{"topic":"orders","partition":1,"offset":7,"timestamp":1700000000007,"key":"k7","value":"/wA="}]');

    const busy = taskErrorOf(() => sink.sinkTask.put([sinkRecord(8, undefined)]));
    assert.deepEqual(busy, { tag: 'retriable', val: { message: `${hook.url} answered HTTP 503: busy`, backoffMs: 7000 } });
    const bad = taskErrorOf(() => sink.sinkTask.put([sinkRecord(9, undefined)]));
    assert.deepEqual(bad, { tag: 'fatal', val: `${hook.url} answered HTTP 400: bad record (not retried: a 400 means the endpoint refuses these records or this configuration)` });
    const moved = taskErrorOf(() => sink.sinkTask.put([sinkRecord(10, undefined)]));
    assert.deepEqual(moved, { tag: 'fatal', val: `${hook.url} answered HTTP 307, a redirect to http://127.0.0.1:1/elsewhere: set webhook.url to the URL that accepts the POST` });
    assert.equal((await hook.received()).length, 5, 'the redirect was not followed');
  } finally {
    hook.close();
  }
});

test('SqlPollSource: configuration checks; the database is the worker\'s grant', async () => {
  const source = await loadSource(join(out, 'js-sql-source.wasm'));
  assert.deepEqual(source.plugin.validate([
    ['connection.url', 'jdbc:sqlite:/x.db'], ['table', 'orders; DROP TABLE x'], ['topic', 't'],
    ['incrementing.column.name', 'id)'], ['batch.max.rows', '0'],
  ]).map((v) => v.name), ['table', 'incrementing.column.name', 'batch.max.rows']);
  const err = taskErrorOf(() => source.sourceTask.start([['connection.url', 'jdbc:sqlite:/x.db'], ['table', 'orders'], ['topic', 't']]));
  assert.deepEqual(err, { tag: 'fatal', val: 'database not granted: jdbc:sqlite:/x.db: the Node harness has no databases' });
});
