/*
 * Template: the smallest useful C source connector. Copy this directory,
 * rename the plugin (name and alias below), and replace poll() with your
 * logic.
 *
 * It publishes "hello <n>" to `topic`, one record per poll, keeping n as
 * its source offset so a restarted task continues the count.
 */
#define WC_SOURCE
#include "wc_connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTITION "{\"template\":\"hello\"}"

static const wc_key_def keys[] = {
    {.name = "topic", .type = WC_TYPE_STRING, .required = true, .importance = WC_HIGH,
     .doc = "The topic to publish to"},
    {.name = "interval.ms", .type = WC_TYPE_INT, .default_value = "100", WC_BETWEEN(0, 60000),
     .doc = "Milliseconds between greetings"},
};

typedef struct {
  const char *topic; /* borrowed from the configuration, valid until stop */
  uint32_t interval_ms;
  unsigned long long next;
} greeter;

static bool start(void **task, const wc_config *config, wc_offsets *offsets, wc_error_t *err) {
  greeter *g = calloc(1, sizeof *g);
  if (!g) return wc_fatal(err, "out of memory");
  g->topic = wc_get(config, "topic");
  g->interval_ms = (uint32_t)wc_get_int(config, "interval.ms");
  /* Resume after the last greeting Kafka acknowledged. */
  const char *offset;
  if (!wc_committed_offset(offsets, PARTITION, &offset, err)) {
    free(g);
    return false;
  }
  wc_json_value n;
  int64_t last;
  if (offset && wc_json_field(offset, strlen(offset), "n", &n) && wc_json_int(n, &last)) {
    g->next = (unsigned long long)last + 1;
  }
  *task = g;
  return true;
}

static bool poll(void *task, wc_source_out *out, wc_error_t *err) {
  greeter *g = task;
  if (wc_sleep_unless_stopped(g->interval_ms)) return true; /* stopping: emit nothing */
  char text[32], offset[32];
  snprintf(text, sizeof text, "hello %llu", g->next);
  snprintf(offset, sizeof offset, "{\"n\":%llu}", g->next);
  wc_record r = {
      .topic = g->topic,
      .value = wc_text(text),
      .source_partition = PARTITION,
      .source_offset = offset,
  };
  wc_emit(out, &r); /* copied: text and offset may go out of scope */
  g->next++;
  return true;
}

static void stop(void *task) { free(task); }

static const wc_source_def greeting = {
    .name = "io.wasmconnect.c.TemplateSourceConnector",
    WC_ALIASES("CTemplateSource"),
    .version = "0.1.0",
    .description = "Template C source: publishes a greeting per poll",
    WC_KEYS(keys),
    .start = start,
    .poll = poll,
    .stop = stop,
};

WC_SOURCE_CONNECTOR(greeting)
