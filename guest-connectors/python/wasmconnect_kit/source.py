"""Base classes for source connectors, and the glue to the ``source`` world.

An author subclasses :class:`SourceConnector` and :class:`SourceTask`, then
ends the app module with::

    Plugin, Connector, SourceTask = wc.export_source(MyConnector, MyTask)

A task's :meth:`SourceTask.poll` returns :class:`SourceRecord` objects,
each carrying where it came from (``source_partition``, a dict) and how far
into it (``source_offset``, a dict). The worker stores the offset of the
last record Kafka acknowledged per partition; after a restart the task
reads it back with :func:`read_offset` (or :meth:`SourceTask.offset`) and
resumes from there.
"""

from __future__ import annotations

import json as _json
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import context

from ._types import types
from .batch import pack_source
from .config import Config
from .errors import Fatal, Retriable
from .payload import to_headers, to_payload
from .plugin import (
    ConnectorBase,
    check_class,
    check_subclass,
    checked,
    connector_export,
    plugin_export,
    quiet,
    start_into,
)

try:  # every source world imports offsets; the kit also loads in the others
    from wit_world.imports import offsets as _offsets
except ImportError:  # pragma: no cover - components built for sink or transform
    _offsets = None


class SourceConnector(ConnectorBase):
    """The connector role and the plugin's description of a source.

    Set the class attributes (:class:`~wasmconnect_kit.plugin.PluginBase`);
    override :meth:`task_configs` to split the work between tasks.
    """


@dataclass
class SourceRecord:
    """A record for Kafka (Kafka Connect's ``SourceRecord``).

    ``key`` and ``value`` are Python values: ``str`` is sent as text,
    ``bytes`` as binary, ``dict``/``list``/numbers as schemaless JSON,
    ``None`` as null (see :func:`~wasmconnect_kit.payload.to_payload`).
    ``source_partition`` and ``source_offset`` are JSON-serializable dicts.
    ``partition`` is the Kafka partition (``None``: the producer's
    partitioner picks one). ``headers`` is a dict or ``(key, value)``
    pairs, values ``bytes``, ``str`` or ``None``. ``timestamp`` is ms since
    the epoch (``None``: the producer stamps it). ``ack_token`` asks for
    the record's fate through :meth:`SourceTask.commit_records`.
    """

    topic: str
    value: Any = None
    key: Any = None
    source_partition: Mapping = field(default_factory=dict)
    source_offset: Mapping = field(default_factory=dict)
    partition: Optional[int] = None
    headers: Any = ()
    timestamp: Optional[int] = None
    ack_token: Optional[int] = None

    def to_wit(self):
        """The WIT ``source-record``; :class:`Fatal` naming what is wrong
        when a field cannot be sent."""
        if not isinstance(self.topic, str) or not self.topic:
            raise Fatal(f"a source record needs a topic, not {self.topic!r}")
        try:
            return types.SourceRecord(
                _object_json(self.source_partition, "source_partition"),
                _object_json(self.source_offset, "source_offset"),
                self.topic,
                None if self.partition is None else int(self.partition),
                to_payload(self.key),
                to_payload(self.value),
                to_headers(self.headers),
                None if self.timestamp is None else int(self.timestamp),
                None if self.ack_token is None else int(self.ack_token),
            )
        except (TypeError, ValueError) as e:
            raise Fatal(f"a record for topic {self.topic} cannot be sent: {e}") from None


def _object_json(value: Any, what: str) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict (a JSON object), not {type(value).__name__}")
    # Sorted and compact: the same dict always makes the same text, which
    # is what the worker keys stored offsets by.
    return _json.dumps(dict(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Ack:
    """What became of a record polled with an ``ack_token``: ``written`` to
    Kafka ``partition`` at ``offset``, or dropped by a transform
    (``written`` false, ``partition`` and ``offset`` ``None``)."""

    token: int
    written: bool
    partition: Optional[int] = None
    offset: Optional[int] = None


class SourceTask:
    """A source task. Only :meth:`poll` is required.

    Kafka's flow: ``start`` (read committed offsets here to resume),
    ``poll`` (again and again), ``commit_records`` (acks of records that
    carried an ``ack_token``), ``commit`` (the worker stored the offsets of
    everything acknowledged so far), ``stop``.
    """

    def start(self, config: Config) -> None:
        """Starts the task; keeps the configuration as ``self.config``."""
        self.config = config

    def poll(self) -> Optional[List[SourceRecord]]:
        """The next records, or ``[]``/``None`` when nothing is ready. Return
        within a second or so (wait with :func:`sleep`) so the worker can
        pause or stop the task. Raise :class:`Retriable` to be polled again
        after a backoff, :class:`Fatal` to fail the task."""
        raise NotImplementedError("a source task must implement poll")

    def commit_records(self, acks: List[Ack]) -> None:
        """Records that carried an ``ack_token`` were written (or dropped by
        a transform), in the order they were polled."""

    def commit(self) -> None:
        """The worker durably stored the offsets of every record Kafka
        acknowledged so far (e.g. delete what they cover upstream)."""

    def stop(self) -> None:
        """Stops the task; no other call follows."""

    def offset(self, partition: Mapping) -> Optional[dict]:
        """The committed offset of source ``partition``, or ``None``."""
        return read_offset(partition)


def read_offsets(partitions: Iterable[Mapping]) -> List[Optional[dict]]:
    """The last committed offset of each source partition (dicts), aligned
    with ``partitions``; ``None`` where nothing was committed yet."""
    if _offsets is None:
        raise Fatal("this component's world has no offsets import: committed offsets "
                    "are for sources (export_source)")
    texts = [_object_json(p, "a source partition") for p in partitions]
    try:
        found = _offsets.read(texts)
    except Err as e:
        error = e.value
        if isinstance(error, types.TaskError_Retriable):
            raise Retriable(f"reading offsets: {error.value.message}",
                            error.value.backoff_ms) from None
        raise Fatal(f"reading offsets: {error.value}") from None
    out = []
    for partition, text in zip(texts, found):
        if text is None:
            out.append(None)
            continue
        try:
            offset = _json.loads(text)
        except ValueError:
            raise Fatal(f"the stored offset of {partition} is not JSON: {text!r}") from None
        if not isinstance(offset, dict):
            raise Fatal(f"the stored offset of {partition} is not a JSON object: {text!r}")
        out.append(offset)
    return out


def read_offset(partition: Mapping) -> Optional[dict]:
    """The last committed offset of one source partition, or ``None``."""
    return read_offsets([partition])[0]


def sleep(seconds: float) -> bool:
    """Waits up to ``seconds``, waking early when the worker asks the task
    to stop or pause. Returns ``False`` when it did (stop waiting)."""
    deadline = _time.monotonic() + max(0.0, seconds)
    while not context.stop_requested():
        left = deadline - _time.monotonic()
        if left <= 0:
            return True
        # Short slices: stop-requested is checked between them.
        _time.sleep(min(left, 0.05))
    return False


def _ack(wit_ack) -> Ack:
    status = wit_ack.status
    written = getattr(status, "value", None)
    if isinstance(written, tuple):
        return Ack(wit_ack.token, True, written[0], written[1])
    return Ack(wit_ack.token, False)


# The export class below shadows the name inside export_*.
_SourceTaskBase = SourceTask


def export_source(connector_cls: type, task_cls: type):
    """The ``(Plugin, Connector, SourceTask)`` export classes componentize-py
    needs, wired to the author's classes."""

    check_class(connector_cls, SourceConnector)
    check_subclass(task_cls, _SourceTaskBase)
    state: dict = {}
    Plugin = plugin_export(connector_cls, "source")
    Connector = connector_export(connector_cls, state)

    def polled():
        records = state["task"].poll() or []
        out = []
        for record in records:
            if not isinstance(record, SourceRecord):
                raise Fatal(f"poll returned a {type(record).__name__}; return "
                            "wasmconnect_kit.SourceRecord objects")
            out.append(record.to_wit())
        return pack_source(out)

    class SourceTask(exports.SourceTask):
        def start(self, config):
            start_into(state, "task", task_cls, "start", config)

        def poll(self):
            return checked(polled)

        def commit_records(self, acks):
            checked(lambda: state["task"].commit_records([_ack(a) for a in acks]))

        def commit(self):
            checked(state["task"].commit)

        def stop(self):
            task = state.pop("task", None)
            if task is not None:
                quiet(task.stop)

    return Plugin, Connector, SourceTask
