"""What every role shares: the plugin's description, the connector role of
sources and sinks, and the glue that turns Python exceptions into the
contract's ``task-error``.

:class:`PluginBase` holds the metadata and configuration keys every
exported ``plugin`` interface reports; :class:`ConnectorBase` adds the
``connector`` interface of sources and sinks. ``sink.py``, ``source.py``
and ``transform.py`` build their export classes on :func:`plugin_export`
and :func:`connector_export`.
"""

from __future__ import annotations

from typing import Any, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import plugin as wit_plugin

from .config import Config, to_config_values, to_pairs
from .errors import to_task_error
from . import logs as log


class PluginBase:
    """The plugin's description, shared by connectors and transforms.

    Set the class attributes; override :meth:`validate` when the host's
    checks of types and required keys are not enough. ``validate`` runs on
    a fresh instance, without ``start`` or ``configure``.
    """

    #: Class name operators put in ``connector.class`` or a transform's
    #: ``type`` (Java-like, e.g. ``com.example.MySinkConnector``); Kafka's
    #: simple-name aliases are derived by the host.
    name: str = ""
    #: Further names resolving to this plugin.
    aliases: "list[str]" = []
    #: Plugin version (``GET /connector-plugins``, ``connector.plugin.version``).
    version: str = "0.1.0"
    #: One sentence on what the plugin does.
    description: str = ""
    #: The plugin's own configuration keys (a list of :func:`Key`).
    config_def: list = []

    def validate(self, config: Config) -> Any:
        """Checks beyond types and required keys (the host checked those).
        Return ``{key: message or [messages]}`` for keys with problems, a
        list of :func:`config_value`, or nothing when all is well."""
        return None


class ConnectorBase(PluginBase):
    """The connector role of sources and sinks (Kafka's ``Connector``).

    ``alter_offsets`` is called on a fresh instance, without ``start``.
    """

    #: ``task.class`` reported in task configurations; ``None`` derives one.
    task_class: Optional[str] = None

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
        ``None``). Default ``True``: offsets the worker keeps (a sink's
        consumer group, a source's offsets read back at start) need nothing
        more. Raise to refuse the change."""
        return True


def checked(fn, *args):
    """Calls ``fn``; any exception becomes the WIT task-error."""

    try:
        return fn(*args)
    except Err:
        raise
    except Exception as e:
        raise Err(to_task_error(e)) from None


def quiet(fn, *args):
    """Calls a function that cannot fail in WIT (``stop``): log and go on."""
    try:
        fn(*args)
    except Exception as e:
        try:
            log.error("%s", to_task_error(e).value)
        except Exception:
            pass


def check_subclass(cls: type, base: type) -> None:
    """Refuses, at build time, a class that does not derive from ``base``."""
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{cls!r} is not a subclass of wasmconnect_kit.{base.__name__}")


def check_class(cls: type, base: type) -> None:
    """Refuses, at build time, a class the export glue cannot serve."""
    check_subclass(cls, base)
    if not cls.name:
        raise ValueError(f"{cls.__name__}.name is not set")
    for key in cls.config_def:
        if not hasattr(key, "resource"):
            raise TypeError(f"{cls.__name__}.config_def holds {key!r}; use Key(...)")


def plugin_export(cls: type, kind: str):
    """The ``Plugin`` export class describing ``cls`` as a plugin of
    ``kind`` (``"source"``, ``"sink"`` or ``"transform"``)."""

    class Plugin(exports.Plugin):
        def metadata(self):
            return wit_plugin.PluginMetadata(
                name=cls.name,
                aliases=list(cls.aliases),
                version=cls.version,
                kind=wit_plugin.PluginKind[kind.upper()],
                description=cls.description,
                task_class=getattr(cls, "task_class", None),
            )

        def config_definition(self):
            return list(cls.config_def)

        def validate(self, config):
            cfg = Config(config)
            try:
                result = cls().validate(cfg)
            except Exception as e:
                # validate cannot fail in WIT: report the exception on a key.
                message = to_task_error(e).value
                key = cls.config_def[0].name if cls.config_def else "name"
                return to_config_values({key: f"validate failed: {message}"}, cfg)
            return to_config_values(result, cfg)

    return Plugin


def start_into(state: dict, key: str, cls: type, method: str, config) -> None:
    """Makes a ``cls``, hands the configuration to its ``method`` (``start``
    or ``configure``) and keeps it in ``state[key]``: how every role's
    connector, task or transform begins, its errors turned into the
    contract's."""

    def go():
        instance = cls()
        getattr(instance, method)(Config(config))
        state[key] = instance

    checked(go)


def connector_export(connector_cls: type, state: dict):
    """The ``Connector`` export class running ``connector_cls``; the
    started connector lives in ``state`` (one per component instance)."""

    class Connector(exports.Connector):
        def start(self, config):
            start_into(state, "connector", connector_cls, "start", config)

        def task_configs(self, max_tasks):
            return checked(lambda: [to_pairs(c) for c in state["connector"].task_configs(max_tasks)])

        def stop(self):
            connector = state.pop("connector", None)
            if connector is not None:
                quiet(connector.stop)

        def alter_offsets(self, config, offsets):
            return checked(lambda: bool(connector_cls().alter_offsets(Config(config), list(offsets))))

    return Connector
