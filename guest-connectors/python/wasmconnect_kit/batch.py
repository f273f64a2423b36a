"""The contract's packed batches (``wasmconnect:connector@0.2.0``, interface
``batches``) to and from the records connector code works with.

A batch crosses the boundary as one byte buffer (``data``) plus fixed-size
entries pointing into it, so the host lowers a batch of any size in a few
allocations. Authors never see it: the export glue unpacks what ``put`` and
``apply`` receive into ordinary records and packs what ``poll`` and
``apply`` return.
"""

from __future__ import annotations

from componentize_py_types import Err
from wit_world.imports import batches

from ._types import types

from .errors import to_task_error, Fatal


def _malformed(what: str):
    return Err(to_task_error(Fatal(f"the host sent a malformed batch: {what}")))


class _Unpacker:
    """Reads one batch's buffer, topics and headers; refuses what points
    outside them rather than trusting it."""

    def __init__(self, batch):
        self.data = memoryview(batch.data)
        self.topics = batch.topics
        self.headers = batch.headers

    def bytes(self, span) -> bytes:
        end = span.offset + span.len
        if end > len(self.data):
            raise _malformed(f"span {span.offset}..{end} lies outside {len(self.data)} bytes")
        return bytes(self.data[span.offset:end])

    def text(self, span) -> str:
        try:
            return self.bytes(span).decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("text is not UTF-8") from None

    def topic(self, index: int) -> str:
        if index >= len(self.topics):
            raise _malformed(f"topic index {index} of {len(self.topics)}")
        return self.topics[index]

    def payload(self, packed):
        if packed is None:
            return None
        if packed.kind == batches.PayloadKind.BINARY:
            return types.Payload_Binary(self.bytes(packed.bytes))
        if packed.kind == batches.PayloadKind.TEXT:
            return types.Payload_Text(self.text(packed.bytes))
        schema = None if packed.schema is None else self.text(packed.schema)
        return types.Payload_Json(types.JsonPayload(self.text(packed.bytes), schema))

    def header_list(self, r) -> list:
        end = r.start + r.count
        if end > len(self.headers):
            raise _malformed(f"headers {r.start}..{end} of {len(self.headers)}")
        return [
            types.Header(self.text(h.key), None if h.value is None else self.bytes(h.value))
            for h in self.headers[r.start:end]
        ]


def unpack_sink(batch) -> list:
    """The ``SinkRecord`` objects of a ``sink-batch``."""
    u = _Unpacker(batch)
    return [
        types.SinkRecord(
            u.topic(r.topic), r.partition, r.offset, u.payload(r.key), u.payload(r.value),
            u.header_list(r.headers), r.timestamp, r.timestamp_type,
        )
        for r in batch.records
    ]


class _Packer:
    """Builds one batch's buffer, topics and headers."""

    def __init__(self):
        self.data = bytearray()
        self.topics: list = []
        self.headers: list = []

    def span(self, raw: bytes):
        offset = len(self.data)
        self.data += raw
        return batches.Span(offset, len(raw))

    def topic(self, topic: str) -> int:
        if topic in self.topics:
            return self.topics.index(topic)
        self.topics.append(topic)
        return len(self.topics) - 1

    def payload(self, payload):
        if payload is None:
            return None
        if isinstance(payload, types.Payload_Binary):
            return batches.PackedPayload(batches.PayloadKind.BINARY, self.span(payload.value), None)
        if isinstance(payload, types.Payload_Text):
            return batches.PackedPayload(
                batches.PayloadKind.TEXT, self.span(payload.value.encode("utf-8")), None)
        doc = payload.value
        schema = None if doc.schema is None else self.span(doc.schema.encode("utf-8"))
        return batches.PackedPayload(
            batches.PayloadKind.JSON, self.span(doc.document.encode("utf-8")), schema)

    def header_range(self, headers) -> "batches.HeaderRange":
        start = len(self.headers)
        for h in headers:
            value = None if h.value is None else self.span(h.value)
            self.headers.append(batches.PackedHeader(self.span(h.key.encode("utf-8")), value))
        return batches.HeaderRange(start, len(headers))


def pack_sink(records) -> "batches.SinkBatch":
    """A ``sink-batch`` of ``SinkRecord`` objects (what the host sends to
    ``put``; the kit's tests use it to drive a task as the worker does)."""
    p = _Packer()
    packed = [
        batches.PackedSinkRecord(
            p.topic(r.topic), r.partition, r.offset, p.payload(r.key), p.payload(r.value),
            p.header_range(r.headers), r.timestamp, r.timestamp_type,
        )
        for r in records
    ]
    return batches.SinkBatch(bytes(p.data), p.topics, p.headers, packed)


def pack_source(records) -> "batches.SourceBatch":
    """A ``source-batch`` of WIT ``SourceRecord`` objects (what ``poll``
    returns)."""
    p = _Packer()
    packed = [
        batches.PackedSourceRecord(
            p.span(r.source_partition.encode("utf-8")), p.span(r.source_offset.encode("utf-8")),
            p.topic(r.topic), r.partition, p.payload(r.key), p.payload(r.value),
            p.header_range(r.headers), r.timestamp, r.ack_token,
        )
        for r in records
    ]
    return batches.SourceBatch(bytes(p.data), p.topics, p.headers, packed)


def unpack_source(batch) -> list:
    """The WIT ``SourceRecord`` objects of a ``source-batch`` (what the host
    makes of ``poll``'s answer; the kit's tests read polls with it)."""
    u = _Unpacker(batch)
    return [
        types.SourceRecord(
            u.text(r.source_partition), u.text(r.source_offset), u.topic(r.topic), r.partition,
            u.payload(r.key), u.payload(r.value), u.header_list(r.headers), r.timestamp,
            r.ack_token,
        )
        for r in batch.records
    ]


def unpack_transform(batch) -> list:
    """The ``TransformRecord`` objects of a ``transform-batch``."""
    u = _Unpacker(batch)
    return [
        types.TransformRecord(
            u.topic(r.topic), r.partition, u.payload(r.key), u.payload(r.value),
            u.header_list(r.headers), r.timestamp,
        )
        for r in batch.records
    ]


def pack_transform(records) -> "batches.TransformBatch":
    """A ``transform-batch`` of ``TransformRecord`` objects."""
    p = _Packer()
    packed = [
        batches.PackedTransformRecord(
            p.topic(r.topic), r.partition, p.payload(r.key), p.payload(r.value),
            p.header_range(r.headers), r.timestamp,
        )
        for r in records
    ]
    return batches.TransformBatch(bytes(p.data), p.topics, p.headers, packed)
