"""Checks schemathesis adds to its own when fuzzing the REST API
(tests/tests/rest_fuzz.rs loads this module through SCHEMATHESIS_HOOKS).

Kafka Connect answers every error with {"error_code": N, "message": "..."}
and N equal to the HTTP status. It answers 500 in a few places of its own
(the compatibility suite, tests/tests/compat.rs, checks ours against the
real thing); those are listed below. Any other 5xx, a 5xx in another shape,
or an error status without Kafka's body is a failure.
"""

import schemathesis

# The 500s Kafka Connect itself gives: (start, end) of their messages.
KAFKA_500S = tuple((start, "") for start in (
    # A request body that does not map onto the type the endpoint reads
    # (Jackson), or is not JSON at all.
    "Cannot deserialize ",
    "Unrecognized field ",
    "Failed to parse the request body as JSON",
    # PUT /connector-plugins/{plugin}/config/validate with a class no
    # plugin provides (without a class: below).
    "Failed to find any class that implements Connector",
    # PATCH /connectors/{name}/offsets with nested values.
    "Partitions must be maps of strings to primitive values",
    "Offsets must be maps of strings to primitive values",
    # The internal task-configuration endpoint of a standalone worker.
    "Kafka Connect in standalone mode does not support externally setting task configurations.",
)) + (("Connector config ", " contains no connector type"),)


@schemathesis.check
def kafka_error_bodies(ctx, response, case):
    status = response.status_code
    if status < 400:
        return None
    try:
        body = response.json()
    except Exception:
        body = None
    shaped = (
        isinstance(body, dict)
        and body.get("error_code") == status
        and isinstance(body.get("message"), str)
    )
    if not shaped:
        raise AssertionError(
            f"{status} without Kafka Connect's error body: {response.text[:300]!r}"
        )
    message = body["message"]
    if status >= 500 and not any(
        message.startswith(start) and message.endswith(end) for start, end in KAFKA_500S
    ):
        raise AssertionError(f"a server error Kafka Connect would not give: {body!r}")
    return None


@schemathesis.serializer("application/wasm")
def wasm_bytes(ctx, value):
    """Plugin uploads: the generated binary string is sent as the body."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")
