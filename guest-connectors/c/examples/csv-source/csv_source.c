/*
 * CsvSource: streams the rows of a CSV file into a Kafka topic, one JSON
 * object per row keyed by the header's column names.
 *
 *   connector.class=CsvSource
 *   file=/data/orders.csv        (granted read-only to the sandbox)
 *   topic=orders
 *   delimiter=,                  (one character; default ",")
 *   batch.size=1000              (rows per poll)
 *
 * The first line is the header. Fields may be quoted ("a, b" and "" for a
 * quote); a row with fewer fields than the header gets null for the rest,
 * extra fields are named column<N>. Rows appended while the connector runs
 * are picked up (the file is tailed). The source offset is the byte
 * position after the row, so a restarted task resumes after the last row
 * Kafka acknowledged.
 */
#define WC_SOURCE
#include "wasmconnect.h"

#include <stdlib.h>
#include <string.h>

#define FILE_KEY "file"
#define TOPIC_KEY "topic"
#define DELIMITER_KEY "delimiter"
#define BATCH_KEY "batch.size"
#define READ_CHUNK 65536
#define IDLE_WAIT_MS 500

typedef wasmconnect_connector_types_source_record_t record_t;

/* ---- plugin --------------------------------------------------------- */

void exports_wasmconnect_connector_plugin_metadata(
    exports_wasmconnect_connector_plugin_plugin_metadata_t *ret) {
  memset(ret, 0, sizeof *ret);
  ret->name = wc_str("io.wasmconnect.c.CsvSourceConnector");
  ret->aliases.ptr = malloc(2 * sizeof(wc_string_t));
  ret->aliases.ptr[0] = wc_str("CsvSource");
  ret->aliases.ptr[1] = wc_str("CCsvSource");
  ret->aliases.len = 2;
  ret->version = wc_str("0.1.0");
  ret->kind = EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_SOURCE;
  ret->description = wc_str("Streams the rows of a CSV file as JSON objects named by its header (written in C)");
}

void exports_wasmconnect_connector_plugin_config_definition(
    exports_wasmconnect_connector_plugin_list_config_key_t *ret) {
  ret->len = 4;
  ret->ptr = malloc(ret->len * sizeof *ret->ptr);
  ret->ptr[0] = wc_key(FILE_KEY, WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING,
                       "The CSV file to read; its first line names the columns");
  ret->ptr[0].required = true;
  ret->ptr[0].importance = WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_HIGH;
  ret->ptr[0].resource = wc_resource(WASMCONNECT_CONNECTOR_CONFIG_DEF_RESOURCE_KIND_READ_FILE);
  ret->ptr[1] = wc_key(TOPIC_KEY, WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING,
                       "The topic to publish rows to");
  ret->ptr[1].required = true;
  ret->ptr[1].importance = WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_HIGH;
  ret->ptr[2] = wc_key(DELIMITER_KEY, WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING,
                       "The field separator, one character");
  ret->ptr[2].default_value = wc_some(",");
  ret->ptr[3] = wc_key(BATCH_KEY, WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_INT,
                       "The most rows returned by one poll");
  ret->ptr[3].default_value = wc_some("1000");
  ret->ptr[3].importance = WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_LOW;
}

/* The first problem in a configuration, as a (key, message) pair; NULL key
 * when the configuration is usable. */
static const char *config_problem(const wc_config_t *config, const char **message) {
  char *text;
  int64_t batch;
  if (!(text = wc_config_get(config, FILE_KEY))) {
    *message = "Missing required configuration \"file\": name the CSV file to read";
    return FILE_KEY;
  }
  free(text);
  if (!(text = wc_config_get(config, TOPIC_KEY))) {
    *message = "Missing required configuration \"topic\"";
    return TOPIC_KEY;
  }
  free(text);
  const wc_string_t *delimiter = wc_config_find(config, DELIMITER_KEY);
  if (delimiter && delimiter->len != 1) {
    *message = "delimiter must be exactly one character";
    return DELIMITER_KEY;
  }
  if (!wc_config_int(config, BATCH_KEY, 1000, &batch) || batch < 1) {
    *message = "batch.size must be a positive integer";
    return BATCH_KEY;
  }
  return NULL;
}

void exports_wasmconnect_connector_plugin_validate(
    exports_wasmconnect_connector_plugin_config_t *config,
    exports_wasmconnect_connector_plugin_list_config_value_t *ret) {
  const char *message = NULL;
  const char *key = config_problem(config, &message);
  ret->len = 0;
  ret->ptr = NULL; /* an empty list owns no memory */
  if (key) {
    ret->ptr = malloc(sizeof *ret->ptr);
    ret->ptr[0] = wc_config_error(config, key, message);
    ret->len = 1;
  }
  wasmconnect_connector_types_config_free(config);
}

/* ---- connector ------------------------------------------------------ */

static wc_config_t connector_config;

bool exports_wasmconnect_connector_connector_start(
    exports_wasmconnect_connector_connector_config_t *config,
    wc_error_t *err) {
  const char *message = NULL;
  if (config_problem(config, &message)) {
    wasmconnect_connector_types_config_free(config);
    return wc_fatal(err, "%s", message);
  }
  connector_config = *config; /* keep it: the argument is ours */
  return true;
}

bool exports_wasmconnect_connector_connector_task_configs(
    uint32_t max_tasks, exports_wasmconnect_connector_connector_list_config_t *ret,
    wc_error_t *err) {
  (void)err;
  /* One file, one reader: more tasks would read the same rows twice. */
  ret->len = 0;
  ret->ptr = NULL;
  if (max_tasks > 0) {
    ret->ptr = malloc(sizeof *ret->ptr);
    ret->ptr[0] = wc_config_clone(&connector_config);
    ret->len = 1;
  }
  return true;
}

void exports_wasmconnect_connector_connector_stop(void) {
  wasmconnect_connector_types_config_free(&connector_config);
  memset(&connector_config, 0, sizeof connector_config);
}

bool exports_wasmconnect_connector_connector_alter_offsets(
    exports_wasmconnect_connector_connector_config_t *config,
    exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t *offsets,
    bool *ret, wc_error_t *err) {
  (void)err;
  wasmconnect_connector_types_config_free(config);
  exports_wasmconnect_connector_connector_list_tuple2_json_option_json_free(offsets);
  *ret = true; /* offsets are plain byte positions: any value is usable */
  return true;
}

/* ---- task ----------------------------------------------------------- */

static struct {
  char *path;
  char *topic;
  char delimiter;
  int64_t batch;
  wasmconnect_connector_files_own_file_t file;
  bool open;
  bool warned_missing; /* the "does not exist yet" warning is logged once */
  char **columns; /* NULL until the header line has been read */
  size_t column_count;
  uint64_t position; /* byte offset of the next unread line */
  uint64_t line;     /* 1-based number of the line at `position` */
  wc_string_t partition; /* {"file":"<path>"} */
} task;

/* Splits one CSV line into heap fields. */
static size_t split_fields(const uint8_t *line, size_t len, char delimiter, wc_buf_t **out) {
  size_t count = 0, cap = 8;
  wc_buf_t *fields = calloc(cap, sizeof *fields);
  if (!fields) __builtin_trap();
  size_t i = 0;
  for (;;) {
    if (count == cap) {
      /* Out of memory has no recovery in a sandbox: trap, as the kit does. */
      wc_buf_t *grown = realloc(fields, (cap *= 2) * sizeof *fields);
      if (!grown) __builtin_trap();
      fields = grown;
      memset(fields + count, 0, (cap - count) * sizeof *fields);
    }
    wc_buf_t *field = &fields[count++];
    wc_buf_push(field, "", 0);
    bool quoted = i < len && line[i] == '"';
    if (quoted) i++;
    while (i < len) {
      uint8_t c = line[i];
      if (quoted && c == '"') {
        if (i + 1 < len && line[i + 1] == '"') {
          wc_buf_push(field, "\"", 1);
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (!quoted && c == (uint8_t)delimiter) break;
      wc_buf_push(field, &c, 1);
      i++;
    }
    if (i >= len) break;
    i++; /* the delimiter */
  }
  *out = fields;
  return count;
}

static void free_fields(wc_buf_t *fields, size_t count) {
  for (size_t i = 0; i < count; i++) wc_buf_free(&fields[i]);
  free(fields);
}

static void set_header(const uint8_t *line, size_t len) {
  wc_buf_t *fields;
  task.column_count = split_fields(line, len, task.delimiter, &fields);
  task.columns = malloc(task.column_count * sizeof *task.columns);
  for (size_t i = 0; i < task.column_count; i++) {
    wc_string_t s = {fields[i].ptr, fields[i].len};
    task.columns[i] = wc_cstr(&s);
  }
  free_fields(fields, task.column_count);
}

static wc_string_t row_json(const uint8_t *line, size_t len) {
  wc_buf_t *fields;
  size_t count = split_fields(line, len, task.delimiter, &fields);
  wc_buf_t json = {0};
  wc_buf_puts(&json, "{");
  size_t columns = count > task.column_count ? count : task.column_count;
  for (size_t i = 0; i < columns; i++) {
    if (i) wc_buf_puts(&json, ",");
    if (i < task.column_count) {
      wc_buf_json_string(&json, (const uint8_t *)task.columns[i], strlen(task.columns[i]));
    } else {
      wc_buf_printf(&json, "\"column%zu\"", i + 1);
    }
    wc_buf_puts(&json, ":");
    if (i < count) wc_buf_json_string(&json, fields[i].ptr, fields[i].len);
    else wc_buf_puts(&json, "null");
  }
  wc_buf_puts(&json, "}");
  free_fields(fields, count);
  return wc_buf_take(&json);
}

/* The stored position, if the host has one for this file. */
static bool stored_position(uint64_t *position, uint64_t *line, wc_error_t *err) {
  wasmconnect_connector_offsets_list_json_t partitions = {&task.partition, 1};
  wasmconnect_connector_offsets_list_option_json_t found;
  if (!wasmconnect_connector_offsets_read(&partitions, &found, err)) return false;
  if (found.len == 1 && found.ptr[0].is_some) {
    char *offset = wc_cstr(&found.ptr[0].val);
    const char *p = strstr(offset, "\"position\":");
    const char *l = strstr(offset, "\"line\":");
    if (p) *position = strtoull(p + 11, NULL, 10);
    if (l) *line = strtoull(l + 7, NULL, 10);
    free(offset);
  }
  wasmconnect_connector_offsets_list_option_json_free(&found);
  return true;
}

bool exports_wasmconnect_connector_source_task_start(
    exports_wasmconnect_connector_source_task_config_t *config, wc_error_t *err) {
  const char *message = NULL;
  if (config_problem(config, &message)) {
    wasmconnect_connector_types_config_free(config);
    return wc_fatal(err, "%s", message);
  }
  memset(&task, 0, sizeof task);
  task.path = wc_config_get(config, FILE_KEY);
  task.topic = wc_config_get(config, TOPIC_KEY);
  const wc_string_t *delimiter = wc_config_find(config, DELIMITER_KEY);
  task.delimiter = delimiter ? (char)delimiter->ptr[0] : ',';
  wc_config_int(config, BATCH_KEY, 1000, &task.batch);
  wasmconnect_connector_types_config_free(config);

  wc_buf_t partition = {0};
  wc_buf_puts(&partition, "{\"file\":");
  wc_buf_json_string(&partition, (const uint8_t *)task.path, strlen(task.path));
  wc_buf_puts(&partition, "}");
  task.partition = wc_buf_take(&partition);
  task.line = 1;
  if (!stored_position(&task.position, &task.line, err)) return false;
  wc_info("reading %s from byte %llu (line %llu) into %s", task.path,
          (unsigned long long)task.position, (unsigned long long)task.line, task.topic);
  return true;
}

/* Opens the file once it exists: 1 when open, 0 while it does not exist
 * yet, -1 (with `err` set) when it cannot be opened. */
static int ensure_open(wc_error_t *err) {
  if (task.open) return 1;
  wc_string_t path = {(uint8_t *)task.path, strlen(task.path)};
  wasmconnect_connector_files_file_error_t ferr;
  if (wasmconnect_connector_files_open(&path, WASMCONNECT_CONNECTOR_FILES_OPEN_MODE_READ,
                                       &task.file, &ferr)) {
    task.open = true;
    return 1;
  }
  bool missing = ferr.tag == WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_NOT_FOUND;
  char *why = wc_cstr(&ferr.val.not_found); /* every case carries a string */
  wasmconnect_connector_files_file_error_free(&ferr);
  if (missing) {
    if (!task.warned_missing) wc_warn("%s does not exist yet; waiting for it", task.path);
    task.warned_missing = true;
    free(why);
    return 0;
  }
  wc_fatal(err, "cannot open %s: %s", task.path, why);
  free(why);
  return -1;
}

/* Reads from `offset` until the chunk holds at least one full line (or
 * the end of the file). */
static bool read_chunk(uint64_t offset, source_list_u8_t *chunk, wc_error_t *err) {
  uint32_t want = READ_CHUNK;
  for (;;) {
    wasmconnect_connector_files_file_error_t ferr;
    wasmconnect_connector_files_borrow_file_t file =
        wasmconnect_connector_files_borrow_file(task.file);
    if (!wasmconnect_connector_files_method_file_read(file, offset, want, chunk, &ferr)) {
      char *why = wc_cstr(&ferr.val.io);
      wasmconnect_connector_files_file_error_free(&ferr);
      wc_retriable(err, 1000, "reading %s: %s", task.path, why);
      free(why);
      return false;
    }
    if (chunk->len < want || memchr(chunk->ptr, '\n', chunk->len)) return true;
    source_list_u8_free(chunk);
    want *= 2; /* one line longer than the chunk: read more */
  }
}

/* After a restart the stored position is past the header: read it
 * separately. A file without a complete first line waits. */
static bool read_header(wc_error_t *err) {
  source_list_u8_t chunk;
  if (!read_chunk(0, &chunk, err)) return false;
  uint8_t *newline = memchr(chunk.ptr, '\n', chunk.len);
  if (newline) {
    size_t len = (size_t)(newline - chunk.ptr);
    if (len && chunk.ptr[len - 1] == '\r') len--;
    set_header(chunk.ptr, len);
  }
  source_list_u8_free(&chunk);
  return true;
}

bool exports_wasmconnect_connector_source_task_poll(wc_source_batch_t *batch, wc_error_t *err) {
  wc_source_records_t records = {0};
  switch (ensure_open(err)) {
    case -1:
      return false;
    case 0:
      wc_sleep_unless_stopped(IDLE_WAIT_MS);
      return wc_pack_source(&records, batch);
  }
  if (!task.columns && task.position > 0 && !read_header(err)) return false;
  uint64_t base = task.position;
  source_list_u8_t chunk;
  if (!read_chunk(base, &chunk, err)) return false;
  size_t start = 0, cap = 0;
  while ((int64_t)records.len < task.batch) {
    uint8_t *newline = memchr(chunk.ptr + start, '\n', chunk.len - start);
    if (!newline) break; /* a partial last line waits for its newline */
    size_t end = (size_t)(newline - chunk.ptr);
    size_t len = end - start;
    if (len && chunk.ptr[start + len - 1] == '\r') len--;
    const uint8_t *line = chunk.ptr + start;
    start = end + 1;
    task.position = base + start;
    if (!task.columns) {
      set_header(line, len);
      task.line++;
      continue;
    }
    task.line++;
    if (len == 0) continue;
    if (records.len == cap) {
      cap = cap ? cap * 2 : 64;
      record_t *grown = realloc(records.ptr, cap * sizeof *records.ptr);
      if (!grown) __builtin_trap();
      records.ptr = grown;
    }
    record_t *r = &records.ptr[records.len++];
    memset(r, 0, sizeof *r);
    r->source_partition = wc_str_n((const char *)task.partition.ptr, task.partition.len);
    wc_buf_t offset = {0};
    wc_buf_printf(&offset, "{\"position\":%llu,\"line\":%llu}",
                  (unsigned long long)task.position, (unsigned long long)task.line);
    r->source_offset = wc_buf_take(&offset);
    r->topic = wc_str(task.topic);
    r->value.is_some = true;
    r->value.val.tag = WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON;
    r->value.val.val.json.document = row_json(line, len);
  }
  source_list_u8_free(&chunk);
  if (records.len == 0) wc_sleep_unless_stopped(IDLE_WAIT_MS);
  return wc_pack_source(&records, batch);
}

bool exports_wasmconnect_connector_source_task_commit_records(
    exports_wasmconnect_connector_source_task_list_record_ack_t *acks, wc_error_t *err) {
  (void)err;
  exports_wasmconnect_connector_source_task_list_record_ack_free(acks);
  return true;
}

bool exports_wasmconnect_connector_source_task_commit(wc_error_t *err) {
  (void)err;
  return true;
}

void exports_wasmconnect_connector_source_task_stop(void) {
  if (task.open) wasmconnect_connector_files_file_drop_own(task.file);
  for (size_t i = 0; i < task.column_count; i++) free(task.columns[i]);
  free(task.columns);
  free(task.path);
  free(task.topic);
  free(task.partition.ptr);
  memset(&task, 0, sizeof task);
}
