/*
 * wasmconnect C kit, connector API: write a source, a sink or a transform
 * as a struct of callbacks and register it with one macro.
 *
 *   #define WC_SOURCE                  (or WC_SINK, WC_TRANSFORM)
 *   #include "wc_connector.h"
 *   static const wc_source_def my_source = { .name = …, .poll = my_poll, … };
 *   WC_SOURCE_CONNECTOR(my_source)     (WC_SINK_CONNECTOR, WC_TRANSFORMATION)
 *
 * The macro defines every `exports_wasmconnect_connector_*` function of the
 * world; the kit behind them (wc_connector.c, wc_roles.c) parses and
 * validates the configuration against the key table, packs and unpacks
 * the record batches, turns errors into the contract's task errors, and
 * keeps the connector's and the task's state between calls.
 *
 * Memory, three rules:
 *   1. What the kit hands you is borrowed. Records, partitions and offsets
 *      are valid until your callback returns; the configuration (and every
 *      string its getters return) until your `stop` returns.
 *   2. What you hand the kit is copied before the call returns: records
 *      given to wc_emit, error messages, task-config values. Reuse or free
 *      your buffers right away. One exception: a transform's replacement
 *      record must stay valid until `apply` returns (keep its bytes in your
 *      state, for example a wc_buf_t you reuse).
 *   3. Your state is yours: allocate it in `start` (or `configure`), hand
 *      it back through `*task`, free it in `stop`.
 *
 * The lower-level helpers of wasmconnect.h (wc_buf_t, wc_fatal,
 * wc_retriable, wc_info, …) work here too; errors are the contract's
 * wc_error_t, filled by `return wc_fatal(err, …)` or
 * `return wc_retriable(err, backoff_ms, …)`.
 */
#ifndef WC_CONNECTOR_H
#define WC_CONNECTOR_H

#include "wasmconnect.h"

/* ---- configuration ------------------------------------------------------ */

typedef enum {
  WC_TYPE_STRING = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING,
  WC_TYPE_INT = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_INT,
  WC_TYPE_LONG = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_LONG,
  WC_TYPE_DOUBLE = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_DOUBLE,
  WC_TYPE_BOOLEAN = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_BOOLEAN,
  WC_TYPE_LIST = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_LIST,
  WC_TYPE_PASSWORD = WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_PASSWORD,
} wc_type;

/* What a key's value names outside the sandbox (a grant, see README). */
typedef enum {
  WC_NO_RESOURCE = 0,
  WC_READ_FILE,
  WC_WRITE_FILE,
  WC_READ_DIRECTORY,
  WC_WRITE_DIRECTORY,
} wc_resource_kind;

typedef enum { WC_MEDIUM = 0, WC_HIGH, WC_LOW } wc_importance;

/* One configuration key. Zeroed fields mean: optional, no default, medium
 * importance, no resource, no range, any value. */
typedef struct {
  const char *name;
  wc_type type;
  const char *doc;
  const char *default_value; /* text, as an operator would write it; NULL: none */
  bool required;             /* must be set and not blank */
  wc_importance importance;
  wc_resource_kind resource;
  bool bounded; /* INT and LONG: the value lies in [min, max] (WC_AT_LEAST, WC_BETWEEN) */
  int64_t min, max;
  const char *const *choices; /* STRING: one of these (WC_ONE_OF), compared exactly */
} wc_key_def;

#define WC_AT_LEAST(lo) .bounded = true, .min = (lo), .max = INT64_MAX
#define WC_BETWEEN(lo, hi) .bounded = true, .min = (lo), .max = (hi)
#define WC_ONE_OF(...) .choices = (const char *const[]){__VA_ARGS__, NULL}
/* In a def: `WC_KEYS(my_keys)` fills .keys and .key_count from an array. */
#define WC_KEYS(array) .keys = (array), .key_count = sizeof(array) / sizeof((array)[0])
#define WC_ALIASES(...) .aliases = (const char *const[]){__VA_ARGS__, NULL}

/* A configuration checked against the key table. Getters never fail for
 * keys of the table: validation has already refused values that do not
 * parse, and unset keys give their default (or NULL, 0, false). */
typedef struct wc_config wc_config;

/* The value, blanks trimmed, or the default; NULL when neither (a blank
 * value counts as unset). */
const char *wc_get(const wc_config *config, const char *key);
/* The value exactly as set, blanks kept (for a delimiter that may be a
 * tab or a space); NULL when unset. */
const char *wc_get_raw(const wc_config *config, const char *key);
int64_t wc_get_int(const wc_config *config, const char *key); /* INT and LONG keys */
double wc_get_double(const wc_config *config, const char *key);
bool wc_get_bool(const wc_config *config, const char *key);
/* A LIST key's items (comma-separated, trimmed, blanks dropped); `*count`
 * gets their number. */
const char *const *wc_get_list(const wc_config *config, const char *key, size_t *count);

/* Problems `validate` reports, each for one key. */
typedef struct wc_problems wc_problems;
void wc_invalid(wc_problems *problems, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Task configurations `task_configs` builds: each wc_task_add starts one as
 * a copy of the connector's configuration; wc_task_set adds or replaces a
 * key in the last one. */
typedef struct wc_task_configs wc_task_configs;
void wc_task_add(wc_task_configs *tasks);
void wc_task_set(wc_task_configs *tasks, const char *key, const char *value);

/* ---- records ------------------------------------------------------------ */

typedef enum { WC_NULL = 0, WC_BINARY, WC_TEXT, WC_JSON } wc_payload_kind;

/* A key or a value. `data` holds `len` bytes (text is UTF-8; JSON is a
 * document); records the kit hands you also end it with a NUL, so text
 * works with the string functions. `schema`: a JSON payload's Connect
 * schema (NUL-terminated), NULL when schemaless. */
typedef struct {
  wc_payload_kind kind;
  const char *data;
  size_t len;
  const char *schema;
} wc_payload;

wc_payload wc_text(const char *text);
wc_payload wc_text_n(const char *text, size_t len);
wc_payload wc_json(const char *document);
wc_payload wc_json_n(const char *document, size_t len);
wc_payload wc_binary(const void *bytes, size_t len);

/* `value` NULL is a null header value. */
typedef struct {
  const char *key;
  const char *value;
  size_t value_len;
} wc_header;

typedef enum {
  WC_NO_TIMESTAMP_TYPE = WASMCONNECT_CONNECTOR_TYPES_TIMESTAMP_TYPE_NO_TIMESTAMP,
  WC_CREATE_TIME = WASMCONNECT_CONNECTOR_TYPES_TIMESTAMP_TYPE_CREATE_TIME,
  WC_LOG_APPEND_TIME = WASMCONNECT_CONNECTOR_TYPES_TIMESTAMP_TYPE_LOG_APPEND_TIME,
} wc_timestamp_type;

/* One record, for every role. Fields a role does not use stay zero:
 *   topic, key, value, headers, timestamp: all roles;
 *   has_partition, partition: always set on records a sink receives; a
 *     source record without one goes where the producer's partitioner
 *     puts it;
 *   offset, timestamp_type: records a sink receives;
 *   source_partition, source_offset (JSON objects, required) and
 *     ack_token: records a source emits. */
typedef struct {
  const char *topic;
  bool has_partition;
  int32_t partition;
  int64_t offset;
  wc_payload key;
  wc_payload value;
  const wc_header *headers;
  size_t header_count;
  bool has_timestamp;
  int64_t timestamp; /* milliseconds since the Unix epoch */
  wc_timestamp_type timestamp_type;
  const char *source_partition;
  const char *source_offset;
  bool has_ack_token;
  uint64_t ack_token;
} wc_record;

/* ---- JSON (reading) ----------------------------------------------------- */

/* A span of a JSON document: one value, as written. */
typedef struct {
  const char *ptr;
  size_t len;
} wc_json_value;

/* Whether `doc` is one JSON object (surrounding blanks allowed). */
bool wc_json_is_object(const char *doc, size_t len);
/* The value of top-level field `key` of the object `doc`; false when `doc`
 * is no object or has no such field. */
bool wc_json_field(const char *doc, size_t len, const char *key, wc_json_value *value);
/* The value as an integer; false unless it is an integer number. */
bool wc_json_int(wc_json_value value, int64_t *out);
/* Appends the value as plain text: a string decoded, anything else as
 * written (null appends nothing). False when a string is malformed. */
bool wc_json_text(wc_json_value value, wc_buf_t *out);

/* ---- files (sources and sinks) ------------------------------------------ */

#if defined(WC_SOURCE) || defined(WC_SINK)
typedef struct wc_file wc_file;
typedef enum { WC_FILE_OK, WC_FILE_MISSING, WC_FILE_FAILED } wc_file_status;

/* Opens a path named by a key with a READ_FILE (`append` false) or
 * WRITE_FILE (`append` true: created, appended to) resource. A file that
 * does not exist yet gives WC_FILE_MISSING with `err` untouched; any other
 * failure WC_FILE_FAILED with a fatal `err`. */
wc_file_status wc_file_open(const char *path, bool append, wc_file **file, wc_error_t *err);
/* Reads up to `max` bytes at `offset`, appending them to `out` (none at
 * the end of the file). I/O failures are retriable. */
bool wc_file_read(wc_file *file, uint64_t offset, uint32_t max, wc_buf_t *out, wc_error_t *err);
/* Append and sync failures are fatal: what reached the disk is unknown, so
 * the task restarts from the last committed offsets. */
bool wc_file_append(wc_file *file, const void *bytes, size_t len, wc_error_t *err);
bool wc_file_sync(wc_file *file, wc_error_t *err);
/* I/O failures are retriable, as for wc_file_read. */
bool wc_file_size(wc_file *file, uint64_t *size, wc_error_t *err);
void wc_file_close(wc_file *file);
#endif

/* ---- sources ------------------------------------------------------------ */

#if defined(WC_SOURCE)
/* The offsets the worker committed, for a task resuming where it stopped. */
typedef struct wc_offsets wc_offsets;
/* The last committed offset (a JSON object) of `source_partition` (a JSON
 * object, as your records carry it), NULL when none. Valid until `start`
 * returns. False with `err` set when the host cannot read offsets. */
bool wc_committed_offset(wc_offsets *offsets, const char *source_partition,
                         const char **offset, wc_error_t *err);

/* The records one poll returns. */
typedef struct wc_source_out wc_source_out;
/* Copies `record` into the batch. A record without topic, source
 * partition or source offset fails the poll (fatal, naming it). */
void wc_emit(wc_source_out *out, const wc_record *record);

typedef struct {
  const char *name; /* the class name, e.g. com.example.GreetingSourceConnector */
  const char *const *aliases; /* WC_ALIASES("GreetingSource") */
  const char *version;
  const char *description;
  const wc_key_def *keys; /* WC_KEYS(keys) */
  size_t key_count;
  /* Checks beyond the key table (runs once the table's checks pass). */
  void (*validate)(const wc_config *config, wc_problems *problems);
  /* Default: one task with the connector's configuration. */
  bool (*task_configs)(const wc_config *config, uint32_t max_tasks, wc_task_configs *tasks,
                       wc_error_t *err);
  bool (*start)(void **task, const wc_config *config, wc_offsets *offsets, wc_error_t *err);
  /* Emit what is ready; emitting nothing is fine. Return within a second. */
  bool (*poll)(void *task, wc_source_out *out, wc_error_t *err);
  /* Optional: a record with an ack token was written (`written`, at
   * partition/offset) or dropped by a transform. */
  bool (*acked)(void *task, uint64_t token, bool written, int32_t partition, int64_t offset,
                wc_error_t *err);
  /* Optional: the offsets of every acknowledged record are stored. */
  bool (*commit)(void *task, wc_error_t *err);
  void (*stop)(void *task);
} wc_source_def;
#endif

/* ---- sinks -------------------------------------------------------------- */

#if defined(WC_SINK)
typedef struct {
  const char *topic;
  int32_t partition;
} wc_partition;

/* A consumer position: `offset` is the next record to read. */
typedef struct {
  const char *topic;
  int32_t partition;
  int64_t offset;
} wc_position;

/* Reports `record` (one `put` was given) as one the task cannot write
 * (Kafka's errant record reporter, with the connector's errors.tolerance,
 * log and dead letter queue). True when tolerated: skip the record and go
 * on. False, with a fatal `err` naming the record, when the connector does
 * not tolerate errors: return false from `put`. */
bool wc_errant(const wc_record *record, wc_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct {
  const char *name;
  const char *const *aliases;
  const char *version;
  const char *description;
  const wc_key_def *keys;
  size_t key_count;
  void (*validate)(const wc_config *config, wc_problems *problems);
  bool (*task_configs)(const wc_config *config, uint32_t max_tasks, wc_task_configs *tasks,
                       wc_error_t *err);
  bool (*start)(void **task, const wc_config *config, wc_error_t *err);
  /* Optional: partitions were assigned to the task. */
  bool (*open)(void *task, const wc_partition *partitions, size_t count, wc_error_t *err);
  /* Optional: partitions were taken away; write out what is buffered. */
  bool (*close)(void *task, const wc_partition *partitions, size_t count, wc_error_t *err);
  /* A retriable error delivers the same records again. */
  bool (*put)(void *task, const wc_record *records, size_t count, wc_error_t *err);
  /* Optional: write out and sync everything `put` was given. The worker
   * then commits `current`, so nothing may stay buffered after it. */
  bool (*flush)(void *task, const wc_position *current, size_t count, wc_error_t *err);
  void (*stop)(void *task);
} wc_sink_def;
#endif

/* ---- transforms --------------------------------------------------------- */

#if defined(WC_TRANSFORM)
typedef enum {
  WC_FAIL = -1, /* `err` says why; the batch fails */
  WC_KEEP = 0,  /* pass the record on unchanged */
  WC_DROP,      /* drop it */
  WC_REPLACE,   /* pass on `out` instead */
} wc_verdict;

typedef struct {
  const char *name;
  const char *const *aliases;
  const char *version;
  const char *description;
  const wc_key_def *keys;
  size_t key_count;
  void (*validate)(const wc_config *config, wc_problems *problems);
  /* Optional: build the transform's state from its settings. */
  bool (*configure)(void **state, const wc_config *config, wc_error_t *err);
  /* One record at a time. `out` starts as a copy of `record`: change what
   * you replace, return WC_REPLACE. */
  wc_verdict (*apply)(void *state, const wc_record *record, wc_record *out, wc_error_t *err);
} wc_transform_def;
#endif

/* ---- registration ------------------------------------------------------- */

/* The kit's side of the exports; the macros below call them. */
typedef struct {
  const char *name;
  const char *const *aliases;
  const char *version;
  const char *description;
  const wc_key_def *keys;
  size_t key_count;
  void (*validate)(const wc_config *, wc_problems *);
  uint8_t kind;
} wc_plugin_info;

#define WC_PLUGIN_INFO_(def, k)                                                               \
  static wc_plugin_info wc_plugin_info_(void) {                                                     \
    wc_plugin_info i = {(def).name,      (def).aliases,   (def).version, (def).description, \
                        (def).keys,      (def).key_count, (def).validate, (k)};              \
    return i;                                                                                \
  }                                                                                          \
  void exports_wasmconnect_connector_plugin_metadata(                                        \
      exports_wasmconnect_connector_plugin_plugin_metadata_t *ret) {                         \
    wc_plugin_info i = wc_plugin_info_();                                                               \
    wc__metadata(&i, ret);                                                                   \
  }                                                                                          \
  void exports_wasmconnect_connector_plugin_config_definition(                               \
      exports_wasmconnect_connector_plugin_list_config_key_t *ret) {                         \
    wc_plugin_info i = wc_plugin_info_();                                                               \
    wc__config_definition(&i, ret);                                                          \
  }                                                                                          \
  void exports_wasmconnect_connector_plugin_validate(                                        \
      exports_wasmconnect_connector_plugin_config_t *config,                                 \
      exports_wasmconnect_connector_plugin_list_config_value_t *ret) {                       \
    wc_plugin_info i = wc_plugin_info_();                                                               \
    wc__validate(&i, config, ret);                                                           \
  }

void wc__metadata(const wc_plugin_info *info,
                  exports_wasmconnect_connector_plugin_plugin_metadata_t *ret);
void wc__config_definition(const wc_plugin_info *info,
                           exports_wasmconnect_connector_plugin_list_config_key_t *ret);
void wc__validate(const wc_plugin_info *info, wc_config_t *config,
                  exports_wasmconnect_connector_plugin_list_config_value_t *ret);
/* Takes `raw`; NULL with a fatal `err` listing every problem. */
wc_config *wc__checked_config(const wc_plugin_info *info, wc_config_t *raw, wc_error_t *err);
void wc__config_free(wc_config *config);

#if defined(WC_SOURCE) || defined(WC_SINK)
bool wc__connector_start(const wc_plugin_info *info, wc_config_t *config, wc_error_t *err);
bool wc__connector_task_configs(
    bool (*task_configs)(const wc_config *, uint32_t, wc_task_configs *, wc_error_t *),
    uint32_t max_tasks, exports_wasmconnect_connector_connector_list_config_t *ret,
    wc_error_t *err);
void wc__connector_stop(void);
bool wc__alter_offsets(bool accept, wc_config_t *config,
                       exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t *offsets,
                       bool *ret);
/* Parses and checks a task's configuration; NULL with `err` set. */
wc_config *wc__task_config(const wc_plugin_info *info, wc_config_t *config, wc_error_t *err);
void wc__task_config_free(void);
#define WC_CONNECTOR_(def, kind, accept_offsets)                                                \
  WC_PLUGIN_INFO_(def, kind)                                                                   \
  bool exports_wasmconnect_connector_connector_start(                                          \
      exports_wasmconnect_connector_connector_config_t *config, wc_error_t *err) {             \
    wc_plugin_info i = wc_plugin_info_();                                                                 \
    return wc__connector_start(&i, config, err);                                               \
  }                                                                                            \
  bool exports_wasmconnect_connector_connector_task_configs(                                   \
      uint32_t max_tasks, exports_wasmconnect_connector_connector_list_config_t *ret,          \
      wc_error_t *err) {                                                                       \
    return wc__connector_task_configs((def).task_configs, max_tasks, ret, err);                \
  }                                                                                            \
  void exports_wasmconnect_connector_connector_stop(void) { wc__connector_stop(); }            \
  bool exports_wasmconnect_connector_connector_alter_offsets(                                  \
      exports_wasmconnect_connector_connector_config_t *config,                                \
      exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t *offsets,         \
      bool *ret, wc_error_t *err) {                                                            \
    (void)err;                                                                                 \
    return wc__alter_offsets(accept_offsets, config, offsets, ret);                            \
  }
#endif

#if defined(WC_SOURCE)
bool wc__source_start(const wc_source_def *def, const wc_plugin_info *info, wc_config_t *config,
                      wc_error_t *err);
bool wc__source_poll(const wc_source_def *def, wc_source_batch_t *ret, wc_error_t *err);
bool wc__source_commit_records(const wc_source_def *def,
                               exports_wasmconnect_connector_source_task_list_record_ack_t *acks,
                               wc_error_t *err);
bool wc__source_commit(const wc_source_def *def, wc_error_t *err);
void wc__source_stop(const wc_source_def *def);

/* Defines every export of the source world for `def` (a wc_source_def). */
#define WC_SOURCE_CONNECTOR(def)                                                               \
  WC_CONNECTOR_(def, EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_SOURCE, true)            \
  bool exports_wasmconnect_connector_source_task_start(                                       \
      exports_wasmconnect_connector_source_task_config_t *config, wc_error_t *err) {          \
    wc_plugin_info i = wc_plugin_info_();                                                                 \
    return wc__source_start(&(def), &i, config, err);                                          \
  }                                                                                            \
  bool exports_wasmconnect_connector_source_task_poll(wc_source_batch_t *ret,                  \
                                                      wc_error_t *err) {                       \
    return wc__source_poll(&(def), ret, err);                                                  \
  }                                                                                            \
  bool exports_wasmconnect_connector_source_task_commit_records(                               \
      exports_wasmconnect_connector_source_task_list_record_ack_t *acks, wc_error_t *err) {    \
    return wc__source_commit_records(&(def), acks, err);                                       \
  }                                                                                            \
  bool exports_wasmconnect_connector_source_task_commit(wc_error_t *err) {                     \
    return wc__source_commit(&(def), err);                                                     \
  }                                                                                            \
  void exports_wasmconnect_connector_source_task_stop(void) { wc__source_stop(&(def)); }
#endif

#if defined(WC_SINK)
bool wc__sink_start(const wc_sink_def *def, const wc_plugin_info *info, wc_config_t *config,
                    wc_error_t *err);
bool wc__sink_partitions(const wc_sink_def *def, bool open,
                         exports_wasmconnect_connector_sink_task_list_topic_partition_t *partitions,
                         wc_error_t *err);
bool wc__sink_put(const wc_sink_def *def, wc_sink_batch_t *batch, wc_error_t *err);
bool wc__sink_pre_commit(const wc_sink_def *def,
                         exports_wasmconnect_connector_sink_task_list_partition_offset_t *current,
                         exports_wasmconnect_connector_sink_task_list_partition_offset_t *ret,
                         wc_error_t *err);
void wc__sink_stop(const wc_sink_def *def);

/* Defines every export of the sink world for `def` (a wc_sink_def). */
#define WC_SINK_CONNECTOR(def)                                                                 \
  WC_CONNECTOR_(def, EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_SINK, false)             \
  bool exports_wasmconnect_connector_sink_task_start(                                         \
      exports_wasmconnect_connector_sink_task_config_t *config, wc_error_t *err) {            \
    wc_plugin_info i = wc_plugin_info_();                                                                 \
    return wc__sink_start(&(def), &i, config, err);                                            \
  }                                                                                            \
  bool exports_wasmconnect_connector_sink_task_open(                                          \
      exports_wasmconnect_connector_sink_task_list_topic_partition_t *partitions,              \
      wc_error_t *err) {                                                                       \
    return wc__sink_partitions(&(def), true, partitions, err);                                 \
  }                                                                                            \
  bool exports_wasmconnect_connector_sink_task_close(                                         \
      exports_wasmconnect_connector_sink_task_list_topic_partition_t *partitions,              \
      wc_error_t *err) {                                                                       \
    return wc__sink_partitions(&(def), false, partitions, err);                                \
  }                                                                                            \
  bool exports_wasmconnect_connector_sink_task_put(wc_sink_batch_t *batch, wc_error_t *err) {  \
    return wc__sink_put(&(def), batch, err);                                                   \
  }                                                                                            \
  bool exports_wasmconnect_connector_sink_task_pre_commit(                                    \
      exports_wasmconnect_connector_sink_task_list_partition_offset_t *current,                \
      exports_wasmconnect_connector_sink_task_list_partition_offset_t *ret, wc_error_t *err) { \
    return wc__sink_pre_commit(&(def), current, ret, err);                                     \
  }                                                                                            \
  void exports_wasmconnect_connector_sink_task_stop(void) { wc__sink_stop(&(def)); }
#endif

#if defined(WC_TRANSFORM)
bool wc__transform_configure(const wc_transform_def *def, const wc_plugin_info *info,
                             wc_config_t *config, wc_error_t *err);
bool wc__transform_apply(const wc_transform_def *def, wc_transform_batch_t *batch,
                         wc_applied_t *ret, wc_error_t *err);

/* Defines every export of the transform world for `def` (a wc_transform_def). */
#define WC_TRANSFORMATION(def)                                                                 \
  WC_PLUGIN_INFO_(def, EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_TRANSFORM)             \
  bool exports_wasmconnect_connector_record_transform_configure(                              \
      exports_wasmconnect_connector_record_transform_config_t *config, wc_error_t *err) {     \
    wc_plugin_info i = wc_plugin_info_();                                                                 \
    return wc__transform_configure(&(def), &i, config, err);                                   \
  }                                                                                            \
  bool exports_wasmconnect_connector_record_transform_apply(wc_transform_batch_t *batch,      \
                                                            wc_applied_t *ret,                 \
                                                            wc_error_t *err) {                 \
    return wc__transform_apply(&(def), batch, ret, err);                                       \
  }
#endif

#endif
