"""Database configuration and lifecycle for Tortoise."""

from __future__ import annotations

import shlex
import sqlite3
from typing import Any
from urllib.parse import urlencode

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from backend.config import POSTGRES_DEFAULTS as POSTGRES_DEFAULTS  # bench/urls.py reads it here
from backend.config import SQLITE_DEFAULTS, postgres_parameters, settings

# A PostgreSQL URL gets POSTGRES_DEFAULTS unless it sets its own; config.load has checked
# every parameter it sets.


class MissingDatabase(Exception):
    """The database DMP_DATABASE_URL names is not there (a SQLite file, a PostgreSQL database
    on its server): a one-line message for the operator, naming it and what to do."""


def _connection(url: str, *, create: bool) -> str | dict[str, Any]:
    sep = "&" if "?" in url else "?"
    if url.startswith("sqlite://"):
        # WAL + a busy timeout + transactions that take the write lock first: several
        # processes on one file wait for each other instead of failing (backend/sqlite_client.py).
        missing = {k: v for k, v in SQLITE_DEFAULTS.items() if k not in postgres_parameters(url)}
        sqlite = expand_db_url(f"{url}{sep}{urlencode(missing)}" if missing else url)
        # A file that is not there is created only to be migrated: opened to be used, a typo
        # in its path made an empty database there.
        sqlite["credentials"]["create"] = create
        return {**sqlite, "engine": "backend.sqlite_client"}
    if not url.startswith(("postgres://", "asyncpg://")):
        return url
    query = postgres_parameters(url)
    missing = {k: v for k, v in POSTGRES_DEFAULTS.items() if k not in query}
    postgres = expand_db_url(f"{url}{sep}{urlencode(missing)}" if missing else url)
    credentials = postgres["credentials"]
    # Tortoise reads `ssl` as the truth of its text, so `ssl=disable` turned TLS on (with
    # full verification), and passes `direct_tls=false` on as a true string: asyncpg is
    # given the mode's name, and booleans.
    if "ssl" in query:
        mode = query["ssl"][-1]
        credentials["ssl"] = {"true": True, "false": False}.get(mode, mode)
    if "direct_tls" in query:
        credentials["direct_tls"] = query["direct_tls"][-1] == "true"
    credentials["reset"] = _keep_session
    # Tortoise's asyncpg client, whose transactions give their connection back to the pool
    # when they cannot begin (backend/asyncpg_client.py).
    return {**postgres, "engine": "backend.asyncpg_client"}


async def _keep_session(connection: Any) -> None:
    """What a pooled connection needs when it goes back to the pool: nothing more.

    asyncpg rolls back an open transaction itself before calling this; its default reset
    (RESET ALL, UNLISTEN, CLOSE ALL, advisory unlocks) is one more round trip per statement,
    and the service changes none of that session state.
    """


def tortoise_config(url: str | None = None, *, create: bool = False) -> dict[str, Any]:
    """Tortoise's configuration for `url` (DMP_DATABASE_URL by default). `create`: a SQLite
    file that is not there is made, for the migrations only (`dmp migrate`, `dmp serve
    --migrate`); otherwise the first statement raises MissingDatabase."""
    return {
        "connections": {"default": _connection(url or settings().database_url, create=create)},
        "apps": {
            "models": {
                "models": ["backend.models"],
                "default_connection": "default",
                "migrations": "backend.models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # The `tortoise` command line reads TORTOISE_ORM; build it only when asked for.
    if name == "TORTOISE_ORM":
        return tortoise_config(create=True)
    raise AttributeError(name)


async def connect(url: str | None = None) -> None:
    from tortoise.context import get_current_context

    # uvicorn runs the lifespan in a task of its own: without the global fallback, the
    # requests' tasks would not see the connections opened there ("No TortoiseContext").
    await Tortoise.init(
        config=tortoise_config(url), _enable_global_fallback=get_current_context() is None
    )


async def disconnect() -> None:
    from backend import sql

    if Tortoise.is_inited():
        await sql.release_kept()
    await Tortoise.close_connections()


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached right now."""
    import asyncpg  # type: ignore[import-untyped]
    from tortoise.exceptions import DBConnectionError

    reachability = (ConnectionError, TimeoutError, DBConnectionError, asyncpg.PostgresConnectionError,
                    asyncpg.InterfaceError, asyncpg.exceptions.OperatorInterventionError,
                    asyncpg.TooManyConnectionsError,
                    # The driver's own state broken by a connection lost mid-statement (seen
                    # while PostgreSQL restarts).
                    asyncpg.InternalClientError)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, reachability):
            return True
        # SQLite past its busy timeout: another process holds the write lock too long.
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def missing(exc: BaseException, url: str | None = None) -> MissingDatabase | None:
    """What says, in `exc` or what caused it, that the database `url` (DMP_DATABASE_URL by
    default) names is not there, as a MissingDatabase naming it; None otherwise. A PostgreSQL
    database that does not exist on its server was said to be one that « cannot be reached »:
    Tortoise raises it as a DBConnectionError, which `unavailable` counts as an outage (the
    service answers 503 meanwhile), where creating it is what mends it."""
    import asyncpg

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MissingDatabase):
            return current
        if isinstance(current, asyncpg.InvalidCatalogNameError):
            return MissingDatabase(_postgres_missing(url or settings().database_url))
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _postgres_missing(url: str) -> str:
    """Names the database and its server, and the role DMP_DATABASE_URL signs in with as the
    owner to give it; never the password."""
    try:
        credentials = expand_db_url(url)["credentials"]
    except Exception:  # noqa: BLE001 - config.load read it; named without it if it cannot be
        credentials = {}
    name = str(credentials.get("database") or "")
    host, port = credentials.get("host") or "localhost", credentials.get("port") or 5432
    owner = ["-O", str(credentials["user"])] if credentials.get("user") else []
    create = shlex.join(["createdb", "-h", str(host), "-p", str(port), *owner, name])
    return (f'the database "{name}" does not exist on the PostgreSQL server at {host}:{port}: create it '
            f"({create}, as a role allowed to create databases), then run dmp migrate; or correct the "
            "database's name in DMP_DATABASE_URL")
