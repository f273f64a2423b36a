"""JsonExtract: lifts fields out of a JSON value into the record's key and
headers, leaving the value as it is.

    "transforms": "extract",
    "transforms.extract.type": "JsonExtract",
    "transforms.extract.key.path": "$.user.id",
    "transforms.extract.header.paths": "kind,$.tags[0]"

A path is ``$.a.b``, ``a.b`` or ``a.items[2].c``: object fields by name,
list elements by index. The value is read as JSON whatever its form: a
``json`` payload (JsonConverter) is its document, ``text`` and UTF-8
``binary`` are parsed when they hold JSON. The key becomes the text of the
value found (a string as it is, anything else as compact JSON; ``null``
makes a null key); each header path adds a header named ``header.prefix``
plus the path as written, with that text as UTF-8. A value that is not
JSON (or is nested too deeply to read), lacks the key path, or has a key
or header value that is not Unicode text (a lone surrogate escape such
as ``"\\ud800"``, which has no UTF-8 form), passes unchanged, or is
dropped with ``missing=drop``, or fails the record with ``missing=fail``
(the connector's ``errors.tolerance`` decides what follows). With
``missing=keep`` a value that is JSON but lacks only the key path still
gets its headers.
"""

import json
import re

import wasmconnect_kit as wc

KEY_PATH = "key.path"
HEADER_PATHS = "header.paths"
HEADER_PREFIX = "header.prefix"
MISSING = "missing"
POLICIES = ("keep", "drop", "fail")

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def parse_path(spec):
    """``$.a.b[0]`` as ``["a", "b", 0]``; ValueError naming what is wrong."""
    text = spec.strip()
    if text.startswith("$"):
        text = text[1:]
    if not text:
        raise ValueError(f"{spec!r} names no field")
    steps, at = [], 0
    while at < len(text):
        m = _STEP.match(text, at)
        if not m or (m.group(1) is not None and at > 0 and text[at] != "."):
            raise ValueError(f"{spec!r}: cannot read a field or [index] at {text[at:]!r}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        at = m.end()
    return steps


def find(document, steps):
    """The value at ``steps``, or ``_MISSING``."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return _MISSING
        elif not isinstance(document, dict) or step not in document:
            return _MISSING
        document = document[step]
    return document


def as_text(value):
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Unusable(Exception):
    """The value cannot give what is asked of it; the message says why,
    completing "the value …"."""


def document_of(payload):
    """The JSON document a value holds; Unusable when there is none."""
    kind = wc.kind(payload)
    if kind is None:
        raise Unusable("is not JSON")
    if kind == "json":
        raw = payload.value.document
    elif kind == "text":
        raw = payload.value
    else:
        try:
            raw = payload.value.decode("utf-8")
        except UnicodeDecodeError:
            raise Unusable("is not JSON") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise Unusable("is not JSON") from None
    except RecursionError:
        raise Unusable("is JSON nested too deeply to read") from None


def text_at(document, steps, where):
    """The text for the value at ``steps`` (None for null), or
    ``_MISSING``; Unusable when it has no UTF-8 form."""
    found = find(document, steps)
    if found is _MISSING:
        return found
    try:
        text = as_text(found)
        if text is not None:
            # A lone surrogate escape decodes into a str that cannot leave
            # the component: say so here, not when the record is packed.
            text.encode("utf-8")
    except UnicodeEncodeError:
        raise Unusable(f"has text at {where} that is not Unicode (a lone surrogate "
                       "escape, \\ud800-\\udfff)") from None
    except RecursionError:
        raise Unusable(f"has a value at {where} nested too deeply to write") from None
    return text


class JsonExtract(wc.Transform):
    name = "io.wasmconnect.python.JsonExtract"
    aliases = ["JsonExtract", "PythonJsonExtract"]
    version = "0.1.0"
    description = "Copies fields of a JSON value into the record key and headers"
    config_def = [
        wc.Key(KEY_PATH, "string", "The path whose value becomes the key ($.user.id). "
               "Empty: the key is left alone.", default=""),
        wc.Key(HEADER_PATHS, "list", "Paths copied into headers, each named by the prefix "
               "and the path as written.", default=""),
        wc.Key(HEADER_PREFIX, "string", "Prepended to header names.", default=""),
        wc.Key(MISSING, "string", "A value that is not JSON or lacks the key path: keep "
               "(pass unchanged), drop, or fail.", default="keep"),
    ]

    def validate(self, config):
        problems = {}
        for key, specs in ((KEY_PATH, [config.get(KEY_PATH, "")]),
                           (HEADER_PATHS, config.list(HEADER_PATHS, []))):
            for spec in specs:
                if key == KEY_PATH and not spec.strip():
                    continue
                try:
                    parse_path(spec)
                except ValueError as e:
                    problems[key] = f"Invalid value {config.get(key)} for configuration {key}: {e}"
        if not config.get(KEY_PATH, "").strip() and not config.list(HEADER_PATHS, []):
            problems[KEY_PATH] = f"Set {KEY_PATH}, {HEADER_PATHS} or both: there is nothing to extract"
        policy = config.get(MISSING, "keep").strip().lower()
        if policy not in POLICIES:
            problems[MISSING] = (f"Invalid value {config.get(MISSING)} for configuration {MISSING}: "
                                 f"one of {', '.join(POLICIES)}")
        return problems

    def configure(self, config):
        # The worker validated already, but a bad path must never get as
        # far as a record: say which setting is wrong.
        problems = self.validate(config)
        if problems:
            raise wc.Fatal("; ".join(problems.values()))
        key_spec = config.get(KEY_PATH, "").strip()
        self.key_path = parse_path(key_spec) if key_spec else None
        prefix = config.get(HEADER_PREFIX, "")
        self.header_paths = [(prefix + spec, parse_path(spec))
                             for spec in config.list(HEADER_PATHS, [])]
        self.missing = config.get(MISSING, "keep").strip().lower()

    def apply(self, record):
        try:
            key, headers = self.extract(record)
        except Unusable as e:
            if self.missing == "drop":
                return None
            if self.missing == "fail":
                raise wc.Fatal(f"a record of {record.topic}: the value {e}") from None
            return record
        if key is _MISSING:
            return wc.replace(record, headers=headers)
        return wc.replace(record, key=key, headers=headers)

    def extract(self, record):
        """The key text (``_MISSING``: leave the key) and the headers."""
        document = document_of(record.value)
        key = _MISSING
        if self.key_path is not None:
            key = text_at(document, self.key_path, KEY_PATH)
            if key is _MISSING and self.missing != "keep":
                raise Unusable(f"has nothing at {KEY_PATH}")
        headers = list(record.headers)
        for name, steps in self.header_paths:
            text = text_at(document, steps, f"{HEADER_PATHS} {name}")
            if text is not _MISSING:
                headers.append((name, None if text is None else text.encode("utf-8")))
        return key, headers

Plugin, RecordTransform = wc.export_transform(JsonExtract)
