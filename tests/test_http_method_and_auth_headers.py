"""Refusals made before GraphQL runs speak as the API does: a method not allowed is a JSON
`errors` list with an `Allow` header naming what is answered (not HEAD where HEAD is refused),
and a 401 names the scheme (`WWW-Authenticate: Bearer`, RFC 9110 and RFC 6750)."""

from __future__ import annotations

import httpx
import pytest

BAD_TOKEN = {"Authorization": "Bearer dmp_not-a-token"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/graphql", "GET, POST"), ("DELETE", "/graphql", "GET, POST"),
     ("POST", "/files/00000000-0000-0000-0000-000000000000", "GET"), ("POST", "/healthz", "GET, HEAD")],
)
async def test_a_method_not_allowed_is_a_json_refusal(
    client: httpx.AsyncClient, method: str, path: str, allow: str,
) -> None:
    answer = await client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["allow"] == allow
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_refused_token_is_named_so(client: httpx.AsyncClient) -> None:
    api = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=BAD_TOKEN)
    download = await client.get("/files/00000000-0000-0000-0000-000000000000", headers=BAD_TOKEN)
    for answer in (api, download):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="dmp", error="invalid_token"'


async def test_a_download_without_a_token_asks_for_one(client: httpx.AsyncClient) -> None:
    answer = await client.get("/files/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="dmp"'


async def test_two_authorization_headers_are_refused_whatever_they_hold(client: httpx.AsyncClient) -> None:
    """The first of two was taken silently (found by a probe): a proxy or a log in front of the
    service may read the other, so which caller a request is would depend on who reads it."""
    from backend import accounts
    from backend.models import AccessEvent
    from tests import factories

    _, pro = await factories.practitioner()
    _, token = await accounts.create_token("logiciel", ["practitioner"], practitioner_rpps=pro.rpps)
    one = [("authorization", f"Bearer {token}")]
    assert (await client.post("/graphql", json={"query": "{ me { id } }"}, headers=one)).status_code == 200
    for pair in ([*one, ("authorization", "Bearer dmp_not-a-token")], [*one, *one]):
        api = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=pair)
        download = await client.get("/files/00000000-0000-0000-0000-000000000000", headers=pair)
        for answer in (api, download):
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == 'Bearer realm="dmp", error="invalid_token"'
    assert await AccessEvent.all().count() == 0
