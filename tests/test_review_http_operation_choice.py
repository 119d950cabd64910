"""An operation that cannot be chosen (GraphQL spec, GetOperation: several operations and no
`operationName`, or a name that names none) is a request error of a well-formed request:
HTTP 200 under `application/json`, 400 under `application/graphql-response+json`
(GraphQL-over-HTTP, "Operation cannot be determined"), never a `data` entry, nothing run.
An `operationName` that is not a string makes the request malformed: 400 whatever the Accept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.models import LoginAttempt, RateCounter
from tests.conftest import ORIGIN

START = 'startLogin(identifier: "nobody@test.dmp", password: "whatever-123") { attemptToken }'
TWO = f"mutation A {{ {START} }} mutation B {{ {START} }}"
LEGACY = [{}, {"accept": "application/json"}, {"accept": "*/*"}]
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}


async def post(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"origin": ORIGIN, **headers})


async def assert_nothing_ran() -> None:
    assert await LoginAttempt.all().count() == 0
    assert await RateCounter.all().count() == 0


def assert_request_error(response: httpx.Response, words: str) -> None:
    body = response.json()
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert words in body["errors"][0]["message"], body


CHOICES = [({"query": TWO}, "operation name"), ({"query": TWO, "operationName": "C"}, "Unknown operation"),
           ({"query": TWO, "operationName": None}, "operation name")]


@pytest.mark.parametrize("headers", LEGACY)
@pytest.mark.parametrize(("body", "words"), CHOICES)
async def test_no_operation_chosen_is_200_under_application_json(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], words: str,
) -> None:
    response = await post(client, body, headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert_request_error(response, words)
    await assert_nothing_ran()


@pytest.mark.parametrize(("body", "words"), CHOICES)
async def test_no_operation_chosen_is_400_under_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any], words: str,
) -> None:
    response = await post(client, body, GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"].split(";")[0] == "application/graphql-response+json"
    assert_request_error(response, words)
    await assert_nothing_ran()


@pytest.mark.parametrize("headers", [*LEGACY, GRAPHQL_RESPONSE])
@pytest.mark.parametrize("name", [3, True, {"name": "A"}, ["A"]])
async def test_an_operation_name_not_a_string_is_a_malformed_request(
    client: httpx.AsyncClient, headers: dict[str, str], name: object,
) -> None:
    response = await post(client, {"query": f"mutation A {{ {START} }}", "operationName": name}, headers)
    assert response.status_code == 400
    assert_request_error(response, "operationName")
    await assert_nothing_ran()


@pytest.mark.parametrize("query", [f"mutation A {{ {START} }}", TWO])
async def test_an_unknown_operation_name_is_not_sent_back_whole(
    client: httpx.AsyncClient, query: str,
) -> None:
    """Found by a probe: the refusal quoted the name given, whole (5 MB came back)."""
    name = "Z" * 50_000
    response = await post(client, {"query": query, "operationName": name}, {})
    assert_request_error(response, "Unknown operation")
    message = response.json()["errors"][0]["message"]
    assert len(message) < 400 and name not in message and "(50,0" in message
    await assert_nothing_ran()
