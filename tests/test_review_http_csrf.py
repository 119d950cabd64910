"""A cookie request that changes state must come from the service's own origin, to the byte:
no Origin, `null`, a sibling, another scheme or port, or the origin with a path, are all
refused (403, FORBIDDEN) and nothing is written; a bearer request needs none; and a body a
page on another site may send without a preflight is never read as GraphQL."""

from __future__ import annotations

import httpx
import pytest

from backend import config
from backend.models import Session
from tests import factories
from tests.conftest import ORIGIN, session_for

LOGOUT = {"query": "mutation { logout }"}


@pytest.mark.parametrize("origin", [
    None, "null", "", ORIGIN + "/", ORIGIN.upper(), ORIGIN + ":443", ORIGIN.replace("://", "://evil."),
    ORIGIN.replace("http://", "https://") if ORIGIN.startswith("http://") else ORIGIN.replace("https://", "http://"),
    ORIGIN + ".evil.example", f"{ORIGIN}, {ORIGIN}",
])
async def test_a_cookie_request_from_anywhere_but_the_origin_is_refused(
    client: httpx.AsyncClient, origin: str | None,
) -> None:
    account, _ = await factories.patient()
    client.cookies.set(config.settings().session_cookie, await session_for(account))
    headers = {"origin": origin} if origin is not None else {}
    response = await client.post("/graphql", json=LOGOUT, headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Session.filter(account_id=account.id, revoked_at=None).count() == 1
    # From the origin itself, the same request signs out.
    response = await client.post("/graphql", json=LOGOUT, headers={"origin": ORIGIN})
    assert response.status_code == 200 and response.json()["data"]["logout"] is True
    assert await Session.filter(account_id=account.id, revoked_at=None).count() == 0
