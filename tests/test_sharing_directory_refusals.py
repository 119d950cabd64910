"""practitionerDirectory's refusals: they name the argument as the API spells it, and the
directory is for patients, practitioners and their apps, not for an insurer's import token."""

from __future__ import annotations

import httpx

from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for

DIRECTORY = "query($s: String!) { practitionerDirectory(search: $s) { id displayName profession rpps city } }"


async def test_a_search_too_short_or_too_long_names_the_search_argument(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    for short in ("%", " x ", ""):
        result = await caller.gql(DIRECTORY, {"s": short})
        assert result.codes == ["BAD_USER_INPUT"], short
        assert result.errors[0]["extensions"] == {
            "code": "BAD_USER_INPUT", "reason": "FIELD_TOO_SHORT", "field": "search", "min": 2,
        }
        assert result.data is None
    result = await caller.gql(DIRECTORY, {"s": "d" * 101})
    assert result.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT", "reason": "FIELD_TOO_LONG", "field": "search", "max": 100,
    }
    assert await AccessEvent.all().count() == 0


async def test_an_insurer_token_may_not_read_the_directory(client: httpx.AsyncClient) -> None:
    from backend import accounts

    _, practitioner = await factories.practitioner()
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    refused = await Caller(client, token=insurer).gql(DIRECTORY, {"s": practitioner.rpps})
    assert refused.codes == ["FORBIDDEN"]
    assert refused.data is None
    assert practitioner.rpps not in refused.response.text
    assert await AccessEvent.all().count() == 0
    # A practitioner's app and a patient still find them.
    _, colleague = await factories.practitioner()
    _, app = await accounts.create_token("app", ["practitioner"], practitioner_rpps=colleague.rpps)
    found = (await Caller(client, token=app).gql(DIRECTORY, {"s": practitioner.rpps})).ok()
    assert [p["rpps"] for p in found["practitionerDirectory"]] == [practitioner.rpps]
    patient, _ = await factories.patient()
    found = (await Caller(client, session=await session_for(patient)).gql(
        DIRECTORY, {"s": practitioner.rpps})).ok()
    assert [p["rpps"] for p in found["practitionerDirectory"]] == [practitioner.rpps]
