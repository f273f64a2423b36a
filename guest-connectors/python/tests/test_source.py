"""Tests of the kit's source role (wasmconnect_kit.source), the source
template and the HttpPollSource example, with fake imports.

    ~/.cache/wasmconnect/polyglot/venv/bin/python -m unittest discover -s guest-connectors/python/tests

The export classes are driven as the worker drives them; polls are
unpacked as the worker unpacks them. HttpPollSource's requests go to a
stand-in for ``wc.http.request`` that serves canned answers (the kit's
HTTP client itself runs against real servers in tests/tests/polyglot_http.rs
and tests/tests/polyglot_python.rs).
"""

import json
import time
import unittest

from fakehost import OFFSET_READS, OFFSETS, STOP, Err, load_app, types
from wit_world.exports import source_task as wit_source_task

import wasmconnect_kit as wc
from wasmconnect_kit.batch import unpack_source
from wasmconnect_kit.http import Response


def polled(task):
    """What the worker makes of one poll: (topic, key, value, partition, offset)."""
    return [(r.topic, wc.decode(r.key), wc.decode(r.value), json.loads(r.source_partition),
             json.loads(r.source_offset)) for r in unpack_source(task.poll())]


class Counter(wc.SourceConnector):
    name = "test.Counter"
    config_def = [wc.Key("topic", "string", required=True)]


class CounterTask(wc.SourceTask):
    def start(self, config):
        self.topic = config.required("topic")
        done = self.offset({"c": 1})
        self.n = 0 if done is None else done["n"] + 1
        self.acks = []
        self.commits = 0

    def poll(self):
        n, self.n = self.n, self.n + 1
        return [wc.SourceRecord(self.topic, {"n": n}, key=str(n), source_partition={"c": 1},
                                source_offset={"n": n}, headers={"h": "v", "nil": None},
                                timestamp=5, ack_token=n)]

    def commit_records(self, acks):
        self.acks.extend(acks)

    def commit(self):
        self.commits += 1


class SourceKitTest(unittest.TestCase):
    def setUp(self):
        OFFSETS.clear()
        OFFSET_READS.clear()
        self.Plugin, self.Connector, self.Task = wc.export_source(Counter, CounterTask)

    def test_metadata_and_connector(self):
        meta = self.Plugin().metadata()
        self.assertEqual((meta.name, meta.kind.name), ("test.Counter", "SOURCE"))
        self.Connector().start([("topic", "t")])
        self.assertEqual(self.Connector().task_configs(2), [[("topic", "t")]] * 2)
        self.assertTrue(self.Connector().alter_offsets([], []))

    def test_records_carry_sorted_json_offsets_and_resume(self):
        task = self.Task()
        task.start([("topic", "t")])
        self.assertEqual(OFFSET_READS, [['{"c":1}']])
        batch = task.poll()
        r = unpack_source(batch)[0]
        self.assertEqual((r.topic, r.source_partition, r.source_offset), ("t", '{"c":1}', '{"n":0}'))
        self.assertEqual(r.key, types.Payload_Text("0"))
        self.assertEqual(r.value, types.Payload_Json(types.JsonPayload('{"n":0}', None)))
        self.assertEqual([(h.key, h.value) for h in r.headers], [("h", b"v"), ("nil", None)])
        self.assertEqual((r.timestamp, r.ack_token, r.partition), (5, 0, None))
        # A restart reads the committed offset back and goes on after it.
        OFFSETS['{"c":1}'] = '{"n":41}'
        task = self.Task()
        task.start([("topic", "t")])
        self.assertEqual(polled(task), [("t", "42", {"n": 42}, {"c": 1}, {"n": 42})])

    def test_ack_conversion(self):
        seen = []

        class Acking(CounterTask):
            def commit_records(self, acks):
                seen.extend(acks)

            def commit(self):
                seen.append("commit")

        _, _, Task = wc.export_source(Counter, Acking)
        task = Task()
        task.start([("topic", "t")])
        task.commit_records([
            wit_source_task.RecordAck(3, wit_source_task.AckStatus_Written((2, 100))),
            wit_source_task.RecordAck(4, wit_source_task.AckStatus_Filtered()),
        ])
        task.commit()
        self.assertEqual(seen, [wc.Ack(3, True, 2, 100), wc.Ack(4, False), "commit"])

    def test_bad_records_fail_naming_the_problem(self):
        cases = [
            (wc.SourceRecord("t", 1, source_offset=[1]), "source_offset must be a dict"),
            (wc.SourceRecord("", 1), "needs a topic"),
            (wc.SourceRecord("t", {1, 2}), "cannot send a set"),
            (wc.SourceRecord("t", 1, headers={"h": 3}), "header 'h'"),
            ("not a record", "poll returned a str"),
        ]
        for bad, message in cases:
            class Bad(CounterTask):
                def poll(self):
                    return [bad]

            _, _, Task = wc.export_source(Counter, Bad)
            task = Task()
            task.start([("topic", "t")])
            with self.assertRaises(Err) as e:
                task.poll()
            self.assertIsInstance(e.exception.value, types.TaskError_Fatal)
            self.assertIn(message, e.exception.value.value)

    def test_retriable_poll_and_stored_offset_not_an_object(self):
        class Busy(CounterTask):
            def poll(self):
                raise wc.Retriable("busy", backoff_ms=50)

        _, _, Task = wc.export_source(Counter, Busy)
        task = Task()
        task.start([("topic", "t")])
        with self.assertRaises(Err) as e:
            task.poll()
        self.assertEqual(e.exception.value, types.TaskError_Retriable(types.RetriableError("busy", 50)))
        OFFSETS['{"c":1}'] = "[1]"
        with self.assertRaises(Err) as e:
            self.Task().start([("topic", "t")])
        self.assertIn("not a JSON object", e.exception.value.value)

    def test_export_refuses_wrong_classes(self):
        with self.assertRaises(TypeError):
            wc.export_source(Counter, object)
        with self.assertRaises(TypeError):
            wc.export_source(wc.SinkConnector, CounterTask)

    def test_sleep_wakes_on_stop(self):
        STOP[0] = True
        try:
            started = time.monotonic()
            self.assertFalse(wc.sleep(5))
            self.assertLess(time.monotonic() - started, 1)
        finally:
            STOP[0] = False
        self.assertTrue(wc.sleep(0.01))


class SourceTemplateTest(unittest.TestCase):
    def test_ticks_resume_after_the_committed_one(self):
        OFFSETS.clear()
        app = load_app("templates/source")
        problems = {v.name for v in app.Plugin().validate([("interval.ms", "-1")])}
        self.assertEqual(problems, {"interval.ms"})
        task = app.SourceTask()
        task.start([("topic", "t"), ("interval.ms", "0")])
        self.assertEqual(polled(task), [("t", "0", "tick 0", {"counter": "ticks"}, {"n": 0})])
        OFFSETS['{"counter":"ticks"}'] = '{"n":6}'
        task.start([("topic", "t"), ("interval.ms", "0")])
        self.assertEqual(polled(task)[0][:3], ("t", "7", "tick 7"))


def answer(status, body, url="http://api.test/items"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(url, status, [], raw)


class HttpPollTest(unittest.TestCase):
    BASE = [("http.url", "http://api.test/items"), ("topic", "items"), ("poll.interval.ms", "0")]

    def setUp(self):
        OFFSETS.clear()
        self.app = load_app("examples/http-poll-source")
        self.requests = []
        self.answers = []
        self.saved = wc.http.request

        def fake(method, url, **options):
            self.requests.append((method, url))
            next_answer = self.answers.pop(0)
            if isinstance(next_answer, Exception):
                raise next_answer
            return next_answer

        wc.http.request = fake

    def tearDown(self):
        wc.http.request = self.saved

    def start(self, *extra):
        task = self.app.SourceTask()
        task.start(self.BASE + list(extra))
        return task

    def test_validate(self):
        problems = {v.name: v.errors for v in self.app.Plugin().validate(
            [("http.url", "ftp://x"), ("poll.interval.ms", "-5"), ("records.field", "a..b")])}
        self.assertEqual(set(problems), {"http.url", "topic", "poll.interval.ms", "records.field"})
        self.assertIn("must be an http:// or https:// URL", problems["http.url"][0])
        problems = {v.name: v.errors for v in self.app.Plugin().validate(
            self.BASE + [("request.timeout.ms", "0")])}
        self.assertEqual(problems, {"request.timeout.ms": [
            "Invalid value 0 for configuration request.timeout.ms: Value must be at least 1"]})
        self.assertEqual(self.app.Plugin().validate(self.BASE), [])
        url_key = [k for k in self.app.Plugin().config_definition() if k.name == "http.url"][0]
        self.assertEqual(url_key.resource.name, "URL")

    def test_pages_cursor_and_resume(self):
        task = self.start()
        self.answers = [answer(200, [{"id": 2, "v": "b"}, {"id": 1, "v": "a"}]),
                        answer(200, [{"id": 2, "v": "b"}, {"id": 3, "v": "c"}]),
                        answer(200, [])]
        partition = {"url": "http://api.test/items"}
        self.assertEqual(polled(task), [
            ("items", "1", {"id": 1, "v": "a"}, partition, {"cursor": 1, "id": 1}),
            ("items", "2", {"id": 2, "v": "b"}, partition, {"cursor": 2, "id": 2}),
        ])
        # The server repeats id 2: only what lies beyond the cursor is sent.
        self.assertEqual([r[1] for r in polled(task)], ["3"])
        self.assertEqual(polled(task), [])
        self.assertEqual([u for _, u in self.requests], [
            "http://api.test/items", "http://api.test/items?since=2",
            "http://api.test/items?since=3"])
        # After a restart the committed cursor is where the next fetch starts.
        OFFSETS['{"url":"http://api.test/items"}'] = '{"cursor":3,"id":3}'
        self.answers = [answer(200, [{"id": 3}, {"id": 4}])]
        self.assertEqual([r[4] for r in polled(self.start())], [{"cursor": 4, "id": 4}])
        self.assertEqual(self.requests[-1][1], "http://api.test/items?since=3")

    def test_ties_across_pages_and_restarts(self):
        task = self.start(("cursor.field", "t"))
        self.answers = [answer(200, [{"id": "a", "t": 1}, {"id": "c", "t": 2}, {"id": "b", "t": 2}]),
                        answer(200, [{"id": "b", "t": 2}, {"id": "c", "t": 2}, {"id": "d", "t": 2}]),
                        answer(200, [{"id": "b", "t": 2}, {"id": "c", "t": 2}, {"id": "d", "t": 2}])]
        # Sent in (cursor, id) order; the next page repeats the tie at t=2
        # and brings one more: only that one is new.
        self.assertEqual([(r[1], r[4]) for r in polled(task)], [
            ("a", {"cursor": 1, "id": "a"}), ("b", {"cursor": 2, "id": "b"}),
            ("c", {"cursor": 2, "id": "c"})])
        self.assertEqual([r[1] for r in polled(task)], ["d"])
        self.assertEqual(polled(task), [])
        self.assertEqual([u for _, u in self.requests], [
            "http://api.test/items", "http://api.test/items?since=2",
            "http://api.test/items?since=2"])
        # Only b was acknowledged before a restart: c and d come again.
        OFFSETS['{"url":"http://api.test/items"}'] = '{"cursor":2,"id":"b"}'
        self.answers = [answer(200, [{"id": "b", "t": 2}, {"id": "c", "t": 2}, {"id": "d", "t": 2}])]
        self.assertEqual([r[1] for r in polled(self.start(("cursor.field", "t")))], ["c", "d"])
        # An offset of the earlier version (no id) took every object at
        # its cursor as sent.
        OFFSETS['{"url":"http://api.test/items"}'] = '{"cursor":2}'
        self.answers = [answer(200, [{"id": "b", "t": 2}, {"id": "e", "t": 3}])]
        self.assertEqual([r[1] for r in polled(self.start(("cursor.field", "t")))], ["e"])
        # Ids of every JSON kind order without failing: null, numbers,
        # text, then the rest by their JSON text.
        OFFSETS.clear()
        self.answers = [answer(200, [{"id": [1], "t": 9}, {"id": "x", "t": 9}, {"t": 9},
                                     {"id": 5, "t": 9}, {"id": True, "t": 9}])]
        self.assertEqual([r[1] for r in polled(self.start(("cursor.field", "t")))],
                         [None, "5", "x", "[1]", "true"])

    def test_nested_array_text_cursor_and_interval(self):
        task = self.start(("records.field", "data.items"), ("cursor.field", "at"),
                          ("id.field", "ref.code"), ("cursor.param", "after"),
                          ("poll.interval.ms", "60000"))
        self.answers = [answer(200, {"data": {"items": [
            {"ref": {"code": 7}, "at": "2024-01-01T00:00:00Z"},
            {"at": "2024-01-02T00:00:00Z"}]}}), answer(200, {"data": {}})]
        got = polled(task)
        self.assertEqual([(r[1], r[4]) for r in got], [
            ("7", {"cursor": "2024-01-01T00:00:00Z", "id": 7}),
            (None, {"cursor": "2024-01-02T00:00:00Z", "id": None})])
        self.assertEqual(polled(task), [])
        self.assertEqual(self.requests[-1][1],
                         "http://api.test/items?after=2024-01-02T00%3A00%3A00Z")
        # Caught up: the next poll waits (at most a second) instead of fetching.
        started = time.monotonic()
        self.assertEqual(polled(task), [])
        self.assertGreater(time.monotonic() - started, 0.9)
        self.assertEqual(len(self.requests), 2)

    def assert_poll_fails(self, task, retriable, message):
        with self.assertRaises(Err) as e:
            task.poll()
        error = e.exception.value
        if retriable:
            self.assertIsInstance(error, types.TaskError_Retriable)
            self.assertIn(message, error.value.message)
            self.assertEqual(error.value.backoff_ms, 1000)
        else:
            self.assertIsInstance(error, types.TaskError_Fatal)
            self.assertIn(message, error.value)

    def test_failures(self):
        task = self.start()
        self.answers = [
            answer(503, b"down"), wc.HttpError("transport", "request to x failed: ConnectionRefused"),
            answer(404, b"no such list"), wc.HttpError("denied", "the worker refused"),
            answer(200, b"<html>"), answer(200, {"a": 1}), answer(200, [1]),
            answer(200, [{"name": "no id"}]), answer(200, [{"id": 1}, {"id": "x"}]),
            answer(200, b"[" * 100000 + b"]" * 100000), answer(200, b'[{"id": NaN}]'),
        ]
        self.assert_poll_fails(task, True, "answered HTTP 503: down")
        self.assert_poll_fails(task, True, "ConnectionRefused")
        self.assert_poll_fails(task, False, "answered HTTP 404: no such list (check http.url")
        self.assert_poll_fails(task, False, "the worker refused")
        self.assert_poll_fails(task, False, "a body that is not JSON")
        self.assert_poll_fails(task, False, "expected a JSON array of objects as the body, got dict")
        self.assert_poll_fails(task, False, "element 0 is a int, not an object")
        self.assert_poll_fails(task, False, "object 0 of the answer has no number or text at id")
        self.assert_poll_fails(task, False, "mixes numbers and text")
        self.assert_poll_fails(task, False, "answered with JSON nested too deeply to read")
        self.assert_poll_fails(task, False, "a body that is not JSON (NaN is not a JSON value)")


if __name__ == "__main__":
    unittest.main()
