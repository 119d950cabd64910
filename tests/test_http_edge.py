"""The layer every HTTP request goes through (`backend.middleware.HttpEdge`), on its own
around small ASGI applications: the request id and log line, the security headers, the
upload limit, and a database outage answered 503. The whole application's responses are
checked by tests/test_hardening_headers.py, tests/test_documents_upload.py and
tests/test_resilience_pg_restart.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from backend.middleware import CSP, UNAVAILABLE, HttpEdge

Message = dict[str, Any]
App = Callable[
    [dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


def scope(
    method: str = "POST", path: str = "/graphql", headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": headers or []}


async def run(edge: HttpEdge, request: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await edge(request, receive, send)
    return sent


def answering(
    status: int = 200, headers: list[tuple[bytes, bytes]] | None = None, operation: str | None = None
) -> tuple[App, list[dict[str, Any]]]:
    """An application answering `status` with `headers`; the scopes it was called with."""
    calls: list[dict[str, Any]] = []

    async def app(request: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(request)
        if operation:
            request["state"]["operation"] = operation
            request["state"]["operation_type"] = "query"
        await send({"type": "http.response.start", "status": status, "headers": list(headers or [])})
        await send({"type": "http.response.body", "body": b"{}"})

    return app, calls


def header_map(message: Message) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for name, value in message["headers"]:
        found.setdefault(name, []).append(value)
    return found


class RequestLog(list[dict[str, Any]]):
    """What HttpEdge's request log was given, one dict of fields per request."""

    def __call__(self, **fields: Any) -> None:
        self.append(fields)


async def test_headers_request_id_and_log_line() -> None:
    app, calls = answering(
        201, [(b"content-type", b"application/json"), (b"cache-control", b"max-age=60")], operation="S1"
    )
    lines = RequestLog()
    sent = await run(HttpEdge(app, request_log=lines), scope(path="/graphql"))
    start = sent[0]
    assert start["status"] == 201
    headers = header_map(start)
    assert headers[b"content-security-policy"] == [CSP.encode()]
    assert headers[b"x-content-type-options"] == [b"nosniff"]
    assert headers[b"x-frame-options"] == [b"DENY"]
    assert headers[b"referrer-policy"] == [b"no-referrer"]
    assert headers[b"cache-control"] == [b"max-age=60"]  # the handler's own, not replaced or doubled
    assert b"strict-transport-security" not in headers  # development
    request_id = calls[0]["state"]["request_id"]
    assert headers[b"x-request-id"] == [request_id.encode()] and len(request_id) == 32
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
    (line,) = lines
    assert line.pop("duration_ms") >= 0
    assert line == {
        "request_id": request_id, "method": "POST", "path": "/graphql", "status": 201,
        "operation": "S1", "operation_type": "query", "error_codes": None,
        "caller": None, "caller_id": None,
    }


async def test_the_codes_the_application_answered_reach_the_line() -> None:
    """What the view puts in the scope's state (graphql_view.py), as it put it."""

    async def app(request: dict[str, Any], receive: Any, send: Any) -> None:
        request["state"]["error_codes"] = ["RATE_LIMITED", "FORBIDDEN"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    lines = RequestLog()
    await run(HttpEdge(app, request_log=lines), scope())
    assert [line["error_codes"] for line in lines] == [["RATE_LIMITED", "FORBIDDEN"]]


async def test_production_adds_hsts_and_each_request_has_its_own_id() -> None:
    app, calls = answering()
    edge = HttpEdge(app, production=True)
    first = await run(edge, scope())
    await run(edge, scope())
    assert header_map(first[0])[b"strict-transport-security"] == [b"max-age=63072000; includeSubDomains"]
    assert calls[0]["state"]["request_id"] != calls[1]["state"]["request_id"]


@pytest.mark.parametrize(
    ("headers", "status", "message", "extensions"),
    [
        (
            [(b"content-type", b"multipart/form-data; boundary=x")],
            411,
            "Uploads must declare their Content-Length",
            {},
        ),
        (
            [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"12x")],
            411,
            "Uploads must declare their Content-Length",
            {},
        ),
        (
            [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"1001")],
            413,
            "The file is too large: documents may be at most 20 MB",
            {"reason": "FILE_TOO_LARGE", "maxMb": 20},
        ),
    ],
)
async def test_an_upload_over_the_limit_is_refused_before_the_application(
    headers: list[tuple[bytes, bytes]], status: int, message: str, extensions: dict[str, object]
) -> None:
    app, calls = answering()
    lines = RequestLog()
    sent = await run(HttpEdge(app, upload_limit=1000, request_log=lines), scope(headers=headers))
    assert calls == []  # nothing read, nothing run
    assert sent[0]["status"] == status
    found = header_map(sent[0])
    assert (
        found[b"connection"] == [b"close"]
        and b"content-security-policy" in found
        and b"x-request-id" in found
    )
    body = json.loads(sent[1]["body"])
    assert body == {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT", **extensions}}]}
    assert [(line["status"], line["error_codes"]) for line in lines] == [(status, ("BAD_USER_INPUT",))]


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"1000")]),
        ("POST", [(b"content-type", b"application/json")]),  # not an upload: no length needed
        ("GET", [(b"content-type", b"multipart/form-data; boundary=x")]),  # only POSTs carry uploads
    ],
)
async def test_other_requests_reach_the_application(method: str, headers: list[tuple[bytes, bytes]]) -> None:
    app, calls = answering()
    sent = await run(HttpEdge(app, upload_limit=1000), scope(method=method, headers=headers))
    assert len(calls) == 1 and sent[0]["status"] == 200


def failing(error: BaseException, after_start: bool = False) -> App:
    async def app(request: dict[str, Any], receive: Any, send: Any) -> None:
        if after_start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise error

    return app


async def test_a_database_outage_answers_503(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dmp.http")
    outage = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    lines = RequestLog()
    sent = await run(HttpEdge(failing(outage), request_log=lines), scope())
    assert sent[0]["status"] == 503
    found = header_map(sent[0])
    assert found[b"retry-after"] == [b"5"] and found[b"content-type"] == [b"application/json"]
    assert b"content-security-policy" in found and b"x-request-id" in found
    assert sent[1]["body"] == UNAVAILABLE
    assert json.loads(UNAVAILABLE)["errors"][0]["extensions"]["code"] == "INTERNAL"
    warnings = [r for r in caplog.records if r.name == "dmp.http" and r.levelno == logging.WARNING]
    assert [(r.getMessage(), r.error) for r in warnings] == [  # type: ignore[attr-defined]
        ("database unavailable", "CannotConnectNowError")
    ]
    assert [(line["status"], line["error_codes"]) for line in lines] == [(503, ("INTERNAL",))]


async def test_other_errors_answer_500_in_json_and_late_outages_are_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug is logged with its traceback and answered as every refusal is, in JSON (the
    server's own answer would be plain text)."""
    lines = RequestLog()
    with caplog.at_level(logging.ERROR, logger="dmp.errors"):
        sent = await run(HttpEdge(failing(ValueError("boom")), request_log=lines), scope())
    assert sent[0]["status"] == 500
    assert header_map(sent[0])[b"content-type"] == [b"application/json"]
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "INTERNAL"
    (logged,) = [r for r in caplog.records if r.name == "dmp.errors"]
    assert logged.exc_info is not None and logged.exc_info[0] is ValueError
    # Once the response has started, an outage cannot be answered 503: it is raised.
    with pytest.raises(ConnectionError):
        await run(HttpEdge(failing(ConnectionError("gone"), after_start=True), request_log=lines), scope())
    assert [(line["status"], line["error_codes"]) for line in lines] == [(500, ("INTERNAL",)), (200, None)]


async def test_other_scopes_pass_through_untouched() -> None:
    seen: list[tuple[dict[str, Any], Any]] = []

    async def app(request: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((request, send))

    lines = RequestLog()
    edge = HttpEdge(app, request_log=lines)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    lifespan: dict[str, Any] = {"type": "lifespan"}
    await edge(lifespan, receive, send)
    assert seen == [(lifespan, send)] and "state" not in lifespan
    assert lines == []


async def test_a_client_leaving_while_its_body_is_read_is_logged_499_not_raised() -> None:
    from starlette.requests import ClientDisconnect, Request

    async def app(request: dict[str, Any], receive: Any, send: Any) -> None:
        await Request(request, receive).body()

    async def gone() -> Message:
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    lines = RequestLog()
    await HttpEdge(app, request_log=lines)(scope(), gone, send)
    assert sent == [] and [line["status"] for line in lines] == [499]
    # A client leaving once the response has started: the status sent is the one logged.

    async def late(request: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ClientDisconnect()

    await HttpEdge(late, request_log=lines)(scope(), gone, send)
    assert [line["status"] for line in lines] == [499, 200]


async def test_this_layers_own_refusals_replace_the_codes_the_application_had_told() -> None:
    """An application that told the log its codes, then failed before answering, is answered
    INTERNAL, and its line says so; a body read over the limit is refused BAD_USER_INPUT."""

    async def told_then_failed(request: dict[str, Any], receive: Any, send: Any) -> None:
        request["state"]["error_codes"] = ["FORBIDDEN"]
        raise ValueError("boom")

    async def reading(request: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass

    async def endless() -> Message:
        return {"type": "http.request", "body": b"x" * 600, "more_body": True}

    async def send(message: Message) -> None:
        return None

    lines = RequestLog()
    await run(HttpEdge(told_then_failed, request_log=lines), scope())
    await HttpEdge(reading, request_log=lines, body_limit=1000)(scope(), endless, send)
    assert [(line["status"], line["error_codes"]) for line in lines] == [
        (500, ("INTERNAL",)), (413, ("BAD_USER_INPUT",)),
    ]
