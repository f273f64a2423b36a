"""The host, faked, for the kit's tests (imported by every test module).

Generates the bindings of a world of its own that joins every world of
`wit/connector.wit` (sink, source and transform exports; files, offsets,
`wasmconnect:database/sql` and `wasi:http` imports) into a temporary
directory with componentize-py, offline, puts them and the kit on the
Python path, and replaces the host imports with fakes:

* logging, context: recorded in LOGS / fixed answers (STOP[0] is what
  stop-requested answers);
* offsets: OFFSETS (canonical partition JSON -> offset JSON);
* files: DISK (path -> bytearray), granted per path in GRANTED;
* sql: FakeConnection, a real SQLite database (Python's sqlite3) behind
  the WIT resources, granted per URL in DATABASES. It can claim to be
  PostgreSQL (`$n` placeholders are rewritten to SQLite's `?n`), packs
  result rows the way the worker does (so the kit's unpacking runs on
  real batches), and records every statement in STATEMENTS.
"""

import importlib.util
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(KIT))
POLYGLOT = os.environ.get("WASMCONNECT_POLYGLOT", os.path.expanduser("~/.cache/wasmconnect/polyglot"))
CPY = os.path.join(POLYGLOT, "venv", "bin", "componentize-py")

# One world exporting every role, so one set of bindings serves the tests
# of sinks, sources and transforms (the real components each pick one).
ALL_ROLES = """package wasmconnect:connector@0.2.0;

world kit-tests {
    include sink-with-database;
    include source-with-database;
    include source-with-http;
    export record-transform;
}
"""

# Apps are loaded from the source tree: leave no __pycache__ in it (build.sh
# bundles the app directory).
sys.dont_write_bytecode = True

_bindings = tempfile.TemporaryDirectory(prefix="wasmconnect-bindings-")
_wit = os.path.join(_bindings.name, "wit")
shutil.copytree(os.path.join(ROOT, "wit"), _wit, ignore=shutil.ignore_patterns("v0.1.0"))
with open(os.path.join(_wit, "kit-tests.wit"), "w") as f:
    f.write(ALL_ROLES)
subprocess.run([CPY, "-d", _wit, "-w", "kit-tests", "bindings", os.path.join(_bindings.name, "py")],
               check=True, stdout=subprocess.DEVNULL)
sys.path[:0] = [os.path.join(_bindings.name, "py"), KIT]

from componentize_py_types import Err  # noqa: E402
from wit_world.imports import batches, context, files, logging, offsets, sql  # noqa: E402
from wasmconnect_kit._types import types  # noqa: E402

LOGS = []
DISK = {}  # path -> bytearray
GRANTED = {}  # path -> "append" | "read"
SYNCS = []


class FakeFile:
    def __init__(self, path):
        self.path = path

    def append(self, data):
        DISK.setdefault(self.path, bytearray()).extend(data)

    def read(self, offset, max_len):
        return bytes(DISK.get(self.path, b"")[offset:offset + max_len])

    def sync(self):
        SYNCS.append(self.path)

    def size(self):
        return len(DISK.get(self.path, b""))

    def __exit__(self, *exc):
        pass


def fake_open(path, mode):
    want = "append" if mode == files.OpenMode.APPEND else "read"
    if GRANTED.get(path) != want:
        raise Err(files.FileError_NotGranted(f"{path} is not granted for {want}"))
    if want == "read" and path not in DISK:
        raise Err(files.FileError_NotFound(path))
    return FakeFile(path)


#: Committed source offsets: canonical partition JSON -> offset JSON.
OFFSETS = {}
#: What stop-requested answers (STOP[0] = True to ask for a stop).
STOP = [False]
#: Partitions each offsets.read asked for.
OFFSET_READS = []


def fake_read_offsets(partitions):
    OFFSET_READS.append(list(partitions))
    return [OFFSETS.get(p) for p in partitions]


logging.enabled = lambda level: level != logging.Level.TRACE
logging.log = lambda level, message: LOGS.append((level.name, message))
files.open = fake_open
offsets.read = fake_read_offsets
context.connector_name = lambda: "test"
context.task_id = lambda: 0
context.stop_requested = lambda: STOP[0]


def load_app(directory):
    """Imports ``directory``/app.py (relative to the kit) as a fresh module."""
    path = os.path.join(KIT, directory, "app.py")
    spec = importlib.util.spec_from_file_location(f"app_{directory.replace('/', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transform_record(value=None, key=None, headers=(), topic="t", partition=0,
                     timestamp=None):
    """A record as a transform gets it."""
    return types.TransformRecord(topic, partition, key, value,
                                 [types.Header(k, v) for k, v in headers], timestamp)


def record(offset, key=None, value=None, headers=(), timestamp=1_700_000_000_000,
           topic="t", partition=0):
    """A sink record as the worker delivers it."""
    return types.SinkRecord(topic, partition, offset, key, value,
                            [types.Header(k, v) for k, v in headers], timestamp,
                            types.TimestampType.CREATE_TIME)


# ------------------------------------------------------------------- sql

#: Granted URL -> (sqlite3 connection shared by every open, dialect).
DATABASES = {}
#: (sql, WIT values or None) of every statement run, in order ("BEGIN"
#: etc. included).
STATEMENTS = []
#: Set to a DbError to make the next statement fail with it (once).
FAIL_NEXT = []
#: Credentials each open was given.
OPENS = []


def grant_database(url, dialect=sql.Dialect.SQLITE):
    """Grants ``url``; returns the sqlite3 connection behind it."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    DATABASES[url] = (db, dialect)
    return db


def detail(message, sqlstate=None, lost=False):
    return sql.ErrorDetail(message, sqlstate, None, lost)


def _plain(value):
    """A WIT value as sqlite3 takes it: its payload (day and microsecond
    counts for dates and times)."""
    return getattr(value, "value", None)


def pack_rows(rows):
    """A row-batch of Python rows (None, int, float, str, bytes), packed as
    the worker packs them."""
    data, cells = bytearray(), []
    for row in rows:
        for v in row:
            if v is None:
                cells.append(sql.Cell(sql.ValueKind.NULL, 0, sql.Span(0, 0)))
            elif isinstance(v, int):
                cells.append(sql.Cell(sql.ValueKind.INT, v, sql.Span(0, 0)))
            elif isinstance(v, float):
                bits = struct.unpack("<q", struct.pack("<d", v))[0]
                cells.append(sql.Cell(sql.ValueKind.FLOAT64, bits, sql.Span(0, 0)))
            else:
                raw = v.encode() if isinstance(v, str) else bytes(v)
                kind = sql.ValueKind.TEXT if isinstance(v, str) else sql.ValueKind.BYTES
                cells.append(sql.Cell(kind, 0, sql.Span(len(data), len(raw))))
                data += raw
    return data, cells


class FakeCursor:
    def __init__(self, rows, columns):
        self.rows = rows
        self.cols = columns
        self.closed = False

    def columns(self):
        return self.cols

    def next(self, max_rows):
        taken, self.rows = self.rows[:max_rows], self.rows[max_rows:]
        data, cells = pack_rows(taken)
        return sql.RowBatch(bytes(data), cells, len(taken), not self.rows)

    def __exit__(self, *exc):
        self.closed = True


class FakeStatement:
    def __init__(self, conn, text):
        self.conn = conn
        self.text = text
        self.closed = False

    def _run(self, params):
        plain = [_plain(p) for p in params]
        STATEMENTS.append((self.text, list(params)))
        self.conn.check_failure()
        sqlite_text = re.sub(r"\$(\d+)", r"?\1", self.text)
        try:
            return self.conn.db.execute(sqlite_text, plain)
        except sqlite3.Error as e:
            raise Err(sql.DbError_Fatal(detail(str(e), "23505" if "UNIQUE" in str(e) else None)))

    def parameter_count(self):
        return self.text.count("?") + len(set(re.findall(r"\$\d+", self.text)))

    def columns(self):
        return []

    def query(self, params):
        cur = self._run(params)
        columns = [sql.Column(d[0], "", sql.ValueKind.OTHER, None, None, None, False, None)
                   for d in cur.description or []]
        return FakeCursor(cur.fetchall(), columns)

    def execute(self, params):
        return self._run(params).rowcount

    def execute_batch(self, rows):
        return [self.execute(row) for row in rows]

    def __exit__(self, *exc):
        self.closed = True


class FakeConnection:
    opened = []

    def __init__(self, db, dialect):
        self.db = db
        self._dialect = dialect
        self.closed = False

    @classmethod
    def open(cls, url, user, password):
        OPENS.append((url, user, password))
        if url not in DATABASES:
            raise Err(sql.DbError_NotGranted(
                f"{url} is not the value of any url setting of this connector"))
        conn = cls(*DATABASES[url])
        cls.opened.append(conn)
        return conn

    def check_failure(self):
        if FAIL_NEXT:
            raise Err(FAIL_NEXT.pop())

    def dialect(self):
        return self._dialect

    def prepare(self, text):
        self.check_failure()
        return FakeStatement(self, text)

    def execute_script(self, text):
        STATEMENTS.append((text, None))
        self.check_failure()
        try:
            # One statement at a time: sqlite3's executescript would commit
            # the fake's open transaction first.
            self.db.execute(text)
        except sqlite3.Error as e:
            raise Err(sql.DbError_Fatal(detail(str(e))))

    def begin(self):
        self.execute_script("BEGIN")

    def commit(self):
        self.execute_script("COMMIT")

    def rollback(self):
        self.execute_script("ROLLBACK")

    def __exit__(self, *exc):
        self.closed = True


sql.Connection = FakeConnection


def reset_databases():
    DATABASES.clear()
    STATEMENTS.clear()
    FAIL_NEXT.clear()
    OPENS.clear()
    FakeConnection.opened.clear()


__all__ = [
    "Err", "batches", "context", "files", "logging", "offsets", "sql", "types",
    "LOGS", "DISK", "GRANTED", "SYNCS", "FakeFile", "OFFSETS", "OFFSET_READS", "STOP",
    "DATABASES", "STATEMENTS", "FAIL_NEXT", "OPENS", "FakeConnection",
    "grant_database", "detail", "pack_rows", "reset_databases", "KIT", "load_app", "record",
    "transform_record",
]
