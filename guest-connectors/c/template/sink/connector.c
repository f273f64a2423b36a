/*
 * Template: the smallest useful C sink connector. Copy this directory,
 * rename the plugin (name and alias below), and replace put() with your
 * writes (and flush() when you buffer; see examples/csv-sink).
 *
 * It logs every record's topic, partition, offset and value at INFO,
 * cutting values longer than `max.chars`.
 */
#define WC_SINK
#include "wc_connector.h"

#include <stdlib.h>

static const wc_key_def keys[] = {
    {.name = "max.chars", .type = WC_TYPE_INT, .default_value = "200", WC_AT_LEAST(1),
     .doc = "The longest value logged in full; longer ones are cut"},
};

typedef struct {
  int max_chars;
  unsigned long long seen;
} logger;

static bool start(void **task, const wc_config *config, wc_error_t *err) {
  logger *l = calloc(1, sizeof *l);
  if (!l) return wc_fatal(err, "out of memory");
  l->max_chars = (int)wc_get_int(config, "max.chars");
  *task = l;
  return true;
}

static bool put(void *task, const wc_record *records, size_t count, wc_error_t *err) {
  logger *l = task;
  for (size_t i = 0; i < count; i++) {
    const wc_record *r = &records[i];
    int len = r->value.len > (size_t)l->max_chars ? l->max_chars : (int)r->value.len;
    /* Cut on a character boundary: back off UTF-8 continuation bytes. */
    while (len > 0 && (size_t)len < r->value.len &&
           ((unsigned char)r->value.data[len] & 0xC0) == 0x80) {
      len--;
    }
    if (r->value.kind == WC_NULL) {
      wc_info("%s-%d@%lld: null", r->topic, (int)r->partition, (long long)r->offset);
    } else if (r->value.kind == WC_BINARY) {
      wc_info("%s-%d@%lld: %zu bytes", r->topic, (int)r->partition, (long long)r->offset, r->value.len);
    } else {
      wc_info("%s-%d@%lld: %.*s%s", r->topic, (int)r->partition, (long long)r->offset, len,
              r->value.data, (size_t)len < r->value.len ? "…" : "");
    }
  }
  l->seen += count;
  return true;
}

static void stop(void *task) {
  logger *l = task;
  wc_info("logged %llu records", l->seen);
  free(l);
}

static const wc_sink_def record_logger = {
    .name = "io.wasmconnect.c.TemplateSinkConnector",
    WC_ALIASES("CTemplateSink"),
    .version = "0.1.0",
    .description = "Template C sink: logs every record",
    WC_KEYS(keys),
    .start = start,
    .put = put,
    .stop = stop,
};

WC_SINK_CONNECTOR(record_logger)
