"""The Starlette application: every route and middleware is listed here."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise import Tortoise

from backend import db
from backend.config import Settings, settings
from backend.downloads import download_file
from backend.graphql_view import GraphQLView
from backend.logs import configure as configure_logging
from backend.middleware import HttpEdge
from backend.notify import delivery
from backend.notify.senders import check_senders
from backend.schema.root import schema
from backend.static import DIST, index_response

# How long /healthz waits for the database to answer `SELECT 1`. A frozen server (a hung
# host, a network cut) would otherwise hold a health check for the statement timeout and more
# (docs/operations.md); a load balancer's check wants an answer within a few seconds.
HEALTH_PROBE_SECONDS = 3.0


async def _database_answers() -> bool:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # noqa: BLE001 — any failure means unhealthy
        return False
    return True


async def healthz(request: Request) -> Response:
    """200 when the database answers `SELECT 1` within `HEALTH_PROBE_SECONDS`, else 503. One
    probe at a time: checks that come while one is under way wait for it, so that a frozen
    database does not gather a probe, and a pool connection, per check."""
    state = request.app.state
    probe: asyncio.Task[bool] | None = getattr(state, "health_probe", None)
    if probe is None or probe.done():
        probe = state.health_probe = asyncio.ensure_future(_database_answers())
    done, _ = await asyncio.wait({probe}, timeout=HEALTH_PROBE_SECONDS)
    if not done or not probe.result():
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def livez(request: Request) -> Response:
    """200 while the process serves requests, whatever the database's state: for a liveness
    check that restarts the process (restarting does not bring a database back; /healthz,
    which asks it, is the readiness check)."""
    return JSONResponse({"status": "ok"})


async def spa(request: Request) -> Response:
    return index_response()


def _from_this_machine(request: Request) -> bool:
    """Whether the connection comes from this machine (the socket's peer, not a header a
    client writes)."""
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def dev_mail(request: Request) -> Response:
    # It shows every one-time code: in development, to this machine's own browser only, even
    # when `dmp serve --host 0.0.0.0` lets the network reach the rest.
    if not _from_this_machine(request):
        raise HTTPException(404)  # `not_found`'s answer, as for any missing file
    folder = settings().mail_dir
    items = []
    if folder.exists():
        for path in sorted(folder.glob("*.json"), reverse=True)[:100]:
            items.append(json.loads(path.read_text()))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(items)
    from html import escape

    rows = "".join(
        f"<article><h2>{escape(m['subject'])}</h2><p>À : {escape(m['to'])} ({escape(m['channel'])})"
        f" — {escape(m['at'])}</p><pre>{escape(m['body'])}</pre></article>"
        for m in items
    )
    return HTMLResponse(
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Courrier de "
        f"développement</title></head><body><main><h1>Courrier de développement</h1>{rows}"
        f"</main></body></html>"
    )


def settle_memory() -> None:
    """Move what start-up built (the schema, the models, the modules) out of the collector's way.

    The cyclic garbage collector's full passes walk every tracked object; after start-up that
    is some 130,000 objects that live as long as the process, and a full pass over them cost
    tens of milliseconds, paid by whichever request triggered it. Frozen, they are skipped.

    A request leaves no reference cycle behind (tests/test_app_memory.py): what it built is freed
    as soon as it ends, and the collector is left only the rare cycle. Under load, a pass
    after every 700 new objects ran about once per five consultations, each walking the
    objects of the requests in flight; after every 10,000 it almost never runs.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def create_app(cfg: Settings | None = None, *, outbox_worker: bool = True) -> Starlette:
    cfg = cfg or settings()
    configure_logging()
    check_senders(cfg)  # an SMS plug-in that cannot be made stops the start (ConfigError)
    if not cfg.sends_texts:
        # No SMS provider is built in (docs/operations.md, "SMS plug-ins"): say so at every start.
        delivery.log.warning(
            "DMP_SMS_BACKEND=dev: texts are saved under DMP_DATA_DIR/mail, not sent; "
            "sign-in codes go by e-mail"
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.connect(cfg.database_url)
        settle_memory()
        worker = asyncio.create_task(delivery.run_forever(cfg)) if outbox_worker else None
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            probe = getattr(app.state, "health_probe", None)
            if probe is not None and not probe.done():  # a check still waiting on the database
                probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await probe
            await db.disconnect()

    graphql = GraphQLView(
        schema,
        graphql_ide="graphiql",
        allow_queries_via_get=False,
        multipart_uploads_enabled=True,
    )
    routes: list[BaseRoute] = [
        # First: every API request is matched against it.
        _without_head(Route("/graphql", graphql, methods=["GET", "POST"])),
        Route("/healthz", healthz),
        Route("/livez", livez),
        _without_head(Route("/files/{entry_id}", download_file, methods=["GET"])),
        # After the routes they refuse HEAD for, before the page's catch-all (which would serve it).
        _head_refused("/graphql", "GET, POST"),
        _head_refused("/files/{entry_id}", "GET"),
    ]
    if not cfg.production:
        routes.append(Route("/dev/mail", dev_mail))
    if (DIST / "assets").exists():
        routes.append(Mount("/assets", StaticFiles(directory=DIST / "assets")))
    routes.append(Route("/{path:path}", spa))
    return Starlette(
        routes=routes,
        middleware=[Middleware(HttpEdge, production=cfg.production)],
        exception_handlers={404: not_found, 405: method_not_allowed},
        lifespan=lifespan,
    )


def _without_head(route: Route) -> Route:
    """The route, without the HEAD Starlette adds beside every GET: HEAD is refused on the API
    (it answers POST and, for the explorer, GET) and on downloads (a document's HEAD would
    tell its name and size without being a download)."""
    if route.methods is not None:
        route.methods.discard("HEAD")
    return route


def _head_refused(path: str, allow: str) -> Route:
    """HEAD on a path `_without_head` took it from: the 405 every other method not answered
    there gets, naming the methods that are (`method_not_allowed`). Matched only once the
    path's own route did not match in full: a GET or POST never reaches it."""

    async def refuse(request: Request) -> Response:
        raise HTTPException(405, headers={"Allow": allow})

    return Route(path, refuse, methods=["HEAD"])


async def not_found(request: Request, exc: Exception) -> Response:
    """404 (a missing file under /assets; other paths are the page's) as every refusal of the
    API: a JSON `errors` list (Starlette's was plain text)."""
    return JSONResponse(
        {"errors": [{"message": "Not found", "extensions": {"code": "NOT_FOUND"}}]}, status_code=404,
    )


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 as every refusal of the API: a JSON `errors` list, with an `Allow` header naming
    the methods that are answered (Starlette's was plain text)."""
    allowed = [m.strip() for m in getattr(exc, "headers", {}).get("Allow", "").split(",") if m.strip()]
    return JSONResponse(
        {"errors": [{"message": f"Method {request.method} is not allowed here; use "
                     f"{' or '.join(sorted(allowed)) or 'another method'}",
                     "extensions": {"code": "BAD_USER_INPUT"}}]},
        status_code=405, headers={"Allow": ", ".join(sorted(allowed)), "Cache-Control": "no-store"},
    )
