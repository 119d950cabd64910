"""Shared fixtures: a database built from the migrations, the app over HTTP, actors.

The database is chosen by DMP_TEST_DATABASE_URL (SQLite by default); the suite runs
once per database. Each test starts from empty tables.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from backend import clock, config, db
from backend.models import Account

pytest_plugins = ["tests.smtp"]
TEST_DIR = Path(tempfile.mkdtemp(prefix="dmp-test-"))
BASE_DB_URL = os.environ.get("DMP_TEST_DATABASE_URL") or ""
if BASE_DB_URL.startswith(("postgres", "asyncpg")):
    # A database of its own per run, so concurrent runs never share tables.
    RUN_DB = f"dmp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    DB_URL = BASE_DB_URL.rsplit("/", 1)[0] + "/" + RUN_DB
else:
    RUN_DB = ""
    DB_URL = f"sqlite://{TEST_DIR / 'test.sqlite3'}"
ENV = {
    "DMP_DATABASE_URL": DB_URL,
    "DMP_DATA_DIR": str(TEST_DIR / "data"),
    "DMP_PUBLIC_ORIGIN": "http://localhost:8000",
    "DMP_ENV": "development",
}
os.environ.update(ENV)
config.reset(config.load(ENV))
ORIGIN = "http://localhost:8000"


def db_kind() -> str:
    return "postgres" if DB_URL.startswith(("postgres", "asyncpg")) else "sqlite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` (of PostgreSQL's own machinery) are deselected on SQLite, as
    `-m` would: reported as deselected, neither skipped nor passed without asserting.

    Browser tests run last, one after the other: they share one `dmp serve` (tests/browser.py),
    which is stopped before any other test, its outbox worker delivering whatever is queued."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable
    if db_kind() == "postgres":
        return
    dropped = [item for item in items if item.get_closest_marker("postgres")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(BASE_DB_URL.replace("asyncpg://", "postgres://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    """Build the schema from the committed migrations, once per run."""
    from tortoise.migrations.api import migrate

    if db_kind() == "postgres":
        await _admin(f'DROP DATABASE IF EXISTS "{RUN_DB}"')
        await _admin(f'CREATE DATABASE "{RUN_DB}"')
        # The run's database is thrown away at the end: its commits need not wait for the
        # disk (the product's own settings are untouched; a test of durability restarts
        # the server on a cluster of its own, tests/pgcluster.py).
        await _admin(f'ALTER DATABASE "{RUN_DB}" SET synchronous_commit = off')
    else:
        Path(DB_URL.removeprefix("sqlite://")).unlink(missing_ok=True)
    await migrate(config=db.tortoise_config(DB_URL, create=True))
    await Tortoise.close_connections()
    await db.connect(DB_URL)
    yield
    browsing = sys.modules.get("tests.browser")
    if browsing is not None:
        await browsing.stop_shared()  # the run's `dmp serve` and Chromium, if a test started them
    await db.disconnect()
    if db_kind() == "postgres":
        await _admin(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')


def _tables() -> list[str]:
    from backend import models

    return [getattr(models, name)._meta.db_table for name in models.__all__]


async def truncate_all() -> None:
    conn = Tortoise.get_connection("default")
    tables = _tables()
    if db_kind() == "postgres":
        # DELETE, not TRUNCATE: a TRUNCATE of the 21 tables takes about 40 ms (new files for
        # each), a DELETE of the few rows a test leaves under 1 ms. The foreign keys' triggers
        # are off for this one transaction, so the order of the tables does not matter.
        await conn.execute_script(
            "BEGIN; SET LOCAL session_replication_role = replica; "
            + " ".join(f'DELETE FROM "{t}";' for t in tables)
            + " COMMIT"
        )
    else:
        await conn.execute_script("PRAGMA foreign_keys=OFF")
        for table in tables:
            await conn.execute_script(f'DELETE FROM "{table}"')
        await conn.execute_script("PRAGMA foreign_keys=ON")


def _empty_files_dir() -> None:
    """The stored files go with the rows that hold them: left from earlier tests, with their
    rows truncated, they would all be orphans, which `dmp purge`'s sweep refuses to remove in
    bulk (the database would look like the wrong one)."""
    files = config.settings().files_dir
    if files.is_dir():
        for path in files.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
async def clean(database: None, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    browsing = sys.modules.get("tests.browser")
    if browsing is not None and request.node.get_closest_marker("browser") is None:
        await browsing.stop_shared()  # its outbox worker would deliver this test's messages
    await truncate_all()
    _empty_files_dir()
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def one_mb_per_record() -> Iterator[None]:
    """The room a record's documents take together set to 1 MB (`DMP_RECORD_STORAGE_MB`)."""
    import dataclasses

    saved = config.settings()
    config.reset(dataclasses.replace(saved, record_storage_mb=1))
    try:
        yield
    finally:
        config.reset(saved)


@pytest.fixture
def texts_not_sent(monkeypatch: pytest.MonkeyPatch) -> config.Settings:
    """Production with the development SMS sender, where no text is sent
    (`Settings.sends_texts`), as the sign-in codes' routing and the SMS refusals read it
    (`auth.contacts.settings`); the rest of the service keeps the test settings. Returns
    those production settings, for a test that then sets a plug-in."""
    import dataclasses

    from backend.auth import contacts

    production = dataclasses.replace(config.settings(), env="production")
    monkeypatch.setattr(contacts, "settings", lambda: production)
    return production


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    from backend.app import create_app

    app = create_app(config.settings(), outbox_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        yield c


class GraphQLResult:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        body = response.json()
        self.data: dict[str, Any] | None = body.get("data")
        self.errors: list[dict[str, Any]] = body.get("errors") or []

    @property
    def codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def ok(self) -> dict[str, Any]:
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data


class Caller:
    """Someone calling the API: a session cookie, a bearer token, or nobody."""

    def __init__(self, client: httpx.AsyncClient, *, session: str | None = None,
                 token: str | None = None) -> None:
        self.client = client
        self.session = session
        self.token = token

    def headers(self) -> dict[str, str]:
        headers = {"origin": ORIGIN}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

    def cookies(self) -> dict[str, str]:
        return {config.settings().session_cookie: self.session} if self.session else {}

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> GraphQLResult:
        self.client.cookies.clear()
        for k, v in self.cookies().items():
            self.client.cookies.set(k, v)
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers()
        )
        return GraphQLResult(response)


async def session_for(account: Account) -> str:
    from backend.auth.sessions import create_session

    _, token = await create_session(account)
    return token
