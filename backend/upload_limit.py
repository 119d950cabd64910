"""Refusing oversized request bodies before they are read (checked by `middleware.HttpEdge`).

Starlette's form parser spools every file part to disk whatever its size, so the
20 MB document limit is enforced first from the declared Content-Length (the ASGI server
never delivers more than it), and again by the resolver on the bytes. Any other POST body
(GraphQL's JSON) is held in memory whole: it may be at most `MAX_BODY`, refused from its
declared length, or counted as it is read when it declares none (chunked).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from backend.domain.reasons import Reason
from backend.resolvers.documents import MAX_BYTES, MAX_MB
from backend.resolvers.documents import TOO_LARGE as FILE_TOO_LARGE_MESSAGE

# One document plus the multipart framing and the GraphQL operation around it.
MAX_MULTIPART_BODY = MAX_BYTES + 1024 * 1024
# Any other body: the largest a client sends is an insurer's import of 5,000 items, about
# 1.5 MB of JSON; a limit well above it, so that a few requests cannot fill the memory.
MAX_BODY = 10 * 1024 * 1024
TOO_LARGE = "The request body is too large: at most 10 MB"
FILE_TOO_LARGE = {"reason": Reason.FILE_TOO_LARGE.value, "maxMb": MAX_MB}


def is_multipart(content_type: bytes) -> bool:
    """Whether a Content-Type names a multipart body, in any case (media type names are
    case-insensitive, RFC 9110, 8.3.1: `Multipart/Form-Data` is an upload, which the view
    reads as one) and after any leading whitespace."""
    return content_type.lstrip()[:10].lower() == b"multipart/"


class BodyTooLarge(Exception):  # noqa: N818 - a refusal, named for what it refuses
    """A body without a declared length went over the limit while it was read; its message is
    the refusal's."""


def upload_refusal(
    scope: Scope, limit: int = MAX_MULTIPART_BODY, body_limit: int = MAX_BODY
) -> tuple[int, str, dict[str, Any]] | None:
    """For a POST: the status, message and further extensions refusing it before its body is
    read, or None. Any other request: None."""
    if scope["method"] != "POST":
        return None
    content_type = declared = None
    for name, value in scope["headers"]:  # ASGI header names are lower-case
        if name == b"content-type" and content_type is None:
            # The first, as the view reads it (Starlette's `headers.get`): a body is bounded
            # as what it will be read as, whatever a second Content-Type says.
            content_type = value
        elif name == b"content-length":
            declared = value
    if content_type is not None and is_multipart(content_type):
        if declared is None or not declared.isdigit():
            return 411, "Uploads must declare their Content-Length", {}
        if int(declared) > limit:
            # The resolver's own refusal of a large file, with its reason: a client words both alike.
            return 413, FILE_TOO_LARGE_MESSAGE, FILE_TOO_LARGE
        return None
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        return 413, TOO_LARGE, {}
    return None


def declares_no_length(scope: Scope) -> bool:
    """A POST whose body comes without a Content-Length (chunked): counted as it is read."""
    return scope["method"] == "POST" and all(name != b"content-length" for name, _ in scope["headers"])


def counted(receive: Receive, limit: int, refusal: str = TOO_LARGE) -> Receive:
    """`receive`, raising BodyTooLarge(`refusal`) once the body read goes over `limit` bytes."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(refusal)
        return message

    return receive_counted


async def send_refusal(
    send: Send, status: int, message: str, extensions: dict[str, Any] | None = None
) -> None:
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT", **(extensions or {})}}]}
    ).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
