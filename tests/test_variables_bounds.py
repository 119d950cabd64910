"""A list variable is coerced value by value before any resolver runs (and before any check
of who asks): a body of hundreds of thousands of values held the event loop for seconds,
anonymous callers included. A list over 10,000 values, or variables of more than 500,000,
are refused first: 400, `BAD_USER_INPUT`, nothing run, on both paths of the endpoint."""

from __future__ import annotations

import json

import httpx

from backend import config
from backend.graphql_view import MAX_LIST_VALUES, MAX_VALUES, TOO_MANY_VALUES
from backend.models import AccessEvent, Entry, Grant
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import ORIGIN, session_for

GRANT = "mutation($p: ID!, $s: [Section!]!) { grantAccess(practitionerId: $p, sections: $s) { __typename } }"


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, object],
                token: str | None = None) -> httpx.Response:
    """As a signed-in practitioner unless a token is given: a body of no one signed in stops at
    64 KB (test_http_anonymous_body), before these bounds."""
    headers = {"origin": ORIGIN, "content-type": "application/json"}
    client.cookies.clear()
    if token:
        headers["authorization"] = f"Bearer {token}"
    else:
        account, _ = await factories.practitioner()
        client.cookies.set(config.settings().session_cookie, await session_for(account))
    return await client.post("/graphql", content=json.dumps({"query": query, "variables": variables}),
                             headers=headers)


async def test_an_overlong_list_is_refused_before_it_is_coerced(client: httpx.AsyncClient) -> None:
    _, practitioner = await factories.practitioner()
    for _ in range(2):  # strawberry's pipeline, then the prepared path
        response = await _post(client, GRANT, {"p": str(practitioner.id),
                                               "s": ["ALLERGIES"] * (MAX_LIST_VALUES + 1)})
        assert response.status_code == 400
        assert response.json() == {"errors": [{"message": TOO_MANY_VALUES,
                                               "extensions": {"code": "BAD_USER_INPUT"}}]}
    # Within the bound, the request goes on to the resolver, which answers who may ask.
    response = await _post(client, GRANT, {"p": str(practitioner.id), "s": ["ALLERGIES"] * MAX_LIST_VALUES})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # a patient's operation
    assert await Grant.all().count() == 0 and await AccessEvent.all().count() == 0


async def test_too_many_values_in_all_are_refused(client: httpx.AsyncClient) -> None:
    _, practitioner = await factories.practitioner()
    nested = [["ALLERGIES"] * 100 for _ in range(MAX_VALUES // 100 + 1)]  # short lists, many of them
    for _ in range(2):
        response = await _post(client, GRANT, {"p": str(practitioner.id), "s": nested})
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == TOO_MANY_VALUES


async def test_an_import_of_the_most_items_still_gets_its_own_refusal(client: httpx.AsyncClient) -> None:
    """5,001 items are the import's own refusal (its reason and bound), not the endpoint's."""
    _, record = await factories.patient()
    items = [medication_item(record.ins, n) for n in range(5_001)]
    response = await _post(client, IMPORT, {"items": items}, await insurer_token())
    extensions = response.json()["errors"][0]["extensions"]
    assert (extensions["code"], extensions["reason"]) == ("BAD_USER_INPUT", "TOO_MANY_ITEMS")
    assert await Entry.filter(record_id=record.id).count() == 0
