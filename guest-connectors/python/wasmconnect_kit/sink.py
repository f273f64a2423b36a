"""Base classes for sink connectors, and the glue to the ``sink`` world.

An author subclasses :class:`SinkConnector` and :class:`SinkTask`, then ends
the app module with::

    Plugin, Connector, SinkTask = wc.export_sink(MyConnector, MyTask)

componentize-py looks up those three names (one per exported interface).
The host runs the connector and each task in separate component instances,
so one connector *or* one task object lives per instance.
"""

from __future__ import annotations

from typing import Any, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import plugin as wit_plugin

from .batch import unpack_sink
from .config import Config, to_config_values, to_pairs
from .errors import to_task_error
from . import logs as log


class SinkConnector:
    """The connector role and the plugin's description.

    Set the class attributes; override methods only when needed. ``validate``
    and ``alter_offsets`` are called on a fresh instance, without ``start``.
    """

    #: Class name operators put in ``connector.class`` (Java-like, e.g.
    #: ``com.example.MySinkConnector``); Kafka's simple-name aliases
    #: (``MySinkConnector``, ``MySink``) are derived by the host.
    name: str = ""
    #: Further names resolving to this plugin.
    aliases: "list[str]" = []
    #: Plugin version (``GET /connector-plugins``, ``connector.plugin.version``).
    version: str = "0.1.0"
    #: One sentence on what the plugin does.
    description: str = ""
    #: ``task.class`` reported in task configurations; ``None`` derives one.
    task_class: Optional[str] = None
    #: The plugin's own configuration keys (a list of :func:`Key`).
    config_def: list = []

    def validate(self, config: Config) -> Any:
        """Checks beyond types and required keys (the host checked those).
        Return ``{key: message or [messages]}`` for keys with problems, a
        list of :func:`config_value`, or nothing when all is well."""
        return None

    def start(self, config: Config) -> None:
        """Starts the connector; keeps the configuration as ``self.config``."""
        self.config = config

    def task_configs(self, max_tasks: int) -> list:
        """At most ``max_tasks`` task configurations (Configs, dicts or pairs).
        Default: ``max_tasks`` copies of the connector's configuration."""
        return [self.config] * max_tasks

    def stop(self) -> None:
        """Stops the connector."""

    def alter_offsets(self, config: Config, offsets: list) -> bool:
        """An operator altered or reset offsets (KIP-875) while the connector
        was stopped. ``offsets`` pairs JSON partitions with JSON offsets (or
        ``None``). Default ``True``: a sink whose offsets live in the consumer
        group has nothing to do. Raise to refuse the change."""
        return True


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


def _checked(fn, *args):
    """Calls ``fn``; any exception becomes the WIT task-error."""

    try:
        return fn(*args)
    except Err:
        raise
    except Exception as e:
        raise Err(to_task_error(e)) from None


def _quiet(fn, *args):
    """Calls a function that cannot fail in WIT (``stop``): log and go on."""
    try:
        fn(*args)
    except Exception as e:
        try:
            log.error("%s", to_task_error(e).value)
        except Exception:
            pass


def export_sink(connector_cls: type, task_cls: type):
    """The ``(Plugin, Connector, SinkTask)`` export classes componentize-py
    needs, wired to the author's classes."""

    if not connector_cls.name:
        raise ValueError(f"{connector_cls.__name__}.name is not set")
    for key in connector_cls.config_def:
        if not hasattr(key, "resource"):
            raise TypeError(f"{connector_cls.__name__}.config_def holds {key!r}; use Key(...)")
    # One connector or one task per component instance (module state).
    state: dict = {}

    class Plugin(exports.Plugin):
        def metadata(self):
            c = connector_cls
            return wit_plugin.PluginMetadata(
                name=c.name,
                aliases=list(c.aliases),
                version=c.version,
                kind=wit_plugin.PluginKind.SINK,
                description=c.description,
                task_class=c.task_class,
            )

        def config_definition(self):
            return list(connector_cls.config_def)

        def validate(self, config):
            cfg = Config(config)
            try:
                result = connector_cls().validate(cfg)
            except Exception as e:
                # validate cannot fail in WIT: report the exception on a key.
                message = to_task_error(e).value
                key = connector_cls.config_def[0].name if connector_cls.config_def else "name"
                return to_config_values({key: f"validate failed: {message}"}, cfg)
            return to_config_values(result, cfg)

    class Connector(exports.Connector):
        def start(self, config):
            def go():
                connector = connector_cls()
                connector.start(Config(config))
                state["connector"] = connector

            _checked(go)

        def task_configs(self, max_tasks):
            return _checked(lambda: [to_pairs(c) for c in state["connector"].task_configs(max_tasks)])

        def stop(self):
            connector = state.pop("connector", None)
            if connector is not None:
                _quiet(connector.stop)

        def alter_offsets(self, config, offsets):
            return _checked(lambda: bool(connector_cls().alter_offsets(Config(config), list(offsets))))

    class SinkTask(exports.SinkTask):
        def start(self, config):
            def go():
                task = task_cls()
                task.start(Config(config))
                state["task"] = task

            _checked(go)

        def open(self, partitions):
            _checked(state["task"].open, partitions)

        def close(self, partitions):
            _checked(state["task"].close, partitions)

        def put(self, batch):
            # The batch arrives packed (contract 0.2.0); authors get records.
            _checked(lambda: state["task"].put(unpack_sink(batch)))

        def pre_commit(self, current):
            result = _checked(state["task"].pre_commit, current)
            return current if result is None else list(result)

        def stop(self):
            task = state.pop("task", None)
            if task is not None:
                _quiet(task.stop)

    return Plugin, Connector, SinkTask
