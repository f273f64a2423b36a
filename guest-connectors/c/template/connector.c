/*
 * Template: the smallest useful C source connector. Copy this directory,
 * rename the plugin in metadata(), and replace poll() with your logic.
 *
 * It publishes "hello <n>" to `topic`, one record per poll, remembering n
 * as its source offset so a restart continues the count.
 */
#define WC_SOURCE
#include "wasmconnect.h"

#include <stdlib.h>
#include <string.h>

static const char PARTITION[] = "{\"template\":\"hello\"}";

void exports_wasmconnect_connector_plugin_metadata(
    exports_wasmconnect_connector_plugin_plugin_metadata_t *ret) {
  memset(ret, 0, sizeof *ret);
  ret->name = wc_str("io.wasmconnect.c.TemplateSourceConnector");
  ret->aliases.ptr = malloc(sizeof(wc_string_t));
  ret->aliases.ptr[0] = wc_str("CTemplateSource");
  ret->aliases.len = 1;
  ret->version = wc_str("0.1.0");
  ret->kind = EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_SOURCE;
  ret->description = wc_str("Template C source: publishes a greeting per poll");
}

void exports_wasmconnect_connector_plugin_config_definition(
    exports_wasmconnect_connector_plugin_list_config_key_t *ret) {
  ret->len = 1;
  ret->ptr = malloc(sizeof *ret->ptr);
  ret->ptr[0] = wc_key("topic", WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING,
                       "The topic to publish to");
  ret->ptr[0].required = true;
}

void exports_wasmconnect_connector_plugin_validate(
    exports_wasmconnect_connector_plugin_config_t *config,
    exports_wasmconnect_connector_plugin_list_config_value_t *ret) {
  char *topic = wc_config_get(config, "topic");
  ret->len = 0;
  ret->ptr = NULL; /* an empty list owns no memory */
  if (!topic) {
    ret->ptr = malloc(sizeof *ret->ptr);
    ret->ptr[0] = wc_config_error(config, "topic", "Missing required configuration \"topic\"");
    ret->len = 1;
  }
  free(topic);
  wasmconnect_connector_types_config_free(config);
}

static wc_config_t saved;

bool exports_wasmconnect_connector_connector_start(
    exports_wasmconnect_connector_connector_config_t *config, wc_error_t *err) {
  saved = *config;
  return true;
}

bool exports_wasmconnect_connector_connector_task_configs(
    uint32_t max_tasks, exports_wasmconnect_connector_connector_list_config_t *ret,
    wc_error_t *err) {
  /* One task: more would publish the same greetings twice. */
  ret->len = 0;
  ret->ptr = NULL;
  if (max_tasks > 0) {
    ret->ptr = malloc(sizeof *ret->ptr);
    ret->ptr[0] = wc_config_clone(&saved);
    ret->len = 1;
  }
  return true;
}

void exports_wasmconnect_connector_connector_stop(void) {
  wasmconnect_connector_types_config_free(&saved);
}

bool exports_wasmconnect_connector_connector_alter_offsets(
    exports_wasmconnect_connector_connector_config_t *config,
    exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t *offsets,
    bool *ret, wc_error_t *err) {
  wasmconnect_connector_types_config_free(config);
  exports_wasmconnect_connector_connector_list_tuple2_json_option_json_free(offsets);
  *ret = true;
  return true;
}

static char *topic;
static unsigned long long next;

bool exports_wasmconnect_connector_source_task_start(
    exports_wasmconnect_connector_source_task_config_t *config, wc_error_t *err) {
  topic = wc_config_get(config, "topic");
  wasmconnect_connector_types_config_free(config);
  if (!topic) return wc_fatal(err, "Missing required configuration \"topic\"");
  /* Resume after the last greeting Kafka acknowledged. */
  wc_string_t partition = wc_str(PARTITION);
  wasmconnect_connector_offsets_list_json_t partitions = {&partition, 1};
  wasmconnect_connector_offsets_list_option_json_t found;
  bool ok = wasmconnect_connector_offsets_read(&partitions, &found, err);
  free(partition.ptr);
  if (!ok) return false;
  if (found.len == 1 && found.ptr[0].is_some) {
    char *offset = wc_cstr(&found.ptr[0].val);
    char *n = strstr(offset, "\"n\":");
    if (n) next = strtoull(n + 4, NULL, 10) + 1;
    free(offset);
  }
  wasmconnect_connector_offsets_list_option_json_free(&found);
  return true;
}

bool exports_wasmconnect_connector_source_task_poll(wc_source_batch_t *ret, wc_error_t *err) {
  wc_source_records_t records = {0};
  if (wc_sleep_unless_stopped(100)) return wc_pack_source(&records, ret);
  wasmconnect_connector_types_source_record_t *r = calloc(1, sizeof *r);
  wc_buf_t text = {0}, offset = {0};
  wc_buf_printf(&text, "hello %llu", next);
  wc_buf_printf(&offset, "{\"n\":%llu}", next);
  next++;
  r->source_partition = wc_str(PARTITION);
  r->source_offset = wc_buf_take(&offset);
  r->topic = wc_str(topic);
  r->value.is_some = true;
  r->value.val.tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT;
  r->value.val.val.text = wc_buf_take(&text);
  records.ptr = r;
  records.len = 1;
  return wc_pack_source(&records, ret);
}

bool exports_wasmconnect_connector_source_task_commit_records(
    exports_wasmconnect_connector_source_task_list_record_ack_t *acks, wc_error_t *err) {
  exports_wasmconnect_connector_source_task_list_record_ack_free(acks);
  return true;
}

bool exports_wasmconnect_connector_source_task_commit(wc_error_t *err) { return true; }

void exports_wasmconnect_connector_source_task_stop(void) {
  free(topic);
  topic = NULL;
}
