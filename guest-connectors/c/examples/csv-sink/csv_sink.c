/*
 * CsvSink: writes records whose values are JSON objects to a CSV file,
 * one row per record, with the columns `fields` names.
 *
 *   connector.class=CsvSink
 *   topics=orders
 *   file=/data/orders.csv          (granted to the sandbox for appending)
 *   fields=id,name,card            (the columns, in order)
 *
 * A new (empty) file gets a header row first. Cells follow RFC 4180: a
 * field holding a comma, a quote, CR or LF is quoted, quotes doubled;
 * rows end with CRLF. A missing field or JSON null is an empty cell, a
 * string its text, anything else its JSON. A value that is not a JSON
 * object (or text holding one) becomes the `scalar.field` of its row when
 * that is set (as Kafka's HoistField would make it), so a topic of plain
 * text or numbers can be written too. Otherwise, and for null or binary
 * values, it is an errant record: with errors.tolerance=all it is
 * reported (log, dead letter queue) and skipped, otherwise the task fails
 * naming it.
 *
 * Rows are buffered and written out and synced at every flush, before the
 * worker commits the consumer offsets, so the committed offsets never run
 * ahead of the file: a crash repeats rows, it never loses them.
 */
#define WC_SINK
#include "wc_connector.h"

#include <stdlib.h>
#include <string.h>

/* Past this many buffered bytes put writes them out before taking more. */
#define WRITE_BEHIND (1 << 20)

static const wc_key_def keys[] = {
    {.name = "file", .type = WC_TYPE_STRING, .required = true, .importance = WC_HIGH,
     .resource = WC_WRITE_FILE, .doc = "The CSV file to append rows to (created if missing)"},
    {.name = "fields", .type = WC_TYPE_LIST, .required = true, .importance = WC_HIGH,
     .doc = "The JSON fields written as columns, in order; also the header row"},
    {.name = "scalar.field", .type = WC_TYPE_STRING,
     .doc = "The field a value that is not a JSON object (text, a number, a JSON string or "
            "array) fills; unset, such values are errant records"},
};

static void validate(const wc_config *config, wc_problems *problems) {
  size_t n;
  const char *const *fields = wc_get_list(config, "fields", &n);
  if (n == 0) wc_invalid(problems, "fields", "fields must name at least one field");
  const char *scalar = wc_get(config, "scalar.field");
  bool listed = false;
  for (size_t i = 0; scalar && i < n; i++) listed = listed || strcmp(fields[i], scalar) == 0;
  if (scalar && !listed) {
    wc_invalid(problems, "scalar.field", "scalar.field must be one of the fields, or it is never written");
  }
}

typedef struct {
  wc_file *file;
  const char *const *fields; /* borrowed from the configuration */
  size_t field_count;
  const char *scalar_field; /* NULL: non-object values are errant */
  wc_buf_t pending; /* rows put but not yet written */
  wc_buf_t rows;    /* the rows of the batch being put */
  wc_buf_t cell;
} csv_sink;

/* Appends one cell, quoted when RFC 4180 says so. */
static void put_cell(wc_buf_t *out, const uint8_t *s, size_t n) {
  bool quote = false;
  for (size_t i = 0; i < n && !quote; i++) quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
  if (!quote) {
    wc_buf_push(out, s, n);
    return;
  }
  wc_buf_push(out, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') wc_buf_push(out, "\"", 1);
    wc_buf_push(out, &s[i], 1);
  }
  wc_buf_push(out, "\"", 1);
}

static void stop(void *task) {
  csv_sink *s = task;
  /* What is still pending was never committed: Kafka delivers it again. */
  wc_file_close(s->file);
  wc_buf_free(&s->pending);
  wc_buf_free(&s->rows);
  wc_buf_free(&s->cell);
  free(s);
}

static bool start(void **task, const wc_config *config, wc_error_t *err) {
  csv_sink *s = calloc(1, sizeof *s);
  if (!s) return wc_fatal(err, "out of memory");
  const char *path = wc_get(config, "file");
  s->fields = wc_get_list(config, "fields", &s->field_count);
  s->scalar_field = wc_get(config, "scalar.field");
  wc_file_status opened = wc_file_open(path, true, &s->file, err);
  if (opened != WC_FILE_OK) {
    if (opened == WC_FILE_MISSING) wc_fatal(err, "cannot create %s: its directory does not exist", path);
    stop(s);
    return false;
  }
  uint64_t size;
  if (!wc_file_size(s->file, &size, err)) {
    stop(s);
    return false;
  }
  if (size == 0) {
    for (size_t i = 0; i < s->field_count; i++) {
      if (i) wc_buf_push(&s->pending, ",", 1);
      put_cell(&s->pending, (const uint8_t *)s->fields[i], strlen(s->fields[i]));
    }
    wc_buf_push(&s->pending, "\r\n", 2);
  }
  wc_info("writing %zu columns to %s (%llu bytes so far)", s->field_count, path,
          (unsigned long long)size);
  *task = s;
  return true;
}

/* A value that is no JSON object as its row's `scalar.field`. */
static bool put_scalar_row(csv_sink *s, const wc_record *r) {
  s->cell.len = 0;
  if (r->value.kind == WC_TEXT) {
    wc_buf_push(&s->cell, r->value.data, r->value.len);
  } else {
    wc_json_value document = {r->value.data, r->value.len};
    if (!wc_json_text(document, &s->cell)) return false;
  }
  for (size_t i = 0; i < s->field_count; i++) {
    if (i) wc_buf_push(&s->rows, ",", 1);
    if (strcmp(s->fields[i], s->scalar_field) == 0) put_cell(&s->rows, s->cell.ptr, s->cell.len);
  }
  wc_buf_push(&s->rows, "\r\n", 2);
  return true;
}

/* The record's row, appended to s->rows; false when it has none. */
static bool put_row(csv_sink *s, const wc_record *r) {
  if (r->value.kind != WC_JSON && r->value.kind != WC_TEXT) return false;
  if (!wc_json_is_object(r->value.data, r->value.len)) {
    return s->scalar_field && put_scalar_row(s, r);
  }
  for (size_t i = 0; i < s->field_count; i++) {
    if (i) wc_buf_push(&s->rows, ",", 1);
    wc_json_value v;
    if (!wc_json_field(r->value.data, r->value.len, s->fields[i], &v)) continue;
    s->cell.len = 0;
    if (!wc_json_text(v, &s->cell)) return false;
    put_cell(&s->rows, s->cell.ptr, s->cell.len);
  }
  wc_buf_push(&s->rows, "\r\n", 2);
  return true;
}

static bool write_pending(csv_sink *s, wc_error_t *err) {
  if (!wc_file_append(s->file, s->pending.ptr, s->pending.len, err)) return false;
  s->pending.len = 0;
  return true;
}

static bool put(void *task, const wc_record *records, size_t count, wc_error_t *err) {
  csv_sink *s = task;
  /* Write out before buffering this batch. A failed append is fatal (the
   * kit's rule: what reached the disk is unknown), so the task restarts
   * from the committed offsets and no row is committed unwritten. */
  if (s->pending.len > WRITE_BEHIND && !write_pending(s, err)) return false;
  s->rows.len = 0;
  for (size_t i = 0; i < count; i++) {
    size_t before = s->rows.len;
    if (put_row(s, &records[i])) continue;
    s->rows.len = before;
    const char *why = records[i].value.kind == WC_NULL     ? "its value is null"
                      : records[i].value.kind == WC_BINARY ? "its value is binary, not JSON or text"
                                                           : "its value is not a JSON object";
    if (!wc_errant(&records[i], err, "%s", why)) return false;
  }
  wc_buf_push(&s->pending, s->rows.ptr, s->rows.len);
  return true;
}

/* Either failure here is fatal (see wc_file_append): retrying a sync that
 * failed could report success for rows the kernel already dropped, and the
 * worker would then commit their offsets. */
static bool flush(void *task, const wc_position *current, size_t count, wc_error_t *err) {
  csv_sink *s = task;
  return write_pending(s, err) && wc_file_sync(s->file, err);
}

static bool close_partitions(void *task, const wc_partition *partitions, size_t count,
                             wc_error_t *err) {
  return flush(task, NULL, 0, err);
}

static const wc_sink_def csv_sink_def = {
    .name = "io.wasmconnect.c.CsvSinkConnector",
    WC_ALIASES("CsvSink", "CCsvSink"),
    .version = "0.1.0",
    .description = "Writes JSON object values as CSV rows to a file (written in C)",
    WC_KEYS(keys),
    .validate = validate,
    .start = start,
    .put = put,
    .flush = flush,
    .close = close_partitions,
    .stop = stop,
};

WC_SINK_CONNECTOR(csv_sink_def)
