"""Tests of wasmconnect_kit.db and the SqlSink example, without the host.

    ~/.cache/wasmconnect/polyglot/venv/bin/python -m unittest discover -s guest-connectors/python/tests

The unpacking and the value mapping run on hand-built WIT values; the
connection, transactions and SqlSink run against fakehost's SQLite-backed
`sql` import. tests/tests/polyglot_database.rs runs the built SqlSink
component against real PostgreSQL and SQLite through the worker's host.
"""

import datetime as dt
import struct
import unittest
from decimal import Decimal

from fakehost import (FAIL_NEXT, LOGS, OPENS, STATEMENTS, Err, FakeConnection,
                      detail, grant_database, load_app, record, reset_databases, sql, types)

import wasmconnect_kit as wc
from wasmconnect_kit import db
from wasmconnect_kit.batch import pack_sink

UTC = dt.timezone.utc
K = sql.ValueKind


def cell(kind, num=0, offset=0, length=0):
    return sql.Cell(kind, num, sql.Span(offset, length))


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x):
    return struct.unpack("<q", struct.pack("<d", x))[0]


class UnpackTest(unittest.TestCase):
    def test_every_kind(self):
        data = "Zoë ☃ 東京 😀".encode() + b"-12.340" + b"\x00\xff" + b"{1,2}"
        text_len = len("Zoë ☃ 東京 😀".encode())
        cells = [
            cell(K.NULL), cell(K.BOOLEAN, 1), cell(K.BOOLEAN, 0), cell(K.INT, -(1 << 63)),
            cell(K.FLOAT32, f32_bits(-1.5)), cell(K.FLOAT64, f64_bits(-2.25)),
            cell(K.DECIMAL, 0, text_len, 7), cell(K.TEXT, 0, 0, text_len),
            cell(K.BYTES, 0, text_len + 7, 2), cell(K.OTHER, 0, text_len + 9, 5),
            cell(K.DATE, -1), cell(K.TIME, 3_723_000_042),
            cell(K.TIMESTAMP, -1), cell(K.TIMESTAMP_TZ, 1_700_000_000_123_456),
        ]
        got = db.unpack_rows(sql.RowBatch(data, cells + cells, 2, True))
        want = (None, True, False, -(1 << 63), -1.5, -2.25, Decimal("-12.340"),
                "Zoë ☃ 東京 😀", b"\x00\xff", b"{1,2}", dt.date(1969, 12, 31),
                dt.time(1, 2, 3, 42), dt.datetime(1969, 12, 31, 23, 59, 59, 999_999),
                dt.datetime(2023, 11, 14, 22, 13, 20, 123_456, tzinfo=UTC))
        self.assertEqual(got, [want, want])
        self.assertEqual(str(got[0][6]), "-12.340")  # the scale survives
        self.assertIsInstance(got[0][8], bytes)
        self.assertEqual(got[0][13].utcoffset(), dt.timedelta(0))

    def test_empty_batches_and_rows_without_columns(self):
        self.assertEqual(db.unpack_rows(sql.RowBatch(b"", [], 0, True)), [])
        self.assertEqual(db.unpack_rows(sql.RowBatch(b"", [], 3, True)), [(), (), ()])

    def assert_refused(self, batch, message):
        with self.assertRaises(db.DatabaseError) as e:
            db.unpack_rows(batch)
        self.assertEqual(e.exception.kind, "fatal")
        self.assertFalse(e.exception.retriable)
        self.assertEqual(str(e.exception), message)

    def test_malformed_batches_are_refused(self):
        self.assert_refused(sql.RowBatch(b"ab", [cell(K.TEXT, 0, 1, 2)], 1, True),
                            "the host sent a malformed row batch: column 1: bytes 1..3 lie "
                            "outside 2")
        self.assert_refused(sql.RowBatch(b"", [cell(K.INT)] * 3, 2, True),
                            "the host sent a malformed row batch: 3 cells do not make 2 rows "
                            "of equal width")
        self.assert_refused(sql.RowBatch(b"", [cell(K.INT)], 0, True),
                            "the host sent a malformed row batch: 1 cells in a batch of no rows")
        self.assert_refused(sql.RowBatch(b"\xff", [cell(K.INT), cell(K.TEXT, 0, 0, 1)], 1, True),
                            "the host sent a malformed row batch: column 2: text is not UTF-8")
        self.assert_refused(sql.RowBatch(b"1e", [cell(K.DECIMAL, 0, 0, 2)], 1, True),
                            "the host sent a malformed row batch: column 1: '1e' is not a decimal")

    def test_values_python_cannot_hold_name_their_column(self):
        infinity = (1 << 31) - 1  # PostgreSQL's 'infinity'::date
        self.assert_refused(sql.RowBatch(b"", [cell(K.INT), cell(K.DATE, infinity)], 1, True),
                            f"column 2: the date {infinity} lies outside what Python's datetime "
                            "can hold (years 1 to 9999); cast it to text in the query")
        self.assert_refused(sql.RowBatch(b"", [cell(K.TIMESTAMP_TZ, (1 << 63) - 1)], 1, True),
                            f"column 1: the timestamp-tz {(1 << 63) - 1} lies outside what "
                            "Python's datetime can hold (years 1 to 9999); cast it to text in "
                            "the query")
        self.assert_refused(sql.RowBatch(b"", [cell(K.TIME, 86_400_000_000)], 1, True),
                            "column 1: the time 86400000000 µs is not within a day")


class ValueTest(unittest.TestCase):
    def test_python_values_become_wit_values(self):
        cases = [
            (None, sql.Value_Null()),
            (True, sql.Value_Boolean(True)),
            ((1 << 63) - 1, sql.Value_Int((1 << 63) - 1)),
            (-0.5, sql.Value_Float64(-0.5)),
            (Decimal("1E+3"), sql.Value_Decimal("1000")),
            (Decimal("-12.340"), sql.Value_Decimal("-12.340")),
            (Decimal("NaN"), sql.Value_Decimal("NaN")),
            ("Zoë", sql.Value_Text("Zoë")),
            (b"\x00", sql.Value_Bytes(b"\x00")),
            (bytearray(b"ab"), sql.Value_Bytes(b"ab")),
            (memoryview(b"cd"), sql.Value_Bytes(b"cd")),
            (dt.date(1969, 12, 31), sql.Value_Date(-1)),
            (dt.time(1, 2, 3, 42), sql.Value_Time(3_723_000_042)),
            (dt.datetime(1970, 1, 1, 0, 0, 0, 1), sql.Value_Timestamp(1)),
            # An aware datetime is an instant: 02:00 at +02:00 is midnight UTC.
            (dt.datetime(1970, 1, 2, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
             sql.Value_TimestampTz(86_400_000_000)),
            (sql.Value_Float32(1.5), sql.Value_Float32(1.5)),
        ]
        for python, wit in cases:
            with self.subTest(python=python):
                self.assertEqual(db.to_value(python), wit)

    def test_values_that_cannot_pass_name_their_position(self):
        for params, message in [
            ((1, 1 << 63), "parameter 2: the integer 9223372036854775808 does not fit in 64 "
                           "bits: pass a decimal.Decimal"),
            (([1],), "parameter 1: cannot pass a list to the database: use None, bool, int, "
                     "float, Decimal, str, bytes, date, time or datetime"),
            ((dt.time(1, tzinfo=UTC),), "parameter 1: the time 01:00:00+00:00 has a time zone, "
                                        "which a SQL time value cannot hold: pass a naive time"),
            ("abc", "parameters must be a sequence of values, not a str"),
        ]:
            with self.subTest(params=params):
                with self.assertRaises(db.DatabaseError) as e:
                    db._params(params)
                self.assertEqual(str(e.exception), message)


class ErrorTest(unittest.TestCase):
    def test_wit_errors_become_task_errors(self):
        retriable = db.DatabaseError.from_wit(sql.DbError_Retriable(
            sql.ErrorDetail("deadlock detected", "40P01", None, False)))
        self.assertEqual((retriable.kind, retriable.retriable, retriable.sqlstate),
                         ("retriable", True, "40P01"))
        self.assertEqual(wc.errors.to_task_error(retriable),
                         types.TaskError_Retriable(types.RetriableError(
                             "deadlock detected (SQLSTATE 40P01)", None)))

        fatal = db.DatabaseError.from_wit(sql.DbError_Fatal(
            sql.ErrorDetail("duplicate key", "23505", 7, True)))
        self.assertEqual((fatal.kind, fatal.retriable, fatal.vendor_code, fatal.connection_lost,
                          fatal.message), ("fatal", False, 7, True, "duplicate key"))
        self.assertEqual(wc.errors.to_task_error(fatal),
                         types.TaskError_Fatal("duplicate key (SQLSTATE 23505)"))

        refused = db.DatabaseError.from_wit(sql.DbError_NotGranted("x is not granted"))
        self.assertEqual((refused.kind, refused.sqlstate), ("not-granted", None))
        self.assertEqual(wc.errors.to_task_error(refused),
                         types.TaskError_Fatal("database not granted: x is not granted"))
        # The kit's own errors keep their mapping.
        self.assertEqual(wc.errors.to_task_error(wc.Retriable("later", 5)),
                         types.TaskError_Retriable(types.RetriableError("later", 5)))


class ConnectionTest(unittest.TestCase):
    def setUp(self):
        reset_databases()
        self.sqlite = grant_database("jdbc:sqlite:/data/test.db")
        self.conn = db.connect("jdbc:sqlite:/data/test.db", "u", "p")
        self.conn.script("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, x REAL)")

    def test_connect_passes_credentials_and_reports_the_dialect(self):
        self.assertEqual(OPENS, [("jdbc:sqlite:/data/test.db", "u", "p")])
        self.assertEqual(self.conn.dialect, "sqlite")
        self.assertEqual(self.conn.placeholders(3), "?, ?, ?")
        grant_database("jdbc:postgresql://db/x", sql.Dialect.POSTGRESQL)
        pg = db.connect("jdbc:postgresql://db/x")
        self.assertEqual((pg.dialect, pg.placeholders(2, start=3)), ("postgresql", "$3, $4"))

    def test_a_url_not_granted_is_refused(self):
        with self.assertRaises(db.DatabaseError) as e:
            db.connect("jdbc:sqlite:/elsewhere.db")
        self.assertEqual(e.exception.kind, "not-granted")
        self.assertEqual(str(e.exception), "database not granted: jdbc:sqlite:/elsewhere.db is "
                                           "not the value of any url setting of this connector")

    def test_a_component_without_the_import_says_how_to_get_it(self):
        saved, db.sql = db.sql, None
        try:
            with self.assertRaises(db.DatabaseError) as e:
                db.connect("jdbc:sqlite:/data/test.db")
        finally:
            db.sql = saved
        self.assertIn("write sink-with-database (or source-with-database) into a file named `world`", str(e.exception))

    def test_execute_query_and_batches(self):
        rows = [(i, f"n{i} ☃", bytes([i]), i / 2) for i in range(5)]
        self.assertEqual(self.conn.execute_many("INSERT INTO t VALUES (?, ?, ?, ?)", rows),
                         [1] * 5)
        self.assertEqual(self.conn.execute_many("INSERT INTO t VALUES (?, ?, ?, ?)", []), [])
        self.assertEqual(self.conn.execute("UPDATE t SET name = ? WHERE id >= ?", (None, 3)), 2)
        result = self.conn.query("SELECT id, name, data, x FROM t ORDER BY id", batch=2)
        self.assertEqual(result.column_names, ["id", "name", "data", "x"])
        self.assertEqual(list(result), [(0, "n0 ☃", b"\x00", 0.0), (1, "n1 ☃", b"\x01", 0.5),
                                        (2, "n2 ☃", b"\x02", 1.0), (3, None, b"\x03", 1.5),
                                        (4, None, b"\x04", 2.0)])
        self.assertEqual(self.conn.query_one("SELECT count(*) FROM t WHERE id > ?", (1,)), (3,))
        self.assertIsNone(self.conn.query_one("SELECT id FROM t WHERE id < 0"))
        with self.assertRaises(ValueError):
            self.conn.query("SELECT 1", batch=0)

    def test_postgresql_placeholders_reach_the_host_as_written(self):
        grant_database("jdbc:postgresql://db/x", sql.Dialect.POSTGRESQL)
        pg = db.connect("jdbc:postgresql://db/x")
        self.assertEqual(pg.query_one("SELECT $2, $1", ("a", 2)), (2, "a"))
        self.assertEqual(STATEMENTS[-1], ("SELECT $2, $1",
                                          [sql.Value_Text("a"), sql.Value_Int(2)]))

    def test_transaction_commits_or_rolls_back(self):
        with self.conn.transaction():
            self.conn.execute("INSERT INTO t (id) VALUES (?)", (1,))
        with self.assertRaises(KeyError):
            with self.conn.transaction():
                self.conn.execute("INSERT INTO t (id) VALUES (?)", (2,))
                raise KeyError("boom")
        with self.assertRaises(db.DatabaseError) as e:
            with self.conn.transaction():
                self.conn.execute("INSERT INTO t (id) VALUES (?)", (3,))
                self.conn.execute("INSERT INTO t (id) VALUES (?)", (1,))
        self.assertIn("UNIQUE constraint failed", str(e.exception))
        self.assertEqual(self.conn.query("SELECT id FROM t").fetchall(), [(1,)])
        self.assertFalse(self.conn.in_transaction)
        self.assertEqual([s for s, _ in STATEMENTS if s in ("BEGIN", "COMMIT", "ROLLBACK")],
                         ["BEGIN", "COMMIT", "BEGIN", "ROLLBACK", "BEGIN", "ROLLBACK"])

    def test_transactions_do_not_nest(self):
        with self.conn.transaction():
            with self.assertRaises(db.DatabaseError) as e:
                self.conn.begin()
        self.assertEqual(str(e.exception), "a transaction is already open on this connection")

    def test_a_failed_commit_leaves_no_transaction_open(self):
        FakeCommitFails.install(self)
        with self.assertRaises(db.DatabaseError) as e:
            with self.conn.transaction():
                self.conn.execute("INSERT INTO t (id) VALUES (?)", (1,))
        self.assertTrue(e.exception.retriable)
        self.assertEqual(STATEMENTS[-1], ("ROLLBACK", None))
        with self.conn.transaction():  # begins again
            pass

    def test_a_lost_connection_is_marked_and_not_rolled_back(self):
        with self.assertRaises(db.DatabaseError) as e:
            with self.conn.transaction():
                FAIL_NEXT.append(sql.DbError_Retriable(detail("server closed the connection",
                                                              "08006", lost=True)))
                self.conn.execute("INSERT INTO t (id) VALUES (?)", (1,))
        self.assertTrue(e.exception.connection_lost and self.conn.lost)
        self.assertNotEqual(STATEMENTS[-1], ("ROLLBACK", None))

    def test_closed_connections_refuse_calls(self):
        self.conn.close()
        self.conn.close()
        self.assertTrue(FakeConnection.opened[0].closed)
        with self.assertRaises(db.DatabaseError) as e:
            self.conn.execute("SELECT 1")
        self.assertEqual(str(e.exception), "the connection is closed")


class FakeCommitFails:
    """Makes the connection's COMMIT fail once with SQLITE_BUSY."""

    @staticmethod
    def install(test):
        handle = FakeConnection.opened[-1]
        original = handle.commit

        def busy():
            handle.commit = original
            STATEMENTS.append(("COMMIT", None))
            raise Err(sql.DbError_Retriable(detail("database is locked")))

        handle.commit = busy


URL = "jdbc:sqlite:/data/sink.db"
CONFIG = [("connection.url", URL), ("connection.user", "me"), ("connection.password", "pw"),
          ("table", "events")]


class SqlSinkTest(unittest.TestCase):
    def setUp(self):
        reset_databases()
        self.app = load_app("examples/sql-sink")

    def start(self, config=CONFIG):
        task = self.app.SinkTask()
        task.start(config)
        return task

    def rows(self, database):
        return database.execute("SELECT * FROM events ORDER BY kafka_topic, kafka_partition, "
                                "kafka_offset").fetchall()

    def test_metadata_and_keys(self):
        plugin = self.app.Plugin()
        self.assertEqual(plugin.metadata().name, "io.wasmconnect.python.SqlSinkConnector")
        keys = {k.name: (k.type.name, k.required, k.resource and k.resource.name)
                for k in plugin.config_definition()}
        self.assertEqual(keys, {"connection.url": ("STRING", True, "URL"),
                                "connection.user": ("STRING", False, None),
                                "connection.password": ("PASSWORD", False, None),
                                "table": ("STRING", True, None)})

    def test_validate(self):
        plugin = self.app.Plugin()
        self.assertEqual(plugin.validate(CONFIG), [])
        problems = {v.name: v.errors for v in plugin.validate(
            [("connection.url", "http://x"), ("table", "t; DROP TABLE x")])}
        self.assertEqual(problems, {
            "connection.url": ["Invalid value http://x for configuration connection.url: not a "
                               "PostgreSQL, MySQL/MariaDB or SQLite URL (jdbc:postgresql://host/db, "
                               "jdbc:mysql://host/db, jdbc:sqlite:/path/file.db)"],
            "table": ["Invalid value t; DROP TABLE x for configuration table: letters, digits "
                      "and underscores, optionally schema.table"],
        })
        # Missing required keys are the host's to report.
        self.assertEqual(plugin.validate([]), [])

    def test_statements_per_dialect(self):
        create, upsert = self.app.statements("postgresql", "s.events")
        self.assertEqual(create, "CREATE TABLE IF NOT EXISTS s.events (kafka_topic VARCHAR(255) "
                                 "NOT NULL, kafka_partition INTEGER NOT NULL, kafka_offset BIGINT "
                                 "NOT NULL, kafka_timestamp TIMESTAMPTZ, value TEXT, PRIMARY KEY "
                                 "(kafka_topic, kafka_partition, kafka_offset))")
        self.assertEqual(upsert, "INSERT INTO s.events (kafka_topic, kafka_partition, "
                                 "kafka_offset, kafka_timestamp, value) VALUES ($1, $2, $3, $4, $5) "
                                 "ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO "
                                 "UPDATE SET kafka_timestamp = excluded.kafka_timestamp, value = "
                                 "excluded.value")
        create, upsert = self.app.statements("mysql", "events")
        self.assertIn("kafka_timestamp DATETIME(3), value LONGTEXT", create)
        self.assertTrue(upsert.endswith("VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
                                        "kafka_timestamp = VALUES(kafka_timestamp), value = "
                                        "VALUES(value)"), upsert)
        _, upsert = self.app.statements("sqlite", "events")
        self.assertIn("VALUES (?, ?, ?, ?, ?) ON CONFLICT", upsert)

    def test_puts_upsert_one_row_per_record_in_one_transaction(self):
        database = grant_database(URL)
        task = self.start()
        self.assertEqual(OPENS, [], "the database is reached at the first put")
        batch = [
            record(0, value=wc.json_payload({"name": "Zoë ☃ 東京 😀", "n": 1}), timestamp=1_500),
            record(1, value=wc.text("plain"), timestamp=None),
            record(2, value=wc.binary(b"\xff\x00")),
            record(3, value=None),
            record(7, value=wc.json_payload([1, None]), partition=1),
        ]
        task.put(pack_sink(batch))
        STATEMENTS.clear()
        # Redelivered (say, after a restart before offsets were committed),
        # with one record more: the same rows, one added.
        task.put(pack_sink(batch[:2] + [record(4, value=wc.text("new"))]))
        self.assertEqual([s.split(" (")[0] for s, _ in STATEMENTS],
                         ["BEGIN", "INSERT INTO events", "INSERT INTO events",
                          "INSERT INTO events", "COMMIT"])
        self.assertEqual(self.rows(database), [
            ("t", 0, 0, 1_500_000, '{"name":"Zoë ☃ 東京 😀","n":1}'),
            ("t", 0, 1, None, '"plain"'),
            ("t", 0, 2, 1_700_000_000_000_000, '"/wA="'),
            ("t", 0, 3, 1_700_000_000_000_000, None),
            ("t", 0, 4, 1_700_000_000_000_000, '"new"'),
            ("t", 1, 7, 1_700_000_000_000_000, "[1,null]"),
        ])
        self.assertEqual(OPENS, [(URL, "me", "pw")], "one connection for every put")
        task.stop()
        self.assertTrue(FakeConnection.opened[0].closed)

    def test_a_failing_row_leaves_the_batch_unwritten(self):
        database = grant_database(URL)
        database.execute("CREATE TABLE events (kafka_topic TEXT, kafka_partition INT, "
                         "kafka_offset INT, kafka_timestamp INT, value TEXT NOT NULL, "
                         "PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset))")
        task = self.start()
        with self.assertRaises(Err) as e:
            task.put(pack_sink([record(0, value=wc.text("kept?")), record(1, value=None)]))
        self.assertEqual(e.exception.value,
                         types.TaskError_Fatal("NOT NULL constraint failed: events.value"))
        self.assertEqual(self.rows(database), [])
        self.assertEqual(STATEMENTS[-1], ("ROLLBACK", None))

    def test_a_lost_connection_is_retried_on_a_new_one(self):
        database = grant_database(URL)
        task = self.start()
        task.put(pack_sink([record(0, value=wc.text("a"))]))
        FAIL_NEXT.append(sql.DbError_Retriable(detail("terminating connection", "57P01",
                                                      lost=True)))
        with self.assertRaises(Err) as e:
            task.put(pack_sink([record(1, value=wc.text("b"))]))
        self.assertEqual(e.exception.value, types.TaskError_Retriable(types.RetriableError(
            "terminating connection (SQLSTATE 57P01)", None)))
        task.put(pack_sink([record(1, value=wc.text("b"))]))  # the worker's retry
        self.assertEqual(len(OPENS), 2)
        self.assertTrue(FakeConnection.opened[0].closed)
        self.assertEqual([r[2:] for r in self.rows(database)],
                         [(0, 1_700_000_000_000_000, '"a"'), (1, 1_700_000_000_000_000, '"b"')])

    def test_a_database_not_granted_fails_the_put(self):
        task = self.start()
        with self.assertRaises(Err) as e:
            task.put(pack_sink([record(0, value=wc.text("a"))]))
        self.assertEqual(e.exception.value, types.TaskError_Fatal(
            f"database not granted: {URL} is not the value of any url setting of this connector"))

    def test_start_refuses_a_table_name_it_would_have_to_quote(self):
        with self.assertRaises(Err) as e:
            self.start([("connection.url", URL), ("table", "a-b")])
        self.assertEqual(e.exception.value, types.TaskError_Fatal(
            "Invalid value a-b for configuration table: letters, digits and underscores, "
            "optionally schema.table"))

    def test_a_timestamp_beyond_year_9999_is_stored_as_null(self):
        database = grant_database(URL)
        task = self.start()
        LOGS.clear()
        task.put(pack_sink([record(0, value=wc.text("a"), timestamp=1 << 62)]))
        self.assertEqual(self.rows(database), [("t", 0, 0, None, '"a"')])
        self.assertIn(("WARN", f"t-0@0: timestamp {1 << 62} ms is out of range; stored as NULL"),
                      LOGS)


if __name__ == "__main__":
    unittest.main()
