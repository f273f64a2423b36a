"""WebhookSink: POSTs each batch of records to an HTTP endpoint as one JSON
array, through the worker's outbound HTTP (``wasi:http``).

Each element is ``{"topic", "partition", "offset", "timestamp", "key",
"value"}``: JSON payloads as their documents, text as strings, bytes as
base64. A 2xx answer commits the batch; 408, 429 and 5xx answers and an
unreachable endpoint make the worker retry the batch after
``retry.backoff.ms`` (at-least-once: a retried batch may arrive twice, and
``X-Batch-Id``, ``topic-partition-firstoffset``, lets the receiver tell);
any other answer fails the task with the status and what the endpoint
said. The worker lets the task reach only ``webhook.url``'s origin (and
only where its ``sandbox.allowed.hosts`` allows): a redirect elsewhere is
refused.
"""

import base64
import json

import wasmconnect_kit as wc

URL = "webhook.url"
TOKEN = "webhook.token"
TIMEOUT = "request.timeout.ms"
BACKOFF = "retry.backoff.ms"


class WebhookSinkConnector(wc.SinkConnector):
    name = "io.wasmconnect.python.WebhookSinkConnector"
    aliases = ["WebhookSink", "PythonWebhookSink"]
    version = "0.1.0"
    description = "POSTs each batch of records to an HTTP endpoint as a JSON array"
    task_class = "io.wasmconnect.python.WebhookSinkTask"
    config_def = [
        wc.Key(URL, "string", "The http:// or https:// endpoint batches are POSTed to.",
               required=True, importance="high", resource="url"),
        wc.Key(TOKEN, "password", "A bearer token sent in the Authorization header.",
               importance="medium"),
        wc.Key(TIMEOUT, "int", "How long to wait for the endpoint to answer.",
               default=10000, importance="low"),
        wc.Key(BACKOFF, "int", "How long the worker waits before retrying a failed batch.",
               default=1000, importance="low"),
    ]

    def validate(self, config):
        problems = {}
        url = config.text(URL)
        if url is None:
            problems[URL] = f'Missing required configuration "{URL}" which has no default value.'
        elif not url.lower().startswith(("http://", "https://")):
            problems[URL] = f"Invalid value {url} for configuration {URL}: must be an http:// or https:// URL"
        for key in (TIMEOUT, BACKOFF):
            try:
                config.int(key, 1)
            except ValueError:
                problems[key] = f"Invalid value {config.get(key)} for configuration {key}: Not a number"
        return problems


class WebhookSinkTask(wc.SinkTask):
    def start(self, config):
        self.url = config.required(URL)
        self.token = config.text(TOKEN)
        self.timeout_ms = config.int(TIMEOUT, 10000)
        self.backoff_ms = config.int(BACKOFF, 1000)

    def put(self, records):
        if not records:
            return
        first = records[0]
        headers = {
            "content-type": "application/json",
            "x-batch-id": f"{first.topic}-{first.partition}-{first.offset}",
        }
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        body = json.dumps([self.render(r) for r in records], ensure_ascii=False,
                          separators=(",", ":")).encode()
        try:
            answer = wc.http.request("POST", self.url, headers=headers, body=body,
                                     timeout_ms=self.timeout_ms)
        except wc.HttpError as e:
            if e.retriable:
                raise wc.Retriable(str(e), backoff_ms=self.backoff_ms)
            raise wc.Fatal(str(e))
        if 200 <= answer.status < 300:
            wc.debug("posted %d records to %s", len(records), self.url)
            return
        said = answer.text()[:500]
        message = f"{answer.url} answered HTTP {answer.status}: {said}"
        if answer.status in (408, 429) or answer.status >= 500:
            raise wc.Retriable(message, backoff_ms=self.backoff_ms)
        raise wc.Fatal(message)

    def render(self, record):
        return {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": record.timestamp,
            "key": self.json_value(record.key),
            "value": self.json_value(record.value),
        }

    def json_value(self, payload):
        value = wc.decode(payload)
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        return value


Plugin, Connector, SinkTask = wc.export_sink(WebhookSinkConnector, WebhookSinkTask)
