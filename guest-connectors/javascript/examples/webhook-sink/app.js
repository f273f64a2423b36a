// @ts-check
// WebhookSink: POSTs the records of each batch, as a JSON array, to the
// URL its configuration names, with the standard `fetch` (componentize-js
// carries it over wasi:http; the `world` file beside this one builds the
// component for `sink-with-http`, and the worker lets it reach only the
// URL held by `webhook.url`, within sandbox.allowed.hosts).
//
//   connector.class=WebhookSink
//   topics=orders
//   webhook.url=https://hooks.example.com/orders
//   webhook.headers=Authorization:Bearer t0ken,X-Source:kafka     (optional)
//   batch.size=100                                                 (optional)
//
// Each POST carries up to batch.size records:
//   [{"topic":"orders","partition":0,"offset":5,"timestamp":1700000000000,
//     "key":"k","value":{"id":1}}, …]
// keys and values as their converter made them: JSON documents inline,
// text as strings, bytes as base64, null as null. Delivery is at least
// once: a retried put posts its records again, and may cut them into
// batches differently (a batch can also mix partitions), so a receiver
// that must not see a record twice dedupes per element, by its
// (topic, partition, offset). The header X-Batch-Id: <topic>-<partition>-
// <first offset> names the batch for logs and tracing only; it is not a
// dedupe key.
//
// Answers: 2xx is success; 408, 429 and 5xx are retriable (the worker
// redelivers the records after a backoff, Retry-After seconds when the
// endpoint sends it), as are network failures and timeouts (the worker's
// wasm.http.response.timeout.ms); a redirect fails the task naming its
// target (it is not followed); any other status fails the task with the
// endpoint's answer, since sending the same records again cannot help.
import { configKey, fatal, retriable, log } from 'wasmconnect';
import { defineSink } from 'wasmconnect/sink.js';

/** @typedef {import('wasmconnect/sink.js').SinkRecord} SinkRecord */
/** @typedef {{ url: string, headers: [string, string][], batchSize: number }} Settings */

// RFC 9110 token characters: what a header name may hold.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** @param {Uint8Array} bytes */
function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

// A key or value as it goes into the JSON body.
/** @param {SinkRecord['value']} payload */
function bodyValue(payload) {
  if (payload === undefined) return null;
  switch (payload.tag) {
    case 'json':
      // Inline, digit for digit: the document is already JSON.
      return { raw: payload.val.document };
    case 'text':
      return payload.val;
    default:
      return base64(payload.val);
  }
}

/**
 * The JSON body for `records`, built as text so that JSON documents pass
 * through unparsed (and 64-bit numbers keep every digit).
 * @param {SinkRecord[]} records
 */
function body(records) {
  const part = (/** @type {any} */ v) => (v !== null && typeof v === 'object' ? v.raw : JSON.stringify(v));
  const items = records.map((r) => `{"topic":${JSON.stringify(r.topic)},"partition":${r.partition},`
    + `"offset":${r.offset},"timestamp":${r.timestamp === undefined ? 'null' : r.timestamp},`
    + `"key":${part(bodyValue(r.key))},"value":${part(bodyValue(r.value))}}`);
  return `[${items.join(',')}]`;
}

class WebhookTask {
  /** @param {Settings} settings */
  constructor(settings) {
    this.settings = settings;
  }

  /** @param {SinkRecord[]} records */
  async put(records) {
    const size = this.settings.batchSize;
    for (let i = 0; i < records.length; i += size) {
      await this.post(records.slice(i, i + size));
    }
  }

  /** @param {SinkRecord[]} batch */
  async post(batch) {
    const { url, headers } = this.settings;
    const first = batch[0];
    // A label for logs on both sides, not an idempotency key (see the
    // header comment): the elements carry their own offsets for that.
    const batchId = `${first.topic}-${first.partition}-${first.offset}`;
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: [['Content-Type', 'application/json'], ['X-Batch-Id', batchId], ...headers],
        body: body(batch),
      });
    } catch (e) {
      // Refused connections, resets, the worker's response timeout. (The
      // worker would refuse a URL the configuration does not name, but
      // this sink only ever requests webhook.url.)
      throw retriable(`POST to ${url} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const answer = await response.text();
    if (response.ok) {
      log.debug(() => `posted ${batch.length} records (${batchId}): HTTP ${response.status}`);
      return;
    }
    const said = `${url} answered HTTP ${response.status}: ${answer.slice(0, 200)}`;
    if (response.status >= 300 && response.status < 400) {
      // Redirects are not followed inside the component: the worker grants
      // exactly the configured URL, so point the configuration at the target.
      throw fatal(`${url} answered HTTP ${response.status}, a redirect to ${response.headers.get('location') ?? '(no location)'}: set webhook.url to the URL that accepts the POST`);
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      const after = Number(response.headers.get('retry-after'));
      throw retriable(said, Number.isFinite(after) && after > 0 ? Math.min(after, 300) * 1000 : undefined);
    }
    throw fatal(`${said} (not retried: a ${response.status} means the endpoint refuses these records or this configuration)`);
  }
}

export const { plugin, connector, sinkTask } = defineSink({
  metadata: {
    name: 'io.wasmconnect.js.WebhookSink',
    aliases: ['JsWebhookSink'],
    version: '0.1.0',
    description: 'POSTs batches of records as JSON arrays to an HTTP endpoint',
  },

  config: [
    configKey('webhook.url', 'string', {
      required: true, importance: 'high', resource: 'url',
      doc: 'The http:// or https:// URL to POST batches to.',
    }),
    configKey('webhook.headers', 'list', {
      default: '', importance: 'medium',
      doc: 'Extra request headers, Name:value, separated by commas (Authorization:Bearer abc,X-Env:prod).',
    }),
    configKey('batch.size', 'int', { default: 100, importance: 'low', doc: 'Most records per POST.' }),
  ],

  configure(config) {
    const url = config.string('webhook.url');
    if (!/^https?:\/\/[^/\s]+/i.test(url)) {
      config.error('webhook.url', `Invalid value ${url} for configuration webhook.url: must be an http:// or https:// URL`);
    }
    /** @type {[string, string][]} */
    const headers = [];
    for (const item of config.list('webhook.headers', [])) {
      const colon = item.indexOf(':');
      const name = colon < 0 ? '' : item.slice(0, colon).trim();
      if (!HEADER_NAME.test(name)) {
        config.error('webhook.headers', `Invalid value ${item} for configuration webhook.headers: expected Name:value with a valid header name`);
        continue;
      }
      headers.push([name, item.slice(colon + 1).trim()]);
    }
    const batchSize = config.int('batch.size', 100);
    if (batchSize < 1) config.error('batch.size', `Invalid value ${batchSize} for configuration batch.size: Value must be at least 1`);
    return { url, headers, batchSize };
  },

  task: WebhookTask,
});
