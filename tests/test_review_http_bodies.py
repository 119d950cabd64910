"""Malformed or unexpected bodies on /graphql: each refused with a JSON error and its code,
nothing run; what the GraphQL-over-HTTP spec lets a body be (a BOM, a charset, duplicate
keys) read alike on both paths of the endpoint (the prepared one and strawberry's)."""

from __future__ import annotations

import json

import httpx
import pytest

from backend.models import LoginAttempt, RateCounter
from tests.conftest import ORIGIN

START = 'startLogin(identifier: "nobody@test.dmp", password: "whatever-123") { attemptToken }'
LOGIN = json.dumps({"query": f"mutation {{ {START} }}"}).encode()


async def send(client: httpx.AsyncClient, content: bytes, content_type: str | None) -> httpx.Response:
    headers = {"origin": ORIGIN}
    if content_type is not None:
        headers["content-type"] = content_type
    return await client.post("/graphql", content=content, headers=headers)


async def assert_nothing_ran() -> None:
    assert await LoginAttempt.all().count() == 0
    assert await RateCounter.all().count() == 0


def code_of(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# Media types a page on another site may send without a preflight (text/plain and the two
# form types), with a parameter naming JSON: never read as JSON.
@pytest.mark.parametrize("content_type", [
    "text/plain; charset=application/json", "text/plain;application/json",
    "application/x-www-form-urlencoded; x=application/json", "text/plain", None,
])
async def test_a_body_not_declared_json_is_not_read_as_json(
    client: httpx.AsyncClient, content_type: str | None,
) -> None:
    response = await send(client, LOGIN, content_type)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert code_of(response) == ["BAD_USER_INPUT"]
    assert "Unsupported content type" in response.json()["errors"][0]["message"]
    await assert_nothing_ran()
