// @ts-check
// MaskField in JavaScript: Kafka Connect's
// org.apache.kafka.connect.transforms.MaskField, for wasmconnect.
//
// Masks the named fields of each record's value (or key) with an empty
// value of the field's type ("" for strings, 0 for numbers, false for
// booleans, [] for arrays, {} for maps; nulls stay null), or with
// `replacement` (string fields take it as it is, numeric fields parse it as
// a number; anything else is a fatal error, as in Kafka).
//
// Works on json payloads, with or without a Connect schema (the schema is
// kept unchanged), and on text payloads holding a JSON object. Fields are
// top-level names or dotted paths into nested objects (`card.number`);
// arrays on the way are traversed (`items.price` masks every item's
// price). Records whose payload is not a JSON object pass unchanged.
//
//   transforms=mask
//   transforms.mask.type=MaskField
//   transforms.mask.fields=ssn,card.number
//   transforms.mask.replacement=****        (optional)
//   transforms.mask.target=value            (or key)
import { defineTransform, configKey, decode, encode, schemaOf, fieldSchema, parseJson, fatal } from 'wasmconnect';

const FIELDS = 'fields';
const REPLACEMENT = 'replacement';
const TARGET = 'target';

export const { plugin, recordTransform } = defineTransform({
  metadata: {
    name: 'io.wasmconnect.js.MaskField$Value',
    aliases: ['MaskField', 'JsMaskField'],
    version: '0.1.0',
    description: 'Masks fields of JSON record values or keys with an empty value of their type or a replacement',
  },

  config: [
    configKey(FIELDS, 'list', {
      required: true,
      importance: 'high',
      doc: 'Names of fields to mask; dotted paths (card.number) reach into nested objects.',
    }),
    configKey(REPLACEMENT, 'string', {
      importance: 'low',
      doc: "Custom value replacement, applied to all 'fields' values (numeric or string fields only). "
        + 'Unset: an empty value of the field\'s type.',
    }),
    configKey(TARGET, 'string', {
      default: 'value',
      importance: 'medium',
      doc: 'Which part of the record to mask: value or key.',
    }),
  ],

  configure(config) {
    const fields = config.list(FIELDS);
    if (config.raw(FIELDS) !== undefined && fields.length === 0) {
      config.error(FIELDS, `Invalid value ${config.raw(FIELDS)} for configuration ${FIELDS}: Empty list`);
    }
    const replacement = config.string(REPLACEMENT, null);
    if (replacement === '') {
      config.error(REPLACEMENT, `Invalid value  for configuration ${REPLACEMENT}: String must be non-empty`);
    }
    return {
      paths: fields.map((f) => ({ name: f, segments: f.split('.') })),
      replacement,
      target: config.choice(TARGET, ['value', 'key'], 'value'),
    };
  },

  apply(record, settings) {
    const payload = record[settings.target];
    const masked = maskPayload(payload, settings);
    if (masked === undefined) return undefined; // keep
    return { ...record, [settings.target]: masked };
  },
});

// The masked payload, or undefined when there is nothing to change.
function maskPayload(payload, settings) {
  if (payload == null) return undefined;
  let doc;
  let schema;
  if (payload.tag === 'json') {
    try {
      doc = decode(payload);
      schema = schemaOf(payload);
    } catch {
      return undefined; // not JSON after all: leave it to the converter
    }
    // A schema that does not describe an object is not ours to interpret.
    if (schema !== undefined && schema.type !== 'struct' && schema.type !== 'map') return undefined;
  } else if (payload.tag === 'text') {
    const s = payload.val.trimStart();
    if (!s.startsWith('{')) return undefined;
    try {
      doc = parseJson(s);
    } catch {
      return undefined;
    }
  } else {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  let changed = false;
  for (const path of settings.paths) {
    // A top-level key may itself contain dots: an exact match wins.
    const segments = Object.hasOwn(doc, path.name) ? [path.name] : path.segments;
    if (maskAt(doc, schema, segments, 0, path.name, settings.replacement)) changed = true;
  }
  return changed ? encode(doc, payload) : undefined;
}

// Masks segments[i..] below `container` in place; whether anything changed.
function maskAt(container, schema, segments, i, path, replacement) {
  if (Array.isArray(container)) {
    let changed = false;
    const items = schema?.type === 'array' ? schema.items : undefined;
    for (const item of container) {
      if (maskAt(item, items, segments, i, path, replacement)) changed = true;
    }
    return changed;
  }
  if (container === null || typeof container !== 'object') return false;
  const name = segments[i];
  if (!Object.hasOwn(container, name)) return false;
  const inner = schema === undefined ? undefined : fieldSchema(schema, name);
  if (i < segments.length - 1) {
    return maskAt(container[name], inner, segments, i + 1, path, replacement);
  }
  const value = container[name];
  if (value === null) return false; // Kafka leaves nulls alone
  container[name] = replacement == null ? emptyValue(value, inner, path) : replaced(value, inner, path, replacement);
  return true;
}

const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
const INTEGER_RANGES = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

// The type of a value: its schema type when there is one, else its JSON type.
function typeOf(value, schema) {
  if (schema?.type) return schema.type;
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': return Number.isInteger(value) ? 'int64' : 'float64';
    case 'bigint': return 'int64';
    case 'boolean': return 'boolean';
    default: return 'map';
  }
}

// Kafka's "valid null value for the field type".
function emptyValue(value, schema, path) {
  const type = typeOf(value, schema);
  switch (type) {
    case 'string':
      return '';
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float32': case 'float64':
      return 0;
    case 'boolean':
      return false;
    case 'bytes':
      // JsonConverter writes bytes as base64; a Decimal zero is one 0x00 byte
      // (or the number 0 with decimal.format=NUMERIC).
      if (schema?.name === DECIMAL) return typeof value === 'number' ? 0 : 'AA==';
      return '';
    case 'array':
      return [];
    case 'map':
      // A map with non-string keys is an array of [key, value] pairs.
      return Array.isArray(value) ? [] : {};
    default:
      throw fatal(`Cannot mask value of type ${type} (field ${path})`);
  }
}

// Kafka's custom replacement: strings verbatim, numbers parsed to the
// field's numeric type, every other type refused.
function replaced(value, schema, path, replacement) {
  const type = typeOf(value, schema);
  if (type === 'string') return replacement;
  if (type in INTEGER_RANGES) {
    const t = replacement.trim();
    if (/^[+-]?\d+$/.test(t)) {
      const n = BigInt(t);
      const [lo, hi] = INTEGER_RANGES[type];
      if (n >= lo && n <= hi) return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    throw fatal(`Unable to convert ${replacement} to a number of type ${type} (field ${path})`);
  }
  if (type === 'float32' || type === 'float64') {
    const n = replacement.trim() === '' ? NaN : Number(replacement);
    if (Number.isFinite(n)) return n;
    throw fatal(`Unable to convert ${replacement} to a number of type ${type} (field ${path})`);
  }
  throw fatal(`Cannot mask value of type ${type} with custom replacement (field ${path})`);
}
