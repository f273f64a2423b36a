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
#include "wc_connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 65536
/* A longer line is taken for a file that is not CSV (or not text) rather
 * than read into memory without bound. A power of two times READ_CHUNK. */
#define MAX_LINE (16u << 20)
#define IDLE_WAIT_MS 500

static const wc_key_def keys[] = {
    {.name = "file", .type = WC_TYPE_STRING, .required = true, .importance = WC_HIGH,
     .resource = WC_READ_FILE, .doc = "The CSV file to read; its first line names the columns"},
    {.name = "topic", .type = WC_TYPE_STRING, .required = true, .importance = WC_HIGH,
     .doc = "The topic to publish rows to"},
    {.name = "delimiter", .type = WC_TYPE_STRING, .default_value = ",",
     .doc = "The field separator, one character"},
    {.name = "batch.size", .type = WC_TYPE_INT, .default_value = "1000", .importance = WC_LOW,
     WC_AT_LEAST(1), .doc = "The most rows returned by one poll"},
};

/* The delimiter as set, blanks kept: a tab or a space is a delimiter. */
static const char *delimiter(const wc_config *config) {
  const char *raw = wc_get_raw(config, "delimiter");
  return raw ? raw : ",";
}

static void validate(const wc_config *config, wc_problems *problems) {
  if (strlen(delimiter(config)) != 1) {
    wc_invalid(problems, "delimiter", "delimiter must be exactly one character");
  }
}

typedef struct {
  const char *path, *topic; /* borrowed from the configuration */
  char delimiter;
  int64_t batch;
  wc_file *file;        /* NULL until the file exists */
  bool warned_missing;  /* the "does not exist yet" warning is logged once */
  char **columns;       /* NULL until the header line has been read */
  size_t column_count;
  uint64_t position;    /* byte offset of the next unread line */
  uint64_t line;        /* 1-based number of the line at `position` */
  char *partition;      /* {"file":"<path>"} */
  wc_buf_t chunk, json; /* reused between polls */
} csv_task;

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

static void set_header(csv_task *t, const uint8_t *line, size_t len) {
  wc_buf_t *fields;
  t->column_count = split_fields(line, len, t->delimiter, &fields);
  t->columns = malloc(t->column_count * sizeof *t->columns);
  if (!t->columns) __builtin_trap();
  for (size_t i = 0; i < t->column_count; i++) {
    wc_string_t s = {fields[i].ptr, fields[i].len};
    t->columns[i] = wc_cstr(&s);
  }
  free_fields(fields, t->column_count);
}

/* The row as a JSON object in t->json. */
static void row_json(csv_task *t, const uint8_t *line, size_t len) {
  wc_buf_t *fields;
  size_t count = split_fields(line, len, t->delimiter, &fields);
  wc_buf_t *json = &t->json;
  json->len = 0;
  wc_buf_puts(json, "{");
  size_t columns = count > t->column_count ? count : t->column_count;
  for (size_t i = 0; i < columns; i++) {
    if (i) wc_buf_puts(json, ",");
    if (i < t->column_count) {
      wc_buf_json_string(json, (const uint8_t *)t->columns[i], strlen(t->columns[i]));
    } else {
      wc_buf_printf(json, "\"column%zu\"", i + 1);
    }
    wc_buf_puts(json, ":");
    if (i < count) wc_buf_json_string(json, fields[i].ptr, fields[i].len);
    else wc_buf_puts(json, "null");
  }
  wc_buf_puts(json, "}");
  free_fields(fields, count);
}

static void stop(void *task) {
  csv_task *t = task;
  wc_file_close(t->file);
  for (size_t i = 0; i < t->column_count; i++) free(t->columns[i]);
  free(t->columns);
  free(t->partition);
  wc_buf_free(&t->chunk);
  wc_buf_free(&t->json);
  free(t);
}

static bool start(void **task, const wc_config *config, wc_offsets *offsets, wc_error_t *err) {
  csv_task *t = calloc(1, sizeof *t);
  if (!t) return wc_fatal(err, "out of memory");
  t->path = wc_get(config, "file");
  t->topic = wc_get(config, "topic");
  t->delimiter = delimiter(config)[0];
  t->batch = wc_get_int(config, "batch.size");
  t->line = 1;
  wc_buf_t partition = {0};
  wc_buf_puts(&partition, "{\"file\":");
  wc_buf_json_string(&partition, (const uint8_t *)t->path, strlen(t->path));
  wc_buf_push(&partition, "}", 2); /* with its NUL */
  t->partition = (char *)partition.ptr;
  const char *offset;
  if (!wc_committed_offset(offsets, t->partition, &offset, err)) {
    stop(t);
    return false;
  }
  wc_json_value v;
  int64_t n;
  if (offset && wc_json_field(offset, strlen(offset), "position", &v) && wc_json_int(v, &n) && n >= 0) {
    t->position = (uint64_t)n;
  }
  if (offset && wc_json_field(offset, strlen(offset), "line", &v) && wc_json_int(v, &n) && n >= 1) {
    t->line = (uint64_t)n;
  }
  wc_info("reading %s from byte %llu (line %llu) into %s", t->path,
          (unsigned long long)t->position, (unsigned long long)t->line, t->topic);
  *task = t;
  return true;
}

/* Reads from `offset` into t->chunk until it holds at least one full line
 * (or the end of the file). */
static bool read_chunk(csv_task *t, uint64_t offset, wc_error_t *err) {
  uint32_t want = READ_CHUNK;
  for (;;) {
    t->chunk.len = 0;
    if (!wc_file_read(t->file, offset, want, &t->chunk, err)) return false;
    if (t->chunk.len < want || memchr(t->chunk.ptr, '\n', t->chunk.len)) return true;
    if (want >= MAX_LINE) {
      return wc_fatal(err, "%s: the line at byte %llu is longer than 16 MiB; is it a CSV file?",
                      t->path, (unsigned long long)offset);
    }
    want *= 2; /* one line longer than the chunk: read more */
  }
}

/* After a restart the stored position is past the header: read it
 * separately. A file without a complete first line waits. */
static bool read_header(csv_task *t, wc_error_t *err) {
  if (!read_chunk(t, 0, err)) return false;
  uint8_t *newline = t->chunk.len ? memchr(t->chunk.ptr, '\n', t->chunk.len) : NULL;
  if (newline) {
    size_t len = (size_t)(newline - t->chunk.ptr);
    if (len && t->chunk.ptr[len - 1] == '\r') len--;
    set_header(t, t->chunk.ptr, len);
  }
  return true;
}

static bool poll(void *task, wc_source_out *out, wc_error_t *err) {
  csv_task *t = task;
  if (!t->file) {
    switch (wc_file_open(t->path, false, &t->file, err)) {
      case WC_FILE_FAILED:
        return false;
      case WC_FILE_MISSING:
        if (!t->warned_missing) wc_warn("%s does not exist yet; waiting for it", t->path);
        t->warned_missing = true;
        wc_sleep_unless_stopped(IDLE_WAIT_MS);
        return true;
      case WC_FILE_OK:
        break;
    }
  }
  if (!t->columns && t->position > 0 && !read_header(t, err)) return false;
  uint64_t base = t->position;
  if (!read_chunk(t, base, err)) return false;
  const uint8_t *chunk = t->chunk.ptr;
  size_t chunk_len = t->chunk.len, start = 0;
  int64_t emitted = 0;
  char offset[64];
  while (emitted < t->batch && start < chunk_len) {
    const uint8_t *newline = memchr(chunk + start, '\n', chunk_len - start);
    if (!newline) break; /* a partial last line waits for its newline */
    size_t end = (size_t)(newline - chunk);
    size_t len = end - start;
    if (len && chunk[start + len - 1] == '\r') len--;
    const uint8_t *line = chunk + start;
    start = end + 1;
    t->position = base + start;
    t->line++;
    if (!t->columns) {
      set_header(t, line, len);
      continue;
    }
    if (len == 0) continue;
    row_json(t, line, len);
    snprintf(offset, sizeof offset, "{\"position\":%llu,\"line\":%llu}",
             (unsigned long long)t->position, (unsigned long long)t->line);
    wc_record r = {
        .topic = t->topic,
          .value = wc_json_n((const char *)t->json.ptr, t->json.len),
        .source_partition = t->partition,
        .source_offset = offset,
    };
    wc_emit(out, &r);
    emitted++;
  }
  if (emitted == 0) wc_sleep_unless_stopped(IDLE_WAIT_MS);
  return true;
}

static const wc_source_def csv_source = {
    .name = "io.wasmconnect.c.CsvSourceConnector",
    WC_ALIASES("CsvSource", "CCsvSource"),
    .version = "0.1.0",
    .description = "Streams the rows of a CSV file as JSON objects named by its header (written in C)",
    WC_KEYS(keys),
    .validate = validate,
    /* No task_configs: the default, one task, is right: one file, one reader. */
    .start = start,
    .poll = poll,
    .stop = stop,
};

WC_SOURCE_CONNECTOR(csv_source)
