"""GET /files/{entry_id}: a document, under the entry's access decision and logging (DESIGN §6).

The access event is durable before the first byte leaves; if it cannot be written, or the
stored file fails its integrity check, the answer is an error and no content.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.auth.viewer import ASK_FOR_TOKEN, TOKEN_REFUSED, BadToken, resolve_viewer
from backend.config import settings
from backend.domain.text import without_invisible
from backend.errors import PublicError, answer_no_sooner
from backend.files.crypto import FileIntegrityError, KeyUnavailable
from backend.models import StoredFile
from backend.resolvers import documents
from backend.resolvers.context import build_context
from backend.schema.observability import tell_error_codes

log = logging.getLogger("dmp.downloads")

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "RATE_LIMITED": 429}


def _error(
    request: Request, status: int, code: str, message: str, *, token_refused: bool = False,
    reason: str | None = None, retry_after: int | None = None,
) -> JSONResponse:
    tell_error_codes(request, (code,))  # the request line's `error_codes`, as /graphql's
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = TOKEN_REFUSED if token_refused else ASK_FOR_TOKEN
    extensions: dict[str, str | int] = {"code": code}
    if reason is not None:
        extensions["reason"] = reason
    if retry_after is not None:
        # A bound's window (RATE_LIMITED): the seconds until it ends, in the body as over GraphQL.
        headers["Retry-After"] = str(retry_after)
        extensions["retryAfter"] = retry_after
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status,
        headers=headers,
    )


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback and the exact UTF-8 name, without controls or format
    characters (a name stored before uploads cleaned them may hold a direction override)."""
    filename = without_invisible(filename) or "document"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


DOWNLOAD_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"

# What a browser says (`Sec-Fetch-Site`) of a request this service's own pages made, or that
# its user made by hand (an address typed, a bookmark).
OWN_PAGES = frozenset({"same-origin", "none"})


def embedded_elsewhere(request: Request) -> bool:
    """A request with the session cookie that another origin's page made: SameSite=Strict
    still sends the cookie from a page of the same site (another port, a sibling subdomain),
    and `<img src="/files/…">` there would write a download in the patient's history under
    the visitor's name. A bearer token is sent by its application, not by a browser's page."""
    if request.headers.get("authorization") or settings().session_cookie not in request.cookies:
        return False
    site = request.headers.get("sec-fetch-site")
    return site is not None and site not in OWN_PAGES


async def _deleted(download: documents.Download) -> bool:
    """Whether the document's stored-file row is gone (its entry deleted, its record purged)
    since the download was decided: the file goes after its row."""
    return not await StoredFile.exists(id=download.stored.id)


async def download_file(request: Request) -> Response:
    if request.method != "GET":
        # HEAD (which Starlette adds to a GET route) would send the document's name and size,
        # and be written in the history as a download, without the content: refused.
        return Response(status_code=405, headers={"Allow": "GET", "Cache-Control": "no-store"})
    if embedded_elsewhere(request):
        # Before the caller is looked up: nothing decided, counted or written.
        return _error(request, 403, "FORBIDDEN", "Cross-origin request refused")
    try:
        viewer = await resolve_viewer(request)
    except BadToken:
        return _error(request, 401, "UNAUTHENTICATED", "Invalid or expired token", token_refused=True)
    request.state.viewer = viewer  # the request log names the caller (logs.caller_of)
    ctx = build_context(request, None, viewer)
    try:
        download = await documents.open_download(ctx, request.path_params["entry_id"])
    except PublicError as exc:
        extensions = exc.extensions or {}
        code = extensions.get("code", "INTERNAL")
        refusal = _error(request, STATUS.get(code, 400), code, exc.message, reason=extensions.get("reason"),
                         retry_after=extensions.get("retryAfter"))
        started = time.perf_counter()
        try:
            await ctx.access_log.flush()
        except Exception:
            log.exception("access history write failed on a refused download")
            return _error(request, 500, "INTERNAL", "The access could not be recorded")
        if code in ("NOT_FOUND", "RATE_LIMITED"):
            # An entry the caller may not read and one that does not exist answer alike, and
            # after the same time, though only the first wrote a denied attempt (errors.NoAccess);
            # past the caller's bound of refused reads, alike too (nothing written for either).
            await answer_no_sooner(started)
        return refusal
    try:
        content = await documents.read_document(download)
    except (FileIntegrityError, KeyUnavailable, OSError) as exc:
        if isinstance(exc, FileNotFoundError) and await _deleted(download):
            # Deleted after the decision: an unknown document now, with no download to note.
            log.warning("stored file %s was deleted while it was downloaded", download.stored.id)
            return _error(request, 404, "NOT_FOUND", "No such document")
        log.exception("stored file %s could not be opened", download.stored.id)
        return _error(request, 500, "INTERNAL", "The document could not be read; nothing was returned")
    try:
        await ctx.access_log.flush()
    except Exception:
        log.exception("access history write failed; download withheld")
        return _error(request, 500, "INTERNAL", "The access could not be recorded; nothing was returned")
    return Response(
        content,
        media_type=download.stored.content_type,
        headers={
            "Content-Disposition": content_disposition(download.stored.filename),
            "X-Content-Type-Options": "nosniff",
            # Its own policy replaces the service's: said whole, as strict, and sandboxed.
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "no-store",
        },
    )
