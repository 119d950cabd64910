"""The service answers, and its schema is built from the committed migrations."""

from __future__ import annotations

import httpx

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
