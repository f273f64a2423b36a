"""JsonLinesSink: appends every record to a file as one JSON line.

With `include.metadata=true` (the default) each line is

    {"topic":"t","partition":0,"offset":42,"timestamp":1700000000000,
     "key":…,"value":…,"headers":{"h":…}}

and with `include.metadata=false` just the value. Keys, values and headers
become JSON as follows: a `json` payload (JsonConverter) is its parsed
document (the Connect schema is dropped); `text` (StringConverter) is a
string; `binary` (ByteArrayConverter, and every header value) is a base64
string, or with `binary.encoding=utf8` the bytes decoded as UTF-8 (invalid
sequences replaced by U+FFFD); null is `null`. A repeated header key keeps
its last value.

Each `put` appends its batch in one write; `pre_commit` syncs the file
before the worker commits offsets (at-least-once: a batch retried after a
failed write may appear twice).
"""

import base64
import json

import wasmconnect_kit as wc

FILE = "file"
INCLUDE_METADATA = "include.metadata"
BINARY_ENCODING = "binary.encoding"
ENCODINGS = ("base64", "utf8")


class JsonLinesSinkConnector(wc.SinkConnector):
    name = "io.wasmconnect.python.JsonLinesSinkConnector"
    aliases = ["JsonLinesSink", "PythonJsonLinesSink"]
    version = "0.1.0"
    description = "Appends each record to a file as one JSON line (JSON Lines)"
    task_class = "io.wasmconnect.python.JsonLinesSinkTask"
    config_def = [
        wc.Key(FILE, "string", "The JSON Lines file to append to; created if missing.",
               required=True, importance="high", resource="write-file"),
        wc.Key(INCLUDE_METADATA, "boolean",
               "Write topic, partition, offset, timestamp, key and headers around "
               "each value; false writes the value alone.",
               default=True),
        wc.Key(BINARY_ENCODING, "string",
               "How binary keys, values and header values become JSON strings: "
               "base64 (lossless) or utf8 (invalid bytes replaced).",
               default="base64", importance="low"),
    ]

    def validate(self, config):
        problems = {}
        if config.text(FILE) is None:
            problems[FILE] = ('Missing required configuration "file": name the file the '
                              "JSON lines are appended to (the sandbox has no standard output)")
        encoding = config.get(BINARY_ENCODING, "base64").strip().lower()
        if encoding not in ENCODINGS:
            problems[BINARY_ENCODING] = (f"Invalid value {encoding} for configuration "
                                         f"{BINARY_ENCODING}: must be one of {', '.join(ENCODINGS)}")
        return problems


class JsonLinesSinkTask(wc.SinkTask):
    def start(self, config):
        self.path = config.required(FILE)
        self.include_metadata = config.bool(INCLUDE_METADATA, True)
        self.utf8 = config.get(BINARY_ENCODING, "base64").strip().lower() == "utf8"
        try:
            self.file = wc.open_append(self.path)
        except wc.FileError as e:
            raise wc.Fatal(f"Couldn't open {self.path} for appending: {e.message}")
        self.total = 0

    def put(self, records):
        if not records:
            return
        lines = [json.dumps(self.render(r), ensure_ascii=False, separators=(",", ":"))
                 for r in records]
        self.write("\n".join(lines) + "\n")
        self.total += len(records)
        wc.debug("appended %d records to %s (%d in total)", len(records), self.path, self.total)

    def flush(self):
        try:
            self.file.sync()
        except wc.FileError as e:
            raise self.failure("flushing", e)

    def stop(self):
        try:
            self.flush()
        finally:
            self.file.close()

    def write(self, text):
        try:
            self.file.write(text)
        except wc.FileError as e:
            raise self.failure("writing to", e)

    def failure(self, doing, e):
        message = f"Error {doing} {self.path}: {e.message}"
        if e.kind == "io":  # disk full, I/O hiccup: let the worker retry the batch
            return wc.Retriable(message, backoff_ms=1000)
        return wc.Fatal(message)

    def render(self, record):
        value = self.json_value(record.value)
        if not self.include_metadata:
            return value
        return {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": record.timestamp,
            "key": self.json_value(record.key),
            "value": value,
            "headers": {h.key: self.bytes_value(h.value) for h in record.headers},
        }

    def json_value(self, payload):
        value = wc.decode(payload)
        if isinstance(value, bytes):
            return self.bytes_value(value)
        return value

    def bytes_value(self, data):
        if data is None:
            return None
        if self.utf8:
            return data.decode("utf-8", errors="replace")
        return base64.b64encode(data).decode("ascii")


Plugin, Connector, SinkTask = wc.export_sink(JsonLinesSinkConnector, JsonLinesSinkTask)
