"""Files the connector's configuration names (the ``files`` import).

A plugin cannot see the host's filesystem. It can open exactly the paths
held by configuration keys declared with ``resource="write-file"`` (open
with :func:`open_append`) or ``resource="read-file"`` (:func:`open_read`),
spelled exactly as in the configuration.
"""

from __future__ import annotations

from typing import Union

from componentize_py_types import Err

try:  # every world but transform imports files
    from wit_world.imports import files
except ImportError:  # pragma: no cover
    files = None

#: Bytes per host call when appending or reading everything.
CHUNK = 1 << 20


class FileError(Exception):
    """A failed file operation. ``kind`` is ``"not-granted"`` (the path is
    not named by a key granting this mode), ``"not-found"`` or ``"io"``."""

    def __init__(self, kind: str, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.kind = kind
        self.message = message
        self.path = path


def _call(fn, path: str, *args):

    try:
        return fn(*args)
    except Err as e:
        err = e.value
        if isinstance(err, files.FileError_NotGranted):
            kind = "not-granted"
        elif isinstance(err, files.FileError_NotFound):
            kind = "not-found"
        else:
            kind = "io"
        raise FileError(kind, str(err.value), path) from None


class File:
    """An open granted file. Use as a context manager or call :meth:`close`."""

    def __init__(self, handle, path: str) -> None:
        self._handle = handle
        self.path = path

    def write(self, data: Union[bytes, str]) -> None:
        """Appends ``data`` (``str`` is encoded as UTF-8) at the end."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            _call(self._handle.append, self.path, bytes(view[start:start + CHUNK]))

    def read(self, offset: int = 0, max_len: int = CHUNK) -> bytes:
        """Up to ``max_len`` bytes from byte ``offset``; ``b""`` at the end."""
        return _call(self._handle.read, self.path, offset, max_len)

    def read_all(self, offset: int = 0) -> bytes:
        """Everything from byte ``offset`` to the end."""
        parts = []
        while True:
            chunk = self.read(offset, CHUNK)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            offset += len(chunk)

    def sync(self) -> None:
        """Flushes appended bytes to stable storage."""
        _call(self._handle.sync, self.path)

    def size(self) -> int:
        """The file's current size in bytes."""
        return _call(self._handle.size, self.path)

    def close(self) -> None:
        """Releases the handle (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.__exit__(None, None, None)

    def __enter__(self) -> "File":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open(path: str, mode: str) -> File:

    return File(_call(files.open, path, path, files.OpenMode[mode]), path)


def open_append(path: str) -> File:
    """Opens ``path`` (a ``write-file`` key's value) to append, creating it."""
    return _open(path, "APPEND")


def open_read(path: str) -> File:
    """Opens ``path`` (a ``read-file`` key's value) to read."""
    return _open(path, "READ")


def read_bytes(path: str) -> bytes:
    """The whole content of a ``read-file`` path."""
    with open_read(path) as f:
        return f.read_all()


def read_text(path: str, encoding: str = "utf-8") -> str:
    """The whole content of a ``read-file`` path as text."""
    return read_bytes(path).decode(encoding)
