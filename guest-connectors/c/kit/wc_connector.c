/*
 * The connector API's common parts (wc_connector.h): configuration parsed
 * against a key table, validation results, task configurations, payloads,
 * a small JSON reader, files, committed offsets, and the plugin and
 * connector exports every source and sink share. The per-role exports and
 * the record batches are in wc_roles.c.
 */
#include "wc_connector.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* As the kit's other helpers: out of memory has no recovery in a sandbox. */
static void *wc_must(void *p) {
  if (!p) __builtin_trap();
  return p;
}

static char *wc_strndup(const char *s, size_t n) {
  char *c = wc_must(malloc(n + 1));
  memcpy(c, s, n);
  c[n] = 0;
  return c;
}

/* ---- configuration ------------------------------------------------------ */

typedef struct {
  const char *text; /* trimmed value or default; NULL when neither */
  int64_t i;
  double d;
  bool b;
  char **items;
  size_t item_count;
} wc_parsed;

struct wc_config {
  wc_config_t raw; /* owned: kept to copy into task configurations */
  char **trimmed;  /* each raw value, trimmed, NUL-terminated */
  char **exact;    /* each raw value, NUL-terminated */
  const wc_key_def *keys;
  size_t key_count;
  wc_parsed *parsed; /* one per key of the table */
};

typedef struct {
  char *key;
  char *message;
} wc_problem;

struct wc_problems {
  wc_problem *ptr;
  size_t len, cap;
};

void wc_invalid(wc_problems *problems, const char *key, const char *fmt, ...) {
  if (problems->len == problems->cap) {
    problems->cap = problems->cap ? problems->cap * 2 : 4;
    problems->ptr = wc_must(realloc(problems->ptr, problems->cap * sizeof *problems->ptr));
  }
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  int n = vsnprintf(NULL, 0, fmt, args);
  char *raw = wc_must(malloc(n > 0 ? (size_t)n + 1 : 1));
  if (n > 0) vsnprintf(raw, (size_t)n + 1, fmt, again);
  va_end(again);
  va_end(args);
  /* The message reaches the host as a string, which must be UTF-8. */
  wc_buf_t text = {0};
  wc_buf_push_utf8(&text, raw, n > 0 ? (size_t)n : 0);
  wc_buf_push(&text, "", 1);
  char *message = (char *)text.ptr;
  free(raw);
  problems->ptr[problems->len].key = wc_strndup(key, strlen(key));
  problems->ptr[problems->len].message = message;
  problems->len++;
}

static void wc_problems_free(wc_problems *problems) {
  for (size_t i = 0; i < problems->len; i++) {
    free(problems->ptr[i].key);
    free(problems->ptr[i].message);
  }
  free(problems->ptr);
  memset(problems, 0, sizeof *problems);
}

static size_t wc_raw_index(const wc_config *config, const char *key) {
  /* Last one wins, as in a properties file. */
  for (size_t i = config->raw.len; i-- > 0;) {
    if (wc_str_eq(&config->raw.ptr[i].f0, key)) return i;
  }
  return SIZE_MAX;
}

static const wc_parsed *wc_parsed_of(const wc_config *config, const char *key) {
  for (size_t i = 0; i < config->key_count; i++) {
    if (strcmp(config->keys[i].name, key) == 0) return &config->parsed[i];
  }
  return NULL;
}

const char *wc_get(const wc_config *config, const char *key) {
  const wc_parsed *p = wc_parsed_of(config, key);
  if (p) return p->text;
  size_t i = wc_raw_index(config, key);
  return i == SIZE_MAX || !config->trimmed[i][0] ? NULL : config->trimmed[i];
}

const char *wc_get_raw(const wc_config *config, const char *key) {
  size_t i = wc_raw_index(config, key);
  return i == SIZE_MAX ? NULL : config->exact[i];
}

static bool wc_parse_int(const char *text, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end || errno == ERANGE) return false;
  *out = v;
  return true;
}

static bool wc_parse_bool(const char *text, bool *out) {
  if (strcasecmp(text, "true") == 0) return *out = true, true;
  if (strcasecmp(text, "false") == 0) return *out = false, true;
  return false;
}

int64_t wc_get_int(const wc_config *config, const char *key) {
  const wc_parsed *p = wc_parsed_of(config, key);
  int64_t v = 0;
  if (p) return p->i;
  const char *text = wc_get(config, key);
  return text && wc_parse_int(text, &v) ? v : 0;
}

double wc_get_double(const wc_config *config, const char *key) {
  const wc_parsed *p = wc_parsed_of(config, key);
  if (p) return p->d;
  const char *text = wc_get(config, key);
  return text ? strtod(text, NULL) : 0;
}

bool wc_get_bool(const wc_config *config, const char *key) {
  const wc_parsed *p = wc_parsed_of(config, key);
  bool v = false;
  if (p) return p->b;
  const char *text = wc_get(config, key);
  return text && wc_parse_bool(text, &v) && v;
}

const char *const *wc_get_list(const wc_config *config, const char *key, size_t *count) {
  const wc_parsed *p = wc_parsed_of(config, key);
  *count = p ? p->item_count : 0;
  return p ? (const char *const *)p->items : NULL;
}

static char *wc_trim(const uint8_t *s, size_t n) {
  while (n && isspace(*s)) s++, n--;
  while (n && isspace(s[n - 1])) n--;
  return wc_strndup((const char *)s, n);
}

/* Splits a LIST value on commas; blank items are dropped. */
static void wc_split(wc_parsed *p) {
  const char *s = p->text;
  while (s && *s) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    char *item = wc_trim((const uint8_t *)s, n);
    if (*item) {
      p->items = wc_must(realloc(p->items, (p->item_count + 1) * sizeof *p->items));
      p->items[p->item_count++] = item;
    } else {
      free(item);
    }
    s = comma ? comma + 1 : NULL;
  }
}

/* Checks one key of the table, as Kafka's ConfigDef would. */
static void wc_check_key(const wc_key_def *k, wc_parsed *p, wc_problems *problems) {
  const char *v = p->text;
  if (!v) {
    if (k->required) {
      wc_invalid(problems, k->name, "Missing required configuration \"%s\" which has no default value.",
                 k->name);
    }
    return;
  }
  switch (k->type) {
    case WC_TYPE_INT:
    case WC_TYPE_LONG:
      if (!wc_parse_int(v, &p->i) ||
          (k->type == WC_TYPE_INT && (p->i < INT32_MIN || p->i > INT32_MAX))) {
        wc_invalid(problems, k->name, "Invalid value %s for configuration %s: Not a number of type %s",
                   v, k->name, k->type == WC_TYPE_INT ? "INT" : "LONG");
      } else if (k->bounded && p->i < k->min) {
        wc_invalid(problems, k->name, "Invalid value %s for configuration %s: Value must be at least %lld",
                   v, k->name, (long long)k->min);
      } else if (k->bounded && p->i > k->max) {
        wc_invalid(problems, k->name, "Invalid value %s for configuration %s: Value must be no more than %lld",
                   v, k->name, (long long)k->max);
      }
      break;
    case WC_TYPE_DOUBLE: {
      char *end = NULL;
      p->d = strtod(v, &end);
      if (end == v || *end || !isfinite(p->d)) {
        wc_invalid(problems, k->name, "Invalid value %s for configuration %s: Not a number of type DOUBLE",
                   v, k->name);
      }
      break;
    }
    case WC_TYPE_BOOLEAN:
      if (!wc_parse_bool(v, &p->b)) {
        wc_invalid(problems, k->name, "Invalid value %s for configuration %s: Expected value to be either true or false",
                   v, k->name);
      }
      break;
    case WC_TYPE_LIST:
      wc_split(p);
      break;
    default:
      if (k->choices) {
        bool found = false;
        wc_buf_t all = {0};
        for (const char *const *c = k->choices; *c; c++) {
          found = found || strcmp(*c, v) == 0;
          wc_buf_printf(&all, "%s%s", c == k->choices ? "" : ", ", *c);
        }
        if (!found) {
          wc_invalid(problems, k->name, "Invalid value %s for configuration %s: String must be one of: %.*s",
                     v, k->name, (int)all.len, (const char *)all.ptr);
        }
        wc_buf_free(&all);
      }
  }
}

/* Takes `raw` (the export's argument). Problems go to `problems`. */
static wc_config *wc_config_parse(const wc_plugin_info *info, wc_config_t *raw,
                                  wc_problems *problems) {
  wc_config *c = wc_must(calloc(1, sizeof *c));
  c->raw = *raw;
  memset(raw, 0, sizeof *raw);
  c->trimmed = wc_must(calloc(c->raw.len + 1, sizeof *c->trimmed));
  c->exact = wc_must(calloc(c->raw.len + 1, sizeof *c->exact));
  for (size_t i = 0; i < c->raw.len; i++) {
    c->trimmed[i] = wc_trim(c->raw.ptr[i].f1.ptr, c->raw.ptr[i].f1.len);
    c->exact[i] = wc_cstr(&c->raw.ptr[i].f1);
  }
  c->keys = info->keys;
  c->key_count = info->key_count;
  c->parsed = wc_must(calloc(c->key_count + 1, sizeof *c->parsed));
  for (size_t k = 0; k < c->key_count; k++) {
    size_t i = wc_raw_index(c, info->keys[k].name);
    c->parsed[k].text = i != SIZE_MAX && c->trimmed[i][0] ? c->trimmed[i] : info->keys[k].default_value;
    wc_check_key(&info->keys[k], &c->parsed[k], problems);
  }
  if (problems->len == 0 && info->validate) info->validate(c, problems);
  return c;
}

void wc__config_free(wc_config *c) {
  if (!c) return;
  for (size_t i = 0; i < c->raw.len; i++) free(c->trimmed[i]), free(c->exact[i]);
  free(c->trimmed);
  free(c->exact);
  wasmconnect_connector_types_config_free(&c->raw);
  for (size_t k = 0; k < c->key_count; k++) {
    for (size_t j = 0; j < c->parsed[k].item_count; j++) free(c->parsed[k].items[j]);
    free(c->parsed[k].items);
  }
  free(c->parsed);
  free(c);
}

/* Parses and checks; on problems fills a fatal `err` listing them all. */
wc_config *wc__checked_config(const wc_plugin_info *info, wc_config_t *raw, wc_error_t *err) {
  wc_problems problems = {0};
  wc_config *c = wc_config_parse(info, raw, &problems);
  if (problems.len == 0) return c;
  wc_buf_t text = {0};
  wc_buf_puts(&text, "invalid configuration: ");
  for (size_t i = 0; i < problems.len; i++) {
    wc_buf_printf(&text, "%s%s", i ? "; " : "", problems.ptr[i].message);
  }
  err->tag = WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
  err->val.fatal = wc_buf_take(&text);
  wc_problems_free(&problems);
  wc__config_free(c);
  return NULL;
}

/* ---- plugin exports ----------------------------------------------------- */

void wc__metadata(const wc_plugin_info *info,
                  exports_wasmconnect_connector_plugin_plugin_metadata_t *ret) {
  memset(ret, 0, sizeof *ret);
  ret->name = wc_str(info->name);
  size_t n = 0;
  while (info->aliases && info->aliases[n]) n++;
  ret->aliases.len = n;
  ret->aliases.ptr = n ? wc_must(calloc(n, sizeof *ret->aliases.ptr)) : NULL;
  for (size_t i = 0; i < n; i++) ret->aliases.ptr[i] = wc_str(info->aliases[i]);
  ret->version = wc_str(info->version ? info->version : "0.1.0");
  ret->kind = info->kind;
  ret->description = wc_str(info->description ? info->description : "");
}

void wc__config_definition(const wc_plugin_info *info,
                           exports_wasmconnect_connector_plugin_list_config_key_t *ret) {
  ret->len = info->key_count;
  ret->ptr = ret->len ? wc_must(calloc(ret->len, sizeof *ret->ptr)) : NULL;
  for (size_t i = 0; i < info->key_count; i++) {
    const wc_key_def *k = &info->keys[i];
    wc_config_key_t *key = &ret->ptr[i];
    *key = wc_key(k->name, (wasmconnect_connector_config_def_config_type_t)k->type,
                  k->doc ? k->doc : "");
    key->required = k->required;
    if (k->default_value) key->default_value = wc_some(k->default_value);
    key->importance = k->importance == WC_HIGH  ? WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_HIGH
                      : k->importance == WC_LOW ? WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_LOW
                                                : WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_MEDIUM;
    if (k->resource != WC_NO_RESOURCE) {
      /* The WIT enum starts at read-file; ours at "none". */
      key->resource = wc_resource((wasmconnect_connector_config_def_resource_kind_t)(k->resource - 1));
    }
  }
}

void wc__validate(const wc_plugin_info *info, wc_config_t *config,
                  exports_wasmconnect_connector_plugin_list_config_value_t *ret) {
  wc_problems problems = {0};
  wc_config *c = wc_config_parse(info, config, &problems);
  ret->ptr = NULL;
  ret->len = 0;
  if (problems.len) ret->ptr = wc_must(calloc(problems.len, sizeof *ret->ptr));
  /* One config-value per key, carrying every problem found with it. */
  for (size_t i = 0; i < problems.len; i++) {
    const char *key = problems.ptr[i].key;
    wc_config_value_t *v = NULL;
    for (size_t j = 0; j < ret->len && !v; j++) {
      if (wc_str_eq(&ret->ptr[j].name, key)) v = &ret->ptr[j];
    }
    if (!v) {
      v = &ret->ptr[ret->len++];
      *v = wc_config_error(&c->raw, key, problems.ptr[i].message);
      continue;
    }
    v->errors.ptr = wc_must(realloc(v->errors.ptr, (v->errors.len + 1) * sizeof *v->errors.ptr));
    v->errors.ptr[v->errors.len++] = wc_str(problems.ptr[i].message);
  }
  wc_problems_free(&problems);
  wc__config_free(c);
}

/* ---- connector exports (sources and sinks) ------------------------------ */

#if defined(WC_SOURCE) || defined(WC_SINK)

static wc_config *wc_connector_config; /* between start and stop */
static wc_config *wc_task_cfg;         /* the task's, between start and stop */

struct wc_task_configs {
  const wc_config *base;
  wc_config_t *ptr;
  size_t len;
};

void wc_task_add(wc_task_configs *tasks) {
  tasks->ptr = wc_must(realloc(tasks->ptr, (tasks->len + 1) * sizeof *tasks->ptr));
  tasks->ptr[tasks->len++] = wc_config_clone(&tasks->base->raw);
}

void wc_task_set(wc_task_configs *tasks, const char *key, const char *value) {
  if (tasks->len == 0) wc_task_add(tasks);
  wc_config_t *c = &tasks->ptr[tasks->len - 1];
  for (size_t i = 0; i < c->len; i++) {
    if (wc_str_eq(&c->ptr[i].f0, key)) {
      free(c->ptr[i].f1.ptr);
      c->ptr[i].f1 = wc_str(value);
      return;
    }
  }
  c->ptr = wc_must(realloc(c->ptr, (c->len + 1) * sizeof *c->ptr));
  c->ptr[c->len].f0 = wc_str(key);
  c->ptr[c->len].f1 = wc_str(value);
  c->len++;
}

bool wc__connector_start(const wc_plugin_info *info, wc_config_t *config, wc_error_t *err) {
  wc_connector_config = wc__checked_config(info, config, err);
  return wc_connector_config != NULL;
}

bool wc__connector_task_configs(
    bool (*task_configs)(const wc_config *, uint32_t, wc_task_configs *, wc_error_t *),
    uint32_t max_tasks, exports_wasmconnect_connector_connector_list_config_t *ret,
    wc_error_t *err) {
  wc_task_configs tasks = {wc_connector_config, NULL, 0};
  ret->ptr = NULL;
  ret->len = 0;
  if (!wc_connector_config) return wc_fatal(err, "task_configs before the connector started");
  bool ok = true;
  if (task_configs) ok = task_configs(wc_connector_config, max_tasks, &tasks, err);
  else if (max_tasks > 0) wc_task_add(&tasks);
  /* More than max_tasks would break the contract: keep the first ones. */
  while (tasks.len > max_tasks || (!ok && tasks.len > 0)) {
    wasmconnect_connector_types_config_free(&tasks.ptr[--tasks.len]);
  }
  if (tasks.len == 0) {
    free(tasks.ptr);
    tasks.ptr = NULL;
  }
  ret->ptr = tasks.ptr;
  ret->len = tasks.len;
  return ok;
}

void wc__connector_stop(void) {
  wc__config_free(wc_connector_config);
  wc_connector_config = NULL;
}

bool wc__alter_offsets(bool accept, wc_config_t *config,
                       exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t *offsets,
                       bool *ret) {
  wasmconnect_connector_types_config_free(config);
  exports_wasmconnect_connector_connector_list_tuple2_json_option_json_free(offsets);
  *ret = accept;
  return true;
}

wc_config *wc__task_config(const wc_plugin_info *info, wc_config_t *config, wc_error_t *err) {
  wc__config_free(wc_task_cfg);
  wc_task_cfg = wc__checked_config(info, config, err);
  return wc_task_cfg;
}

void wc__task_config_free(void) {
  wc__config_free(wc_task_cfg);
  wc_task_cfg = NULL;
}

/* ---- files -------------------------------------------------------------- */

struct wc_file {
  wasmconnect_connector_files_own_file_t handle;
  char *path;
};

/* Every case of file-error carries its message in the same place. Only an
 * I/O failure of a read or a size query is retriable: asking again is
 * harmless and may succeed. A failed append or sync is fatal because the
 * host cannot say how much reached stable storage (after a failed fsync the
 * kernel may have dropped the dirty pages), so the task must restart from
 * the last committed offsets rather than commit past lost rows; not-granted
 * and not-found never heal by waiting. */
static bool wc_file_failed(wc_file *file, wasmconnect_connector_files_file_error_t *ferr,
                           const char *doing, bool may_retry, wc_error_t *err) {
  if (may_retry && ferr->tag == WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_IO) {
    wc_retriable(err, 1000, "%s %s: %.*s", doing, file->path, (int)ferr->val.io.len,
                 (const char *)ferr->val.io.ptr);
  } else {
    wc_fatal(err, "%s %s: %.*s", doing, file->path, (int)ferr->val.io.len,
             (const char *)ferr->val.io.ptr);
  }
  wasmconnect_connector_files_file_error_free(ferr);
  return false;
}

wc_file_status wc_file_open(const char *path, bool append, wc_file **file, wc_error_t *err) {
  wc_string_t p = {(uint8_t *)path, strlen(path)};
  wasmconnect_connector_files_own_file_t handle;
  wasmconnect_connector_files_file_error_t ferr;
  if (wasmconnect_connector_files_open(&p, append ? WASMCONNECT_CONNECTOR_FILES_OPEN_MODE_APPEND
                                                  : WASMCONNECT_CONNECTOR_FILES_OPEN_MODE_READ,
                                       &handle, &ferr)) {
    *file = wc_must(malloc(sizeof **file));
    (*file)->handle = handle;
    (*file)->path = wc_strndup(path, strlen(path));
    return WC_FILE_OK;
  }
  *file = NULL;
  if (ferr.tag == WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_NOT_FOUND) {
    wasmconnect_connector_files_file_error_free(&ferr);
    return WC_FILE_MISSING;
  }
  wc_fatal(err, "cannot open %s: %.*s%s", path, (int)ferr.val.io.len, (const char *)ferr.val.io.ptr,
           ferr.tag == WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_NOT_GRANTED
               ? " (name it under a key marked WC_READ_FILE or WC_WRITE_FILE)"
               : "");
  wasmconnect_connector_files_file_error_free(&ferr);
  return WC_FILE_FAILED;
}

bool wc_file_read(wc_file *file, uint64_t offset, uint32_t max, wc_buf_t *out, wc_error_t *err) {
  WC_(list_u8_t) chunk;
  wasmconnect_connector_files_file_error_t ferr;
  if (!wasmconnect_connector_files_method_file_read(
          wasmconnect_connector_files_borrow_file(file->handle), offset, max, &chunk, &ferr)) {
    return wc_file_failed(file, &ferr, "reading", true, err);
  }
  wc_buf_push(out, chunk.ptr, chunk.len);
  if (chunk.len) free(chunk.ptr);
  return true;
}

bool wc_file_append(wc_file *file, const void *bytes, size_t len, wc_error_t *err) {
  if (len == 0) return true;
  WC_(list_u8_t) data = {(uint8_t *)bytes, len};
  wasmconnect_connector_files_file_error_t ferr;
  if (!wasmconnect_connector_files_method_file_append(
          wasmconnect_connector_files_borrow_file(file->handle), &data, &ferr)) {
    return wc_file_failed(file, &ferr, "appending to", false, err);
  }
  return true;
}

bool wc_file_sync(wc_file *file, wc_error_t *err) {
  wasmconnect_connector_files_file_error_t ferr;
  if (!wasmconnect_connector_files_method_file_sync(
          wasmconnect_connector_files_borrow_file(file->handle), &ferr)) {
    return wc_file_failed(file, &ferr, "syncing", false, err);
  }
  return true;
}

bool wc_file_size(wc_file *file, uint64_t *size, wc_error_t *err) {
  wasmconnect_connector_files_file_error_t ferr;
  if (!wasmconnect_connector_files_method_file_size(
          wasmconnect_connector_files_borrow_file(file->handle), size, &ferr)) {
    return wc_file_failed(file, &ferr, "measuring", true, err);
  }
  return true;
}

void wc_file_close(wc_file *file) {
  if (!file) return;
  wasmconnect_connector_files_file_drop_own(file->handle);
  free(file->path);
  free(file);
}

#endif

/* ---- payloads ----------------------------------------------------------- */

wc_payload wc_text_n(const char *text, size_t len) {
  wc_payload p = {WC_TEXT, text, len, NULL};
  return p;
}
wc_payload wc_text(const char *text) { return wc_text_n(text, strlen(text)); }
wc_payload wc_json_n(const char *document, size_t len) {
  wc_payload p = {WC_JSON, document, len, NULL};
  return p;
}
wc_payload wc_json(const char *document) { return wc_json_n(document, strlen(document)); }
wc_payload wc_binary(const void *bytes, size_t len) {
  wc_payload p = {WC_BINARY, bytes, len, NULL};
  return p;
}

/* ---- JSON --------------------------------------------------------------- */

/* Nesting deeper than this is refused rather than risk the stack. */
#define WC_JSON_DEPTH 128

static size_t wc_json_ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}

/* The index after the value starting at `i`, or SIZE_MAX when malformed. */
static size_t wc_json_skip(const char *s, size_t n, size_t i, int depth) {
  if (i >= n || depth > WC_JSON_DEPTH) return SIZE_MAX;
  char c = s[i];
  if (c == '"') {
    for (i++; i < n; i++) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') return i + 1;
      else if ((unsigned char)s[i] < 0x20) return SIZE_MAX;
    }
    return SIZE_MAX;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    i = wc_json_ws(s, n, i + 1);
    if (i < n && s[i] == close) return i + 1;
    for (;;) {
      if (c == '{') {
        if (i >= n || s[i] != '"') return SIZE_MAX;
        i = wc_json_ws(s, n, wc_json_skip(s, n, i, depth + 1));
        if (i >= n || s[i] != ':') return SIZE_MAX;
        i = wc_json_ws(s, n, i + 1);
      }
      i = wc_json_skip(s, n, i, depth + 1);
      if (i == SIZE_MAX) return SIZE_MAX;
      i = wc_json_ws(s, n, i);
      if (i < n && s[i] == close) return i + 1;
      if (i >= n || s[i] != ',') return SIZE_MAX;
      i = wc_json_ws(s, n, i + 1);
    }
  }
  size_t start = i;
  if (c == '-' || isdigit((unsigned char)c)) {
    while (i < n && (isdigit((unsigned char)s[i]) || strchr("+-.eE", s[i]))) i++;
    return i;
  }
  while (i < n && isalpha((unsigned char)s[i])) i++;
  size_t len = i - start;
  if ((len == 4 && (!memcmp(s + start, "true", 4) || !memcmp(s + start, "null", 4))) ||
      (len == 5 && !memcmp(s + start, "false", 5))) {
    return i;
  }
  return SIZE_MAX;
}

bool wc_json_is_object(const char *doc, size_t len) {
  size_t i = wc_json_ws(doc, len, 0);
  if (i >= len || doc[i] != '{') return false;
  i = wc_json_skip(doc, len, i, 0);
  return i != SIZE_MAX && wc_json_ws(doc, len, i) == len;
}

bool wc_json_field(const char *doc, size_t len, const char *key, wc_json_value *value) {
  if (!wc_json_is_object(doc, len)) return false;
  size_t i = wc_json_ws(doc, len, wc_json_ws(doc, len, 0) + 1);
  wc_buf_t name = {0};
  bool found = false;
  while (i < len && doc[i] == '"' && !found) {
    size_t end = wc_json_skip(doc, len, i, 1);
    wc_json_value k = {doc + i, end - i};
    name.len = 0;
    wc_json_text(k, &name);
    i = wc_json_ws(doc, len, wc_json_ws(doc, len, end) + 1); /* past the ':' */
    size_t vend = wc_json_skip(doc, len, i, 1);
    found = name.len == strlen(key) && memcmp(name.ptr, key, name.len) == 0;
    if (found) {
      value->ptr = doc + i;
      value->len = vend - i;
    }
    i = wc_json_ws(doc, len, vend);
    if (i < len && doc[i] == ',') i = wc_json_ws(doc, len, i + 1);
  }
  wc_buf_free(&name);
  return found;
}

bool wc_json_int(wc_json_value value, int64_t *out) {
  char text[24];
  if (value.len == 0 || value.len >= sizeof text) return false;
  memcpy(text, value.ptr, value.len);
  text[value.len] = 0;
  return wc_parse_int(text, out);
}

static void wc_utf8_put(wc_buf_t *out, uint32_t cp) {
  uint8_t b[4];
  size_t n;
  if (cp < 0x80) b[0] = (uint8_t)cp, n = 1;
  else if (cp < 0x800) b[0] = 0xC0 | cp >> 6, b[1] = 0x80 | (cp & 0x3F), n = 2;
  else if (cp < 0x10000)
    b[0] = 0xE0 | cp >> 12, b[1] = 0x80 | (cp >> 6 & 0x3F), b[2] = 0x80 | (cp & 0x3F), n = 3;
  else
    b[0] = 0xF0 | cp >> 18, b[1] = 0x80 | (cp >> 12 & 0x3F), b[2] = 0x80 | (cp >> 6 & 0x3F),
    b[3] = 0x80 | (cp & 0x3F), n = 4;
  wc_buf_push(out, b, n);
}

static bool wc_hex4(const char *s, uint32_t *out) {
  *out = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? (tolower(c) - 'a' + 10) : -1;
    if (d < 0) return false;
    *out = *out << 4 | (uint32_t)d;
  }
  return true;
}

bool wc_json_text(wc_json_value value, wc_buf_t *out) {
  const char *s = value.ptr;
  size_t n = value.len;
  if (n == 4 && memcmp(s, "null", 4) == 0) return true;
  if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
    wc_buf_push(out, s, n);
    return true;
  }
  for (size_t i = 1; i < n - 1; i++) {
    if (s[i] != '\\') {
      wc_buf_push(out, &s[i], 1);
      continue;
    }
    if (++i >= n - 1) return false;
    char c = s[i];
    const char *plain = strchr("\"\\/bfnrt", c);
    if (plain && c != 0) {
      static const char decoded[] = "\"\\/\b\f\n\r\t";
      wc_buf_push(out, &decoded[plain - "\"\\/bfnrt"], 1);
      continue;
    }
    uint32_t cp, low;
    if (c != 'u' || i + 4 >= n || !wc_hex4(s + i + 1, &cp)) return false;
    i += 4;
    /* A surrogate pair spells one code point past U+FFFF. */
    if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u' &&
        wc_hex4(s + i + 3, &low) && low >= 0xDC00 && low < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 6;
    } else if (cp >= 0xD800 && cp < 0xE000) {
      cp = 0xFFFD; /* a lone surrogate is no character */
    }
    wc_utf8_put(out, cp);
  }
  return true;
}
