"""Pure ASGI middleware: security headers, the request log, database outages as 503."""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import db

log = logging.getLogger("dmp.http")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


# The headers every response carries unless its handler set them (raw, as ASGI sends them).
_SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cache-control", b"no-store"),
)
_HSTS = ((b"strict-transport-security", b"max-age=63072000; includeSubDomains"),)


def _raw_headers(message: Message) -> list[tuple[bytes, bytes]]:
    """The response's header list, made a list in place when it is another sequence."""
    headers = message.get("headers")
    if not isinstance(headers, list):
        headers = message["headers"] = list(headers or ())
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        self.app = app
        self.defaults = _SECURITY_HEADERS + (_HSTS if production else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = self.defaults

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Each default unless the handler set that header (names are lower-case in
                # ASGI), in one pass over the headers rather than one per default.
                headers = _raw_headers(message)
                present = {name for name, _ in headers}
                headers.extend(pair for pair in defaults if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLog:
    """One JSON line per HTTP request: id, method, path, status, duration, GraphQL operation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                _raw_headers(message).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": _safe_path(scope.get("path", "")),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "operation": state.get("operation"),
                    "operation_type": state.get("operation_type"),
                },
            )


def _safe_path(path: str) -> str:
    # Paths carry no medical data by design (no INS in URLs); cap their length anyway.
    return path[:200]


UNAVAILABLE = json.dumps({"errors": [{
    "message": "The service is temporarily unavailable; try again shortly",
    "extensions": {"code": "INTERNAL"},
}]}).encode()


class DatabaseUnavailable:
    """A database outage met outside GraphQL execution (e.g. resolving the session) answers
    503 with an INTERNAL error in JSON, instead of a bare 500 page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not db.unavailable(exc):
                raise
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/json"), (b"retry-after", b"5"),
                (b"content-length", str(len(UNAVAILABLE)).encode()),
            ]})
            await send({"type": "http.response.body", "body": UNAVAILABLE})
