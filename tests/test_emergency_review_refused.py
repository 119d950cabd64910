"""A refused emergency attempt is in the patient's history as an emergency (DESIGN §4): the
ACCESS_DENIED event carries the mode the opening would have granted, so `emergency` is true
and it stands out with the openings; nothing else is written (no session, no notice: the
patient is e-mailed of accesses, and a refusal is none)."""

from __future__ import annotations

import httpx
import pytest

from backend.audit import reasons
from backend.domain.enums import AccessAction, Profession, RecordStatus
from backend.models import AccessEvent, Account, BlockedPractitioner, EmergencySession, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for

REASON = "Patient inconscient aux urgences, allergies inconnues"
ARGS = "($ins: String!, $r: String!)"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ mode }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ mode }} }}"
HISTORY = """query($filter: AccessHistoryFilter) {
  myAccessHistory(first: 20, filter: $filter) {
    edges { node { action mode reason emergency actorName sections } } } }"""
KINDS = [(BREAK_GLASS, "BREAK_GLASS"), (REGULATOR, "EMERGENCY_REGULATOR")]


async def _caller(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def _only_the_refusal(record: Record, actor: Account, mode: str) -> None:
    """One event, the marked refusal by `actor`; no session, no notice."""
    events = await AccessEvent.filter(record_id=record.id)
    assert [(e.action, e.mode, e.reason, e.actor_id, e.sections) for e in events] == [
        (AccessAction.ACCESS_DENIED.value, mode, reasons.EMERGENCY_REFUSED, str(actor.id), [])
    ]
    assert REASON not in events[0].reason
    assert not await EmergencySession.filter(record_id=record.id).exists()
    assert not await OutboxMessage.filter(record_id=record.id).exists()


async def _patient_sees(client: httpx.AsyncClient, owner: Account, actor: Account, mode: str) -> None:
    as_patient = await _caller(client, owner)
    nodes = [e["node"] for e in (await as_patient.gql(HISTORY)).ok()["myAccessHistory"]["edges"]]
    assert nodes == [{
        "action": "ACCESS_DENIED", "mode": mode, "reason": reasons.EMERGENCY_REFUSED, "emergency": True,
        "actorName": actor.display_name, "sections": [],
    }]
    # The history's mode filter finds it with the openings of that kind.
    found = (await as_patient.gql(HISTORY, {"filter": {"modes": [mode]}})).ok()["myAccessHistory"]
    assert [e["node"]["action"] for e in found["edges"]] == ["ACCESS_DENIED"]


@pytest.mark.parametrize(("mutation", "mode"), KINDS)
async def test_an_opposed_attempt_is_written_as_an_emergency(
    client: httpx.AsyncClient, mutation: str, mode: str
) -> None:
    owner, record = await factories.patient()
    await Record.filter(id=record.id).update(allow_break_glass=False, allow_regulator=False)
    account, _ = await factories.practitioner(regulator=True)
    result = await (await _caller(client, account)).gql(mutation, {"ins": record.ins, "r": REASON})
    assert result.codes == ["FORBIDDEN"] and result.data is None
    await _only_the_refusal(record, account, mode)
    await _patient_sees(client, owner, account, mode)


@pytest.mark.parametrize(("mutation", "mode"), KINDS)
async def test_a_blocked_practitioners_attempt_is_written_as_an_emergency(
    client: httpx.AsyncClient, mutation: str, mode: str
) -> None:
    _, record = await factories.patient()
    account, practitioner = await factories.practitioner(regulator=True)
    await BlockedPractitioner.create(record_id=record.id, practitioner_id=practitioner.id)
    result = await (await _caller(client, account)).gql(mutation, {"ins": record.ins, "r": REASON})
    assert result.codes == ["FORBIDDEN"]
    await _only_the_refusal(record, account, mode)


async def test_an_attempt_on_a_closed_record_is_written_as_an_emergency(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    account, _ = await factories.practitioner()
    result = await (await _caller(client, account)).gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
    assert result.codes == ["FORBIDDEN"]
    await _only_the_refusal(record, account, "BREAK_GLASS")


async def test_a_non_regulators_regulator_attempt_is_written_as_one(client: httpx.AsyncClient) -> None:
    """A practitioner who is no SAMU regulator may not use regulator access: their attempt on
    an existing record is a denied attempt like the others; the answer does not change."""
    owner, record = await factories.patient()
    account, _ = await factories.practitioner(regulator=False)
    caller = await _caller(client, account)
    result = await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "Regulator access is for SAMU regulators"
    await _only_the_refusal(record, account, "EMERGENCY_REGULATOR")
    await _patient_sees(client, owner, account, "EMERGENCY_REGULATOR")

    # An INS with no record: the same answer, nothing written anywhere.
    unknown = await caller.gql(REGULATOR, {"ins": factories.new_ins(), "r": REASON})
    assert (unknown.codes, unknown.errors[0]["message"]) == (result.codes, result.errors[0]["message"])
    # An INS that is not one: still refused for the caller, not for the INS.
    malformed = await caller.gql(REGULATOR, {"ins": "123", "r": REASON})
    assert malformed.codes == ["FORBIDDEN"]
    assert await AccessEvent.all().count() == 1


async def test_the_non_regulators_refusal_answers_after_the_same_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the existing record's refusal writes an event: both answers wait for the same
    floor (errors.NoAccess), so the time does not tell whether the INS names a record."""
    from backend.schema import extensions

    waited: list[float] = []

    async def wait(since: float) -> None:
        waited.append(since)

    monkeypatch.setattr(extensions, "answer_no_sooner", wait)
    _, record = await factories.patient()
    account, _ = await factories.practitioner(regulator=False)
    caller = await _caller(client, account)
    assert (await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    assert (await caller.gql(REGULATOR, {"ins": factories.new_ins(), "r": REASON})).codes == ["FORBIDDEN"]
    assert len(waited) == 2


async def test_support_or_another_patients_attempt_is_written_the_owners_own_is_not(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    support = await factories.support()
    other, _ = await factories.patient()
    for account in (support, other):
        caller = await _caller(client, account)
        result = await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
        assert result.codes == ["FORBIDDEN"]
        assert result.errors[0]["message"] == "Emergency access is for practitioners"
    events = await AccessEvent.filter(record_id=record.id).order_by("seq")
    assert [(e.action, e.mode, e.actor_id) for e in events] == [
        ("ACCESS_DENIED", "BREAK_GLASS", str(support.id)), ("ACCESS_DENIED", "BREAK_GLASS", str(other.id)),
    ]
    # The owner trying it on their own record is refused, and is no one else's attempt.
    mine = await (await _caller(client, owner)).gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
    assert mine.codes == ["FORBIDDEN"]
    assert await AccessEvent.filter(record_id=record.id).count() == 2
    assert not await EmergencySession.filter(record_id=record.id).exists()
    assert not await OutboxMessage.filter(record_id=record.id).exists()


async def test_a_refusal_and_an_opening_in_one_history(client: httpx.AsyncClient) -> None:
    """The refused regulator attempt and the break-glass opened after it both stand out."""
    owner, record = await factories.patient()
    await Record.filter(id=record.id).update(allow_regulator=False)
    account, _ = await factories.practitioner(Profession.MEDECIN, regulator=True)
    caller = await _caller(client, account)
    assert (await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    as_patient = await _caller(client, owner)
    nodes = [e["node"] for e in (await as_patient.gql(HISTORY)).ok()["myAccessHistory"]["edges"]]
    assert [(n["action"], n["mode"], n["emergency"]) for n in nodes] == [
        ("BREAK_GLASS_OPENED", "BREAK_GLASS", True), ("ACCESS_DENIED", "EMERGENCY_REGULATOR", True),
    ]
    # One notice: the opening's; the refusal tells no one.
    assert await OutboxMessage.filter(record_id=record.id).count() == 1
