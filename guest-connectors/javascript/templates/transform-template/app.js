// @ts-check
// The smallest useful wasmconnect transform in JavaScript: it stamps every
// record with a header and passes it on. Copy this directory anywhere,
// rename the plugin, and replace apply() with your own logic:
//
//   cp -r guest-connectors/javascript/templates/transform-template my-transform
//   bash guest-connectors/javascript/build.sh /tmp/out my-transform   # → /tmp/out/js-my-transform.wasm
//
// `wasmconnect` (and `wasmconnect/…`) is the kit in lib/: build.sh maps it.
//
// Used in a connector configuration as:
//   transforms=stamp
//   transforms.stamp.type=JsTransformTemplate
//   transforms.stamp.header.value=from-js
import { defineTransform, configKey, header, log } from 'wasmconnect';

export const { plugin, recordTransform } = defineTransform({
  metadata: {
    // A Java-like class name is what operators write in `transforms.X.type`;
    // aliases are shorter names for it.
    name: 'io.wasmconnect.js.TransformTemplate',
    aliases: ['JsTransformTemplate'],
    version: '0.1.0',
    description: 'Adds a header to every record (the JavaScript template transform)',
  },

  // Configuration keys, as Kafka's ConfigDef: shown by the REST API, type-
  // and presence-checked by the worker before validate/configure run.
  config: [
    configKey('header.name', 'string', { default: 'wasmconnect.transform', doc: 'Name of the header to add' }),
    configKey('header.value', 'string', { default: 'js-transform-template', doc: 'Value of the header to add' }),
  ],

  // Reads the (prefix-stripped) settings once; whatever it returns is handed
  // to apply(). validate() runs it too, collecting every problem, so only
  // read the config here (and report problems with config.error).
  configure(config) {
    const name = config.string('header.name', 'wasmconnect.transform');
    if (name === '') config.error('header.name', 'Invalid value  for configuration header.name: String may not be empty');
    return { header: header(name, config.string('header.value', 'js-transform-template')) };
  },

  // Called per record: return undefined to keep it, null to drop it, or a
  // new record to replace it. Throw retriable(...) or fatal(...) to fail.
  apply(record, settings, index) {
    if (index === 0) log.debug(() => `stamping a batch, first record from ${record.topic}`);
    return { ...record, headers: [...record.headers, settings.header] };
  },
});
