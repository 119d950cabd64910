"""Pure ASGI middleware: refuse oversized uploads before their body is read.

Starlette's form parser spools every file part to disk whatever its size, so the
20 MB document limit is enforced here first, from the declared Content-Length (the
ASGI server never delivers more than it), and again by the resolver on the bytes.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.resolvers.documents import MAX_BYTES

# One document plus the multipart framing and the GraphQL operation around it.
MAX_MULTIPART_BODY = MAX_BYTES + 1024 * 1024


class UploadSizeLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_MULTIPART_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = Headers(scope=scope)
            if headers.get("content-type", "").startswith("multipart/"):
                refusal = self._refusal(headers.get("content-length"))
                if refusal is not None:
                    status, message = refusal
                    await _send_error(send, status, message)
                    return
        await self.app(scope, receive, send)

    def _refusal(self, declared: str | None) -> tuple[int, str] | None:
        if declared is None or not declared.isdigit():
            return 411, "Uploads must declare their Content-Length"
        if int(declared) > self.limit:
            return 413, "The file is too large: documents may be at most 20 MB"
        return None


async def _send_error(send: Send, status: int, message: str) -> None:
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
