/*
 * The connector API's per-role exports (wc_connector.h): a source's task,
 * a sink's task, a transform. Records travel packed (interface `batches`
 * of wit/connector.wit); this file turns incoming batches into wc_record
 * views over one buffer, and the records a source emits or a transform
 * replaces straight into an outgoing batch, without the per-field heap
 * strings of the generated record types.
 */
#include "wc_connector.h"

#include <stdio.h>
#include <string.h>

static void *wc_must(void *p) {
  if (!p) __builtin_trap();
  return p;
}

/* Callbacks fail by filling `err` and returning false. One that returns
 * false without filling it still fails, with a message that says so,
 * rather than hand the host an error the generated code never wrote. */
static bool wc_failed(wc_error_t *err, const char *callback) {
  static const wc_error_t empty;
  if (memcmp(err, &empty, sizeof empty) == 0) {
    wc_fatal(err, "%s failed without saying why (fill err with wc_fatal or wc_retriable)", callback);
  }
  return false;
}

/* ---- packing (sources, transforms) -------------------------------------- */

#if defined(WC_SOURCE) || defined(WC_TRANSFORM)

typedef struct {
  wc_buf_t data;
  wc_list_string_t topics;
  wasmconnect_connector_batches_list_packed_header_t headers;
  size_t headers_cap;
  char *error; /* the first record that cannot be packed, and why */
} wc_packer;

static wasmconnect_connector_batches_span_t wc_pack_span(wc_packer *p, const void *bytes,
                                                         size_t len) {
  wasmconnect_connector_batches_span_t span = {(uint32_t)p->data.len, (uint32_t)len};
  wc_buf_push(&p->data, bytes, len);
  return span;
}

static uint32_t wc_pack_topic_name(wc_packer *p, const char *topic) {
  size_t n = strlen(topic);
  for (size_t i = p->topics.len; i-- > 0;) {
    if (p->topics.ptr[i].len == n && memcmp(p->topics.ptr[i].ptr, topic, n) == 0) return (uint32_t)i;
  }
  p->topics.ptr = wc_must(realloc(p->topics.ptr, (p->topics.len + 1) * sizeof *p->topics.ptr));
  p->topics.ptr[p->topics.len] = wc_str_n(topic, n);
  return (uint32_t)p->topics.len++;
}

static void wc_pack_error(wc_packer *p, size_t index, const char *why) {
  if (p->error) return;
  wc_buf_t text = {0};
  wc_buf_printf(&text, "record %zu %s", index, why);
  wc_buf_push(&text, "", 1);
  p->error = (char *)text.ptr;
}

static wasmconnect_connector_batches_option_packed_payload_t wc_pack_view(wc_packer *p,
                                                                          const wc_payload *v,
                                                                          size_t index) {
  wasmconnect_connector_batches_option_packed_payload_t out = {0};
  if (v->kind == WC_NULL) return out;
  if (!v->data && v->len) {
    wc_pack_error(p, index, "has a payload with a length but no data");
    return out;
  }
  out.is_some = true;
  out.val.bytes = wc_pack_span(p, v->data, v->len);
  switch (v->kind) {
    case WC_BINARY: out.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY; break;
    case WC_TEXT: out.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT; break;
    case WC_JSON:
      out.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON;
      if (v->schema) {
        out.val.schema.is_some = true;
        out.val.schema.val = wc_pack_span(p, v->schema, strlen(v->schema));
      }
      break;
    default:
      out.is_some = false;
      wc_pack_error(p, index, "has a payload of no known kind (WC_BINARY, WC_TEXT or WC_JSON)");
  }
  return out;
}

static wasmconnect_connector_batches_header_range_t wc_pack_header_views(wc_packer *p,
                                                                         const wc_record *r,
                                                                         size_t index) {
  wasmconnect_connector_batches_header_range_t range = {(uint32_t)p->headers.len, 0};
  if (r->header_count && !r->headers) {
    wc_pack_error(p, index, "has a header count but no headers");
    return range;
  }
  for (size_t i = 0; i < r->header_count; i++) {
    const wc_header *h = &r->headers[i];
    if (!h->key) {
      wc_pack_error(p, index, "has a header without a key");
      continue;
    }
    if (p->headers.len == p->headers_cap) {
      p->headers_cap = p->headers_cap ? p->headers_cap * 2 : 8;
      p->headers.ptr = wc_must(realloc(p->headers.ptr, p->headers_cap * sizeof *p->headers.ptr));
    }
    wasmconnect_connector_batches_packed_header_t *packed = &p->headers.ptr[p->headers.len++];
    memset(packed, 0, sizeof *packed);
    packed->key = wc_pack_span(p, h->key, strlen(h->key));
    if (h->value) {
      packed->value.is_some = true;
      packed->value.val = wc_pack_span(p, h->value, h->value_len);
    }
    range.count++;
  }
  return range;
}

/* Hands the tables over to a batch; empty ones own no memory. */
static void wc_packer_finish(wc_packer *p, WC_(list_u8_t) *data, wc_list_string_t *topics,
                             wasmconnect_connector_batches_list_packed_header_t *headers) {
  wc_string_t bytes = wc_buf_take(&p->data);
  data->ptr = bytes.ptr;
  data->len = bytes.len;
  *topics = p->topics;
  if (p->headers.len == 0) {
    free(p->headers.ptr);
    p->headers.ptr = NULL;
  }
  *headers = p->headers;
  free(p->error);
}

static void wc_packer_free(wc_packer *p) {
  wc_buf_free(&p->data);
  for (size_t i = 0; i < p->topics.len; i++) free(p->topics.ptr[i].ptr);
  free(p->topics.ptr);
  free(p->headers.ptr);
  free(p->error);
}

#endif

/* ---- unpacking (sinks, transforms) -------------------------------------- */

#if defined(WC_SINK) || defined(WC_TRANSFORM)

/* One incoming record's parts, whatever its packed type. */
typedef struct {
  uint32_t topic;
  const wasmconnect_connector_batches_option_packed_payload_t *key, *value;
  wasmconnect_connector_batches_header_range_t headers;
} wc_packed_ref;

/* A batch turned into views: every string and payload copied once, with
 * a NUL after it, into `arena`. */
typedef struct {
  char *arena;
  size_t used;
  const char **topics;
  wc_header *headers;
  wc_record *records;
  size_t count;
} wc_views;

typedef struct {
  const WC_(list_u8_t) *data;
  const char *unit; /* "record" or "header", for messages */
  size_t record;
  uint64_t need; /* pass 1: bytes the arena needs */
  wc_views *views; /* pass 2: where copies go; NULL in pass 1 */
  wc_error_t *err;
} wc_reader;

static bool wc_malformed_batch(wc_reader *r, const char *what, const char *why) {
  wc_fatal(r->err, "the host sent a malformed batch: %s %zu: %s %s", r->unit, r->record, what, why);
  return false;
}

/* Pass 1 checks a span and counts it; pass 2 copies it. */
static bool wc_read_span(wc_reader *r, wasmconnect_connector_batches_span_t span, bool text,
                         const char *what, const char **out) {
  if ((uint64_t)span.offset + span.len > r->data->len) {
    return wc_malformed_batch(r, what, "lies outside the batch's data");
  }
  const uint8_t *bytes = span.len ? r->data->ptr + span.offset : (const uint8_t *)"";
  if (!r->views) {
    if (text && !wc_utf8_valid(bytes, span.len)) return wc_malformed_batch(r, what, "is not UTF-8");
    r->need += (uint64_t)span.len + 1;
    return true;
  }
  char *copy = r->views->arena + r->views->used;
  memcpy(copy, bytes, span.len);
  copy[span.len] = 0;
  r->views->used += (size_t)span.len + 1;
  *out = copy;
  return true;
}

static bool wc_read_payload(wc_reader *r,
                            const wasmconnect_connector_batches_option_packed_payload_t *packed,
                            const char *what, wc_payload *out) {
  memset(out, 0, sizeof *out);
  if (!packed->is_some) return true;
  const char *data = NULL;
  switch (packed->val.kind) {
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY: out->kind = WC_BINARY; break;
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT: out->kind = WC_TEXT; break;
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON: out->kind = WC_JSON; break;
    default: return wc_malformed_batch(r, what, "has a payload kind that does not exist");
  }
  if (!wc_read_span(r, packed->val.bytes, out->kind != WC_BINARY, what, &data)) return false;
  out->data = data;
  out->len = packed->val.bytes.len;
  if (out->kind == WC_JSON && packed->val.schema.is_some) {
    return wc_read_span(r, packed->val.schema.val, true, "a schema", &out->schema);
  }
  return true;
}

/* Reads `count` records in two passes: check and measure, then copy. */
static bool wc_read_batch(const WC_(list_u8_t) *data, const wc_list_string_t *topics,
                          const wasmconnect_connector_batches_list_packed_header_t *headers,
                          const wc_packed_ref *refs, size_t count, wc_views *views,
                          wc_error_t *err) {
  memset(views, 0, sizeof *views);
  wc_reader r = {data, "record", 0, 0, NULL, err};
  for (size_t t = 0; t < topics->len; t++) r.need += topics->ptr[t].len + 1;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      if (r.need > SIZE_MAX) __builtin_trap();
      views->arena = wc_must(malloc(r.need ? (size_t)r.need : 1));
      views->topics = wc_must(calloc(topics->len + 1, sizeof *views->topics));
      views->headers = wc_must(calloc(headers->len + 1, sizeof *views->headers));
      views->records = wc_must(calloc(count + 1, sizeof *views->records));
      views->count = count;
      r.views = views;
      for (size_t t = 0; t < topics->len; t++) {
        char *copy = views->arena + views->used;
        memcpy(copy, topics->ptr[t].ptr, topics->ptr[t].len);
        copy[topics->ptr[t].len] = 0;
        views->used += topics->ptr[t].len + 1;
        views->topics[t] = copy;
      }
    }
    for (size_t i = 0; i < count; i++) {
      const wc_packed_ref *ref = &refs[i];
      wc_record scratch, *rec = pass ? &views->records[i] : &scratch;
      r.unit = "record";
      r.record = i;
      if (ref->topic >= topics->len) return wc_malformed_batch(&r, "its topic", "is out of range");
      if ((uint64_t)ref->headers.start + ref->headers.count > headers->len) {
        return wc_malformed_batch(&r, "its headers", "are out of range");
      }
      if (!wc_read_payload(&r, ref->key, "the key", &rec->key) ||
          !wc_read_payload(&r, ref->value, "the value", &rec->value)) {
        return false;
      }
      if (!pass) continue;
      rec->topic = views->topics[ref->topic];
      rec->headers = &views->headers[ref->headers.start];
      rec->header_count = ref->headers.count;
    }
    /* Headers are read once each, whichever records point at them. */
    for (size_t h = 0; h < headers->len; h++) {
      const wasmconnect_connector_batches_packed_header_t *ph = &headers->ptr[h];
      wc_header scratch = {0}, *out = pass ? &views->headers[h] : &scratch;
      r.unit = "header";
      r.record = h;
      if (!wc_read_span(&r, ph->key, true, "a header key", &out->key)) return false;
      if (ph->value.is_some) {
        if (!wc_read_span(&r, ph->value.val, false, "a header value", &out->value)) return false;
        out->value_len = ph->value.val.len;
      }
    }
  }
  return true;
}

static void wc_views_free(wc_views *v) {
  free(v->arena);
  free(v->topics);
  free(v->headers);
  free(v->records);
  memset(v, 0, sizeof *v);
}

#endif

/* ---- sources ------------------------------------------------------------ */

#if defined(WC_SOURCE)

static void *wc_source_task;

struct wc_offsets {
  char **found; /* what lookups returned, freed after start */
  size_t len;
};

bool wc_committed_offset(wc_offsets *offsets, const char *source_partition, const char **offset,
                         wc_error_t *err) {
  wc_string_t partition = {(uint8_t *)source_partition, strlen(source_partition)};
  wasmconnect_connector_offsets_list_json_t partitions = {&partition, 1};
  wasmconnect_connector_offsets_list_option_json_t found;
  *offset = NULL;
  if (!wasmconnect_connector_offsets_read(&partitions, &found, err)) return false;
  if (found.len == 1 && found.ptr[0].is_some) {
    char *text = wc_cstr(&found.ptr[0].val);
    offsets->found = wc_must(realloc(offsets->found, (offsets->len + 1) * sizeof *offsets->found));
    offsets->found[offsets->len++] = text;
    *offset = text;
  }
  wasmconnect_connector_offsets_list_option_json_free(&found);
  return true;
}

bool wc__source_start(const wc_source_def *def, const wc_plugin_info *info, wc_config_t *config,
                      wc_error_t *err) {
  wc_config *cfg = wc__task_config(info, config, err);
  if (!cfg) return false;
  wc_offsets offsets = {0};
  memset(err, 0, sizeof *err);
  bool ok = def->start(&wc_source_task, cfg, &offsets, err);
  for (size_t i = 0; i < offsets.len; i++) free(offsets.found[i]);
  free(offsets.found);
  if (!ok) {
    wc__task_config_free();
    return wc_failed(err, "start");
  }
  return true;
}

struct wc_source_out {
  wc_packer p;
  wasmconnect_connector_batches_packed_source_record_t *records;
  size_t len, cap;
};

void wc_emit(wc_source_out *out, const wc_record *r) {
  size_t index = out->len;
  if (!r->topic || !r->source_partition || !r->source_offset) {
    wc_pack_error(&out->p, index, "lacks its topic, source_partition or source_offset");
    return;
  }
  if (out->len == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 64;
    out->records = wc_must(realloc(out->records, out->cap * sizeof *out->records));
  }
  wasmconnect_connector_batches_packed_source_record_t *packed = &out->records[out->len++];
  memset(packed, 0, sizeof *packed);
  packed->source_partition = wc_pack_span(&out->p, r->source_partition, strlen(r->source_partition));
  packed->source_offset = wc_pack_span(&out->p, r->source_offset, strlen(r->source_offset));
  packed->topic = wc_pack_topic_name(&out->p, r->topic);
  packed->partition.is_some = r->has_partition;
  packed->partition.val = r->partition;
  packed->key = wc_pack_view(&out->p, &r->key, index);
  packed->value = wc_pack_view(&out->p, &r->value, index);
  packed->headers = wc_pack_header_views(&out->p, r, index);
  packed->timestamp.is_some = r->has_timestamp;
  packed->timestamp.val = r->timestamp;
  packed->ack_token.is_some = r->has_ack_token;
  packed->ack_token.val = r->ack_token;
}

bool wc__source_poll(const wc_source_def *def, wc_source_batch_t *ret, wc_error_t *err) {
  wc_source_out out = {0};
  memset(err, 0, sizeof *err);
  if (!def->poll(wc_source_task, &out, err)) {
    wc_packer_free(&out.p);
    free(out.records);
    return wc_failed(err, "poll");
  }
  if (out.p.error) {
    wc_fatal(err, "poll emitted a bad record: %s", out.p.error);
    wc_packer_free(&out.p);
    free(out.records);
    return false;
  }
  if (out.len == 0) {
    free(out.records);
    out.records = NULL;
  }
  ret->records.ptr = out.records;
  ret->records.len = out.len;
  wc_packer_finish(&out.p, &ret->data, &ret->topics, &ret->headers);
  return true;
}

bool wc__source_commit_records(const wc_source_def *def,
                               exports_wasmconnect_connector_source_task_list_record_ack_t *acks,
                               wc_error_t *err) {
  bool ok = true;
  memset(err, 0, sizeof *err);
  for (size_t i = 0; ok && def->acked && i < acks->len; i++) {
    const exports_wasmconnect_connector_source_task_record_ack_t *a = &acks->ptr[i];
    bool written = a->status.tag == EXPORTS_WASMCONNECT_CONNECTOR_SOURCE_TASK_ACK_STATUS_WRITTEN;
    ok = def->acked(wc_source_task, a->token, written, written ? a->status.val.written.f0 : -1,
                    written ? a->status.val.written.f1 : -1, err);
  }
  exports_wasmconnect_connector_source_task_list_record_ack_free(acks);
  return ok || wc_failed(err, "acked");
}

bool wc__source_commit(const wc_source_def *def, wc_error_t *err) {
  memset(err, 0, sizeof *err);
  return !def->commit || def->commit(wc_source_task, err) || wc_failed(err, "commit");
}

void wc__source_stop(const wc_source_def *def) {
  if (def->stop) def->stop(wc_source_task);
  wc_source_task = NULL;
  wc__task_config_free();
}

#endif

/* ---- sinks -------------------------------------------------------------- */

#if defined(WC_SINK)

static void *wc_sink_task;

bool wc__sink_start(const wc_sink_def *def, const wc_plugin_info *info, wc_config_t *config,
                    wc_error_t *err) {
  wc_config *cfg = wc__task_config(info, config, err);
  if (!cfg) return false;
  memset(err, 0, sizeof *err);
  if (!def->start(&wc_sink_task, cfg, err)) {
    wc__task_config_free();
    return wc_failed(err, "start");
  }
  return true;
}

bool wc__sink_partitions(const wc_sink_def *def, bool open,
                         exports_wasmconnect_connector_sink_task_list_topic_partition_t *partitions,
                         wc_error_t *err) {
  bool (*callback)(void *, const wc_partition *, size_t, wc_error_t *) = open ? def->open : def->close;
  bool ok = true;
  if (callback) {
    size_t n = partitions->len;
    wc_partition *views = wc_must(calloc(n + 1, sizeof *views));
    for (size_t i = 0; i < n; i++) {
      views[i].topic = wc_cstr(&partitions->ptr[i].topic);
      views[i].partition = partitions->ptr[i].partition;
    }
    memset(err, 0, sizeof *err);
    ok = callback(wc_sink_task, views, n, err) || wc_failed(err, open ? "open" : "close");
    for (size_t i = 0; i < n; i++) free((char *)views[i].topic);
    free(views);
  }
  exports_wasmconnect_connector_sink_task_list_topic_partition_free(partitions);
  return ok;
}

bool wc__sink_put(const wc_sink_def *def, wc_sink_batch_t *batch, wc_error_t *err) {
  size_t n = batch->records.len;
  wc_packed_ref *refs = wc_must(calloc(n + 1, sizeof *refs));
  for (size_t i = 0; i < n; i++) {
    const wasmconnect_connector_batches_packed_sink_record_t *p = &batch->records.ptr[i];
    refs[i] = (wc_packed_ref){p->topic, &p->key, &p->value, p->headers};
  }
  wc_views views;
  bool ok = wc_read_batch(&batch->data, &batch->topics, &batch->headers, refs, n, &views, err);
  if (ok) {
    for (size_t i = 0; i < n; i++) {
      const wasmconnect_connector_batches_packed_sink_record_t *p = &batch->records.ptr[i];
      wc_record *r = &views.records[i];
      r->has_partition = true;
      r->partition = p->partition;
      r->offset = p->offset;
      r->has_timestamp = p->timestamp.is_some;
      r->timestamp = p->timestamp.val;
      r->timestamp_type = (wc_timestamp_type)p->timestamp_type;
    }
    memset(err, 0, sizeof *err);
    ok = def->put(wc_sink_task, views.records, n, err) || wc_failed(err, "put");
  }
  wc_views_free(&views);
  free(refs);
  wasmconnect_connector_batches_sink_batch_free(batch);
  return ok;
}

/* The contract's payload, borrowing the view's bytes. */
static wasmconnect_connector_types_option_payload_t wc_payload_of(const wc_payload *v) {
  wasmconnect_connector_types_option_payload_t o = {0};
  if (v->kind == WC_NULL) return o;
  o.is_some = true;
  uint8_t *data = (uint8_t *)v->data;
  switch (v->kind) {
    case WC_BINARY:
      o.val.tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY;
      o.val.val.binary.ptr = data;
      o.val.val.binary.len = v->len;
      break;
    case WC_TEXT:
      o.val.tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT;
      o.val.val.text.ptr = data;
      o.val.val.text.len = v->len;
      break;
    default:
      o.val.tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON;
      o.val.val.json.document.ptr = data;
      o.val.val.json.document.len = v->len;
      if (v->schema) {
        o.val.val.json.schema.is_some = true;
        o.val.val.json.schema.val.ptr = (uint8_t *)v->schema;
        o.val.val.json.schema.val.len = strlen(v->schema);
      }
  }
  return o;
}

bool wc_errant(const wc_record *record, wc_error_t *err, const char *fmt, ...) {
  char why[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(why, sizeof why, fmt, args);
  va_end(args);
  wc_buf_t raw = {0}, text = {0};
  wc_buf_printf(&raw, "Sink record (topic='%s',partition=%d,offset=%lld) could not be written: %s",
                record->topic ? record->topic : "", (int)record->partition,
                (long long)record->offset, why);
  /* `why` may be cut mid-character or hold foreign bytes; the host traps
   * on a message that is not UTF-8. */
  wc_buf_push_utf8(&text, raw.ptr, raw.len);
  wc_buf_free(&raw);
  /* The import borrows its arguments: point them at the view's bytes. */
  wasmconnect_connector_types_sink_record_t r = {0};
  r.topic.ptr = (uint8_t *)record->topic;
  r.topic.len = record->topic ? strlen(record->topic) : 0;
  r.partition = record->partition;
  r.offset = record->offset;
  r.key = wc_payload_of(&record->key);
  r.value = wc_payload_of(&record->value);
  r.headers.len = record->header_count;
  r.headers.ptr = record->header_count ? wc_must(calloc(record->header_count, sizeof *r.headers.ptr))
                                       : NULL;
  for (size_t i = 0; i < record->header_count; i++) {
    r.headers.ptr[i].key.ptr = (uint8_t *)record->headers[i].key;
    r.headers.ptr[i].key.len = strlen(record->headers[i].key);
    r.headers.ptr[i].value.is_some = record->headers[i].value != NULL;
    r.headers.ptr[i].value.val.ptr = (uint8_t *)record->headers[i].value;
    r.headers.ptr[i].value.val.len = record->headers[i].value_len;
  }
  r.timestamp.is_some = record->has_timestamp;
  r.timestamp.val = record->timestamp;
  r.timestamp_type = (wasmconnect_connector_types_timestamp_type_t)record->timestamp_type;
  wc_string_t message = {text.ptr, text.len}, refused = {0};
  bool tolerated = wasmconnect_connector_errant_records_report(&r, &message, &refused);
  free(r.headers.ptr);
  if (tolerated) {
    wc_warn("%.*s; reported to the error handler", (int)text.len, (const char *)text.ptr);
  } else {
    if (refused.len) free(refused.ptr);
    err->tag = WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
    err->val.fatal = wc_buf_take(&text);
  }
  wc_buf_free(&text);
  return tolerated;
}

bool wc__sink_pre_commit(const wc_sink_def *def,
                         exports_wasmconnect_connector_sink_task_list_partition_offset_t *current,
                         exports_wasmconnect_connector_sink_task_list_partition_offset_t *ret,
                         wc_error_t *err) {
  bool ok = true;
  if (def->flush) {
    size_t n = current->len;
    wc_position *views = wc_must(calloc(n + 1, sizeof *views));
    for (size_t i = 0; i < n; i++) {
      views[i].topic = wc_cstr(&current->ptr[i].topic);
      views[i].partition = current->ptr[i].partition;
      views[i].offset = current->ptr[i].offset;
    }
    memset(err, 0, sizeof *err);
    ok = def->flush(wc_sink_task, views, n, err) || wc_failed(err, "flush");
    for (size_t i = 0; i < n; i++) free((char *)views[i].topic);
    free(views);
  }
  if (!ok) {
    exports_wasmconnect_connector_sink_task_list_partition_offset_free(current);
    return false;
  }
  /* Flushed: every position put so far is safe to commit. */
  *ret = *current;
  memset(current, 0, sizeof *current);
  return true;
}

void wc__sink_stop(const wc_sink_def *def) {
  if (def->stop) def->stop(wc_sink_task);
  wc_sink_task = NULL;
  wc__task_config_free();
}

#endif

/* ---- transforms --------------------------------------------------------- */

#if defined(WC_TRANSFORM)

static void *wc_transform_state;
static wc_config *wc_transform_config;

bool wc__transform_configure(const wc_transform_def *def, const wc_plugin_info *info,
                             wc_config_t *config, wc_error_t *err) {
  /* A transform has no connector: its settings are checked here. */
  wc__config_free(wc_transform_config);
  wc_transform_config = wc__checked_config(info, config, err);
  if (!wc_transform_config) return false;
  if (!def->configure) return true;
  memset(err, 0, sizeof *err);
  return def->configure(&wc_transform_state, wc_transform_config, err) ||
         wc_failed(err, "configure");
}

bool wc__transform_apply(const wc_transform_def *def, wc_transform_batch_t *batch,
                         wc_applied_t *ret, wc_error_t *err) {
  size_t n = batch->records.len;
  wc_packed_ref *refs = wc_must(calloc(n + 1, sizeof *refs));
  for (size_t i = 0; i < n; i++) {
    const wasmconnect_connector_batches_packed_transform_record_t *p = &batch->records.ptr[i];
    refs[i] = (wc_packed_ref){p->topic, &p->key, &p->value, p->headers};
  }
  wc_views views;
  wc_packer p = {0};
  bool ok = wc_read_batch(&batch->data, &batch->topics, &batch->headers, refs, n, &views, err);
  exports_wasmconnect_connector_record_transform_outcome_t *outcomes =
      n ? wc_must(calloc(n, sizeof *outcomes)) : NULL;
  wasmconnect_connector_batches_packed_transform_record_t *replaced =
      n ? wc_must(calloc(n, sizeof *replaced)) : NULL;
  size_t replacements = 0;
  for (size_t i = 0; ok && i < n; i++) {
    const wasmconnect_connector_batches_packed_transform_record_t *packed = &batch->records.ptr[i];
    wc_record *in = &views.records[i];
    in->has_partition = packed->partition.is_some;
    in->partition = packed->partition.val;
    in->offset = -1;
    in->has_timestamp = packed->timestamp.is_some;
    in->timestamp = packed->timestamp.val;
    wc_record out = *in;
    memset(err, 0, sizeof *err);
    wc_verdict verdict = def->apply(wc_transform_state, in, &out, err);
    switch (verdict) {
      case WC_KEEP: outcomes[i].tag = EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_KEEP; break;
      case WC_DROP: outcomes[i].tag = EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_DROP; break;
      case WC_REPLACE: {
        if (!out.topic) {
          ok = wc_fatal(err, "apply replaced record %zu with one that has no topic", i);
          break;
        }
        wasmconnect_connector_batches_packed_transform_record_t *e = &replaced[replacements];
        e->topic = wc_pack_topic_name(&p, out.topic);
        e->partition.is_some = out.has_partition;
        e->partition.val = out.partition;
        e->key = wc_pack_view(&p, &out.key, i);
        e->value = wc_pack_view(&p, &out.value, i);
        e->headers = wc_pack_header_views(&p, &out, i);
        e->timestamp.is_some = out.has_timestamp;
        e->timestamp.val = out.timestamp;
        outcomes[i].tag = EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_REPLACE;
        outcomes[i].val.replace = (uint32_t)replacements++;
        break;
      }
      case WC_FAIL: ok = wc_failed(err, "apply"); break;
      default: ok = wc_fatal(err, "apply returned %d, which is no wc_verdict", (int)verdict);
    }
  }
  if (ok && p.error) ok = wc_fatal(err, "apply made a bad replacement: %s", p.error);
  wc_views_free(&views);
  free(refs);
  wasmconnect_connector_batches_transform_batch_free(batch);
  if (!ok) {
    wc_packer_free(&p);
    free(outcomes);
    free(replaced);
    return false;
  }
  ret->outcomes.ptr = outcomes;
  ret->outcomes.len = n;
  if (replacements == 0) {
    free(replaced);
    replaced = NULL;
  }
  ret->replacements.records.ptr = replaced;
  ret->replacements.records.len = replacements;
  wc_packer_finish(&p, &ret->replacements.data, &ret->replacements.topics,
                   &ret->replacements.headers);
  return true;
}

#endif
