"""A media type's name is case-insensitive (RFC 9110, 8.3.1): `Application/JSON` is JSON.

The prepared path (schema/direct.py) read it so, strawberry's pipeline did not: a document
the server had accepted before was answered, any other (an error to report, a refused
variable) got "Unsupported content type" instead of its own error.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ORIGIN

pytestmark = pytest.mark.usefixtures("clean")


async def post(client: httpx.AsyncClient, body: object, content_type: str) -> httpx.Response:
    return await client.post("/graphql", content=json.dumps(body),
                             headers={"content-type": content_type, "origin": ORIGIN})


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
async def test_json_named_in_capitals_is_json_on_both_paths(
    client: httpx.AsyncClient, content_type: str
) -> None:
    accepted = await post(client, {"query": "query A { __typename }"}, content_type)
    assert accepted.status_code == 200
    assert accepted.json() == {"data": {"__typename": "Query"}}
    # A document with an error goes through the full pipeline: its own error, as in lower case.
    wrong = await post(client, {"query": "query B { nope }"}, content_type)
    lower = await post(client, {"query": "query B { nope }"}, "application/json")
    assert wrong.status_code == lower.status_code
    assert wrong.json() == lower.json()
    assert "nope" in wrong.json()["errors"][0]["message"]
    refused = await post(client, {"query": "query C($n: Int!) { __typename @skip(if: false) }",
                                  "variables": {"n": "x"}}, content_type)
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unsupported content type" not in refused.text


async def test_a_multipart_in_capitals_without_the_client_header_is_refused(
    client: httpx.AsyncClient,
) -> None:
    # A media type is read whatever its case, multipart too: named in capitals, an upload still
    # needs X-DMP-Client (the CSRF rule), and is refused without it.
    response = await client.post(
        "/graphql", content=b"--x\r\n\r\n--x--\r\n",
        headers={"content-type": "Multipart/Form-Data; boundary=x", "origin": ORIGIN},
    )
    assert response.status_code == 400
    assert "X-DMP-Client" in response.json()["errors"][0]["message"]
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
