"""The GraphQL endpoint: caller resolution, CSRF rules, cookies (DESIGN §5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from backend.auth.viewer import ANONYMOUS, BadToken, resolve_viewer
from backend.config import settings
from backend.resolvers.context import Context, build_context


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def csrf_refusal(request: Request) -> JSONResponse | None:
    """Refuse state changes a foreign page could make with the patient's cookie."""
    if request.method != "POST":
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/") and not request.headers.get("x-dmp-client"):
        return _error(400, "BAD_USER_INPUT", "Uploads must carry the X-DMP-Client header")
    if request.headers.get("authorization"):
        return None
    if settings().session_cookie not in request.cookies:
        return None
    origin = request.headers.get("origin")
    if origin != settings().public_origin:
        return _error(403, "FORBIDDEN", "Cross-origin request refused")
    return None


class GraphQLView(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            refusal = csrf_refusal(request)
            if refusal is None:
                try:
                    scope.setdefault("state", {})["viewer"] = await resolve_viewer(request)
                except BadToken:
                    refusal = _error(401, "UNAUTHENTICATED", "Invalid or expired token")
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Any, response: Any) -> Context:
        viewer = getattr(request.state, "viewer", ANONYMOUS)
        return build_context(request, response, viewer)

    async def render_graphql_ide(self, request: Request) -> Response:
        from backend.static import explorer_response

        return explorer_response()
