"""Task errors as Python exceptions.

Raise :class:`Retriable` or :class:`Fatal` from any connector or task method;
the kit turns them into the WIT ``task-error`` (``retriable{message,
backoff-ms}`` or ``fatal(message)``). Any other exception escaping a method
that returns a result becomes ``fatal`` with its traceback as the message,
so it shows in the task's status ``trace``. Other kit errors that subclass
:class:`TaskFailure` (:class:`wasmconnect_kit.db.DatabaseError`) say for
themselves whether they are retriable.
"""

from __future__ import annotations

import traceback
from typing import Optional

from ._types import types


class TaskFailure(Exception):
    """Base class of the errors the host understands: ``str(exc)`` is the
    message the task's status shows, ``retriable`` and ``backoff_ms`` say
    whether and when the host calls again."""

    #: Whether the host should call again with the same input.
    retriable: bool = False
    #: The backoff to ask for when retriable; ``None``: the host's policy.
    backoff_ms: Optional[int] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


class Retriable(TaskFailure):
    """Transient failure: the host waits and retries the same call with the
    same input (Kafka's ``RetriableException``). ``backoff_ms=None`` uses the
    host's backoff policy."""

    retriable = True

    def __init__(self, message: str, backoff_ms: Optional[int] = None) -> None:
        super().__init__(message)
        if backoff_ms is not None:
            backoff_ms = max(0, min(int(backoff_ms), 0xFFFF_FFFF))
        self.backoff_ms = backoff_ms


class Fatal(TaskFailure):
    """Permanent failure: the host stops the task and reports it FAILED."""


def to_task_error(exc: BaseException):
    """The WIT ``task-error`` for ``exc``."""

    if isinstance(exc, TaskFailure):
        if exc.retriable:
            return types.TaskError_Retriable(types.RetriableError(str(exc), exc.backoff_ms))
        return types.TaskError_Fatal(str(exc))
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return types.TaskError_Fatal(f"{type(exc).__name__}: {exc}\n{detail}".rstrip())
