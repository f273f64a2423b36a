"""Host-side tests of the kit and the examples, with fake imports.

    ~/.cache/wasmconnect/polyglot/venv/bin/python -m unittest discover -s guest-connectors/python/tests

The fake host (fakehost.py) generates the bindings into a temporary
directory (componentize-py, offline) and replaces the host imports with
fakes; these tests drive the export classes as the worker would.
`build.sh` plus `wasmconnect plugin test` check the real components;
test_db.py covers the database wrapper and the SqlSink example.
"""

import base64
import json
import unittest

from fakehost import (DISK, GRANTED, LOGS, SYNCS, Err, FakeFile, batches, files, load_app,
                      record, types)

import wasmconnect_kit as wc
from wasmconnect_kit.batch import pack_sink


class KitTest(unittest.TestCase):
    def test_config(self):
        c = wc.Config([("a", "1"), ("b", " TRUE "), ("a", "2"), ("l", "x, y,,z"), ("blank", " ")])
        self.assertEqual(c["a"], "2")
        self.assertEqual(c.int("a"), 2)
        self.assertIs(c.bool("b"), True)
        self.assertEqual(c.list("l"), ["x", "y", "z"])
        self.assertIsNone(c.text("blank"))
        self.assertEqual(c.int("missing", 7), 7)
        with self.assertRaises(wc.Fatal):
            c.required("blank")
        with self.assertRaises(wc.Fatal):
            c.bool("l")
        self.assertEqual(c.with_values(x=True)["x"], "true")

    def test_key(self):
        k = wc.Key("f", "string", "doc", required=True, resource="write-file", importance="high")
        self.assertTrue(k.required)
        self.assertEqual(k.resource.name, "WRITE_FILE")
        self.assertEqual(wc.Key("m", "boolean", default=False).default_value, "false")
        with self.assertRaises(ValueError):
            wc.Key("x", "strng")

    def test_payloads(self):
        self.assertIsNone(wc.decode(None))
        self.assertEqual(wc.decode(wc.text("hi")), "hi")
        self.assertEqual(wc.decode(wc.binary(b"\x00")), b"\x00")
        p = wc.json_payload({"a": [1, 2]}, {"type": "struct"})
        self.assertEqual(wc.decode(p), {"a": [1, 2]})
        self.assertEqual(wc.schema(p), {"type": "struct"})
        self.assertEqual(wc.decode(types.Payload_Json(types.JsonPayload("{oops", None))), "{oops")

    def test_files(self):
        GRANTED["/r"] = "read"
        DISK["/r"] = bytearray(b"x" * (wc.files.CHUNK + 3))
        self.assertEqual(len(wc.read_bytes("/r")), wc.files.CHUNK + 3)
        with self.assertRaises(wc.FileError) as e:
            wc.open_append("/r")
        self.assertEqual(e.exception.kind, "not-granted")

    def test_logging_is_lazy(self):
        LOGS.clear()
        wc.trace("%s", object())
        wc.info("n=%d", 3)
        self.assertEqual(LOGS, [("INFO", "n=3")])


class TemplateTest(unittest.TestCase):
    def test_counts(self):
        app = load_app("templates/sink")
        LOGS.clear()
        app.Connector().start([("name", "x")])
        self.assertEqual(len(app.Connector().task_configs(2)), 2)
        app.SinkTask().start([("name", "x")])
        app.SinkTask().put(pack_sink([record(0), record(1)]))
        current = [types.PartitionOffset("t", 0, 2)]
        self.assertEqual(app.SinkTask().pre_commit(current), current)
        self.assertIn(("INFO", "received 2 records (2 in total)"), LOGS)


class JsonLinesTest(unittest.TestCase):
    def setUp(self):
        self.app = load_app("examples/json-lines-sink")
        DISK.pop("/out.jsonl", None)
        GRANTED["/out.jsonl"] = "append"

    def run_task(self, config, records):
        task = self.app.SinkTask()
        task.start(config)
        task.open([types.TopicPartition("t", 0)])
        task.put(pack_sink(records))
        current = [types.PartitionOffset("t", 0, len(records))]
        SYNCS.clear()
        self.assertEqual(task.pre_commit(current), current)
        self.assertEqual(SYNCS, ["/out.jsonl"])
        task.close([types.TopicPartition("t", 0)])
        task.stop()
        return [json.loads(line) for line in DISK["/out.jsonl"].decode().splitlines()]

    def test_metadata_and_validate(self):
        plugin = self.app.Plugin()
        self.assertEqual(plugin.metadata().name, "io.wasmconnect.python.JsonLinesSinkConnector")
        self.assertEqual(plugin.validate([("file", "/out.jsonl")]), [])
        problems = {v.name: v.errors for v in plugin.validate([("binary.encoding", "hex")])}
        self.assertEqual(set(problems), {"file", "binary.encoding"})
        self.assertIn("Missing required configuration", problems["file"][0])

    def test_lines(self):
        lines = self.run_task([("file", "/out.jsonl")], [
            record(0, wc.text("k"), wc.json_payload({"n": 1}), [("h", b"v"), ("nil", None)]),
            record(1, None, wc.binary(b"\xff\x00"), timestamp=None),
            record(2, None, None),
        ])
        self.assertEqual(lines[0], {"topic": "t", "partition": 0, "offset": 0,
                                    "timestamp": 1_700_000_000_000, "key": "k",
                                    "value": {"n": 1}, "headers": {"h": "dg==", "nil": None}})
        self.assertEqual(lines[1]["value"], base64.b64encode(b"\xff\x00").decode())
        self.assertIsNone(lines[1]["timestamp"])
        self.assertIsNone(lines[2]["value"])

    def test_values_only_utf8(self):
        lines = self.run_task([("file", "/out.jsonl"), ("include.metadata", "false"),
                               ("binary.encoding", "utf8")],
                              [record(0, None, wc.binary("é".encode())), record(1, None, wc.text("x"))])
        self.assertEqual(lines, ["é", "x"])

    def test_not_granted_is_fatal(self):
        task = self.app.SinkTask()
        with self.assertRaises(Err) as e:
            task.start([("file", "/elsewhere")])
        self.assertIsInstance(e.exception.value, types.TaskError_Fatal)
        self.assertIn("Couldn't open /elsewhere", e.exception.value.value)

    def test_io_error_is_retriable(self):
        task = self.app.SinkTask()
        task.start([("file", "/out.jsonl")])

        def disk_full(self, data):
            raise Err(files.FileError_Io("disk full"))

        saved, FakeFile.append = FakeFile.append, disk_full
        try:
            with self.assertRaises(Err) as e:
                task.put(pack_sink([record(0, None, wc.text("x"))]))
        finally:
            FakeFile.append = saved
        self.assertIsInstance(e.exception.value, types.TaskError_Retriable)
        self.assertEqual(e.exception.value.value.backoff_ms, 1000)
        self.assertIn("disk full", e.exception.value.value.message)

    def test_unexpected_exception_is_fatal_with_traceback(self):
        task = self.app.SinkTask()
        task.start([("file", "/out.jsonl")])
        with self.assertRaises(Err) as e:
            task.put("not a batch")
        self.assertIsInstance(e.exception.value, types.TaskError_Fatal)
        self.assertIn("AttributeError", e.exception.value.value)
        self.assertIn("Traceback", e.exception.value.value)


class BatchTest(unittest.TestCase):
    def test_round_trip(self):
        records = [
            record(0, wc.text("k"), wc.json_payload({"n": 1}, {"type": "struct"}),
                   [("h", b"v"), ("nil", None)]),
            record(1, None, wc.binary(b"\xff\x00"), timestamp=None),
        ]
        got = wc.batch.unpack_sink(pack_sink(records))
        self.assertEqual([(r.offset, wc.decode(r.key), wc.decode(r.value), wc.headers(r))
                          for r in got],
                         [(0, "k", {"n": 1}, {"h": b"v", "nil": None}),
                          (1, None, b"\xff\x00", {})])
        self.assertEqual(wc.schema(got[0].value), {"type": "struct"})

    def test_a_span_outside_the_data_is_refused(self):
        batch = pack_sink([record(0, None, wc.text("x"))])
        batch.records[0].value.bytes = batches.Span(0, 99)
        with self.assertRaises(Err) as e:
            wc.batch.unpack_sink(batch)
        self.assertIsInstance(e.exception.value, types.TaskError_Fatal)
        self.assertIn("malformed batch", e.exception.value.value)


if __name__ == "__main__":
    unittest.main()
