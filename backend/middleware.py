"""The pure ASGI middleware every HTTP request goes through (`HttpEdge`)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import db
from backend.logs import REQUEST_LOGGER, RequestLog, caller_of, request_line
from backend.upload_limit import (
    MAX_BODY,
    MAX_MULTIPART_BODY,
    TOO_LARGE,
    BodyTooLarge,
    counted,
    declares_no_length,
    send_refusal,
    upload_refusal,
)

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
    # No page of another origin embeds what this service answers (a document in an <img>, a
    # script, a page's JSON), though SameSite=Strict sends the cookie from the same site.
    (b"cross-origin-resource-policy", b"same-origin"),
)
_HSTS = ((b"strict-transport-security", b"max-age=63072000; includeSubDomains"),)
CLIENT_CLOSED = 499


def _raw_headers(message: Message) -> list[tuple[bytes, bytes]]:
    """The response's header list, made a list in place when it is another sequence."""
    headers = message.get("headers")
    if not isinstance(headers, list):
        headers = message["headers"] = list(headers or ())
    return headers


class HttpEdge:
    """What every HTTP request goes through, in one layer, outermost first:

    - the request log: an id per request (`scope["state"]["request_id"]`, and the
      `x-request-id` response header), then one JSON line with the method, path, status,
      duration, GraphQL operation and the codes of the errors answered (which the view puts
      in `scope["state"]["error_codes"]`, and this layer for its own refusals) and who made
      the request (`logs.caller_of` the viewer the view put in `scope["state"]["viewer"]`
      once it knew it: a partner token's id or a session's account id, no secret), whatever
      happened (`request_log`, by default `logs.request_line`);
    - the security headers, each added to the response unless its handler set it;
    - the body limits (`upload_limit.py`): a multipart POST without a Content-Length, or
      declaring more than the upload limit, and any other POST declaring more than the body
      limit, are refused before their body is read; a body without a declared length is
      counted as it is read, and refused once over the limit;
    - a database outage met outside GraphQL execution (e.g. resolving the session) answers
      503 with an INTERNAL error in JSON, instead of a bare 500 page, if nothing was sent yet;
    - a client that leaves while its body is read is logged 499, not raised as a 500.

    These were four middlewares, each a coroutine and a wrapped `send` of its own per
    request: with the log line, 5 % of a consultation's instructions (docs/benchmarks.md,
    step 33). One layer does the same in the same order, with one wrapped `send`.
    """

    def __init__(
        self, app: ASGIApp, production: bool = False, upload_limit: int = MAX_MULTIPART_BODY,
        request_log: RequestLog = request_line, body_limit: int = MAX_BODY,
    ) -> None:
        self.app = app
        self.defaults = _SECURITY_HEADERS + (_HSTS if production else ())
        self.upload_limit = upload_limit
        self.body_limit = body_limit
        self.request_log = request_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = os.urandom(16).hex()  # 32 random hex digits, without a UUID object
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        responded = False
        defaults = self.defaults

        async def edge_send(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                # Each default unless the handler set that header (names are lower-case in
                # ASGI), in one pass over the headers rather than one per default.
                headers = _raw_headers(message)
                present = {name for name, _ in headers}
                for pair in defaults:
                    if pair[0] not in present:
                        headers.append(pair)
                headers.append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            refusal = upload_refusal(scope, self.upload_limit, self.body_limit)
            if refusal is not None:
                state["error_codes"] = REFUSAL_CODES
                await send_refusal(edge_send, *refusal)
                return
            if declares_no_length(scope):
                receive = counted(receive, self.body_limit)
            try:
                await self.app(scope, receive, edge_send)
            except BodyTooLarge as too_large:
                if responded:
                    raise
                state["error_codes"] = REFUSAL_CODES
                await send_refusal(edge_send, 413, str(too_large) or TOO_LARGE)
            except ClientDisconnect:
                # The client left while its body was read: no one to answer, nothing to alarm
                # an operator about. Logged as 499, "client closed request", as proxies do.
                if not responded:
                    status = CLIENT_CLOSED
            except Exception as exc:
                if responded:
                    raise
                state["error_codes"] = INTERNAL_CODES  # whatever the application had answered
                if db.unavailable(exc):
                    REQUEST_LOGGER.warning("database unavailable", extra={"error": type(exc).__name__})
                    await send_json(edge_send, 503, UNAVAILABLE, [(b"retry-after", b"5")])
                else:
                    # A bug: logged with its traceback, as the server would log it, and answered
                    # in JSON as every other refusal is (the server's own answer is plain text).
                    _ERRORS.error("Exception in ASGI application", exc_info=exc)
                    await send_json(edge_send, 500, INTERNAL)
        finally:
            caller, caller_id = caller_of(state.get("viewer"))
            self.request_log(
                request_id=request_id,
                method=scope.get("method"),
                path=_safe_path(scope.get("path", "")),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                operation=state.get("operation"),
                operation_type=state.get("operation_type"),
                error_codes=state.get("error_codes"),
                caller=caller,
                caller_id=caller_id,
            )


def _safe_path(path: str) -> str:
    # Paths carry no medical data by design (no INS in URLs); cap their length anyway.
    return path[:200]


_ERRORS = logging.getLogger("dmp.errors")


async def send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), *headers, (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})


INTERNAL = json.dumps({"errors": [{
    "message": "Internal error", "extensions": {"code": "INTERNAL"},
}]}).encode()
# The codes of the refusals this layer answers itself: upload_limit.send_refusal's, and
# INTERNAL and UNAVAILABLE.
REFUSAL_CODES = ("BAD_USER_INPUT",)
INTERNAL_CODES = ("INTERNAL",)
UNAVAILABLE = json.dumps({"errors": [{
    "message": "The service is temporarily unavailable; try again shortly",
    "extensions": {"code": "INTERNAL"},
}]}).encode()
