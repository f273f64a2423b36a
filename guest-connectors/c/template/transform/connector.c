/*
 * Template: the smallest useful C transform. Copy this directory, rename
 * the plugin (name and alias below), and replace apply() with your logic.
 *
 * It tags every record with a header (`header.key`: `header.value`),
 * keeping the record's own headers.
 */
#define WC_TRANSFORM
#include "wc_connector.h"

#include <stdlib.h>
#include <string.h>

static const wc_key_def keys[] = {
    {.name = "header.key", .type = WC_TYPE_STRING, .default_value = "processed-by",
     .doc = "The header to add"},
    {.name = "header.value", .type = WC_TYPE_STRING, .default_value = "wasmconnect-c",
     .doc = "Its value"},
};

typedef struct {
  wc_header added;
  wc_header *headers; /* the replacement's headers: must outlive apply's return */
  size_t cap;
} tagger;

static bool configure(void **state, const wc_config *config, wc_error_t *err) {
  tagger *t = calloc(1, sizeof *t);
  if (!t) return wc_fatal(err, "out of memory");
  t->added.key = wc_get(config, "header.key");
  t->added.value = wc_get(config, "header.value");
  t->added.value_len = t->added.value ? strlen(t->added.value) : 0;
  if (!t->added.key) {
    free(t);
    return wc_fatal(err, "header.key must not be blank");
  }
  *state = t;
  return true;
}

static wc_verdict apply(void *state, const wc_record *record, wc_record *out, wc_error_t *err) {
  tagger *t = state;
  size_t n = record->header_count + 1;
  if (n > t->cap) {
    wc_header *grown = realloc(t->headers, n * sizeof *grown);
    if (!grown) return wc_fatal(err, "out of memory"), WC_FAIL;
    t->headers = grown;
    t->cap = n;
  }
  if (record->header_count) memcpy(t->headers, record->headers, record->header_count * sizeof *t->headers);
  t->headers[n - 1] = t->added;
  out->headers = t->headers;
  out->header_count = n;
  return WC_REPLACE;
}

static const wc_transform_def header_tagger = {
    .name = "io.wasmconnect.c.TemplateTransform",
    WC_ALIASES("CTemplateTransform"),
    .version = "0.1.0",
    .description = "Template C transform: adds a header to every record",
    WC_KEYS(keys),
    .configure = configure,
    .apply = apply,
};

WC_TRANSFORMATION(header_tagger)
