"""Tests of the kit's transform role (wasmconnect_kit.transform), the
transform template and the JsonExtract example, with fake imports.

    ~/.cache/wasmconnect/polyglot/venv/bin/python -m unittest discover -s guest-connectors/python/tests

Batches are packed and the answers unpacked as the worker does: each
record's outcome (keep, drop, or replace with a record of the answer).
"""

import json
import unittest

from fakehost import Err, load_app, transform_record, types
from wit_world.exports import record_transform as rt

import wasmconnect_kit as wc
from wasmconnect_kit.batch import pack_transform, unpack_transform


def run(transform, records):
    """Outcomes as "keep", "drop" or the replacement record."""
    applied = transform.apply(pack_transform(records))
    replacements = unpack_transform(applied.replacements)
    out = []
    for outcome in applied.outcomes:
        if isinstance(outcome, rt.Outcome_Keep):
            out.append("keep")
        elif isinstance(outcome, rt.Outcome_Drop):
            out.append("drop")
        else:
            out.append(replacements[outcome.value])
    return out


class Tagger(wc.Transform):
    name = "test.Tagger"
    config_def = [wc.Key("tag", "string", required=True)]

    def configure(self, config):
        self.tag = config.required("tag")

    def apply(self, record):
        value = wc.decode(record.value)
        if value == "drop me":
            return None
        if value == "same":
            return record
        if value == "in place":
            record.topic = self.tag
            return record
        if value == "boom":
            raise wc.Retriable("later")
        return wc.replace(record, value={"v": value}, key=b"k", headers={"tag": self.tag})


class TransformKitTest(unittest.TestCase):
    def setUp(self):
        self.Plugin, self.Transform = wc.export_transform(Tagger)

    def test_metadata(self):
        meta = self.Plugin().metadata()
        self.assertEqual((meta.name, meta.kind.name), ("test.Tagger", "TRANSFORM"))

    def test_outcomes(self):
        t = self.Transform()
        t.configure([("tag", "x")])
        got = run(t, [transform_record(wc.text(v)) for v in ("drop me", "same", "in place", "a")])
        self.assertEqual(got[:2], ["drop", "keep"])
        self.assertEqual(got[2].topic, "x")
        self.assertEqual(got[3].value, types.Payload_Json(types.JsonPayload('{"v":"a"}', None)))
        self.assertEqual(got[3].key, types.Payload_Binary(b"k"))
        self.assertEqual([(h.key, h.value) for h in got[3].headers], [("tag", b"x")])

    def test_errors(self):
        t = self.Transform()
        with self.assertRaises(Err) as e:
            t.apply(pack_transform([transform_record(wc.text("a"))]))
        self.assertIn("apply was called before configure", e.exception.value.value)
        with self.assertRaises(Err) as e:
            t.configure([])
        self.assertIn('Missing required configuration "tag"', e.exception.value.value)
        t.configure([("tag", "x")])
        with self.assertRaises(Err) as e:
            t.apply(pack_transform([transform_record(wc.text("boom"))]))
        self.assertIsInstance(e.exception.value, types.TaskError_Retriable)

    def test_export_refuses_a_class_without_a_name(self):
        class Nameless(wc.Transform):
            pass

        with self.assertRaises(ValueError):
            wc.export_transform(Nameless)


class TransformTemplateTest(unittest.TestCase):
    def test_uppercases_text_and_drops_tombstones(self):
        app = load_app("templates/transform")
        t = app.RecordTransform()
        t.configure([])
        got = run(t, [transform_record(wc.text("hi")), transform_record(None),
                      transform_record(wc.json_payload("json"))])
        self.assertEqual(got[0].value, types.Payload_Text("HI"))
        self.assertEqual(got[1:], ["drop", "keep"])


class JsonExtractTest(unittest.TestCase):
    def setUp(self):
        self.app = load_app("examples/json-extract")

    def transform(self, **settings):
        t = self.app.RecordTransform()
        t.configure([(k.replace("_", "."), v) for k, v in settings.items()])
        return t

    def test_paths(self):
        parse = self.app.parse_path
        self.assertEqual(parse("$.a.b[2].c"), ["a", "b", 2, "c"])
        self.assertEqual(parse("a"), ["a"])
        for bad in ("$", "a..b", "a[x]", "a[0]b"):
            with self.assertRaises(ValueError):
                parse(bad)

    def test_validate(self):
        problems = {v.name: v.errors for v in self.app.Plugin().validate(
            [("key.path", "x["), ("header.paths", "ok,a..b"), ("missing", "ignore")])}
        self.assertEqual(set(problems), {"key.path", "header.paths", "missing"})
        self.assertIn("Invalid value x[ for configuration key.path", problems["key.path"][0])
        problems = {v.name: v.errors for v in self.app.Plugin().validate([])}
        self.assertIn("nothing to extract", problems["key.path"][0])
        with self.assertRaises(Err) as e:
            self.transform(key_path="a[")
        self.assertIn("key.path", e.exception.value.value)

    def test_key_and_headers_from_every_form(self):
        t = self.transform(key_path="$.user.id", header_paths="kind,tags[1],user",
                           header_prefix="x-")
        doc = {"user": {"id": 7}, "kind": "signup", "tags": ["a", None]}
        forms = [wc.json_payload(doc), wc.text(json.dumps(doc)), wc.binary(json.dumps(doc).encode())]
        for got in run(t, [transform_record(v, headers=[("h", b"1")]) for v in forms]):
            self.assertEqual(got.key, types.Payload_Text("7"))
            self.assertEqual([(h.key, h.value) for h in got.headers], [
                ("h", b"1"), ("x-kind", b"signup"), ("x-tags[1]", None),
                ("x-user", b'{"id":7}')])
        # The value is untouched.
        self.assertEqual(run(t, [transform_record(forms[0])])[0].value, forms[0])

    def test_missing(self):
        records = [transform_record(wc.text("not json")), transform_record(wc.json_payload({"a": 1})),
                   transform_record(None)]
        keep = self.transform(key_path="id", header_paths="a")
        got = run(keep, records)
        self.assertEqual(got[0], "keep")
        self.assertEqual(got[1].key, None)  # the key path is missing: the header still goes
        self.assertEqual([(h.key, h.value) for h in got[1].headers], [("a", b"1")])
        self.assertEqual(got[2], "keep")
        self.assertEqual(run(self.transform(key_path="id", missing="drop"), records),
                         ["drop", "drop", "drop"])
        with self.assertRaises(Err) as e:
            run(self.transform(key_path="id", missing="fail"), records[1:2])
        self.assertIn("the value has nothing at key.path", e.exception.value.value)

    def test_too_deep_and_lone_surrogates_follow_the_policy(self):
        deep = transform_record(wc.text("[" * 100000 + "]" * 100000))
        surrogate_key = transform_record(wc.text('{"id": "\\ud800", "kind": "a"}'))
        surrogate_header = transform_record(wc.binary(b'{"id": 1, "kind": "\\udfff"}'))
        records = [deep, surrogate_key, surrogate_header]
        keep = self.transform(key_path="id", header_paths="kind")
        self.assertEqual(run(keep, records), ["keep", "keep", "keep"])
        self.assertEqual(run(self.transform(key_path="id", header_paths="kind", missing="drop"),
                             records), ["drop", "drop", "drop"])
        fail = self.transform(key_path="id", header_paths="kind", missing="fail")
        for record, message in ((deep, "the value is JSON nested too deeply to read"),
                                (surrogate_key, "the value has text at key.path that is not Unicode"),
                                (surrogate_header, "has text at header.paths kind that is not")):
            with self.assertRaises(Err) as e:
                run(fail, [record])
            self.assertIsInstance(e.exception.value, types.TaskError_Fatal)
            self.assertIn(message, e.exception.value.value)


if __name__ == "__main__":
    unittest.main()
