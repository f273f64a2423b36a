"""wasmconnect_kit: write wasmconnect connectors and transforms in Python.

A thin layer over the bindings componentize-py generates for the
``wasmconnect:connector`` WIT package (``wit/connector.wit``, contract 0.2.0)::

    import wasmconnect_kit as wc

    class MyConnector(wc.SinkConnector):
        name = "com.example.MySinkConnector"
        config_def = [wc.Key("file", "string", "Where to write", required=True,
                             resource="write-file")]

    class MyTask(wc.SinkTask):
        def put(self, records):
            wc.info("got %d records", len(records))

    Plugin, Connector, SinkTask = wc.export_sink(MyConnector, MyTask)

What is here:

* configuration: :class:`Config` (a read-only dict with ``text``,
  ``required``, ``int``, ``float``, ``bool``, ``list``), :func:`Key`,
  :func:`config_value`;
* errors: raise :class:`Retriable` (``backoff_ms``) or :class:`Fatal`;
  any other exception fails the call as fatal with its traceback;
* logging: :func:`trace` … :func:`error`, :class:`LogHandler`;
* files: :func:`open_append`, :func:`open_read`, :func:`read_bytes`,
  :func:`read_text`, :class:`File`, :class:`FileError`;
* payloads: :func:`decode`, :func:`kind`, :func:`schema`, :func:`headers`, and
  :func:`text` / :func:`binary` / :func:`json_payload` to build them;
* context: :func:`connector_name`, :func:`task_id`, :func:`stop_requested`;
* databases: :mod:`wasmconnect_kit.db` (``wc.db.connect(url, user,
  password)``), :class:`DatabaseError`; the app's ``world`` file must name
  ``sink-with-database`` (or ``source-with-database``);
* outbound HTTP: :mod:`wasmconnect_kit.http` (``wc.http.request(method,
  url, …)``), :class:`HttpError`; the app's ``world`` file must name
  ``sink-with-http`` (or ``source-with-http``);
* sinks: :class:`SinkConnector`, :class:`SinkTask`, :func:`export_sink`;
* sources: :class:`SourceConnector`, :class:`SourceTask`,
  :class:`SourceRecord`, :class:`Ack`, :func:`export_source`,
  :func:`read_offsets` / :func:`read_offset` (committed offsets, to
  resume), :func:`sleep` (waits, waking when the worker stops the task);
* transforms: :class:`Transform`, :func:`replace`, :func:`export_transform`.

componentize-py keeps only the modules imported while it pre-initializes
the component (at build time): import everything at module level, never
inside a method, or the import fails at run time. The kit does the same.
"""

from wit_world.imports import context

from . import db, http
from .config import Config, Key, config_value
from .db import DatabaseError
from .errors import Fatal, Retriable, TaskFailure
from .http import HttpError
from .files import File, FileError, open_append, open_read, read_bytes, read_text
from .logs import LogHandler, debug, enabled, error, info, log, trace, warn, warning
from .payload import (binary, decode, headers, json_payload, kind, schema, text, to_headers,
                      to_payload)
from .plugin import ConnectorBase, PluginBase
from .sink import SinkConnector, SinkTask, export_sink
from .source import (Ack, SourceConnector, SourceRecord, SourceTask, export_source, read_offset,
                     read_offsets, sleep)
from .transform import Transform, export_transform, replace

__version__ = "0.1.0"


def connector_name() -> str:
    """The connector's name."""
    return context.connector_name()


def task_id():
    """The task number, or ``None`` in the connector instance."""
    return context.task_id()


def stop_requested() -> bool:
    """Whether the host asked this instance to stop (or pause)."""
    return context.stop_requested()


__all__ = [
    "Config", "Key", "config_value",
    "Fatal", "Retriable", "TaskFailure",
    "File", "FileError", "open_append", "open_read", "read_bytes", "read_text",
    "LogHandler", "debug", "enabled", "error", "info", "log", "trace", "warn", "warning",
    "binary", "decode", "headers", "json_payload", "kind", "schema", "text", "to_headers",
    "to_payload",
    "PluginBase", "ConnectorBase",
    "SinkConnector", "SinkTask", "export_sink",
    "Ack", "SourceConnector", "SourceRecord", "SourceTask", "export_source",
    "read_offset", "read_offsets", "sleep",
    "Transform", "export_transform", "replace",
    "connector_name", "task_id", "stop_requested",
    "db", "DatabaseError", "http", "HttpError",
]
