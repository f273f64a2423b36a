"""Base class for single-message transforms, and the glue to the
``transform`` world.

An author subclasses :class:`Transform`, writes :meth:`Transform.apply`
(one record in; the record, a changed record, or ``None`` to drop it out),
then ends the app module with::

    Plugin, RecordTransform = wc.export_transform(MyTransform)

Records are the contract's ``TransformRecord``: ``.topic``, ``.partition``
(``None`` when unknown), ``.key``, ``.value`` (payloads: read them with
:func:`~wasmconnect_kit.payload.decode`), ``.headers`` (``.key``,
``.value``) and ``.timestamp``. Build a changed one with :func:`replace`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from wit_world import exports

from .batch import pack_transform, unpack_transform
from .config import Config
from .errors import Fatal
from .payload import to_headers, to_payload
from .plugin import PluginBase, check_class, checked, plugin_export, start_into

try:  # only the transform world exports record-transform
    from wit_world.exports import record_transform as _rt
except ImportError:  # pragma: no cover - components built for other worlds
    _rt = None

_UNSET: Any = object()


class Transform(PluginBase):
    """A single-message transform (Kafka's ``Transformation``).

    Set the class attributes (``name``, ``config_def``, …, as for
    connectors); ``configure`` gets the transform's own settings (the
    worker strips the ``transforms.<alias>.`` prefix). The worker configures
    one instance per connector task and calls :meth:`apply` from that task
    only.
    """

    def configure(self, config: Config) -> None:
        """Reads the settings; keeps them as ``self.config``."""
        self.config = config

    def apply(self, record) -> Any:
        """Returns ``record`` (unchanged or changed in place), another
        record (see :func:`replace`), or ``None`` to drop it. Raise
        :class:`~wasmconnect_kit.errors.Retriable` or ``Fatal`` to fail the
        batch (the connector's ``errors.tolerance`` decides what follows)."""
        raise NotImplementedError("a transform must implement apply")


def replace(record, *, topic: str = _UNSET, partition: Optional[int] = _UNSET, key: Any = _UNSET,
            value: Any = _UNSET, headers: Any = _UNSET, timestamp: Optional[int] = _UNSET):
    """A copy of ``record`` with the given fields changed. ``key`` and
    ``value`` take Python values (``str`` → text, ``bytes`` → binary,
    ``dict``/``list``/numbers → schemaless JSON, ``None`` → null) or
    payloads; ``headers`` a dict or ``(key, value)`` pairs (the record's
    headers are replaced, not merged)."""
    changes = {}
    if topic is not _UNSET:
        changes["topic"] = topic
    if partition is not _UNSET:
        changes["partition"] = partition
    if key is not _UNSET:
        changes["key"] = to_payload(key)
    if value is not _UNSET:
        changes["value"] = to_payload(value)
    if headers is not _UNSET:
        changes["headers"] = to_headers(headers)
    if timestamp is not _UNSET:
        changes["timestamp"] = timestamp
    return dataclasses.replace(record, **changes)


def _outcomes(transform, records):
    if transform is None:
        raise Fatal("apply was called before configure")
    outcomes, replacements = [], []
    for original in records:
        # The author may change the record in place: hand over a copy (the
        # headers list included) and compare afterwards to tell keep from replace.
        given = dataclasses.replace(original, headers=list(original.headers))
        result = transform.apply(given)
        if result is None:
            outcomes.append(_rt.Outcome_Drop())
        elif result == original:
            outcomes.append(_rt.Outcome_Keep())
        else:
            if not isinstance(result, type(original)):
                raise Fatal(f"apply returned a {type(result).__name__}; return the record, "
                            "wasmconnect_kit.replace(record, …) or None")
            outcomes.append(_rt.Outcome_Replace(len(replacements)))
            replacements.append(result)
    return _rt.Applied(outcomes, pack_transform(replacements))


def export_transform(transform_cls: type):
    """The ``(Plugin, RecordTransform)`` export classes componentize-py
    needs, wired to the author's class."""

    check_class(transform_cls, Transform)
    state: dict = {}
    Plugin = plugin_export(transform_cls, "transform")

    class RecordTransform(exports.RecordTransform):
        def configure(self, config):
            start_into(state, "transform", transform_cls, "configure", config)

        def apply(self, batch):
            return checked(lambda: _outcomes(state.get("transform"), unpack_transform(batch)))

    return Plugin, RecordTransform
