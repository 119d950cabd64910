"""A request by no one signed in carries at most 64 KB: sign-in, activation and a passkey's
answer need a few kilobytes. Found by a probe: with the 10 MB every caller had (for an insurer's
import), three anonymous connections sending 9.4 MB bodies, each parsed before being refused,
slowed everyone else's answers to seconds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from backend import config
from backend.graphql_view import ANONYMOUS_BODY
from backend.models import LoginAttempt, RateCounter
from tests import factories
from tests.conftest import ORIGIN, session_for

START = 'mutation { startLogin(identifier: "nobody@test.dmp", password: "whatever-123") { attemptToken } }'


def _body(size: int) -> bytes:
    """A sign-in `size` bytes long, padded with a variable the operation does not declare."""
    body = json.dumps({"query": START, "variables": {"padding": ""}}).encode()
    return json.dumps({"query": START, "variables": {"padding": "x" * (size - len(body))}}).encode()


async def _post(
    client: httpx.AsyncClient, content: bytes | AsyncIterator[bytes], session: str | None = None,
) -> httpx.Response:
    client.cookies.clear()
    if session is not None:
        client.cookies.set(config.settings().session_cookie, session)
    return await client.post("/graphql", content=content, headers={
        "origin": ORIGIN, "content-type": "application/json"})


async def test_an_anonymous_body_over_64_kb_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    large = _body(ANONYMOUS_BODY + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(large), 16 * 1024):
            yield large[start:start + 16 * 1024]

    for content in (large, chunks()):
        response = await _post(client, content)
        assert response.status_code == 413
        assert response.json() == {"errors": [{
            "message": "The request body is too large: at most 64 KB before signing in",
            "extensions": {"code": "BAD_USER_INPUT"}}]}
    # Nothing ran: no sign-in attempt, no counter.
    assert await LoginAttempt.all().count() == 0 and await RateCounter.all().count() == 0
    # At the bound, the same request runs.
    response = await _post(client, _body(ANONYMOUS_BODY))
    assert response.status_code == 200 and response.json()["data"]["startLogin"]["attemptToken"]


async def test_a_signed_in_callers_body_keeps_the_larger_bound(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    response = await _post(client, _body(ANONYMOUS_BODY * 4), session=cookie)
    assert response.status_code == 200, response.text
    # A cookie that names no session is no one signed in.
    response = await _post(client, _body(ANONYMOUS_BODY * 4), session="made-up")
    assert response.status_code == 413
