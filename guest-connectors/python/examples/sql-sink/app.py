"""SqlSink: writes every record into a database table, idempotently.

The table (created on first use when missing) holds one row per record,
keyed by where the record sits in Kafka:

    kafka_topic      VARCHAR(255)  \\
    kafka_partition  INTEGER        > the primary key
    kafka_offset     BIGINT        /
    kafka_timestamp  timestamp with time zone (NULL when the record has none)
    value            the record's value as JSON text (NULL for a tombstone)

Each `put` upserts its batch in one transaction, so a batch is written
whole or not at all, and a batch delivered again (after a retry, a
rebalance or a restart before offsets were committed) overwrites its own
rows instead of adding more: exactly one row per record.

The value becomes JSON as JsonLinesSink writes it: a `json` payload
(JsonConverter) is its document re-serialized, `text` a JSON string,
`binary` a base64 JSON string.

PostgreSQL, MySQL/MariaDB and SQLite, by `connection.url`; the worker
grants the connector exactly that database (and checks it against
`sandbox.allowed.hosts` / `sandbox.allowed.dirs`).
"""

import base64
import datetime
import json
import re

import wasmconnect_kit as wc
from wasmconnect_kit import db

URL = "connection.url"
USER = "connection.user"
PASSWORD = "connection.password"
TABLE = "table"

#: URL schemes the worker has drivers for (JDBC and native spellings).
SCHEMES = ("jdbc:postgresql:", "postgresql:", "postgres:", "jdbc:mysql:", "mysql:",
           "jdbc:mariadb:", "mariadb:", "jdbc:sqlite:", "sqlite:")
#: A plain or schema-qualified name: the table goes into SQL unquoted, so
#: nothing else is accepted.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")

#: Column types per dialect: MySQL cannot key on TEXT and has no zoned
#: timestamp (DATETIME holds the UTC wall clock there), and its TEXT stops
#: at 64 KiB.
COLUMN_TYPES = {
    "postgresql": {"timestamp": "TIMESTAMPTZ", "value": "TEXT"},
    "mysql": {"timestamp": "DATETIME(3)", "value": "LONGTEXT"},
    "sqlite": {"timestamp": "TIMESTAMP", "value": "TEXT"},
}
KEY = "kafka_topic, kafka_partition, kafka_offset"
COLUMNS = f"{KEY}, kafka_timestamp, value"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def statements(dialect, table):
    """The CREATE TABLE and the upsert for ``dialect``'s SQL."""
    types = COLUMN_TYPES[dialect]
    create = (f"CREATE TABLE IF NOT EXISTS {table} ("
              "kafka_topic VARCHAR(255) NOT NULL, kafka_partition INTEGER NOT NULL, "
              f"kafka_offset BIGINT NOT NULL, kafka_timestamp {types['timestamp']}, "
              f"value {types['value']}, PRIMARY KEY ({KEY}))")
    if dialect == "postgresql":
        params = "$1, $2, $3, $4, $5"
    else:
        params = "?, ?, ?, ?, ?"
    insert = f"INSERT INTO {table} ({COLUMNS}) VALUES ({params})"
    if dialect == "mysql":
        # VALUES(col) rather than MySQL 8's row alias: MariaDB knows only it.
        upsert = (f"{insert} ON DUPLICATE KEY UPDATE "
                  "kafka_timestamp = VALUES(kafka_timestamp), value = VALUES(value)")
    else:
        upsert = (f"{insert} ON CONFLICT ({KEY}) DO UPDATE SET "
                  "kafka_timestamp = excluded.kafka_timestamp, value = excluded.value")
    return create, upsert


def table_problem(table):
    """Why ``table`` cannot be used, or ``None``."""
    if not IDENTIFIER.fullmatch(table):
        return (f"Invalid value {table} for configuration {TABLE}: letters, digits and "
                "underscores, optionally schema.table")
    return None


class SqlSinkConnector(wc.SinkConnector):
    name = "io.wasmconnect.python.SqlSinkConnector"
    aliases = ["SqlSink", "PythonSqlSink"]
    version = "0.1.0"
    description = ("Upserts each record into a PostgreSQL, MySQL/MariaDB or SQLite table, "
                   "one row per topic, partition and offset")
    task_class = "io.wasmconnect.python.SqlSinkTask"
    config_def = [
        wc.Key(URL, "string",
               "The database: jdbc:postgresql://host:5432/db, jdbc:mysql://…, "
               "jdbc:mariadb://…, jdbc:sqlite:/path/file.db (or postgres://…, sqlite:/path).",
               required=True, importance="high", resource="url"),
        wc.Key(USER, "string", "The user to log in as (overrides the URL's).",
               importance="high"),
        wc.Key(PASSWORD, "password", "The user's password (overrides the URL's).",
               importance="high"),
        wc.Key(TABLE, "string",
               "The table to write to; created when missing.",
               required=True, importance="high"),
    ]

    def validate(self, config):
        # The host reports missing required keys; these are what it cannot
        # know.
        problems = {}
        url = config.text(URL)
        if url is not None and not url.lower().startswith(SCHEMES):
            problems[URL] = (f"Invalid value {url} for configuration {URL}: not a PostgreSQL, "
                             "MySQL/MariaDB or SQLite URL (jdbc:postgresql://host/db, "
                             "jdbc:mysql://host/db, jdbc:sqlite:/path/file.db)")
        table = config.text(TABLE)
        if table is not None and table_problem(table):
            problems[TABLE] = table_problem(table)
        return problems


class SqlSinkTask(wc.SinkTask):
    def start(self, config):
        self.url = config.required(URL)
        self.user = config.text(USER)
        self.password = config.text(PASSWORD)
        self.table = config.required(TABLE)
        problem = table_problem(self.table)
        if problem:
            raise wc.Fatal(problem)
        self.conn = None
        self.total = 0

    def connection(self):
        """The open connection, (re)opened on first use and after a lost
        one: the database may be down when the task starts, and a failure
        to reach it is then a retriable put rather than a failed task."""
        if self.conn is None or self.conn.lost:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            conn = db.connect(self.url, self.user, self.password)
            create, self.upsert = statements(conn.dialect, self.table)
            try:
                conn.script(create)
            except BaseException:
                conn.close()
                raise
            self.conn = conn
            wc.info("writing to %s on %s", self.table, conn.dialect)
        return self.conn

    def put(self, records):
        if not records:
            return
        rows = [(r.topic, r.partition, r.offset, timestamp(r), value_json(r.value))
                for r in records]
        conn = self.connection()
        # One transaction: a failed batch leaves no rows behind, and the
        # worker's retry (retriable errors) writes it again whole.
        with conn.transaction():
            conn.execute_many(self.upsert, rows)
        self.total += len(rows)
        wc.debug("upserted %d records into %s (%d in total)", len(rows), self.table, self.total)

    def stop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def timestamp(record):
    """The record's timestamp as an instant, or ``None``."""
    if record.timestamp is None:
        return None
    try:
        return EPOCH + datetime.timedelta(milliseconds=record.timestamp)
    except OverflowError:
        # Beyond year 9999: no SQL timestamp holds it; keep the record.
        wc.warn("%s-%d@%d: timestamp %d ms is out of range; stored as NULL",
                record.topic, record.partition, record.offset, record.timestamp)
        return None


def value_json(payload):
    """The value as JSON text, or ``None`` for a null value."""
    value = wc.decode(payload)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode("ascii")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


Plugin, Connector, SinkTask = wc.export_sink(SqlSinkConnector, SqlSinkTask)
