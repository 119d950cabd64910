"""practitionerDirectory and RPPS numbers: a number that cannot be one is told, not answered
with an empty list an app would read as "nobody registered under this number"."""

from __future__ import annotations

import httpx

from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for

DIRECTORY = "query($s: String!) { practitionerDirectory(search: $s) { id rpps } }"


def _wrong_check_digit(rpps: str) -> str:
    return rpps[:-1] + str((int(rpps[-1]) + 1) % 10)


async def test_an_rpps_with_a_wrong_check_digit_is_refused_with_its_reason(client: httpx.AsyncClient) -> None:
    from backend import accounts

    _, practitioner = await factories.practitioner()
    patient, _ = await factories.patient()
    _, app = await accounts.create_token("app", ["practitioner"], practitioner_rpps=practitioner.rpps)
    for caller in (Caller(client, session=await session_for(patient)), Caller(client, token=app)):
        for search in (_wrong_check_digit(practitioner.rpps), f"pro {_wrong_check_digit(practitioner.rpps)}",
                       practitioner.rpps + "0"):
            refused = await caller.gql(DIRECTORY, {"s": search})
            assert refused.codes == ["BAD_USER_INPUT"], search
            assert refused.errors[0]["extensions"]["reason"] == "INVALID_RPPS"
            assert refused.errors[0]["extensions"]["field"] == "search"
            assert refused.data is None
        # The right number, and parts of numbers, are searched as before.
        found = (await caller.gql(DIRECTORY, {"s": practitioner.rpps})).ok()["practitionerDirectory"]
        assert [p["rpps"] for p in found] == [practitioner.rpps]
        found = (await caller.gql(DIRECTORY, {"s": practitioner.rpps[:10]})).ok()["practitionerDirectory"]
        assert [p["rpps"] for p in found] == [practitioner.rpps]
    assert not await AccessEvent.all().exists()
