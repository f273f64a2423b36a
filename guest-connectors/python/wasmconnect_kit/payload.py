"""Keys and values (the WIT ``payload`` variant) as Python values.

A sink receives what the worker's converter produced: ``text`` from
StringConverter, ``binary`` from ByteArrayConverter, ``json`` from
JsonConverter (the document plus, with schemas enabled, its Connect schema).
"""

from __future__ import annotations

import json as _json
from typing import Any, Optional

from ._types import types


def decode(payload) -> Any:
    """``None`` (null key/value) → ``None``; ``text`` → ``str``; ``binary`` →
    ``bytes``; ``json`` → the parsed document (``dict``, ``list``, ``str``,
    number, ``bool`` or ``None``). A ``json`` payload whose document does not
    parse is returned as its raw text rather than lost."""

    if payload is None:
        return None
    if isinstance(payload, types.Payload_Json):
        try:
            return _json.loads(payload.value.document)
        except ValueError:
            return payload.value.document
    return payload.value


def schema(payload) -> Optional[dict]:
    """The Connect schema of a ``json`` payload (parsed), else ``None``."""

    if isinstance(payload, types.Payload_Json) and payload.value.schema:
        try:
            return _json.loads(payload.value.schema)
        except ValueError:
            return None
    return None


def text(value: str):
    """A ``text`` payload."""

    return types.Payload_Text(value)


def binary(value: bytes):
    """A ``binary`` payload."""

    return types.Payload_Binary(bytes(value))


def json_payload(value: Any, schema: Optional[dict] = None):
    """A ``json`` payload holding ``value`` serialized (and an optional schema)."""

    return types.Payload_Json(types.JsonPayload(
        _json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        None if schema is None else _json.dumps(schema, separators=(",", ":")),
    ))


def headers(record) -> "dict[str, Optional[bytes]]":
    """A record's headers as ``{key: bytes or None}`` (a repeated key keeps
    its last value; iterate ``record.headers`` to see every one)."""
    return {h.key: h.value for h in record.headers}


def to_payload(value: Any):
    """A Python value as a key or value to send: ``None`` → null; ``str`` →
    ``text``; ``bytes`` (``bytearray``, ``memoryview``) → ``binary``; a
    payload (from :func:`text`, :func:`binary`, :func:`json_payload`, or a
    record) as it is; anything else (``dict``, ``list``, number, ``bool``)
    → a schemaless ``json`` payload. A JSON string is
    ``json_payload("…")``."""

    if value is None:
        return None
    if isinstance(value, (types.Payload_Text, types.Payload_Binary, types.Payload_Json)):
        return value
    if isinstance(value, str):
        return types.Payload_Text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return types.Payload_Binary(bytes(value))
    try:
        return json_payload(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"cannot send a {type(value).__name__} as a key or value: {e}") from None


def to_headers(headers: Any) -> list:
    """Headers to send, from a mapping or an iterable of ``(key, value)``
    pairs (or WIT ``Header`` objects): values ``bytes``, ``str`` (sent as
    UTF-8) or ``None`` (a null header value)."""

    if not headers:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    out = []
    for item in items:
        if isinstance(item, types.Header):
            out.append(item)
            continue
        key, value = item
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif value is not None:
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"header {key!r}: a value is bytes, str or None, "
                                f"not {type(value).__name__}")
            value = bytes(value)
        out.append(types.Header(str(key), value))
    return out


def kind(payload) -> Optional[str]:
    """Which form a key or value has: ``"text"``, ``"binary"``, ``"json"``,
    or ``None`` for null."""

    if payload is None:
        return None
    if isinstance(payload, types.Payload_Text):
        return "text"
    if isinstance(payload, types.Payload_Binary):
        return "binary"
    return "json"
