"""Databases the connector's configuration names (the
``wasmconnect:database/sql`` import)::

    from wasmconnect_kit import db

    conn = db.connect(config.required("connection.url"),
                      config.text("connection.user"), config.text("connection.password"))
    with conn.transaction():
        conn.execute_many(f"INSERT INTO t (id, name) VALUES ({conn.placeholders(2)})",
                          [(1, "a"), (2, "b")])
    for id_, name in conn.query("SELECT id, name FROM t WHERE id > " + conn.placeholder(1), (0,)):
        ...

The URL must be the value of one of the connector's configuration keys
declared with ``resource="url"``: the worker grants exactly the databases
the configuration names (PostgreSQL, MySQL/MariaDB, SQLite), checked
against its ``sandbox.allowed.hosts`` / ``sandbox.allowed.dirs`` when the
task starts. The app must be built for a world that imports the
capability: put ``sink-with-database`` (``source-with-database`` for a
source) in a file named ``world`` in the app directory (``build.sh`` reads it).

Values cross as the WIT ``value`` variant:

==========================  ==================================================
Python                      database
==========================  ==================================================
``None``                    NULL
``bool``                    boolean
``int`` (64-bit)            int
``float``                   float64 (pass ``sql.Value_Float32(x)`` for float32)
``decimal.Decimal``         decimal (exact, as text)
``str``                     text
``bytes``                   bytes (also ``bytearray``, ``memoryview``)
``datetime.date``           date (days since 1970-01-01)
``datetime.time`` (naive)   time (microseconds since midnight)
naive ``datetime``          timestamp (microseconds since 1970-01-01, UTC wall clock)
aware ``datetime``          timestamp-tz (an instant; read back in UTC)
==========================  ==================================================

Rows come back as tuples of those types (an ``other`` column, a type the
host does not decode, as ``bytes``). Rows cross the boundary packed (one
buffer and a fixed-size cell per value); :func:`unpack_rows` unpacks them
in pure Python.

Failures raise :class:`DatabaseError`, a :class:`~wasmconnect_kit.errors.TaskFailure`:
escaping a task method, a retriable one (lost connection, deadlock,
serialization failure, statement timeout) makes the host retry the call
after a backoff, any other fails the task with the message and SQLSTATE.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import struct
import typing
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional, Sequence

from componentize_py_types import Err

from .errors import TaskFailure
from . import logs as _log

try:  # only the *-with-database worlds import the capability
    from wit_world.imports import sql
except ImportError:  # pragma: no cover - exercised by components built for `sink`
    sql = None

_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MICROSECOND = _dt.timedelta(microseconds=1)
_MICROS_PER_DAY = 86_400_000_000
_INT64 = range(-(1 << 63), 1 << 63)

#: Rows fetched per host call when a query does not say.
DEFAULT_BATCH = 500


class DatabaseError(TaskFailure):
    """A failed database call.

    ``kind`` is ``"not-granted"`` (the URL is not the value of one of the
    connector's ``url`` keys, or names something the worker does not
    allow), ``"retriable"`` (transient: retrying the transaction may
    succeed, after reopening when ``connection_lost``) or ``"fatal"``
    (permanent for this input: syntax, constraint, missing table, a value
    that cannot be passed). ``message`` is what the database or the
    driver said; ``str(exc)`` adds the SQLSTATE.
    """

    def __init__(self, kind: str, message: str, *, sqlstate: Optional[str] = None,
                 vendor_code: Optional[int] = None, connection_lost: bool = False) -> None:
        if kind == "not-granted":
            text = f"database not granted: {message}"
        elif sqlstate:
            text = f"{message} (SQLSTATE {sqlstate})"
        else:
            text = message
        super().__init__(text)
        self.kind = kind
        self.message = message
        self.sqlstate = sqlstate
        self.vendor_code = vendor_code
        self.connection_lost = connection_lost
        # Read by to_task_error: the host retries the call.
        self.retriable = kind == "retriable"

    @classmethod
    def from_wit(cls, err: Any) -> "DatabaseError":
        """The exception for a WIT ``db-error``."""
        if isinstance(err, sql.DbError_NotGranted):
            return cls("not-granted", err.value)
        detail = err.value
        kind = "retriable" if isinstance(err, sql.DbError_Retriable) else "fatal"
        return cls(kind, detail.message, sqlstate=detail.sqlstate,
                   vendor_code=detail.vendor_code, connection_lost=detail.connection_lost)


def _fatal(message: str) -> DatabaseError:
    return DatabaseError("fatal", message)


# ---------------------------------------------------------------- parameters

def to_value(v: Any) -> Any:
    """The WIT ``value`` for a Python value (see the module's table).
    Raises :class:`DatabaseError` (fatal) for a value it cannot carry."""
    if v is None:
        return sql.Value_Null()
    if isinstance(v, bool):  # before int: bool is an int
        return sql.Value_Boolean(v)
    if isinstance(v, int):
        if v not in _INT64:
            raise _fatal(f"the integer {v} does not fit in 64 bits: pass a decimal.Decimal")
        return sql.Value_Int(v)
    if isinstance(v, float):
        return sql.Value_Float64(v)
    if isinstance(v, decimal.Decimal):
        return sql.Value_Decimal(_decimal_text(v))
    if isinstance(v, str):
        return sql.Value_Text(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return sql.Value_Bytes(bytes(v))
    if isinstance(v, _dt.datetime):  # before date: a datetime is a date
        if v.utcoffset() is None:
            return sql.Value_Timestamp((v - _EPOCH) // _MICROSECOND)
        return sql.Value_TimestampTz((v - _EPOCH_UTC) // _MICROSECOND)
    if isinstance(v, _dt.date):
        return sql.Value_Date((v - _EPOCH_DATE).days)
    if isinstance(v, _dt.time):
        if v.utcoffset() is not None:
            raise _fatal(f"the time {v} has a time zone, which a SQL time value cannot hold: "
                         "pass a naive time")
        return sql.Value_Time(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000
                              + v.microsecond)
    if _is_wit_value(v):  # an explicit variant, e.g. sql.Value_Float32(1.5)
        return v
    raise _fatal(f"cannot pass a {type(v).__name__} to the database: use None, bool, int, "
                 "float, Decimal, str, bytes, date, time or datetime")


def _decimal_text(v: decimal.Decimal) -> str:
    # Positional notation: "1E+3" is not decimal text to every driver
    # (SQLite's decimal columns refuse exponents when read back).
    if v.is_nan():
        return "NaN"
    return format(v, "f")


def _is_wit_value(v: Any) -> bool:
    return isinstance(v, typing.get_args(sql.Value))


def _params(params: Iterable[Any]) -> list:
    """The WIT values of a parameter sequence; a failure names the position."""
    if isinstance(params, (str, bytes, dict)):
        # A lone string would silently become one parameter per character.
        raise _fatal(f"parameters must be a sequence of values, not a {type(params).__name__}")
    values = []
    for i, p in enumerate(params, 1):
        try:
            values.append(to_value(p))
        except DatabaseError as e:
            raise _fatal(f"parameter {i}: {e.message}") from None
    return values


# -------------------------------------------------------------------- rows

def unpack_rows(batch: Any) -> list:
    """The rows of a WIT ``row-batch`` as tuples of Python values.

    Pure Python on the batch's fields (``data``, ``cells`` with ``kind``,
    ``num`` and ``bytes`` span, ``rows``). What points outside the data or
    cannot be decoded raises :class:`DatabaseError` (fatal) rather than
    being trusted; a value Python cannot represent (a date past year 9999,
    PostgreSQL's ``infinity``) too, naming its column, as psycopg does.
    """
    rows, cells = batch.rows, batch.cells
    if rows == 0:
        if cells:
            raise _malformed(f"{len(cells)} cells in a batch of no rows")
        return []
    width, extra = divmod(len(cells), rows)
    if extra:
        raise _malformed(f"{len(cells)} cells do not make {rows} rows of equal width")
    if width == 0:  # a query without columns still has rows
        return [()] * rows
    data = batch.data
    values = [_cell(cell, data, i % width + 1) for i, cell in enumerate(cells)]
    return [tuple(values[start:start + width]) for start in range(0, len(values), width)]


def _malformed(what: str) -> DatabaseError:
    return _fatal(f"the host sent a malformed row batch: {what}")


def _span(cell: Any, data: bytes, column: int) -> bytes:
    start = cell.bytes.offset
    end = start + cell.bytes.len
    if end > len(data):
        raise _malformed(f"column {column}: bytes {start}..{end} lie outside {len(data)}")
    return data[start:end]


def _text(cell: Any, data: bytes, column: int) -> str:
    try:
        return _span(cell, data, column).decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed(f"column {column}: text is not UTF-8") from None


def _out_of_range(column: int, what: str) -> DatabaseError:
    return _fatal(f"column {column}: {what} lies outside what Python's datetime can hold "
                  "(years 1 to 9999); cast it to text in the query")


def _cell(cell: Any, data: bytes, column: int) -> Any:
    kind, num = cell.kind.name, cell.num
    if kind == "NULL":
        return None
    if kind == "BOOLEAN":
        return num != 0
    if kind == "INT":
        return num
    if kind == "FLOAT32":  # the f32's bits in the low 32 bits of num
        return struct.unpack("<f", struct.pack("<I", num & 0xFFFF_FFFF))[0]
    if kind == "FLOAT64":  # the f64's bits, as a signed 64-bit number
        return struct.unpack("<d", struct.pack("<Q", num & 0xFFFF_FFFF_FFFF_FFFF))[0]
    if kind == "DECIMAL":
        text = _text(cell, data, column)
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise _malformed(f"column {column}: {text!r} is not a decimal") from None
    if kind == "TEXT":
        return _text(cell, data, column)
    if kind in ("BYTES", "OTHER"):
        return _span(cell, data, column)
    try:
        if kind == "DATE":
            return _EPOCH_DATE + _dt.timedelta(days=num)
        if kind == "TIMESTAMP":
            return _EPOCH + num * _MICROSECOND
        if kind == "TIMESTAMP_TZ":
            return _EPOCH_UTC + num * _MICROSECOND
    except OverflowError:
        raise _out_of_range(column, f"the {kind.lower().replace('_', '-')} {num}") from None
    if kind == "TIME":
        if not 0 <= num < _MICROS_PER_DAY:
            # PostgreSQL's 24:00:00 has no datetime.time.
            raise _fatal(f"column {column}: the time {num} µs is not within a day")
        seconds, micros = divmod(num, 1_000_000)
        return _dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, micros)
    raise _malformed(f"column {column}: unknown value kind {kind}")


class Rows:
    """The rows of a running query: iterate for tuples, fetched from the
    host ``batch`` rows at a time. ``columns`` is the WIT column metadata
    (``name``, ``type_name``, ``kind``, ``nullable``, ``precision``,
    ``scale``, …). Iterating to the end (or :meth:`close`, or leaving a
    ``with`` block) releases the cursor; a connection has one open cursor,
    and running another statement on it closes this one."""

    def __init__(self, conn: "Connection", statement: Any, cursor: Any, batch: int) -> None:
        self._conn = conn
        self._statement = statement
        self._cursor = cursor
        self._batch = batch
        self._buffer: list = []
        self._next = 0
        self._done = False
        self.columns = conn._call(cursor.columns)

    @property
    def column_names(self) -> "list[str]":
        """The columns' labels."""
        return [c.name for c in self.columns]

    def __iter__(self) -> "Rows":
        return self

    def __next__(self) -> tuple:
        while self._next >= len(self._buffer):
            if self._done:
                self.close()
                raise StopIteration
            batch = self._conn._call(self._cursor.next, self._batch)
            self._done = batch.done
            self._buffer, self._next = unpack_rows(batch), 0
        row = self._buffer[self._next]
        self._next += 1
        return row

    def fetchall(self) -> "list[tuple]":
        """Every remaining row."""
        return list(self)

    def close(self) -> None:
        """Releases the cursor and its statement (idempotent)."""
        self._done = True
        self._buffer, self._next = [], 0
        for handle in (self._cursor, self._statement):
            if handle is not None:
                handle.__exit__(None, None, None)
        self._cursor = self._statement = None

    def __enter__(self) -> "Rows":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- connection

_DIALECTS = {"POSTGRESQL": "postgresql", "MYSQL": "mysql", "SQLITE": "sqlite"}


class Connection:
    """An open connection. ``dialect`` is ``"postgresql"``, ``"mysql"``
    (also MariaDB) or ``"sqlite"``. Use as a context manager or call
    :meth:`close`. After a failure with ``connection_lost`` the connection
    is unusable (``lost`` turns true): open a new one."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._in_transaction = False
        self.lost = False
        name = handle.dialect().name
        self.dialect = _DIALECTS.get(name, name.lower())

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except Err as e:
            error = DatabaseError.from_wit(e.value)
            if error.connection_lost:
                self.lost = True
            raise error from None

    def _handle_or_fail(self) -> Any:
        if self._handle is None:
            raise _fatal("the connection is closed")
        return self._handle

    def placeholder(self, n: int) -> str:
        """The dialect's placeholder for parameter ``n`` (from 1): ``$n`` on
        PostgreSQL, ``?`` elsewhere."""
        return f"${n}" if self.dialect == "postgresql" else "?"

    def placeholders(self, count: int, start: int = 1) -> str:
        """``count`` placeholders separated by commas, from ``start``."""
        return ", ".join(self.placeholder(n) for n in range(start, start + count))

    @contextmanager
    def _statement(self, sql_text: str) -> Iterator[Any]:
        statement = self._call(self._handle_or_fail().prepare, sql_text)
        try:
            yield statement
        finally:
            statement.__exit__(None, None, None)

    def execute(self, sql_text: str, params: Sequence[Any] = ()) -> int:
        """Runs one statement; the number of rows it affected."""
        values = _params(params)
        with self._statement(sql_text) as statement:
            return self._call(statement.execute, values)

    def execute_many(self, sql_text: str, rows: Iterable[Sequence[Any]]) -> "list[int]":
        """Runs one statement once per parameter row (one host call); the
        rows each affected. The first failure stops the batch: wrap it in
        :meth:`transaction` to keep all or nothing."""
        values = [_params(row) for row in rows]
        if not values:
            return []
        with self._statement(sql_text) as statement:
            return list(self._call(statement.execute_batch, values))

    def query(self, sql_text: str, params: Sequence[Any] = (),
              batch: int = DEFAULT_BATCH) -> Rows:
        """Runs a query now (errors raise here); iterate the result for its
        rows as tuples."""
        if not 1 <= batch <= 0xFFFF_FFFF:
            raise ValueError(f"batch must be from 1 to 2**32-1 rows, not {batch}")
        values = _params(params)
        statement = self._call(self._handle_or_fail().prepare, sql_text)
        try:
            cursor = self._call(statement.query, values)
        except BaseException:
            statement.__exit__(None, None, None)
            raise
        return Rows(self, statement, cursor, batch)

    def query_one(self, sql_text: str, params: Sequence[Any] = ()) -> Optional[tuple]:
        """The first row of a query, or ``None`` when it has none."""
        with self.query(sql_text, params, batch=1) as rows:
            return next(rows, None)

    def script(self, sql_text: str) -> None:
        """Runs statements without parameters or results (DDL, ``SET``),
        several separated by ``;``."""
        self._call(self._handle_or_fail().execute_script, sql_text)

    @property
    def in_transaction(self) -> bool:
        """Whether :meth:`begin` (or :meth:`transaction`) opened one."""
        return self._in_transaction

    def begin(self) -> None:
        """Starts a transaction. Transactions do not nest."""
        if self._in_transaction:
            raise _fatal("a transaction is already open on this connection")
        self._call(self._handle_or_fail().begin)
        self._in_transaction = True

    def commit(self) -> None:
        """Commits the transaction."""
        self._in_transaction = False
        self._call(self._handle_or_fail().commit)

    def rollback(self) -> None:
        """Rolls the transaction back."""
        self._in_transaction = False
        self._call(self._handle_or_fail().rollback)

    @contextmanager
    def transaction(self) -> Iterator["Connection"]:
        """``with conn.transaction(): …`` begins, commits when the block
        ends, and rolls back when it raises (the exception propagates)."""
        self.begin()
        try:
            yield self
        except BaseException:
            self._rollback_quietly()
            raise
        try:
            self.commit()
        except DatabaseError:
            # A failed COMMIT ends the transaction on PostgreSQL and MySQL
            # but leaves it open on SQLite (SQLITE_BUSY): make sure it is
            # gone so the next begin works.
            self._rollback_quietly()
            raise

    def _rollback_quietly(self) -> None:
        # The original error is what matters; a rollback on a lost
        # connection or with no transaction left open fails harmlessly.
        self._in_transaction = False
        if self.lost or self._handle is None:
            return
        try:
            self._call(self._handle.rollback)
        except DatabaseError as e:
            _log.debug("rollback after a failure: %s", e)

    def close(self) -> None:
        """Closes the connection (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.__exit__(None, None, None)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(url: str, user: Optional[str] = None, password: Optional[str] = None) -> Connection:
    """Opens the database ``url`` names: the value of one of the
    connector's ``url`` configuration keys, JDBC form
    (``jdbc:postgresql://host:5432/db``, ``jdbc:mysql://…``,
    ``jdbc:mariadb://…``, ``jdbc:sqlite:/path/file.db``) or native
    (``postgres://…``, ``mysql://…``, ``sqlite:/path``). ``user`` and
    ``password`` override the URL's own."""
    if sql is None:
        raise _fatal("this component does not import wasmconnect:database/sql: write "
                     "sink-with-database (or source-with-database) into a file named "
                     "`world` in the app directory and rebuild")
    try:
        handle = sql.Connection.open(url, user, password)
    except Err as e:
        raise DatabaseError.from_wit(e.value) from None
    return Connection(handle)
