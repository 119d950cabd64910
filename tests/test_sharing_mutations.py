"""The patient's sharing choices over GraphQL: grants, blocks, treating physician, preferences."""

from __future__ import annotations

import asyncio

import httpx

from backend.authz.matrix import allowed_sections
from backend.domain.enums import AccessAction, Profession, RecordStatus, Section
from backend.models import AccessEvent, BlockedPractitioner, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

SHARING = """
  grants { practitioner { id displayName profession rpps city } sections since }
  treatingPhysician { id displayName }
  blocked { id }
  allowRegulatorAccess allowBreakGlass
"""
GRANT = f"""mutation($p: ID!, $s: [Section!]!) {{
  grantAccess(practitionerId: $p, sections: $s) {{ sharing {{ {SHARING} }} }} }}"""
REVOKE = f"mutation($p: ID!) {{ revokeAccess(practitionerId: $p) {{ sharing {{ {SHARING} }} }} }}"
BLOCK = f"mutation($p: ID!) {{ blockPractitioner(practitionerId: $p) {{ sharing {{ {SHARING} }} }} }}"
UNBLOCK = f"mutation($p: ID!) {{ unblockPractitioner(practitionerId: $p) {{ sharing {{ {SHARING} }} }} }}"
TREATING = f"mutation($p: ID) {{ setTreatingPhysician(practitionerId: $p) {{ sharing {{ {SHARING} }} }} }}"
PREFS = f"""mutation($r: Boolean!, $b: Boolean!) {{
  setEmergencyPreferences(allowRegulatorAccess: $r, allowBreakGlass: $b) {{ sharing {{ {SHARING} }} }} }}"""
MY_SHARING = f"{{ mySharing {{ {SHARING} }} }}"
DIRECTORY = "query($s: String!) { practitionerDirectory(search: $s) { id displayName profession rpps city } }"


async def _patient(client: httpx.AsyncClient) -> tuple[Caller, Record]:
    account, record = await factories.patient()
    return Caller(client, session=await session_for(account)), record


async def _events(record: Record, action: AccessAction) -> list[AccessEvent]:
    return await AccessEvent.filter(record_id=record.id, action=action.value).order_by("seq")


async def test_grant_replace_and_revoke(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    pid = str(doctor.id)

    data = (await caller.gql(GRANT, {"p": pid, "s": ["ALLERGIES", "MEDICATIONS"]})).ok()
    grants = data["grantAccess"]["sharing"]["grants"]
    assert [g["practitioner"]["id"] for g in grants] == [pid]
    assert grants[0]["sections"] == ["MEDICATIONS", "ALLERGIES"]
    assert grants[0]["practitioner"]["rpps"] == doctor.rpps

    data = (await caller.gql(GRANT, {"p": pid, "s": ["LAB_RESULTS"]})).ok()
    assert data["grantAccess"]["sharing"]["grants"][0]["sections"] == ["LAB_RESULTS"]
    assert await Grant.filter(record_id=record.id).count() == 1

    data = (await caller.gql(REVOKE, {"p": pid})).ok()
    assert data["revokeAccess"]["sharing"]["grants"] == []
    assert not await Grant.filter(record_id=record.id).exists()
    events = await _events(record, AccessAction.SHARING_CHANGED)
    assert len(events) == 3
    assert all(e.mode == "OWNER" and e.reason for e in events)
    assert events[0].sections and set(events[0].sections) == {"MEDICATIONS", "ALLERGIES"}


async def test_grant_outside_the_matrix_is_refused(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    _, pharmacist = await factories.practitioner(Profession.PHARMACIEN)
    result = await caller.gql(GRANT, {"p": str(pharmacist.id), "s": ["MEDICATIONS", "IMAGING"]})
    assert result.codes == ["BAD_USER_INPUT"]
    assert "IMAGING" in result.errors[0]["message"]
    assert not await Grant.filter(record_id=record.id).exists()
    assert not await AccessEvent.filter(record_id=record.id).exists()


async def test_the_directory_tells_which_sections_may_be_shared(client: httpx.AsyncClient) -> None:
    """A page offers only the sections a practitioner's profession may see: exactly those
    grantAccess accepts."""
    caller, record = await _patient(client)
    _, pharmacist = await factories.practitioner(Profession.PHARMACIEN)
    query = "query($s: String!) { practitionerDirectory(search: $s) { id allowedSections } }"
    (found,) = (await caller.gql(query, {"s": pharmacist.rpps})).ok()["practitionerDirectory"]
    allowed = found["allowedSections"]
    assert allowed == [s.value for s in Section if s in allowed_sections(Profession.PHARMACIEN)]
    (await caller.gql(GRANT, {"p": found["id"], "s": allowed})).ok()
    others = [s.value for s in Section if s.value not in allowed]
    for other in others:
        refused = await caller.gql(GRANT, {"p": found["id"], "s": [*allowed, other]})
        assert refused.codes == ["BAD_USER_INPUT"]
    shared = (await caller.gql(MY_SHARING)).ok()["mySharing"]
    assert [g["sections"] for g in shared["grants"]] == [allowed]


async def test_empty_grant_and_unknown_practitioner_are_refused(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    _, doctor = await factories.practitioner()
    assert (await caller.gql(GRANT, {"p": str(doctor.id), "s": []})).codes == ["BAD_USER_INPUT"]
    support = await factories.support()
    # A support account's id is not a practitioner id: it cannot be granted anything.
    assert (await caller.gql(GRANT, {"p": str(support.id), "s": ["ALLERGIES"]})).codes == ["NOT_FOUND"]
    assert (await caller.gql(GRANT, {"p": "not-a-uuid", "s": ["ALLERGIES"]})).codes == ["BAD_USER_INPUT"]
    assert not await Grant.filter(record_id=record.id).exists()
    assert not await AccessEvent.filter(record_id=record.id).exists()


async def test_only_the_owner_of_an_active_record_changes_sharing(client: httpx.AsyncClient) -> None:
    _, doctor = await factories.practitioner()
    doctor_account, other = await factories.practitioner()
    as_doctor = Caller(client, session=await session_for(doctor_account))
    result = await as_doctor.gql(GRANT, {"p": str(doctor.id), "s": ["ALLERGIES"]})
    assert result.codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(GRANT, {"p": str(doctor.id), "s": ["ALLERGIES"]})).codes == [
        "UNAUTHENTICATED"
    ]
    caller, record = await _patient(client)
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    assert (await caller.gql(GRANT, {"p": str(doctor.id), "s": ["ALLERGIES"]})).codes == ["FORBIDDEN"]
    assert (await caller.gql(PREFS, {"r": False, "b": False})).codes == ["FORBIDDEN"]
    assert not await Grant.all().exists()
    assert (await Record.get(id=record.id)).allow_break_glass is True


async def test_block_removes_the_grant_and_unblock(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    _, nurse = await factories.practitioner(Profession.INFIRMIER)
    pid = str(nurse.id)
    (await caller.gql(GRANT, {"p": pid, "s": ["ALLERGIES"]})).ok()
    data = (await caller.gql(BLOCK, {"p": pid})).ok()["blockPractitioner"]["sharing"]
    assert data["grants"] == [] and [b["id"] for b in data["blocked"]] == [pid]
    assert not await Grant.filter(record_id=record.id).exists()
    # A blocked practitioner cannot be granted nor named treating physician.
    assert (await caller.gql(GRANT, {"p": pid, "s": ["ALLERGIES"]})).codes == ["BAD_USER_INPUT"]
    assert not await Grant.filter(record_id=record.id).exists()
    data = (await caller.gql(UNBLOCK, {"p": pid})).ok()["unblockPractitioner"]["sharing"]
    assert data["blocked"] == []
    assert not await BlockedPractitioner.filter(record_id=record.id).exists()
    assert len(await _events(record, AccessAction.SHARING_CHANGED)) == 3


async def test_treating_physician_rules(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    _, pharmacist = await factories.practitioner(Profession.PHARMACIEN)
    _, blocked_doctor = await factories.practitioner(Profession.MEDECIN)

    result = await caller.gql(TREATING, {"p": str(pharmacist.id)})
    assert result.codes == ["BAD_USER_INPUT"]
    (await caller.gql(BLOCK, {"p": str(blocked_doctor.id)})).ok()
    assert (await caller.gql(TREATING, {"p": str(blocked_doctor.id)})).codes == ["BAD_USER_INPUT"]
    assert (await Record.get(id=record.id)).treating_physician_id is None  # type: ignore[attr-defined]

    data = (await caller.gql(TREATING, {"p": str(doctor.id)})).ok()
    assert data["setTreatingPhysician"]["sharing"]["treatingPhysician"]["id"] == str(doctor.id)
    result = await caller.gql(BLOCK, {"p": str(doctor.id)})
    assert result.codes == ["BAD_USER_INPUT"]
    assert "change your treating physician first" in result.errors[0]["message"]
    assert not await BlockedPractitioner.filter(practitioner_id=doctor.id).exists()

    data = (await caller.gql(TREATING, {"p": None})).ok()
    assert data["setTreatingPhysician"]["sharing"]["treatingPhysician"] is None
    assert (await Record.get(id=record.id)).treating_physician_id is None  # type: ignore[attr-defined]
    (await caller.gql(BLOCK, {"p": str(doctor.id)})).ok()


async def test_emergency_preferences_and_my_sharing(client: httpx.AsyncClient) -> None:
    caller, record = await _patient(client)
    data = (await caller.gql(MY_SHARING)).ok()["mySharing"]
    assert data == {
        "grants": [], "treatingPhysician": None, "blocked": [],
        "allowRegulatorAccess": True, "allowBreakGlass": True,
    }
    data = (await caller.gql(PREFS, {"r": False, "b": True})).ok()["setEmergencyPreferences"]["sharing"]
    assert (data["allowRegulatorAccess"], data["allowBreakGlass"]) == (False, True)
    stored = await Record.get(id=record.id)
    assert (stored.allow_regulator, stored.allow_break_glass) == (False, True)
    events = await _events(record, AccessAction.SHARING_CHANGED)
    assert len(events) == 1 and "SAMU refusé" in events[0].reason
    doctor_account, _ = await factories.practitioner()
    as_doctor = Caller(client, session=await session_for(doctor_account))
    assert (await as_doctor.gql(MY_SHARING)).ok() == {"mySharing": None}
    assert (await Caller(client).gql(MY_SHARING)).codes == ["UNAUTHENTICATED"]


async def test_practitioner_directory(client: httpx.AsyncClient) -> None:
    caller, _ = await _patient(client)
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    for _ in range(55):
        await factories.practitioner(Profession.INFIRMIER)
    await factories.support()
    found = (await caller.gql(DIRECTORY, {"s": doctor.rpps})).ok()["practitionerDirectory"]
    assert [p["id"] for p in found] == [str(doctor.id)]
    assert found[0]["profession"] == "medecin" and found[0]["city"] == "Paris"
    many = (await caller.gql(DIRECTORY, {"s": "dr paris"})).ok()["practitionerDirectory"]
    assert len(many) == 50
    # Support staff are never listed, even when the search matches their name.
    assert (await caller.gql(DIRECTORY, {"s": "support"})).ok()["practitionerDirectory"] == []
    assert (await caller.gql(DIRECTORY, {"s": " x "})).codes == ["BAD_USER_INPUT"]
    assert (await Caller(client).gql(DIRECTORY, {"s": "dr"})).codes == ["UNAUTHENTICATED"]
    # LIKE wildcards are matched literally.
    assert (await caller.gql(DIRECTORY, {"s": "%%"})).ok()["practitionerDirectory"] == []


async def test_a_block_sent_with_a_grant_or_a_naming_wins_or_is_refused(client: httpx.AsyncClient) -> None:
    """A grant, or the naming of a treating physician, sent at the same moment as a block of
    the same practitioner: whichever commits second sees the first (their checks are made
    again under the record's lock), so a practitioner is never blocked and granted, nor
    blocked and treating physician."""
    caller, record = await _patient(client)
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    pid = str(doctor.id)
    for _ in range(8):
        granted, blocked = await asyncio.gather(
            caller.gql(GRANT, {"p": pid, "s": ["ALLERGIES"]}), caller.gql(BLOCK, {"p": pid}))
        blocked.ok()
        assert granted.codes in ([], ["BAD_USER_INPUT"])
        assert not await Grant.filter(record_id=record.id).exists()
        (await caller.gql(UNBLOCK, {"p": pid})).ok()

        named, blocked = await asyncio.gather(caller.gql(TREATING, {"p": pid}), caller.gql(BLOCK, {"p": pid}))
        assert sorted([named.codes, blocked.codes]) == [[], ["BAD_USER_INPUT"]]
        current = await Record.get(id=record.id)
        is_blocked = await BlockedPractitioner.filter(record_id=record.id).exists()
        assert is_blocked != (current.treating_physician_id == doctor.id)  # type: ignore[attr-defined]
        (await caller.gql(TREATING, {"p": None})).ok()
        (await caller.gql(UNBLOCK, {"p": pid})).ok()


NOTIFY = """mutation($on: Boolean!) {
  setNotificationPreferences(notifyNewDocuments: $on) { sharing { notifyNewDocuments } } }"""


async def test_the_patient_chooses_to_be_told_of_new_documents(client: httpx.AsyncClient) -> None:
    from backend.models import OutboxMessage
    from tests.document_samples import pdf, upload

    caller, record = await _patient(client)
    doctor, practitioner = await factories.practitioner(Profession.MEDECIN)
    await Grant.create(record=record, practitioner=practitioner, sections=["DOCUMENTS"])
    as_doctor = Caller(client, session=await session_for(doctor))
    assert (await caller.gql("{ mySharing { notifyNewDocuments } }")).ok()["mySharing"] == {
        "notifyNewDocuments": False}

    async def documents_told() -> int:
        return await OutboxMessage.filter(record_id=record.id, subject__icontains="document").count()

    (await upload(as_doctor, pdf("avant"), ins=record.ins)).ok()
    assert await documents_told() == 0
    data = (await caller.gql(NOTIFY, {"on": True})).ok()["setNotificationPreferences"]["sharing"]
    assert data == {"notifyNewDocuments": True}
    (await upload(as_doctor, pdf("pendant"), ins=record.ins)).ok()
    assert await documents_told() == 1
    (await caller.gql(NOTIFY, {"on": False})).ok()
    (await upload(as_doctor, pdf("après"), ins=record.ins)).ok()
    assert await documents_told() == 1
    # Only the patient sets it.
    assert (await as_doctor.gql(NOTIFY, {"on": True})).codes == ["FORBIDDEN"]
    assert not (await Record.get(id=record.id)).notify_new_documents


async def test_the_same_change_sent_at_once_is_one_event(client: httpx.AsyncClient) -> None:
    """A change sent several times together (a double click, a retry) is compared with the
    record as it is under its lock: one SHARING_CHANGED, whatever the count."""
    caller, record = await _patient(client)
    _, doctor = await factories.practitioner(Profession.MEDECIN)

    async def together(query: str, variables: dict[str, object]) -> None:
        for answer in await asyncio.gather(*(caller.gql(query, variables) for _ in range(10))):
            answer.ok()

    await together(PREFS, {"r": False, "b": False})
    assert len(await _events(record, AccessAction.SHARING_CHANGED)) == 1
    await together(TREATING, {"p": str(doctor.id)})
    assert len(await _events(record, AccessAction.SHARING_CHANGED)) == 2
    await together(TREATING, {"p": None})
    assert len(await _events(record, AccessAction.SHARING_CHANGED)) == 3
    fresh = await Record.get(id=record.id)
    assert (fresh.allow_regulator, fresh.allow_break_glass, fresh.treating_physician_id) == (  # type: ignore[attr-defined]
        False, False, None)
