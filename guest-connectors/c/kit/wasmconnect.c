/* Implementation of the helpers declared in wasmconnect.h. */
#include "wasmconnect.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Allocation failure has no recovery inside a sandboxed connector: trap,
 * and the host reports the task FAILED with the trace. */
static void *wc_alloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p) __builtin_trap();
  return p;
}

wc_string_t wc_str_n(const char *bytes, size_t len) {
  /* An empty string owns nothing: the generated post-return code frees
   * only non-empty strings and lists, so an allocation here would leak. */
  wc_string_t s = {NULL, 0};
  if (len == 0) return s;
  s.ptr = wc_alloc(len);
  s.len = len;
  memcpy(s.ptr, bytes, len);
  return s;
}

wc_string_t wc_str(const char *text) { return wc_str_n(text, strlen(text)); }

char *wc_cstr(const wc_string_t *text) {
  char *c = wc_alloc(text->len + 1);
  memcpy(c, text->ptr, text->len);
  c[text->len] = 0;
  return c;
}

bool wc_str_eq(const wc_string_t *text, const char *c) {
  size_t n = strlen(c);
  return text->len == n && memcmp(text->ptr, c, n) == 0;
}

wc_option_string_t wc_some(const char *text) {
  wc_option_string_t o = {true, wc_str(text)};
  return o;
}

wc_option_string_t wc_none(void) {
  wc_option_string_t o = {0};
  return o;
}

void wc_buf_push(wc_buf_t *buf, const void *bytes, size_t len) {
  if (len == 0) return;
  /* A wasm32 size_t overflows at 4 GiB: trap rather than wrap around. */
  if (len > SIZE_MAX - buf->len) __builtin_trap();
  if (buf->len + len > buf->cap) {
    size_t need = buf->len + len;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *grown = realloc(buf->ptr, cap);
    if (!grown) __builtin_trap();
    buf->ptr = grown;
    buf->cap = cap;
  }
  memcpy(buf->ptr + buf->len, bytes, len);
  buf->len += len;
}

void wc_buf_puts(wc_buf_t *buf, const char *text) { wc_buf_push(buf, text, strlen(text)); }

static void wc_buf_vprintf(wc_buf_t *buf, const char *fmt, va_list args) {
  char small[256];
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(small, sizeof small, fmt, args);
  if (n >= 0 && (size_t)n < sizeof small) {
    wc_buf_push(buf, small, (size_t)n);
  } else if (n > 0) {
    /* Longer than the stack buffer: format again into one of its size. */
    char *big = wc_alloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, again);
    wc_buf_push(buf, big, (size_t)n);
    free(big);
  }
  va_end(again);
}

void wc_buf_printf(wc_buf_t *buf, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  wc_buf_vprintf(buf, fmt, args);
  va_end(args);
}

/* The length of the strict UTF-8 sequence at the start of `s` (`n` > 0
 * bytes available), or 0 when it is not one: no overlong forms, surrogates
 * or code points past U+10FFFF, as the canonical ABI requires of strings. */
static size_t wc_utf8_seq(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8. */
static const char wc_replacement[] = "\xEF\xBF\xBD";

bool wc_utf8_valid(const uint8_t *s, size_t n) {
  for (size_t i = 0, len; i < n; i += len) {
    if ((len = wc_utf8_seq(s + i, n - i)) == 0) return false;
  }
  return true;
}

void wc_buf_push_utf8(wc_buf_t *buf, const void *bytes, size_t len) {
  const uint8_t *s = bytes;
  size_t run = 0; /* start of the valid bytes not yet pushed */
  for (size_t i = 0; i < len;) {
    size_t seq = wc_utf8_seq(s + i, len - i);
    if (seq) {
      i += seq;
      continue;
    }
    /* One U+FFFD per invalid byte: simple, and never swallows a valid
     * character that follows a truncated sequence. */
    wc_buf_push(buf, s + run, i - run);
    wc_buf_push(buf, wc_replacement, 3);
    run = ++i;
  }
  wc_buf_push(buf, s + run, len - run);
}

void wc_buf_json_string(wc_buf_t *buf, const uint8_t *bytes, size_t len) {
  wc_buf_push(buf, "\"", 1);
  for (size_t i = 0; i < len;) {
    uint8_t c = bytes[i];
    size_t seq = wc_utf8_seq(bytes + i, len - i);
    if (seq == 0) {
      /* JSON text must be UTF-8 and the host refuses a batch holding
       * anything else, so a stray byte becomes U+FFFD. */
      wc_buf_push(buf, "\\ufffd", 6);
      i++;
      continue;
    }
    if (seq > 1) {
      wc_buf_push(buf, bytes + i, seq);
      i += seq;
      continue;
    }
    switch (c) {
      case '"': wc_buf_push(buf, "\\\"", 2); break;
      case '\\': wc_buf_push(buf, "\\\\", 2); break;
      case '\n': wc_buf_push(buf, "\\n", 2); break;
      case '\r': wc_buf_push(buf, "\\r", 2); break;
      case '\t': wc_buf_push(buf, "\\t", 2); break;
      default:
        if (c < 0x20) wc_buf_printf(buf, "\\u%04x", c);
        else wc_buf_push(buf, &c, 1);
    }
    i++;
  }
  wc_buf_push(buf, "\"", 1);
}

wc_string_t wc_buf_take(wc_buf_t *buf) {
  wc_string_t s = {buf->ptr, buf->len};
  if (buf->len == 0) {
    /* See wc_str_n: an empty result must own nothing. */
    free(buf->ptr);
    s.ptr = NULL;
  }
  buf->ptr = NULL;
  buf->len = buf->cap = 0;
  return s;
}

void wc_buf_free(wc_buf_t *buf) {
  free(buf->ptr);
  buf->ptr = NULL;
  buf->len = buf->cap = 0;
}

const wc_string_t *wc_config_find(const wc_config_t *config, const char *key) {
  for (size_t i = 0; i < config->len; i++) {
    if (wc_str_eq(&config->ptr[i].f0, key)) return &config->ptr[i].f1;
  }
  return NULL;
}

char *wc_config_get(const wc_config_t *config, const char *key) {
  const wc_string_t *value = wc_config_find(config, key);
  if (!value) return NULL;
  size_t start = 0, end = value->len;
  while (start < end && isspace(value->ptr[start])) start++;
  while (end > start && isspace(value->ptr[end - 1])) end--;
  if (start == end) return NULL;
  wc_string_t trimmed = {value->ptr + start, end - start};
  return wc_cstr(&trimmed);
}

bool wc_config_int(const wc_config_t *config, const char *key, int64_t fallback,
                   int64_t *out) {
  char *text = wc_config_get(config, key);
  if (!text) {
    *out = fallback;
    return true;
  }
  char *end = NULL;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  bool ok = end && *end == 0 && errno != ERANGE;
  free(text);
  if (ok) *out = value;
  return ok;
}

wc_config_t wc_config_clone(const wc_config_t *config) {
  wc_config_t copy = {NULL, config->len};
  if (config->len == 0) return copy;
  copy.ptr = wc_alloc(config->len * sizeof *config->ptr);
  for (size_t i = 0; i < config->len; i++) {
    copy.ptr[i].f0 = wc_str_n((const char *)config->ptr[i].f0.ptr, config->ptr[i].f0.len);
    copy.ptr[i].f1 = wc_str_n((const char *)config->ptr[i].f1.ptr, config->ptr[i].f1.len);
  }
  return copy;
}

wc_config_key_t wc_key(const char *name,
                       wasmconnect_connector_config_def_config_type_t type,
                       const char *documentation) {
  wc_config_key_t key = {0};
  key.name = wc_str(name);
  key.type = type;
  key.importance = WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_MEDIUM;
  key.documentation = wc_str(documentation);
  key.order_in_group = -1;
  key.width = WASMCONNECT_CONNECTOR_CONFIG_DEF_WIDTH_NONE;
  key.display_name = wc_str(name);
  return key;
}

wasmconnect_connector_config_def_option_resource_kind_t
wc_resource(wasmconnect_connector_config_def_resource_kind_t kind) {
  wasmconnect_connector_config_def_option_resource_kind_t r = {true, kind};
  return r;
}

wc_config_value_t wc_config_error(const wc_config_t *config, const char *key,
                                  const char *message) {
  wc_config_value_t v = {0};
  v.name = wc_str(key);
  const wc_string_t *value = wc_config_find(config, key);
  if (value) {
    v.value.is_some = true;
    v.value.val = wc_str_n((const char *)value->ptr, value->len);
  }
  v.errors.ptr = wc_alloc(sizeof *v.errors.ptr);
  v.errors.ptr[0] = wc_str(message);
  v.errors.len = 1;
  v.visible = true;
  return v;
}

/* Formats a message for the host. Its strings must be UTF-8 or the
 * instance traps, and a `%s` of foreign bytes or a `%.*s` cut mid-character
 * is easy to write, so invalid bytes become U+FFFD here. */
static wc_string_t wc_vformat(const char *fmt, va_list args) {
  wc_buf_t raw = {0}, text = {0};
  wc_buf_vprintf(&raw, fmt, args);
  wc_buf_push_utf8(&text, raw.ptr, raw.len);
  wc_buf_free(&raw);
  return wc_buf_take(&text);
}

bool wc_fatal(wc_error_t *err, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  err->tag = WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
  err->val.fatal = wc_vformat(fmt, args);
  va_end(args);
  return false;
}

bool wc_retriable(wc_error_t *err, uint32_t backoff_ms, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  err->tag = WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_RETRIABLE;
  err->val.retriable.message = wc_vformat(fmt, args);
  err->val.retriable.backoff_ms.is_some = backoff_ms != 0;
  err->val.retriable.backoff_ms.val = backoff_ms;
  va_end(args);
  return false;
}

void wc_log(wasmconnect_connector_logging_level_t level, const char *fmt, ...) {
  if (!wasmconnect_connector_logging_enabled(level)) return;
  va_list args;
  va_start(args, fmt);
  wc_string_t message = wc_vformat(fmt, args);
  va_end(args);
  wasmconnect_connector_logging_log(level, &message);
  free(message.ptr);
}

bool wc_sleep_unless_stopped(uint32_t ms) {
  /* Naps of 20 ms keep a stop request from waiting behind a long sleep. */
  for (uint32_t slept = 0; slept < ms; slept += 20) {
    if (wasmconnect_connector_context_stop_requested()) return true;
    uint32_t nap = ms - slept < 20 ? ms - slept : 20;
    struct timespec t = {0, (long)nap * 1000000L};
    nanosleep(&t, NULL);
  }
  return wasmconnect_connector_context_stop_requested();
}

/* ---- records and batches ---------------------------------------------- */

typedef wasmconnect_connector_batches_span_t wc_span_t;
typedef wasmconnect_connector_batches_option_packed_payload_t wc_packed_payload_t;
typedef wasmconnect_connector_batches_list_packed_header_t wc_packed_headers_t;
typedef wasmconnect_connector_types_option_payload_t wc_payload_t;
typedef wasmconnect_connector_types_list_header_t wc_headers_t;

/* An array of `count` zeroed items (NULL for none: an empty list owns no
 * memory). calloc refuses a byte count that would wrap around wasm32's
 * 32-bit size_t; zeroed, a record the unpacker abandons halfway can still
 * be released with the generated *_free functions, which skip empty
 * fields. */
static void *wc_zalloc(size_t count, size_t size) {
  if (count == 0) return NULL;
  void *p = calloc(count, size);
  if (!p) __builtin_trap();
  return p;
}

#if defined(WC_SOURCE) || defined(WC_TRANSFORM)

/* Builds one batch's `data`, `topics` and `headers`. */
typedef struct {
  wc_buf_t data;
  wc_list_string_t topics;
  size_t topics_cap;
  wc_packed_headers_t headers;
  size_t headers_cap;
} wc_packer_t;

/* Room for one more item in a growing array. Traps rather than let the
 * byte count wrap around wasm32's 32-bit size_t. */
static void *wc_grow(void *items, size_t len, size_t *cap, size_t size) {
  if (len < *cap) return items;
  if (*cap > SIZE_MAX / 2 / size) __builtin_trap();
  *cap = *cap ? *cap * 2 : 8;
  void *grown = realloc(items, *cap * size);
  if (!grown) __builtin_trap();
  return grown;
}

/* wasm32's size_t is 32 bits and wc_buf_push traps at 4 GiB, so offsets
 * and lengths always fit a span's u32. */
static wc_span_t wc_pack_bytes(wc_packer_t *p, const uint8_t *bytes, size_t len) {
  wc_span_t span = {(uint32_t)p->data.len, (uint32_t)len};
  wc_buf_push(&p->data, bytes, len);
  return span;
}

/* The topic's index. A topic not seen yet moves into the table (the record
 * keeps an empty string); a repeated one stays for the record's free.
 * Batches hold few topics, mostly one, so the scan starts at the last. */
static uint32_t wc_pack_topic(wc_packer_t *p, wc_string_t *topic) {
  for (size_t i = p->topics.len; i-- > 0;) {
    const wc_string_t *t = &p->topics.ptr[i];
    if (t->len == topic->len && (t->len == 0 || memcmp(t->ptr, topic->ptr, t->len) == 0)) {
      return (uint32_t)i;
    }
  }
  p->topics.ptr = wc_grow(p->topics.ptr, p->topics.len, &p->topics_cap, sizeof *p->topics.ptr);
  p->topics.ptr[p->topics.len] = *topic;
  topic->ptr = NULL;
  topic->len = 0;
  return (uint32_t)p->topics.len++;
}

static wc_packed_payload_t wc_pack_payload(wc_packer_t *p, const wc_payload_t *payload) {
  wc_packed_payload_t packed = {0};
  if (!payload->is_some) return packed;
  packed.is_some = true;
  const wasmconnect_connector_types_payload_t *v = &payload->val;
  switch (v->tag) {
    case WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY:
      packed.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY;
      packed.val.bytes = wc_pack_bytes(p, v->val.binary.ptr, v->val.binary.len);
      break;
    case WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT:
      packed.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT;
      packed.val.bytes = wc_pack_bytes(p, v->val.text.ptr, v->val.text.len);
      break;
    default:
      packed.val.kind = WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON;
      packed.val.bytes = wc_pack_bytes(p, v->val.json.document.ptr, v->val.json.document.len);
      if (v->val.json.schema.is_some) {
        packed.val.schema.is_some = true;
        packed.val.schema.val =
            wc_pack_bytes(p, v->val.json.schema.val.ptr, v->val.json.schema.val.len);
      }
  }
  return packed;
}

static wasmconnect_connector_batches_header_range_t wc_pack_headers(wc_packer_t *p,
                                                                    const wc_headers_t *headers) {
  wasmconnect_connector_batches_header_range_t range = {(uint32_t)p->headers.len,
                                                        (uint32_t)headers->len};
  for (size_t i = 0; i < headers->len; i++) {
    const wasmconnect_connector_types_header_t *h = &headers->ptr[i];
    p->headers.ptr = wc_grow(p->headers.ptr, p->headers.len, &p->headers_cap, sizeof *p->headers.ptr);
    wasmconnect_connector_batches_packed_header_t *packed = &p->headers.ptr[p->headers.len++];
    memset(packed, 0, sizeof *packed);
    packed->key = wc_pack_bytes(p, h->key.ptr, h->key.len);
    if (h->value.is_some) {
      packed->value.is_some = true;
      packed->value.val = wc_pack_bytes(p, h->value.val.ptr, h->value.val.len);
    }
  }
  return range;
}

/* Hands the tables over; empty ones own no memory (the post-return code
 * frees only non-empty lists). */
static void wc_pack_finish(wc_packer_t *p, WC_(list_u8_t) *data, wc_list_string_t *topics,
                           wc_packed_headers_t *headers) {
  wc_string_t bytes = wc_buf_take(&p->data);
  data->ptr = bytes.ptr;
  data->len = bytes.len;
  *topics = p->topics;
  *headers = p->headers;
}

#endif

#if defined(WC_SINK) || defined(WC_TRANSFORM)

/* Reads one batch the host sent, copying what the records point to.
 * The host packs correctly; a batch that does not is refused, not
 * trusted, since a bad span would otherwise read outside the buffer. */
typedef struct {
  const WC_(list_u8_t) *data;
  const wc_list_string_t *topics;
  const wc_packed_headers_t *headers;
  size_t record;
  wc_error_t *err;
} wc_unpacker_t;

static bool wc_malformed(wc_unpacker_t *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool wc_malformed(wc_unpacker_t *u, const char *fmt, ...) {
  wc_buf_t text = {0};
  wc_buf_printf(&text, "the host sent a malformed batch: record %zu: ", u->record);
  va_list args;
  va_start(args, fmt);
  wc_buf_vprintf(&text, fmt, args);
  va_end(args);
  u->err->tag = WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
  u->err->val.fatal = wc_buf_take(&text);
  return false;
}

/* A heap copy of a span (`text`: checked as UTF-8) into *ptr, *len. */
static bool wc_unpack_span(wc_unpacker_t *u, wc_span_t span, bool text, const char *what,
                           uint8_t **ptr, size_t *len) {
  uint64_t end = (uint64_t)span.offset + span.len;
  if (end > u->data->len) {
    return wc_malformed(u, "%s: bytes %u..%llu lie outside the batch's %zu bytes of data", what,
                        span.offset, (unsigned long long)end, u->data->len);
  }
  if (span.len == 0) return true; /* the data of an empty batch may be no real address */
  const uint8_t *bytes = u->data->ptr + span.offset;
  if (text && !wc_utf8_valid(bytes, span.len)) return wc_malformed(u, "%s is not UTF-8", what);
  wc_string_t copy = wc_str_n((const char *)bytes, span.len);
  *ptr = copy.ptr;
  *len = copy.len;
  return true;
}

static bool wc_unpack_topic(wc_unpacker_t *u, uint32_t index, wc_string_t *topic) {
  if (index >= u->topics->len) {
    return wc_malformed(u, "topic index %u, but the batch has %zu topics", index, u->topics->len);
  }
  *topic = wc_str_n((const char *)u->topics->ptr[index].ptr, u->topics->ptr[index].len);
  return true;
}

/* `out` must be zeroed: it is marked present before its parts are
 * copied, so that a failure halfway leaves nothing the record's free
 * would miss. */
static bool wc_unpack_payload(wc_unpacker_t *u, const wc_packed_payload_t *packed, bool key,
                              wc_payload_t *out) {
  if (!packed->is_some) return true;
  const char *what = key ? "the key" : "the value";
  const wasmconnect_connector_batches_packed_payload_t *p = &packed->val;
  wasmconnect_connector_types_payload_t *v = &out->val;
  out->is_some = true;
  switch (p->kind) {
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY:
      v->tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY;
      return wc_unpack_span(u, p->bytes, false, what, &v->val.binary.ptr, &v->val.binary.len);
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT:
      v->tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT;
      return wc_unpack_span(u, p->bytes, true, what, &v->val.text.ptr, &v->val.text.len);
    case WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON:
      v->tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON;
      if (!wc_unpack_span(u, p->bytes, true, what, &v->val.json.document.ptr,
                          &v->val.json.document.len)) {
        return false;
      }
      if (!p->schema.is_some) return true;
      v->val.json.schema.is_some = true;
      return wc_unpack_span(u, p->schema.val, true, key ? "the key's schema" : "the value's schema",
                            &v->val.json.schema.val.ptr, &v->val.json.schema.val.len);
    default:
      out->is_some = false;
      return wc_malformed(u, "%s has payload kind %u, which does not exist", what, p->kind);
  }
}

static bool wc_unpack_headers(wc_unpacker_t *u, wasmconnect_connector_batches_header_range_t range,
                              wc_headers_t *out) {
  uint64_t end = (uint64_t)range.start + range.count;
  if (end > u->headers->len) {
    return wc_malformed(u, "headers %u..%llu, but the batch has %zu headers", range.start,
                        (unsigned long long)end, u->headers->len);
  }
  out->ptr = wc_zalloc(range.count, sizeof *out->ptr);
  out->len = range.count;
  for (uint32_t i = 0; i < range.count; i++) {
    const wasmconnect_connector_batches_packed_header_t *h = &u->headers->ptr[range.start + i];
    wasmconnect_connector_types_header_t *header = &out->ptr[i];
    if (!wc_unpack_span(u, h->key, true, "a header key", &header->key.ptr, &header->key.len)) {
      return false;
    }
    if (h->value.is_some) {
      header->value.is_some = true;
      if (!wc_unpack_span(u, h->value.val, false, "a header value", &header->value.val.ptr,
                          &header->value.val.len)) {
        return false;
      }
    }
  }
  return true;
}

#endif

#if defined(WC_SOURCE)

bool wc_pack_source(wc_source_records_t *records, wc_source_batch_t *batch) {
  wc_packer_t p = {0};
  size_t n = records->len;
  batch->records.ptr = wc_zalloc(n, sizeof *batch->records.ptr);
  batch->records.len = n;
  for (size_t i = 0; i < n; i++) {
    wc_source_record_t *r = &records->ptr[i];
    wasmconnect_connector_batches_packed_source_record_t *packed = &batch->records.ptr[i];
    packed->source_partition = wc_pack_bytes(&p, r->source_partition.ptr, r->source_partition.len);
    packed->source_offset = wc_pack_bytes(&p, r->source_offset.ptr, r->source_offset.len);
    packed->topic = wc_pack_topic(&p, &r->topic);
    packed->partition = r->partition;
    packed->key = wc_pack_payload(&p, &r->key);
    packed->value = wc_pack_payload(&p, &r->value);
    packed->headers = wc_pack_headers(&p, &r->headers);
    packed->timestamp = r->timestamp;
    packed->ack_token = r->ack_token;
  }
  wc_source_records_free(records);
  wc_pack_finish(&p, &batch->data, &batch->topics, &batch->headers);
  return true;
}

void wc_source_records_free(wc_source_records_t *records) {
  for (size_t i = 0; i < records->len; i++) {
    wasmconnect_connector_types_source_record_free(&records->ptr[i]);
  }
  free(records->ptr);
  records->ptr = NULL;
  records->len = 0;
}

#endif

#if defined(WC_SINK)

bool wc_unpack_sink(wc_sink_batch_t *batch, wc_sink_records_t *records, wc_error_t *err) {
  wc_unpacker_t u = {&batch->data, &batch->topics, &batch->headers, 0, err};
  size_t n = batch->records.len;
  records->ptr = wc_zalloc(n, sizeof *records->ptr);
  records->len = n;
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++) {
    const wasmconnect_connector_batches_packed_sink_record_t *packed = &batch->records.ptr[i];
    wc_sink_record_t *r = &records->ptr[i];
    u.record = i;
    r->partition = packed->partition;
    r->offset = packed->offset;
    r->timestamp = packed->timestamp;
    r->timestamp_type = packed->timestamp_type;
    ok = wc_unpack_topic(&u, packed->topic, &r->topic) &&
         wc_unpack_payload(&u, &packed->key, true, &r->key) &&
         wc_unpack_payload(&u, &packed->value, false, &r->value) &&
         wc_unpack_headers(&u, packed->headers, &r->headers);
  }
  wasmconnect_connector_batches_sink_batch_free(batch);
  if (!ok) wc_sink_records_free(records);
  return ok;
}

void wc_sink_records_free(wc_sink_records_t *records) {
  for (size_t i = 0; i < records->len; i++) {
    wasmconnect_connector_types_sink_record_free(&records->ptr[i]);
  }
  free(records->ptr);
  records->ptr = NULL;
  records->len = 0;
}

#endif

#if defined(WC_TRANSFORM)

bool wc_unpack_transform(wc_transform_batch_t *batch, wc_transform_records_t *records,
                         wc_error_t *err) {
  wc_unpacker_t u = {&batch->data, &batch->topics, &batch->headers, 0, err};
  size_t n = batch->records.len;
  records->ptr = wc_zalloc(n, sizeof *records->ptr);
  records->len = n;
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++) {
    const wasmconnect_connector_batches_packed_transform_record_t *packed = &batch->records.ptr[i];
    wc_transform_record_t *r = &records->ptr[i];
    u.record = i;
    r->partition = packed->partition;
    r->timestamp = packed->timestamp;
    ok = wc_unpack_topic(&u, packed->topic, &r->topic) &&
         wc_unpack_payload(&u, &packed->key, true, &r->key) &&
         wc_unpack_payload(&u, &packed->value, false, &r->value) &&
         wc_unpack_headers(&u, packed->headers, &r->headers);
  }
  wasmconnect_connector_batches_transform_batch_free(batch);
  if (!ok) wc_transform_records_free(records);
  return ok;
}

void wc_transform_records_free(wc_transform_records_t *records) {
  for (size_t i = 0; i < records->len; i++) {
    wasmconnect_connector_types_transform_record_free(&records->ptr[i]);
  }
  free(records->ptr);
  records->ptr = NULL;
  records->len = 0;
}

bool wc_pack_applied(wc_outcomes_t *outcomes, wc_applied_t *applied) {
  wc_packer_t p = {0};
  size_t n = outcomes->len, replacements = 0;
  for (size_t i = 0; i < n; i++) {
    replacements += outcomes->ptr[i].tag == EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_REPLACE;
  }
  applied->outcomes.ptr = wc_zalloc(n, sizeof *applied->outcomes.ptr);
  applied->outcomes.len = n;
  wasmconnect_connector_batches_list_packed_transform_record_t *packed =
      &applied->replacements.records;
  packed->ptr = wc_zalloc(replacements, sizeof *packed->ptr);
  packed->len = 0;
  for (size_t i = 0; i < n; i++) {
    wc_outcome_t *o = &outcomes->ptr[i];
    exports_wasmconnect_connector_record_transform_outcome_t *out = &applied->outcomes.ptr[i];
    out->tag = o->tag;
    if (o->tag != EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_REPLACE) continue;
    wc_transform_record_t *r = &o->val.replace;
    wasmconnect_connector_batches_packed_transform_record_t *entry = &packed->ptr[packed->len];
    entry->topic = wc_pack_topic(&p, &r->topic);
    entry->partition = r->partition;
    entry->key = wc_pack_payload(&p, &r->key);
    entry->value = wc_pack_payload(&p, &r->value);
    entry->headers = wc_pack_headers(&p, &r->headers);
    entry->timestamp = r->timestamp;
    out->val.replace = (uint32_t)packed->len++;
    wasmconnect_connector_types_transform_record_free(r);
  }
  free(outcomes->ptr);
  outcomes->ptr = NULL;
  outcomes->len = 0;
  wc_pack_finish(&p, &applied->replacements.data, &applied->replacements.topics,
                 &applied->replacements.headers);
  return true;
}

#endif
