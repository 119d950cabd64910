"""The service answers, and its schema is built from the committed migrations."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import Caller


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_graphql_typename(client: httpx.AsyncClient) -> None:
    result = await Caller(client).gql("{ __typename }")
    assert result.ok() == {"__typename": "Query"}


async def test_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_get_queries_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code in (400, 405)


async def test_models_and_migrations_agree() -> None:
    from tortoise.cli.cli import tortoise_cli_context
    from tortoise.migrations.autodetector import MigrationAutodetector

    from backend import db

    config = db.tortoise_config()
    apps = config["apps"]
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
    assert writers == [], "models changed without a migration: run `tortoise makemigrations`"


async def test_healthz_is_bounded_and_checks_one_probe_at_a_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that does not answer (frozen, cut off) makes /healthz answer 503 within
    its own bound, not the statement timeout; checks that come meanwhile share the one probe
    under way instead of each holding a connection; once the database answers, 200."""
    from backend import app as app_module

    answered = asyncio.Event()
    probes: list[int] = []

    async def database_answers() -> bool:
        probes.append(1)
        await answered.wait()
        return True

    monkeypatch.setattr(app_module, "_database_answers", database_answers)
    monkeypatch.setattr(app_module, "HEALTH_PROBE_SECONDS", 0.2)
    responses = await asyncio.wait_for(asyncio.gather(*(client.get("/healthz") for _ in range(3))), 10)
    assert [r.status_code for r in responses] == [503, 503, 503]
    assert responses[0].json() == {"status": "unavailable"}
    assert len(await asyncio.wait_for(asyncio.gather(client.get("/healthz")), 10)) == 1
    assert probes == [1]  # four checks, one probe still waiting on the database
    answered.set()
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert probes == [1]  # the probe under way answered it
    assert (await client.get("/healthz")).status_code == 200
    assert probes == [1, 1]  # a new check, a new probe


async def test_livez_answers_without_the_database(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The liveness check says the process serves even when the database does not answer
    (restarting the process would not bring it back); the readiness check, /healthz, says 503."""
    from backend import app as app_module

    async def database_answers() -> bool:
        return False

    monkeypatch.setattr(app_module, "_database_answers", database_answers)
    assert (await client.get("/healthz")).status_code == 503
    live = await client.get("/livez")
    assert live.status_code == 200
    assert live.headers["content-type"] == "application/json"
    assert live.json() == {"status": "ok"}
