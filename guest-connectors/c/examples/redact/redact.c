/*
 * Redact: masks long runs of digits (card numbers, account numbers) in
 * record values, keeping the last few digits.
 *
 *   transforms=redact
 *   transforms.redact.type=Redact
 *   transforms.redact.min.digits=12     (runs shorter than this stay)
 *   transforms.redact.keep.last=4       (digits left visible at the end)
 *   transforms.redact.mask.char=*
 *
 * "card 4111111111111111" becomes "card ************1111". Text values are
 * masked throughout; in JSON values only strings are (object keys are
 * left alone, and so are JSON numbers: a masked number would no longer be
 * a number, so data that must be redacted travels as strings). Keys,
 * headers, binary and null values pass unchanged, and a record with
 * nothing to mask is kept as it is.
 */
#define WC_TRANSFORM
#include "wc_connector.h"

#include <stdlib.h>
#include <string.h>

static const wc_key_def keys[] = {
    {.name = "min.digits", .type = WC_TYPE_INT, .default_value = "12", WC_BETWEEN(1, 1000000),
     .doc = "The shortest run of consecutive digits that is masked"},
    {.name = "keep.last", .type = WC_TYPE_INT, .default_value = "4", WC_BETWEEN(0, 1000000),
     .doc = "How many digits at the end of a run stay visible"},
    {.name = "mask.char", .type = WC_TYPE_STRING, .default_value = "*",
     .doc = "The character that replaces each masked digit"},
};

/* The length of the one UTF-8 character `s` holds, 0 when it holds
 * anything else. */
static size_t one_char(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || !wc_utf8_valid((const uint8_t *)s, n)) return 0;
  size_t first = (unsigned char)s[0] < 0x80 ? 1 : (unsigned char)s[0] < 0xE0 ? 2 : (unsigned char)s[0] < 0xF0 ? 3 : 4;
  return first == n ? n : 0;
}

static void validate(const wc_config *config, wc_problems *problems) {
  if (wc_get_int(config, "keep.last") >= wc_get_int(config, "min.digits")) {
    wc_invalid(problems, "keep.last", "keep.last must be below min.digits, or no digit would be masked");
  }
  const char *mask = wc_get(config, "mask.char");
  /* JSON strings are masked in place: the mask must not need escaping. */
  if (!mask || !one_char(mask) || strchr("\"\\", mask[0]) || (unsigned char)mask[0] < 0x20) {
    wc_invalid(problems, "mask.char",
               "mask.char must be exactly one character, not a quote, a backslash or a control character");
  }
}

typedef struct {
  size_t min_digits, keep_last;
  const char *mask; /* one UTF-8 character */
  size_t mask_len;
  wc_buf_t out; /* the replacement value: must outlive apply's return */
  size_t masked; /* runs masked in the current value */
} redactor;

static bool configure(void **state, const wc_config *config, wc_error_t *err) {
  redactor *r = calloc(1, sizeof *r);
  if (!r) return wc_fatal(err, "out of memory");
  r->min_digits = (size_t)wc_get_int(config, "min.digits");
  r->keep_last = (size_t)wc_get_int(config, "keep.last");
  r->mask = wc_get(config, "mask.char");
  r->mask_len = strlen(r->mask);
  *state = r;
  return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Copies s[0..n) to r->out, masking each long enough run of digits. */
static void mask_text(redactor *r, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (!is_digit(s[i])) {
      wc_buf_push(&r->out, &s[i++], 1);
      continue;
    }
    size_t run = i;
    while (i < n && is_digit(s[i])) i++;
    size_t len = i - run;
    if (len < r->min_digits) {
      wc_buf_push(&r->out, s + run, len);
      continue;
    }
    for (size_t k = 0; k < len - r->keep_last; k++) wc_buf_push(&r->out, r->mask, r->mask_len);
    wc_buf_push(&r->out, s + i - r->keep_last, r->keep_last);
    r->masked++;
  }
}

/* Copies a JSON document, masking inside string values. An escape ends a
 * run of digits: "\u0034" is not counted as a digit. */
static void mask_json(redactor *r, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (s[i] != '"') {
      wc_buf_push(&r->out, &s[i++], 1);
      continue;
    }
    size_t open = i++;
    while (i < n && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    size_t close = i < n ? i : n; /* the closing quote (or the end of a malformed document) */
    size_t after = close + 1;
    while (after < n && (s[after] == ' ' || s[after] == '\t' || s[after] == '\n' || s[after] == '\r')) after++;
    bool key = after < n && s[after] == ':';
    wc_buf_push(&r->out, "\"", 1);
    size_t j = open + 1;
    while (j < close) {
      size_t plain = j;
      while (j < close && s[j] != '\\') j++;
      if (key) wc_buf_push(&r->out, s + plain, j - plain);
      else mask_text(r, s + plain, j - plain);
      if (j < close) {
        /* \uXXXX is copied whole: its hex digits are not data to mask,
         * and masking them would leave an invalid escape. */
        size_t want = j + 1 < close && s[j + 1] == 'u' ? 6 : 2;
        size_t esc = j + want <= close ? want : close - j;
        wc_buf_push(&r->out, s + j, esc);
        j += esc;
      }
    }
    if (close < n) wc_buf_push(&r->out, "\"", 1);
    i = close + 1;
  }
}

static wc_verdict apply(void *state, const wc_record *record, wc_record *out, wc_error_t *err) {
  redactor *r = state;
  const wc_payload *v = &record->value;
  if (v->kind != WC_TEXT && v->kind != WC_JSON) return WC_KEEP;
  r->out.len = 0;
  r->masked = 0;
  if (v->kind == WC_TEXT) mask_text(r, v->data, v->len);
  else mask_json(r, v->data, v->len);
  if (r->masked == 0) return WC_KEEP;
  out->value.data = (const char *)r->out.ptr;
  out->value.len = r->out.len;
  return WC_REPLACE;
}

static const wc_transform_def redact = {
    .name = "io.wasmconnect.c.Redact",
    WC_ALIASES("Redact", "CRedact"),
    .version = "0.1.0",
    .description = "Masks long runs of digits in text and JSON string values, keeping the last few (written in C)",
    WC_KEYS(keys),
    .validate = validate,
    .configure = configure,
    .apply = apply,
};

WC_TRANSFORMATION(redact)
