"""The sharing mutations are the patient's: a practitioner (even one granted everything, even
the treating physician), a practitioner's app, support staff and an insurer's token are refused
with FORBIDDEN, and nothing is written."""

from __future__ import annotations

import httpx

from backend import accounts
from backend.domain.enums import Profession, Section
from backend.models import AccessEvent, BlockedPractitioner, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

PAYLOAD = "{ sharing { allowBreakGlass } }"
MUTATIONS = [
    f"mutation($p: ID!) {{ grantAccess(practitionerId: $p, sections: [ALLERGIES]) {PAYLOAD} }}",
    f"mutation($p: ID!) {{ revokeAccess(practitionerId: $p) {PAYLOAD} }}",
    f"mutation($p: ID!) {{ blockPractitioner(practitionerId: $p) {PAYLOAD} }}",
    f"mutation($p: ID!) {{ unblockPractitioner(practitionerId: $p) {PAYLOAD} }}",
    f"mutation($p: ID) {{ setTreatingPhysician(practitionerId: $p) {PAYLOAD} }}",
    f"mutation {{ setEmergencyPreferences(allowRegulatorAccess: false, allowBreakGlass: false) {PAYLOAD} }}",
    f"mutation {{ setNotificationPreferences(notifyNewDocuments: true) {PAYLOAD} }}",
]


async def test_nobody_but_the_patient_changes_the_sharing(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor_account, doctor = await factories.practitioner(Profession.MEDECIN)
    _, other = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=doctor, sections=[s.value for s in Section])
    await Record.filter(id=record.id).update(treating_physician_id=doctor.id)
    await BlockedPractitioner.create(record=record, practitioner=other)
    _, app = await accounts.create_token("app", ["practitioner"], practitioner_rpps=doctor.rpps)
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    callers = {
        "practitioner": Caller(client, session=await session_for(doctor_account)),
        "practitioner's app": Caller(client, token=app),
        "support": Caller(client, session=await session_for(await factories.support())),
        "insurer": Caller(client, token=insurer),
    }
    for who, caller in callers.items():
        for mutation in MUTATIONS:
            for target in (doctor, other):
                refused = await caller.gql(mutation, {"p": str(target.id)} if "$p" in mutation else {})
                assert refused.codes == ["FORBIDDEN"], (who, mutation)
                assert refused.data is None
        assert (await caller.gql("{ mySharing { allowBreakGlass } }")).ok() == {"mySharing": None}, who
    stored = await Record.get(id=record.id)
    assert stored.treating_physician_id == doctor.id  # type: ignore[attr-defined]
    preferences = (stored.allow_regulator, stored.allow_break_glass, stored.notify_new_documents)
    assert preferences == (True, True, False)
    granted = await Grant.filter(record_id=record.id).values_list("practitioner_id", flat=True)
    blocked = await BlockedPractitioner.filter(record_id=record.id).values_list("practitioner_id", flat=True)
    assert [str(p) for p in granted] == [str(doctor.id)]
    assert [str(p) for p in blocked] == [str(other.id)]
    assert not await AccessEvent.filter(record_id=record.id).exists()
