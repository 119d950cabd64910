"""Every sharing mutation refuses a practitioner id that is none (an RPPS number typed in its
place included) with its reason and the argument's name, and writes nothing."""

from __future__ import annotations

import httpx

from backend.domain.enums import Profession
from backend.models import AccessEvent, BlockedPractitioner, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

PAYLOAD = "{ sharing { blocked { id } } }"
MUTATIONS = {
    "grantAccess": (
        f"mutation($p: ID!) {{ grantAccess(practitionerId: $p, sections: [ALLERGIES]) {PAYLOAD} }}"
    ),
    "revokeAccess": f"mutation($p: ID!) {{ revokeAccess(practitionerId: $p) {PAYLOAD} }}",
    "blockPractitioner": f"mutation($p: ID!) {{ blockPractitioner(practitionerId: $p) {PAYLOAD} }}",
    "unblockPractitioner": f"mutation($p: ID!) {{ unblockPractitioner(practitionerId: $p) {PAYLOAD} }}",
    "setTreatingPhysician": f"mutation($p: ID) {{ setTreatingPhysician(practitionerId: $p) {PAYLOAD} }}",
}


async def test_an_id_that_is_none_is_refused_by_every_sharing_mutation(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    for name, mutation in MUTATIONS.items():
        for wrong in (doctor.rpps, "not-an-id", "", str(doctor.id) + "0"):
            refused = await caller.gql(mutation, {"p": wrong})
            assert refused.codes == ["BAD_USER_INPUT"], (name, wrong)
            assert refused.errors[0]["extensions"] == {
                "code": "BAD_USER_INPUT", "reason": "INVALID_ID", "field": "practitionerId"}, (name, wrong)
            assert refused.data is None
        # A well-formed id of nobody's, or of an account that is not a practitioner's.
        for nobody in ("00000000-0000-4000-8000-000000000000", str(account.id)):
            assert (await caller.gql(mutation, {"p": nobody})).codes == ["NOT_FOUND"], name
    assert not await Grant.all().exists()
    assert not await BlockedPractitioner.all().exists()
    assert (await Record.get(id=record.id)).treating_physician_id is None  # type: ignore[attr-defined]
    assert not await AccessEvent.filter(record_id=record.id).exists()
