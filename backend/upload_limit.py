"""Refusing oversized uploads before their body is read (checked by `middleware.HttpEdge`).

Starlette's form parser spools every file part to disk whatever its size, so the
20 MB document limit is enforced first from the declared Content-Length (the ASGI server
never delivers more than it), and again by the resolver on the bytes.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import Scope, Send

from backend.resolvers.documents import MAX_BYTES

# One document plus the multipart framing and the GraphQL operation around it.
MAX_MULTIPART_BODY = MAX_BYTES + 1024 * 1024


def upload_refusal(scope: Scope, limit: int = MAX_MULTIPART_BODY) -> tuple[int, str] | None:
    """For a multipart POST: the status and message refusing it before its body is read, or
    None. Any other request: None."""
    if scope["method"] != "POST":
        return None
    headers = Headers(scope=scope)
    if not headers.get("content-type", "").startswith("multipart/"):
        return None
    declared = headers.get("content-length")
    if declared is None or not declared.isdigit():
        return 411, "Uploads must declare their Content-Length"
    if int(declared) > limit:
        return 413, "The file is too large: documents may be at most 20 MB"
    return None


async def send_refusal(send: Send, status: int, message: str) -> None:
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
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
