"""Logging into the worker's log (the ``logging`` import), tagged by the host
with the connector and task.

``info("wrote %d records to %s", n, path)``: arguments are %-formatted only
when the level is enabled. ``LogHandler`` forwards Python's ``logging``
module (for libraries that use it)."""

from __future__ import annotations

import logging as _pylogging

from wit_world.imports import logging as wit_logging

_LEVELS = ("trace", "debug", "info", "warn", "error")


def _level(name: str):

    return wit_logging.Level[name.upper()]


def enabled(level: str) -> bool:
    """Whether messages at ``level`` (``"trace"`` … ``"error"``) are recorded."""

    return wit_logging.enabled(_level(level))


def log(level: str, message: str, *args) -> None:
    """Records ``message % args`` at ``level`` when that level is enabled."""

    lvl = _level(level)
    if not wit_logging.enabled(lvl):
        return
    if args:
        try:
            message = message % args
        except (TypeError, ValueError):
            message = f"{message} {args!r}"
    wit_logging.log(lvl, str(message))


def trace(message: str, *args) -> None:
    log("trace", message, *args)


def debug(message: str, *args) -> None:
    log("debug", message, *args)


def info(message: str, *args) -> None:
    log("info", message, *args)


def warn(message: str, *args) -> None:
    log("warn", message, *args)


warning = warn


def error(message: str, *args) -> None:
    log("error", message, *args)


class LogHandler(_pylogging.Handler):
    """Sends Python ``logging`` records to the worker's log:
    ``logging.getLogger().addHandler(wasmconnect_kit.LogHandler())``."""

    def emit(self, record: _pylogging.LogRecord) -> None:
        if record.levelno >= _pylogging.ERROR:
            level = "error"
        elif record.levelno >= _pylogging.WARNING:
            level = "warn"
        elif record.levelno >= _pylogging.INFO:
            level = "info"
        elif record.levelno >= _pylogging.DEBUG:
            level = "debug"
        else:
            level = "trace"
        try:
            log(level, self.format(record))
        except Exception:  # never let logging fail the caller
            self.handleError(record)
