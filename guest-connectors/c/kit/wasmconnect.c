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
  if (buf->len + len > buf->cap) {
    size_t cap = buf->cap ? buf->cap * 2 : 256;
    while (cap < buf->len + len) cap *= 2;
    uint8_t *grown = realloc(buf->ptr, cap);
    if (!grown) __builtin_trap();
    buf->ptr = grown;
    buf->cap = cap;
  }
  memcpy(buf->ptr + buf->len, bytes, len);
  buf->len += len;
}

void wc_buf_puts(wc_buf_t *buf, const char *text) { wc_buf_push(buf, text, strlen(text)); }

void wc_buf_printf(wc_buf_t *buf, const char *fmt, ...) {
  char small[256];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(small, sizeof small, fmt, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    wc_buf_push(buf, small, (size_t)n);
    return;
  }
  char *big = wc_alloc((size_t)n + 1);
  va_start(args, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, args);
  va_end(args);
  wc_buf_push(buf, big, (size_t)n);
  free(big);
}

void wc_buf_json_string(wc_buf_t *buf, const uint8_t *bytes, size_t len) {
  wc_buf_push(buf, "\"", 1);
  for (size_t i = 0; i < len; i++) {
    uint8_t c = bytes[i];
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

static wc_string_t wc_vformat(const char *fmt, va_list args) {
  va_list again;
  va_copy(again, args);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, args);
  wc_string_t s = {NULL, 0};
  if (n > 0 && (size_t)n < sizeof small) {
    s = wc_str_n(small, (size_t)n);
  } else if (n > 0) {
    /* Longer than the stack buffer: format again into one of its size. */
    char *big = wc_alloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, again);
    s.ptr = (uint8_t *)big;
    s.len = (size_t)n;
  }
  va_end(again);
  return s;
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
