"""Which operation of a document runs (GraphQL spec, GetOperation): the one named by
`operationName`; a document of several operations without it is a request error, and
nothing runs."""

from __future__ import annotations

import httpx
import pytest

from backend.models import Session
from tests import factories
from tests.conftest import Caller, session_for

TWO = "mutation B { logout } query A { me { id } }"


@pytest.mark.parametrize("document", [TWO, "query A { me { id } } mutation B { logout }"])
async def test_several_operations_without_a_name_run_nothing(
    client: httpx.AsyncClient, document: str
) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    result = await caller.gql(document)
    assert result.codes == ["BAD_USER_INPUT"]
    assert "operation name" in result.errors[0]["message"]
    assert result.data is None
    assert await Session.filter(account_id=account.id, revoked_at=None).count() == 1  # still signed in


async def test_the_named_operation_runs(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    headers = {**caller.headers(), "cookie": "; ".join(f"{k}={v}" for k, v in caller.cookies().items())}
    response = await client.post("/graphql", json={"query": TWO, "operationName": "A"}, headers=headers)
    assert response.json()["data"]["me"]["id"] == str(account.id)
    unknown = await client.post("/graphql", json={"query": TWO, "operationName": "C"}, headers=headers)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert unknown.json().get("data") is None
