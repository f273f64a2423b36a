"""Outbound HTTP through ``wasi:http/outgoing-handler``::

    from wasmconnect_kit import http
    answer = http.request("POST", url, headers={"content-type": "application/json"},
                          body=b"[]", timeout_ms=5000)
    if answer.status == 200: ...

The worker sends a request only to an origin (scheme, host and port) that
one of the connector's configuration keys marked ``resource="url"`` names,
and only where its ``sandbox.allowed.hosts`` allows: anything else raises
:class:`HttpError` with ``kind == "denied"``. Redirects (301, 302, 303, 307,
308) are followed up to ``max_redirects`` times, each to an origin the
worker must allow as well. The app's ``world`` file must name
``sink-with-http`` (or ``source-with-http``).
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Tuple

from componentize_py_types import Err, Ok

from .errors import TaskFailure

try:  # only the *-with-http worlds import wasi:http
    from wit_world.imports import outgoing_handler
    from wit_world.imports import streams
    from wit_world.imports import wasi_http_types as wh
except ImportError:  # pragma: no cover - components built for other worlds
    outgoing_handler = None

#: Bytes read from a response body per host call.
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


class HttpError(TaskFailure):
    """A request that got no answer. ``kind`` is ``"denied"`` (the worker
    refused the origin: retrying cannot help), ``"invalid"`` (the request
    cannot be sent as written) or ``"transport"`` (the server could not be
    reached or did not answer in time: the host retries the call)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.retriable = kind == "transport"


class Response:
    """An answer: ``status``, ``headers`` (lowercase names, in order) and
    the whole ``body``; ``url`` is where it came from after redirects."""

    def __init__(self, url: str, status: int, headers: List[Tuple[str, bytes]], body: bytes) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (any case), as text."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("utf-8", "replace")
        return None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
            body: bytes = b"", timeout_ms: Optional[int] = None,
            max_redirects: int = 5) -> Response:
    """Sends a request and returns the whole answer."""
    if outgoing_handler is None:
        raise HttpError("invalid", "this component's world has no wasi:http import: write "
                                   "sink-with-http (or source-with-http) into a file named `world` in "
                                   "the app directory")
    for _ in range(max_redirects + 1):
        answer = _send(method, url, dict(headers or {}), body, timeout_ms)
        location = answer.header("location")
        if answer.status not in _REDIRECTS or not location:
            return answer
        url = _join(url, location)
        if answer.status == 303:
            method, body = "GET", b""
    raise HttpError("invalid", f"more than {max_redirects} redirects from {url}")


def _send(method: str, url: str, headers: Dict[str, str], body: bytes,
          timeout_ms: Optional[int]) -> Response:
    scheme, authority, path = _split(url)
    # A declared length, always: servers that refuse chunked uploads take
    # it, and the worker checks the body against it.
    if not any(k.lower() == "content-length" for k in headers):
        headers["content-length"] = str(len(body))
    try:
        fields = wh.Fields.from_list([(k, v.encode()) for k, v in headers.items()])
    except Err as e:
        raise HttpError("invalid", f"request to {url}: bad header ({e.value})") from None
    req = wh.OutgoingRequest(fields)
    req.set_method(_method(method))
    req.set_scheme(wh.Scheme_Https() if scheme == "https" else wh.Scheme_Http())
    req.set_authority(authority)
    req.set_path_with_query(path)
    options = None
    if timeout_ms is not None:
        options = wh.RequestOptions()
        options.set_first_byte_timeout(timeout_ms * 1_000_000)
        options.set_between_bytes_timeout(timeout_ms * 1_000_000)
    outgoing = req.body()
    try:
        # Handed over before the body is written: the worker sends the body
        # as it streams and holds only a little of it at a time.
        future = outgoing_handler.handle(req, options)
    except Err as e:
        raise _error(url, e.value) from None
    written = _write(outgoing, body)
    if written:
        wh.OutgoingBody.finish(outgoing, None)
    while True:
        got = future.get()
        if got is None:
            future.subscribe().block()
            continue
        break
    if isinstance(got, Err) or isinstance(got.value, Err):
        code = got.value.value if isinstance(got, Ok) else None
        raise _error(url, code)
    response = got.value.value
    status = response.status()
    entries = response.headers().entries()
    incoming = response.consume()
    stream = incoming.stream()
    chunks = []
    try:
        while True:
            try:
                chunks.append(stream.blocking_read(_CHUNK))
            except Err as e:
                if isinstance(e.value, streams.StreamError_Closed):
                    break
                raise HttpError("transport", f"reading the answer from {url} failed: "
                                             f"{e.value.value.to_debug_string()}") from None
    finally:
        # The stream is the body's child: it goes first, whatever happened.
        stream.__exit__(None, None, None)
        incoming.__exit__(None, None, None)
    return Response(url, status, entries, b"".join(chunks))


def _write(outgoing, body: bytes) -> bool:
    """Streams ``body`` out; ``False`` when the request ended before it was
    all written (refused or failed: the response future says why)."""
    if not body:
        return True
    stream = outgoing.write()
    rest = memoryview(body)
    try:
        while rest:
            room = stream.check_write()
            if room == 0:
                stream.subscribe().block()
                continue
            stream.write(bytes(rest[:room]))
            rest = rest[room:]
        stream.blocking_flush()
    except Err:
        return False
    finally:
        stream.__exit__(None, None, None)
    return True


def _error(url: str, code) -> HttpError:
    name = type(code).__name__.replace("ErrorCode_", "") if code is not None else "unknown"
    if isinstance(code, wh.ErrorCode_HttpRequestDenied):
        return HttpError("denied", f"the worker refused a request to {url}: only the URLs in "
                                   "this connector's configuration may be reached")
    if isinstance(code, (wh.ErrorCode_HttpRequestUriInvalid, wh.ErrorCode_HttpRequestMethodInvalid)):
        return HttpError("invalid", f"request to {url}: {name}")
    return HttpError("transport", f"request to {url} failed: {name}")


def _method(name: str):
    known = {"GET": wh.Method_Get, "POST": wh.Method_Post, "PUT": wh.Method_Put,
             "DELETE": wh.Method_Delete, "HEAD": wh.Method_Head, "PATCH": wh.Method_Patch,
             "OPTIONS": wh.Method_Options}
    upper = name.upper()
    return known[upper]() if upper in known else wh.Method_Other(upper)


def _split(url: str) -> Tuple[str, str, str]:
    scheme, sep, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise HttpError("invalid", f"not an http or https URL: {url}")
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    authority, path = rest[:cut], rest[cut:]
    authority = authority.rpartition("@")[2]
    if not authority:
        raise HttpError("invalid", f"no host in URL {url}")
    if not path.startswith("/"):
        path = "/" + path
    return scheme, authority, path


def _join(base: str, location: str) -> str:
    """``location`` resolved against ``base`` (absolute, or a path)."""
    if "://" in location:
        return location
    scheme, authority, _ = _split(base)
    if location.startswith("//"):
        return f"{scheme}:{location}"
    return f"{scheme}://{authority}{location if location.startswith('/') else '/' + location}"
