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


LOGIN_START = json.dumps({"query": f"mutation($n: Int) {{ {START} }}"})[:-1].encode()
DIGITS = b"1" * 5000  # over Python's 4,300 digits for an integer read from text


@pytest.mark.parametrize("content", [
    LOGIN_START + b', "variables": {"n": ' + DIGITS + b"}}",
    LOGIN_START + b', "variables": {"x": [' + DIGITS + b"]}}",
    LOGIN_START + b', "extensions": {"x": ' + DIGITS + b"}}",
    LOGIN_START + b', "variables": {"n": NaN}}',
    LOGIN_START + b', "variables": {"x": Infinity}}',
    LOGIN_START + b', "variables": {"x": -Infinity}}',
    (LOGIN_START + b"}").decode().encode("utf-16"),
    (LOGIN_START + b"}").decode().encode("utf-16-le"),
    (LOGIN_START + b"}").decode().encode("utf-32"),
    LOGIN_START + b', "variables": {"x": "\xed\xa0\x80"}}',  # a surrogate, encoded: not UTF-8
])
async def test_a_body_that_is_not_json_text_is_refused_as_such(
    client: httpx.AsyncClient, content: bytes,
) -> None:
    """Not RFC 8259 JSON: a number Python will not read (it raised, a 500), NaN or Infinity, or
    text in another encoding than UTF-8 (which the fallback parser guessed and read)."""
    response = await send(client, content, "application/json")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert code_of(response) == ["BAD_USER_INPUT"]
    assert response.json()["errors"][0]["message"] == "Unable to parse request body as JSON"
    await assert_nothing_ran()


@pytest.mark.parametrize(("content", "content_type"), [
    # A BOM, which RFC 8259 lets a parser ignore.
    (b"\xef\xbb\xbf" + b'{"query": "{ __typename }"}', "application/json"),
    (b'{"query": "{ __typename }"}', "application/json; charset=utf-8"),
    (b'{"query": "{ __typename }"}', "application/json;charset=UTF-8"),
    (b'{"query": "{ me { id } }", "query": "{ __typename }"}', "application/json"),  # the last wins
])
async def test_what_json_may_be_is_read_alike_on_both_paths(
    client: httpx.AsyncClient, content: bytes, content_type: str,
) -> None:
    # The first time a document is seen it goes through strawberry's pipeline; after, the prepared path.
    for _ in range(2):
        response = await send(client, content, content_type)
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}
