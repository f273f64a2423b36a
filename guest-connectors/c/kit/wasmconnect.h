/*
 * wasmconnect C kit: thin helpers over the bindings that
 * `wasmconnect-kit bindings c` generates from wit/connector.wit
 * (wasmconnect:connector@0.2.0).
 *
 * Define exactly one of WC_SOURCE, WC_SINK or WC_TRANSFORM before
 * including this header (build.sh passes it with -D), then implement the
 * `exports_wasmconnect_connector_*` functions the world's header declares.
 *
 * Ownership follows the generated bindings: arguments handed to an export
 * belong to it (free them with the generated `*_free` functions or keep
 * them), and everything an export returns must be heap memory, which the
 * generated post-return code frees. Every helper here that makes a string
 * or a list returns heap memory for that reason.
 *
 * Records cross the boundary packed into batches (interface `batches`);
 * the wc_pack_* and wc_unpack_* helpers at the end convert between those
 * and the ordinary records of interface `types` that connector code
 * builds and reads.
 */
#ifndef WASMCONNECT_H
#define WASMCONNECT_H

#if defined(WC_SOURCE)
#include "source.h"
#define WC_(name) source_##name
#elif defined(WC_SINK)
#include "sink.h"
#define WC_(name) sink_##name
#elif defined(WC_TRANSFORM)
#include "transform.h"
#define WC_(name) transform_##name
#else
#error "define WC_SOURCE, WC_SINK or WC_TRANSFORM"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef WC_(string_t) wc_string_t;
typedef WC_(list_string_t) wc_list_string_t;
typedef WC_(option_string_t) wc_option_string_t;
typedef wasmconnect_connector_types_config_t wc_config_t;
typedef wasmconnect_connector_types_task_error_t wc_error_t;
typedef wasmconnect_connector_config_def_config_key_t wc_config_key_t;
typedef wasmconnect_connector_config_def_config_value_t wc_config_value_t;

/* ---- strings ---------------------------------------------------------- */

/* A heap copy of a NUL-terminated string. Empty strings (and empty lists
 * in general) must own no memory: the generated post-return code frees
 * only non-empty ones, so return {NULL, 0} for them. */
wc_string_t wc_str(const char *text);
/* A heap copy of `len` bytes. */
wc_string_t wc_str_n(const char *bytes, size_t len);
/* A NUL-terminated heap copy of a WIT string (caller frees). */
char *wc_cstr(const wc_string_t *text);
/* Whether a WIT string equals a C string. */
bool wc_str_eq(const wc_string_t *text, const char *c);
wc_option_string_t wc_some(const char *text);
wc_option_string_t wc_none(void);

/* ---- growable byte buffer (for JSON and output lines) ----------------- */

typedef struct {
  uint8_t *ptr;
  size_t len;
  size_t cap;
} wc_buf_t;

void wc_buf_push(wc_buf_t *buf, const void *bytes, size_t len);
void wc_buf_puts(wc_buf_t *buf, const char *text);
void wc_buf_printf(wc_buf_t *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether `n` bytes are strict UTF-8, as the canonical ABI requires of
 * strings (no overlong forms, surrogates or code points past U+10FFFF). */
bool wc_utf8_valid(const uint8_t *s, size_t n);
/* Appends `bytes` with each byte that is not part of a strict UTF-8
 * sequence replaced by U+FFFD, so the result is always a valid string. */
void wc_buf_push_utf8(wc_buf_t *buf, const void *bytes, size_t len);
/* Appends `bytes` as a quoted JSON string, escaping as RFC 8259 requires;
 * bytes that are not UTF-8 become \ufffd. */
void wc_buf_json_string(wc_buf_t *buf, const uint8_t *bytes, size_t len);
/* Hands the buffer's bytes over as a WIT string; the buffer is emptied. */
wc_string_t wc_buf_take(wc_buf_t *buf);
void wc_buf_free(wc_buf_t *buf);

/* ---- configuration ---------------------------------------------------- */

/* The value of `key`, or NULL when unset. Borrowed from `config`. */
const wc_string_t *wc_config_find(const wc_config_t *config, const char *key);
/* A NUL-terminated heap copy of `key`'s value with surrounding blanks
 * trimmed, or NULL when unset or blank. */
char *wc_config_get(const wc_config_t *config, const char *key);
/* `key` as an integer; `fallback` when unset. Returns false (and leaves
 * `out` alone) when the value is not an integer. */
bool wc_config_int(const wc_config_t *config, const char *key, int64_t fallback,
                   int64_t *out);
/* A deep copy (for task-configs, which must return heap memory). */
wc_config_t wc_config_clone(const wc_config_t *config);

/* A config key with Kafka's defaults: not required, no default, medium
 * importance, no group, order -1, no width, no resource. Adjust fields
 * after the call: `key.required = true; key.resource = wc_resource(...)`. */
wc_config_key_t wc_key(const char *name,
                       wasmconnect_connector_config_def_config_type_t type,
                       const char *documentation);
wasmconnect_connector_config_def_option_resource_kind_t
wc_resource(wasmconnect_connector_config_def_resource_kind_t kind);
/* A validation result carrying one error for `key`. */
wc_config_value_t wc_config_error(const wc_config_t *config, const char *key,
                                  const char *message);

/* ---- errors and logging ----------------------------------------------- */

/* Fill `err` and return false, so an export can `return wc_fatal(err, …)`. */
bool wc_fatal(wc_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A retriable error; `backoff_ms` 0 leaves the wait to the host. */
bool wc_retriable(wc_error_t *err, uint32_t backoff_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void wc_log(wasmconnect_connector_logging_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define wc_debug(...) wc_log(WASMCONNECT_CONNECTOR_LOGGING_LEVEL_DEBUG, __VA_ARGS__)
#define wc_info(...) wc_log(WASMCONNECT_CONNECTOR_LOGGING_LEVEL_INFO, __VA_ARGS__)
#define wc_warn(...) wc_log(WASMCONNECT_CONNECTOR_LOGGING_LEVEL_WARN, __VA_ARGS__)
#define wc_error(...) wc_log(WASMCONNECT_CONNECTOR_LOGGING_LEVEL_ERROR, __VA_ARGS__)

/* ---- host ------------------------------------------------------------- */

/* Sleeps up to `ms` milliseconds in short naps, returning true early once
 * the host asks this instance to stop. An idle source calls this rather
 * than returning empty batches in a tight loop. */
bool wc_sleep_unless_stopped(uint32_t ms);

/* ---- records and batches ---------------------------------------------- */

/* A list of ordinary records has the shape the generated lists have,
 * {ptr, len}: `ptr` from malloc (NULL when empty), every string and list
 * in each record from malloc too, like everything an export returns. */

#if defined(WC_SOURCE)
typedef wasmconnect_connector_types_source_record_t wc_source_record_t;
typedef struct {
  wc_source_record_t *ptr;
  size_t len;
} wc_source_records_t;
typedef exports_wasmconnect_connector_source_task_source_batch_t wc_source_batch_t;

/* Packs what `poll` returns: copies `records` into `batch` and frees them
 * (the list is left empty). Returns true, so that poll can end with
 * `return wc_pack_source(&records, ret);`. */
bool wc_pack_source(wc_source_records_t *records, wc_source_batch_t *batch);
void wc_source_records_free(wc_source_records_t *records);
#endif

#if defined(WC_SINK)
typedef wasmconnect_connector_types_sink_record_t wc_sink_record_t;
typedef struct {
  wc_sink_record_t *ptr;
  size_t len;
} wc_sink_records_t;
typedef exports_wasmconnect_connector_sink_task_sink_batch_t wc_sink_batch_t;

/* Unpacks what `put` receives into records of your own (heap copies; free
 * them with wc_sink_records_free, or keep them) and frees the batch. A
 * batch that points outside itself or holds text that is not UTF-8 fills
 * `err` with a fatal error and returns false (`records` is then empty). */
bool wc_unpack_sink(wc_sink_batch_t *batch, wc_sink_records_t *records, wc_error_t *err);
void wc_sink_records_free(wc_sink_records_t *records);
#endif

#if defined(WC_TRANSFORM)
typedef wasmconnect_connector_types_transform_record_t wc_transform_record_t;
typedef struct {
  wc_transform_record_t *ptr;
  size_t len;
} wc_transform_records_t;
typedef exports_wasmconnect_connector_record_transform_transform_batch_t wc_transform_batch_t;
typedef exports_wasmconnect_connector_record_transform_applied_t wc_applied_t;

/* One input record's fate (the contract's outcome, with the record in
 * place of its index into the replacements): `tag` is
 * EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_KEEP, _DROP or
 * _REPLACE, and a replacement is a whole heap record. */
typedef struct {
  uint8_t tag;
  union {
    wc_transform_record_t replace;
  } val;
} wc_outcome_t;
typedef struct {
  wc_outcome_t *ptr;
  size_t len;
} wc_outcomes_t;

/* As wc_unpack_sink, for what `apply` receives. To move an input record
 * into a replacement, copy the struct and zero the input's slot, so that
 * wc_transform_records_free skips it. */
bool wc_unpack_transform(wc_transform_batch_t *batch, wc_transform_records_t *records,
                         wc_error_t *err);
void wc_transform_records_free(wc_transform_records_t *records);
/* Packs what `apply` returns, one outcome per input record: copies the
 * replacements into `applied` and frees them and the list. Returns true,
 * for `return wc_pack_applied(&outcomes, ret);`. */
bool wc_pack_applied(wc_outcomes_t *outcomes, wc_applied_t *applied);
#endif

#endif
