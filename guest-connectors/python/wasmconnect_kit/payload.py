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
