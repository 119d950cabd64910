"""Break-glass and SAMU regulator access (DESIGN §3 rules 9-10, §4 notifications)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from backend import clock
from backend.authz.matrix import allowed_sections
from backend.domain.enums import AccessAction, EmergencyKind, Profession, RecordStatus, Section
from backend.models import (
    AccessEvent,
    Account,
    BlockedPractitioner,
    EmergencySession,
    Grant,
    OutboxMessage,
    Record,
)
from tests import factories
from tests.conftest import Caller, session_for

REASON = "Patient inconscient aux urgences, allergies inconnues"
PAYLOAD = """
  expiresAt mode
  record { ins accessMode accessibleSections sectionAccess { section mode }
           allergies { totalCount edges { node { id title } } } medicalHistory { totalCount }
           emergencyProfile { bloodGroup } }
"""
ARGS = "($ins: String!, $r: String!)"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ {PAYLOAD} }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ {PAYLOAD} }} }}"
READ = "query($ins: String!) { patientRecord(ins: $ins) { accessMode allergies { totalCount } } }"
SUBJECT = "DMP : accès d'urgence à votre dossier"


async def _pro(client: httpx.AsyncClient, profession: Profession = Profession.MEDECIN,
               regulator: bool = False) -> tuple[Caller, Account]:
    account, _ = await factories.practitioner(profession, regulator=regulator)
    return Caller(client, session=await session_for(account)), account


async def _nothing_opened(record: Record) -> None:
    assert not await EmergencySession.filter(record_id=record.id).exists()
    assert not await OutboxMessage.filter(record_id=record.id).exists()
    assert not await AccessEvent.filter(
        record_id=record.id,
        action__in=[AccessAction.BREAK_GLASS_OPENED.value, AccessAction.REGULATOR_ACCESS.value],
    ).exists()


@pytest.mark.parametrize(
    ("kind", "mutation", "field", "minutes", "mode", "action"),
    [
        (EmergencyKind.BREAK_GLASS, BREAK_GLASS, "openBreakGlass", 60, "BREAK_GLASS",
         "BREAK_GLASS_OPENED"),
        (EmergencyKind.REGULATOR, REGULATOR, "regulatorAccess", 30, "EMERGENCY_REGULATOR",
         "REGULATOR_ACCESS"),
    ],
)
async def test_opening_reads_notes_and_mails_once(
    client: httpx.AsyncClient, kind: EmergencyKind, mutation: str, field: str, minutes: int,
    mode: str, action: str,
) -> None:
    owner, record = await factories.patient()
    allergy = await factories.entry(record, Section.ALLERGIES, title="Pénicilline")
    await factories.entry(record, Section.ALLERGIES, title="Masquée", masked=True)
    caller, account = await _pro(client, Profession.MEDECIN, regulator=True)
    before = clock.now()

    data = (await caller.gql(mutation, {"ins": record.ins, "r": REASON})).ok()[field]
    assert data["mode"] == mode
    expires = dt.datetime.fromisoformat(data["expiresAt"])
    assert dt.timedelta(minutes=minutes) <= expires - before <= dt.timedelta(minutes=minutes, seconds=30)
    rec = data["record"]
    assert rec["accessMode"] == mode
    assert set(rec["accessibleSections"]) == {s.value for s in Section}
    assert {a["mode"] for a in rec["sectionAccess"]} == {mode}
    # Masked entries stay hidden in emergency modes.
    assert rec["allergies"]["totalCount"] == 1
    assert [e["node"]["id"] for e in rec["allergies"]["edges"]] == [str(allergy.id)]
    assert rec["medicalHistory"] == {"totalCount": 0}

    session = await EmergencySession.get(record_id=record.id)
    assert session.kind == kind and session.reason == REASON
    opened = await AccessEvent.filter(record_id=record.id, action=action)
    assert len(opened) == 1 and opened[0].reason == REASON and opened[0].mode == mode
    assert opened[0].actor_id == str(account.id)
    mails = await OutboxMessage.filter(record_id=record.id)
    assert [m.subject for m in mails] == [SUBJECT]  # one notice, not also a "first access" one
    assert mails[0].recipient == owner.email
    assert account.display_name in mails[0].body and "/historique" in mails[0].body
    assert "(médecin)" in mails[0].body  # the profession's French name, not its code
    for message in await OutboxMessage.filter(record_id=record.id):
        assert REASON not in message.body and "Pénicilline" not in message.body

    # Within the window the practitioner reads, and is told when it ends; after it, nothing.
    assert (await caller.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["accessMode"] == mode
    until = (await caller.gql("query($ins: String!) { patientRecord(ins: $ins) { emergencyExpiresAt } }",
                              {"ins": record.ins})).ok()["patientRecord"]["emergencyExpiresAt"]
    assert dt.datetime.fromisoformat(until) == expires
    clock.shift(dt.timedelta(minutes=minutes, seconds=1))
    caller = Caller(client, session=await session_for(account))  # the old session went idle
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]


async def test_reason_is_required(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, _ = await _pro(client, regulator=True)
    # Too short, or long only in invisible characters (zero-width spaces, direction marks).
    for reason in ("  urgent  ", "\u200b" * 12, "ok" + "\u200e\u200b" * 10):
        for mutation in (BREAK_GLASS, REGULATOR):
            result = await caller.gql(mutation, {"ins": record.ins, "r": reason})
            assert result.codes == ["BAD_USER_INPUT"], reason
    await _nothing_opened(record)
    assert not await AccessEvent.filter(record_id=record.id).exists()


async def test_opposition_and_unknown_ins_look_the_same(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    await Record.filter(id=record.id).update(allow_break_glass=False, allow_regulator=False)
    caller, _ = await _pro(client, regulator=True)
    opposed_bg = await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
    opposed_reg = await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})
    unknown = await caller.gql(BREAK_GLASS, {"ins": factories.new_ins(), "r": REASON})
    assert opposed_bg.codes == opposed_reg.codes == unknown.codes == ["FORBIDDEN"]
    assert opposed_bg.errors[0]["message"] == unknown.errors[0]["message"]
    assert opposed_bg.data == unknown.data
    await _nothing_opened(record)
    # The attempt on an existing record is in its history.
    denied = await AccessEvent.filter(record_id=record.id, action=AccessAction.ACCESS_DENIED.value)
    assert len(denied) == 2 and all(REASON not in e.reason for e in denied)


async def test_each_opposition_is_separate(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await Record.filter(id=record.id).update(allow_regulator=False)
    caller, _ = await _pro(client, regulator=True)
    assert (await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()


async def test_blocked_closed_and_non_regulator_are_refused(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, account = await _pro(client, regulator=True)
    practitioner_id = (await account.practitioner).id  # type: ignore[attr-defined]
    await BlockedPractitioner.create(record_id=record.id, practitioner_id=practitioner_id)
    assert (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    assert (await caller.gql(REGULATOR, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    await _nothing_opened(record)

    _, closed = await factories.patient()
    await Record.filter(id=closed.id).update(status=RecordStatus.CLOSED)
    assert (await caller.gql(BREAK_GLASS, {"ins": closed.ins, "r": REASON})).codes == ["FORBIDDEN"]
    await _nothing_opened(closed)

    _, other = await factories.patient()
    plain, _ = await _pro(client, regulator=False)
    assert (await plain.gql(REGULATOR, {"ins": other.ins, "r": REASON})).codes == ["FORBIDDEN"]
    await _nothing_opened(other)


async def test_only_practitioners_open_emergency_access(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    support = await factories.support()
    for account in (patient, support):
        caller = Caller(client, session=await session_for(account))
        assert (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).codes == [
        "UNAUTHENTICATED"
    ]
    await _nothing_opened(record)


async def test_break_glass_is_limited_by_the_matrix(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, _ = await _pro(client, Profession.PHARMACIEN)
    data = (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()["openBreakGlass"]
    sections = set(data["record"]["accessibleSections"])
    assert sections == {s.value for s in allowed_sections(Profession.PHARMACIEN)}
    assert data["record"]["medicalHistory"] is None
    assert data["record"]["allergies"] == {"totalCount": 0, "edges": []}


async def test_break_glass_over_a_grant_falls_through_per_section(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, account = await _pro(client)
    practitioner_id = (await account.practitioner).id  # type: ignore[attr-defined]
    await Grant.create(record_id=record.id, practitioner_id=practitioner_id, sections=["MEDICATIONS"])
    data = (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()["openBreakGlass"]
    assert data["mode"] == "BREAK_GLASS"
    assert data["record"]["accessMode"] == "GRANTED"
    modes = {a["section"]: a["mode"] for a in data["record"]["sectionAccess"]}
    assert modes.pop("MEDICATIONS") == "GRANTED"
    assert set(modes.values()) == {"BREAK_GLASS"} and len(modes) == len(Section) - 1
    opened = await AccessEvent.get(record_id=record.id, action=AccessAction.BREAK_GLASS_OPENED.value)
    assert opened.mode == "BREAK_GLASS"


async def test_a_read_through_a_grant_and_a_break_glass_is_written_per_mode(
    client: httpx.AsyncClient,
) -> None:
    """DESIGN §4: each event records its mode and the sections returned, and emergency
    accesses stand out. A read of a granted section and of others through break-glass is
    one RECORD_READ in each mode, so the patient's history filtered by BREAK_GLASS shows it."""
    patient, record = await factories.patient()
    caller, account = await _pro(client)
    practitioner_id = (await account.practitioner).id  # type: ignore[attr-defined]
    await Grant.create(record_id=record.id, practitioner_id=practitioner_id, sections=["MEDICATIONS"])
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    opened = await AccessEvent.filter(record_id=record.id).count()  # the opening's own events
    await caller.gql(
        "query($ins: String!) { patientRecord(ins: $ins) { medications { totalCount }"
        " allergies { totalCount } emergencyProfile { bloodGroup } } }", {"ins": record.ins},
    )
    reads = await AccessEvent.filter(record_id=record.id, seq__gt=opened).order_by("seq").values(
        "action", "mode", "sections")
    for read in reads:
        read["sections"] = sorted(read["sections"])
    assert reads == [
        {"action": "RECORD_READ", "mode": "GRANTED", "sections": ["MEDICATIONS"]},
        {"action": "RECORD_READ", "mode": "BREAK_GLASS", "sections": ["ALLERGIES", "EMERGENCY"]},
    ]
    owner = Caller(client, session=await session_for(patient))
    history = (await owner.gql(
        "{ myAccessHistory(first: 10, filter: { modes: [BREAK_GLASS] })"
        " { edges { node { action sections } } } }"
    )).ok()["myAccessHistory"]["edges"]
    assert [(e["node"]["action"], sorted(e["node"]["sections"])) for e in history][0] == (
        "RECORD_READ", ["ALLERGIES", "EMERGENCY"]
    )


BLOCK = "mutation($p: ID!) { blockPractitioner(practitionerId: $p) { __typename } }"
UNBLOCK = "mutation($p: ID!) { unblockPractitioner(practitionerId: $p) { __typename } }"
PREFERENCES = """mutation($r: Boolean!, $b: Boolean!) {
  setEmergencyPreferences(allowRegulatorAccess: $r, allowBreakGlass: $b) { __typename } }"""


async def test_blocking_or_opposing_ends_an_open_emergency_access(client: httpx.AsyncClient) -> None:
    """An emergency access open when the patient blocks its practitioner, or opposes its
    kind, ends there: unblocking or allowing it again does not bring it back; the
    practitioner must open a new one, with its reason and the patient's notice."""
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    doctor, account = await _pro(client)
    regulator, _ = await _pro(client, regulator=True)
    practitioner_id = str((await account.practitioner).id)  # type: ignore[attr-defined]

    (await doctor.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    (await owner.gql(BLOCK, {"p": practitioner_id})).ok()
    (await owner.gql(UNBLOCK, {"p": practitioner_id})).ok()
    assert (await doctor.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]

    (await regulator.gql(REGULATOR, {"ins": record.ins, "r": REASON})).ok()
    (await doctor.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    # Opposing the regulator's access ends it, and leaves the break-glass access open.
    (await owner.gql(PREFERENCES, {"r": False, "b": True})).ok()
    (await owner.gql(PREFERENCES, {"r": True, "b": True})).ok()
    assert (await regulator.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert (await doctor.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["accessMode"] == "BREAK_GLASS"
    (await owner.gql(PREFERENCES, {"r": True, "b": False})).ok()
    (await owner.gql(PREFERENCES, {"r": True, "b": True})).ok()
    assert (await doctor.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    now = clock.now()
    assert not await EmergencySession.filter(record_id=record.id, expires_at__gt=now).exists()
    # A new access is opened as the first was.
    (await doctor.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    assert (await doctor.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["accessMode"] == "BREAK_GLASS"


@pytest.mark.parametrize("change", ["block", "oppose", "close"])
async def test_a_block_opposition_or_closing_committed_meanwhile_refuses_the_opening(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The patient's change commits after the opening's first checks and before it takes the
    record's lock: it found no session to end, so the opening is refused under the lock (an
    access opened then would come back when the patient unblocks or allows it again)."""
    from backend.audit.collector import AccessLog

    _, record = await factories.patient()
    doctor, account = await _pro(client)
    practitioner = await account.practitioner  # type: ignore[attr-defined]
    changing = AccessLog.changing

    @asynccontextmanager
    async def meanwhile(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[object]:
        if change == "block":
            await BlockedPractitioner.create(record_id=record.id, practitioner_id=practitioner.id)
        elif change == "oppose":
            await Record.filter(id=record.id).update(allow_break_glass=False)
        else:
            await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
        async with changing(self, record_id) as conn:
            yield conn

    monkeypatch.setattr(AccessLog, "changing", meanwhile)
    result = await doctor.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
    monkeypatch.setattr(AccessLog, "changing", changing)
    assert result.codes == ["FORBIDDEN"]
    await _nothing_opened(record)
    denied = await AccessEvent.filter(record_id=record.id, action=AccessAction.ACCESS_DENIED.value)
    assert [e.reason for e in denied] == ["accès d'urgence refusé"]
