"""Base classes for sink connectors, and the glue to the ``sink`` world.

An author subclasses :class:`SinkConnector` and :class:`SinkTask`, then ends
the app module with::

    Plugin, Connector, SinkTask = wc.export_sink(MyConnector, MyTask)

componentize-py looks up those three names (one per exported interface).
The host runs the connector and each task in separate component instances,
so one connector *or* one task object lives per instance.
"""

from __future__ import annotations

from wit_world import exports

from .batch import unpack_sink
from .config import Config
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


class SinkConnector(ConnectorBase):
    """The connector role and the plugin's description of a sink.

    Set the class attributes (:class:`~wasmconnect_kit.plugin.PluginBase`);
    override methods only when needed. ``validate`` and ``alter_offsets``
    are called on a fresh instance, without ``start``.
    """


class SinkTask:
    """A sink task. Only :meth:`put` is required.

    Kafka's flow: ``start``, ``open`` (partitions assigned), ``put`` (batches),
    ``pre_commit`` (before offsets are committed; by default calls
    :meth:`flush` and commits everything put), ``close`` (partitions
    revoked), ``stop``.
    """

    def start(self, config: Config) -> None:
        """Starts the task; keeps the configuration as ``self.config``."""
        self.config = config

    def open(self, partitions: list) -> None:
        """Partitions (``.topic``, ``.partition``) were assigned."""

    def close(self, partitions: list) -> None:
        """Partitions were revoked; the default flushes."""
        self.flush()

    def put(self, records: list) -> None:
        """A batch of sink records (``.topic``, ``.partition``, ``.offset``,
        ``.key``, ``.value``, ``.headers``, ``.timestamp``,
        ``.timestamp_type``); decode keys and values with :func:`decode`.
        Raise :class:`Retriable` to get the same batch again later."""
        raise NotImplementedError("a sink task must implement put")

    def flush(self) -> None:
        """Makes everything put so far durable (default: nothing to do)."""

    def pre_commit(self, current: list) -> list:
        """Positions safe to commit. ``current`` holds, per partition, the
        offset after the last record put. Default: :meth:`flush`, then
        ``current``. Returning ``None`` also means ``current``."""
        self.flush()
        return current

    def stop(self) -> None:
        """Stops the task; no other call follows."""


# The export class below shadows the name inside export_*.
_SinkTaskBase = SinkTask


def export_sink(connector_cls: type, task_cls: type):
    """The ``(Plugin, Connector, SinkTask)`` export classes componentize-py
    needs, wired to the author's classes."""

    check_class(connector_cls, SinkConnector)
    check_subclass(task_cls, _SinkTaskBase)
    # One connector or one task per component instance (module state).
    state: dict = {}
    Plugin = plugin_export(connector_cls, "sink")
    Connector = connector_export(connector_cls, state)

    class SinkTask(exports.SinkTask):
        def start(self, config):
            start_into(state, "task", task_cls, "start", config)

        def open(self, partitions):
            checked(state["task"].open, partitions)

        def close(self, partitions):
            checked(state["task"].close, partitions)

        def put(self, batch):
            # The batch arrives packed (contract 0.2.0); authors get records.
            checked(lambda: state["task"].put(unpack_sink(batch)))

        def pre_commit(self, current):
            result = checked(state["task"].pre_commit, current)
            return current if result is None else list(result)

        def stop(self):
            task = state.pop("task", None)
            if task is not None:
                quiet(task.stop)

    return Plugin, Connector, SinkTask
