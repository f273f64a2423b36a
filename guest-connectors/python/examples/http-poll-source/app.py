"""HttpPollSource: polls an HTTP(S) endpoint that answers with JSON objects
and sends each new object to a topic, through the worker's outbound HTTP
(``wasi:http``, world ``source-with-http``).

Each fetch is ``GET http.url`` plus ``<cursor.param>=<cursor>`` once there
is a cursor: the ``cursor.field`` value of the last object sent. The
answer is a JSON array of objects, or an object whose ``records.field`` (a
dotted path) holds that array. Objects are sent in (``cursor.field``,
``id.field``) order, each as a schemaless JSON value keyed by its
``id.field`` (text; null when the object has none), and only those beyond
the last one sent: a server that ignores the parameter, or repeats the
last cursor value, causes no duplicates. Each record's source offset is
``{"cursor": value, "id": id}``, so objects that share a cursor value are
neither lost across pages nor across a restart, provided the endpoint
answers objects whose cursor is at or after the parameter (``>=``: the
ties are fetched again and skipped by id). An offset of an earlier version,
``{"cursor": value}`` alone, is taken to mean every object at that value
was sent, as that version assumed.

A fetch that brought new objects is followed at once by the next (the
following page); one that brought none waits ``poll.interval.ms``. 5xx,
408 and 429 answers and an endpoint that cannot be reached are retriable
(the worker polls again after a backoff); any other non-2xx answer, a body
that is not JSON of that shape, or an object without a usable
``cursor.field``, fails the task with a message saying which.
"""
import json
import time
import urllib.parse

import wasmconnect_kit as wc

URL = "http.url"
TOPIC = "topic"
RECORDS_FIELD = "records.field"
ID_FIELD = "id.field"
CURSOR_FIELD = "cursor.field"
CURSOR_PARAM = "cursor.param"
INTERVAL = "poll.interval.ms"
TIMEOUT = "request.timeout.ms"
BACKOFF = "retry.backoff.ms"


class HttpPollSourceConnector(wc.SourceConnector):
    name = "io.wasmconnect.python.HttpPollSourceConnector"
    aliases = ["HttpPollSource", "PythonHttpPollSource"]
    version = "0.1.0"
    description = "Polls an HTTP endpoint for new JSON objects and sends each to a topic"
    task_class = "io.wasmconnect.python.HttpPollSourceTask"
    config_def = [
        wc.Key(URL, "string", "The http:// or https:// URL to GET.", required=True,
               importance="high", resource="url"),
        wc.Key(TOPIC, "string", "The topic the objects go to.", required=True, importance="high"),
        wc.Key(RECORDS_FIELD, "string",
               "Where the array of objects is when the answer is an object: a field name "
               "or dotted path (data.items). Empty: the answer is the array.", default=""),
        wc.Key(ID_FIELD, "string", "The field whose value becomes the record key.",
               default="id"),
        wc.Key(CURSOR_FIELD, "string",
               "The field whose largest value sent is the cursor (a number, or text that "
               "sorts in order, e.g. an ISO-8601 timestamp). Empty: the id field.", default=""),
        wc.Key(CURSOR_PARAM, "string", "The query parameter carrying the cursor.",
               default="since"),
        wc.Key(INTERVAL, "long", "Milliseconds to wait after a fetch that brought nothing new.",
               default=5000),
        wc.Key(TIMEOUT, "int", "Milliseconds to wait for the endpoint to answer.",
               default=10000, importance="low"),
        wc.Key(BACKOFF, "int", "Milliseconds the worker waits before polling again after a "
               "retriable failure.", default=1000, importance="low"),
    ]

    def validate(self, config):
        problems = {}
        url = config.text(URL)
        if url is None:
            problems[URL] = f'Missing required configuration "{URL}" which has no default value.'
        elif not url.strip().lower().startswith(("http://", "https://")):
            problems[URL] = f"Invalid value {url} for configuration {URL}: must be an http:// or https:// URL"
        if config.text(TOPIC) is None:
            problems[TOPIC] = f'Missing required configuration "{TOPIC}" which has no default value.'
        if not config.get(CURSOR_PARAM, "since").strip():
            problems[CURSOR_PARAM] = f"{CURSOR_PARAM} must name a query parameter"
        # A zero timeout would fail every request: at least a millisecond.
        for key, least in ((INTERVAL, 0), (TIMEOUT, 1), (BACKOFF, 0)):
            try:
                if config.int(key, least) < least:
                    problems[key] = (f"Invalid value {config.get(key)} for configuration {key}: "
                                     f"Value must be at least {least}")
            except wc.Fatal as e:
                problems[key] = str(e)
        for key in (RECORDS_FIELD, ID_FIELD, CURSOR_FIELD):
            if any(not part for part in _path(config.get(key, ""))):
                problems[key] = f"Invalid value {config.get(key)} for configuration {key}: an empty field name"
        return problems

    def task_configs(self, max_tasks):
        # One endpoint, one cursor: a second task would send the same objects.
        return [self.config]


def _path(spec):
    """A dotted path as its parts (``""`` is no path)."""
    spec = spec.strip()
    return spec.split(".") if spec else []


def _lookup(value, path):
    """The value at ``path`` inside ``value``, or ``None`` when absent."""
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# Where an object stands among those sharing its cursor value. Ids of any
# JSON kind get a total order (null, numbers, text, then the rest by their
# JSON text) so that mixed or odd ids never make the comparison fail.
_AFTER_EVERY_ID = (4,)


def _id_order(value):
    if value is None:
        return (0,)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def _no_constants(name):
    # NaN and Infinity are not JSON (and would not fit in an offset).
    raise ValueError(f"{name} is not a JSON value")


def _key_text(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class HttpPollSourceTask(wc.SourceTask):
    def start(self, config):
        self.url = config.required(URL).strip()
        self.topic = config.required(TOPIC)
        self.records_path = _path(config.get(RECORDS_FIELD, ""))
        self.id_path = _path(config.get(ID_FIELD, "id"))
        self.cursor_path = _path(config.get(CURSOR_FIELD, "")) or self.id_path
        self.cursor_name = ".".join(self.cursor_path)
        self.param = config.get(CURSOR_PARAM, "since").strip()
        self.interval = config.int(INTERVAL, 5000) / 1000
        self.timeout_ms = config.int(TIMEOUT, 10000)
        self.backoff_ms = config.int(BACKOFF, 1000)
        if not self.cursor_path:
            raise wc.Fatal(f"{CURSOR_FIELD} (or {ID_FIELD}) must name a field")
        self.partition = {"url": self.url}
        committed = self.offset(self.partition) or {}
        self.cursor = committed.get("cursor")
        # An offset without "id" comes from a version that skipped every
        # object at its cursor value: keep doing so rather than resend one.
        self.last_id = _id_order(committed["id"]) if "id" in committed else _AFTER_EVERY_ID
        self.due = time.monotonic()
        if self.cursor is None:
            wc.info("polling %s from the start", self.url)
        else:
            wc.info("polling %s after cursor %s, %s", self.url, json.dumps(self.cursor),
                    f"id {json.dumps(committed['id'])}" if "id" in committed else "every id")

    def poll(self):
        wait = self.due - time.monotonic()
        if wait > 0:
            # At most a second per call, so the worker can stop the task.
            wc.sleep(min(wait, 1.0))
            return []
        objects = self.fetch()
        fresh = self.new_objects(objects)
        if not fresh:
            self.due = time.monotonic() + self.interval
            return []
        records = []
        for cursor, _, ident, obj in fresh:
            records.append(wc.SourceRecord(
                self.topic, obj, key=_key_text(ident),
                source_partition=self.partition, source_offset={"cursor": cursor, "id": ident}))
        self.cursor, self.last_id = fresh[-1][0], fresh[-1][1]
        wc.debug("sent %d objects from %s, cursor now %s", len(records), self.url,
                 json.dumps(self.cursor))
        return records

    def request_url(self):
        if self.cursor is None:
            return self.url
        value = self.cursor if isinstance(self.cursor, str) else json.dumps(self.cursor)
        query = urllib.parse.urlencode({self.param: value})
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def fetch(self):
        url = self.request_url()
        try:
            answer = wc.http.request("GET", url, headers={"accept": "application/json"},
                                     timeout_ms=self.timeout_ms)
        except wc.HttpError as e:
            if e.retriable:
                raise wc.Retriable(str(e), backoff_ms=self.backoff_ms)
            raise wc.Fatal(str(e))
        if answer.status in (408, 429) or answer.status >= 500:
            raise wc.Retriable(f"GET {answer.url} answered HTTP {answer.status}: "
                               f"{answer.text()[:300]}", backoff_ms=self.backoff_ms)
        if not 200 <= answer.status < 300:
            raise wc.Fatal(f"GET {answer.url} answered HTTP {answer.status}: {answer.text()[:300]} "
                           f"(check {URL} and the endpoint's access rules)")
        try:
            body = json.loads(answer.body, parse_constant=_no_constants)
        except ValueError as e:
            raise wc.Fatal(f"GET {answer.url} answered with a body that is not JSON ({e}): "
                           f"{answer.text()[:100]!r}") from None
        except RecursionError:
            raise wc.Fatal(f"GET {answer.url} answered with JSON nested too deeply to read: "
                           f"{answer.text()[:100]!r}") from None
        return self.objects_of(body, answer.url)

    def objects_of(self, body, url):
        if self.records_path:
            if not isinstance(body, dict):
                raise wc.Fatal(f"GET {url}: expected a JSON object with the array at "
                               f"{'.'.join(self.records_path)} ({RECORDS_FIELD}), got "
                               f"{type(body).__name__}")
            body = _lookup(body, self.records_path)
            if body is None:
                return []  # no field: nothing this time
        if not isinstance(body, list):
            where = f"at {'.'.join(self.records_path)}" if self.records_path else "as the body"
            raise wc.Fatal(f"GET {url}: expected a JSON array of objects {where}, got "
                           f"{type(body).__name__}")
        for i, obj in enumerate(body):
            if not isinstance(obj, dict):
                raise wc.Fatal(f"GET {url}: element {i} is a {type(obj).__name__}, not an object")
        return body

    def new_objects(self, objects):
        """(cursor, id order, id, object) of the objects after the last one
        sent, in (cursor, id) order."""
        keyed = []
        for position, obj in enumerate(objects):
            cursor = _lookup(obj, self.cursor_path)
            if isinstance(cursor, bool) or not isinstance(cursor, (int, float, str)):
                raise wc.Fatal(f"object {position} of the answer has no number or text at "
                               f"{self.cursor_name} ({CURSOR_FIELD}): {json.dumps(obj)[:200]}")
            ident = _lookup(obj, self.id_path)
            keyed.append((cursor, _id_order(ident), ident, obj))
        kinds = {isinstance(item[0], str) for item in keyed}
        if self.cursor is not None:
            kinds.add(isinstance(self.cursor, str))
        if len(kinds) > 1:
            raise wc.Fatal(f"{self.cursor_name} mixes numbers and text; the cursor needs one "
                           "kind to order by")
        # Stable: objects with equal cursor and id keep the server's order.
        keyed.sort(key=lambda item: (item[0], item[1]))
        if self.cursor is None:
            return keyed
        last = (self.cursor, self.last_id)
        return [item for item in keyed if (item[0], item[1]) > last]

Plugin, Connector, SourceTask = wc.export_source(HttpPollSourceConnector, HttpPollSourceTask)
