"""A practitioner refused because the patient's report ended their emergency access: the
history says so.

The report of an open access ends it (tests/test_emergency_report_ends.py); the practitioner's
next read, or download, of the record is a denied attempt. Its event then carries the reason
reasons.ENDED_BY_REPORT and the mode of the access ended (an emergency in the history), where
that is why they have no access: the access that ended last was ended at its report, and would
still be open without it, on a record still active that does not block them. Otherwise the
refusal is written as any other, with no reason: an access that ran out before its report, one
ended by an opposition before its report, one whose time has run out since, a practitioner
blocked since, and an access reported again since (its review's time moved, the end it
recorded no longer tells the report ended it: the history claims nothing it cannot show).
Why is read as the event is written: before the history write begins, where the answer's
floor starts (errors.NoAccess), the refusal runs the same statements as that of an unknown INS
or document.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from backend import clock
from backend.audit import reasons
from backend.domain.enums import AccessAction, EmergencyKind, Profession, Section
from backend.models import AccessEvent, Account, EmergencySession, Practitioner, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import download, pdf, upload
from tests.test_refusal_statements_parity import _before_history

REASON = "Patient inconscient aux urgences, allergies inconnues"
OPEN = {
    kind: f"mutation($ins: String!, $r: String!) {{ {field}(ins: $ins, reason: $r) {{ mode }} }}"
    for kind, field in (
        (EmergencyKind.BREAK_GLASS, "openBreakGlass"), (EmergencyKind.REGULATOR, "regulatorAccess"))
}
MODE = {EmergencyKind.BREAK_GLASS: "BREAK_GLASS", EmergencyKind.REGULATOR: "EMERGENCY_REGULATOR"}
READ = "query($ins: String!) { patientRecord(ins: $ins) { accessMode allergies { totalCount } } }"
REPORT = "mutation($id: ID!, $c: String) { reportEmergencyAccess(id: $id, comment: $c) { reviewState } }"
HISTORY = """{ myAccessHistory(first: 50) { edges { node {
  action actorId mode sections reason emergency } } } }"""
BLOCK = "mutation($id: ID!) { blockPractitioner(practitionerId: $id) { sharing { allowBreakGlass } } }"
PREFERENCES = """mutation($r: Boolean!, $b: Boolean!) {
  setEmergencyPreferences(allowRegulatorAccess: $r, allowBreakGlass: $b) { sharing { allowBreakGlass } } }"""
DENIED = AccessAction.ACCESS_DENIED.value
KINDS = [pytest.param(EmergencyKind.BREAK_GLASS, id="break-glass"),
         pytest.param(EmergencyKind.REGULATOR, id="regulator")]


async def _people(client: httpx.AsyncClient) -> tuple[Caller, Record, Caller, Account, Practitioner]:
    patient, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="Pénicilline")
    account, practitioner = await factories.practitioner(Profession.MEDECIN, regulator=True)
    return (Caller(client, session=await session_for(patient)), record,
            Caller(client, session=await session_for(account)), account, practitioner)


async def _open(pro: Caller, record: Record, kind: EmergencyKind) -> EmergencySession:
    (await pro.gql(OPEN[kind], {"ins": record.ins, "r": REASON})).ok()
    assert (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["accessMode"] == MODE[kind]
    session = await EmergencySession.filter(record_id=record.id, kind=kind).order_by("-opened_at").first()
    assert session is not None
    return session


async def _report(patient: Caller, session: EmergencySession, comment: str | None = None) -> None:
    done = (await patient.gql(REPORT, {"id": str(session.id), "c": comment})).ok()
    assert done["reportEmergencyAccess"]["reviewState"] == "REPORTED"


async def _refused(pro: Caller, record: Record, account: Account) -> AccessEvent:
    """The practitioner's read refused: its one new event, a denied attempt, nothing read."""
    before = await AccessEvent.filter(record_id=record.id).count()
    refused = await pro.gql(READ, {"ins": record.ins})
    assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}
    events = await AccessEvent.filter(record_id=record.id, seq__gt=before).order_by("seq")
    assert [(e.action, e.actor_id) for e in events] == [(DENIED, str(account.id))]
    return events[0]


async def _last_in_history(patient: Caller) -> dict[str, Any]:
    edges = (await patient.gql(HISTORY)).ok()["myAccessHistory"]["edges"]
    node: dict[str, Any] = edges[0]["node"]
    return node


@pytest.mark.parametrize("kind", KINDS)
async def test_a_read_after_the_report_ended_the_access_says_so(
    client: httpx.AsyncClient, kind: EmergencyKind
) -> None:
    patient, record, pro, account, _ = await _people(client)
    session = await _open(pro, record, kind)
    await _report(patient, session, "Je ne connais pas ce médecin")

    event = await _refused(pro, record, account)
    assert (event.reason, event.mode, event.sections) == (reasons.ENDED_BY_REPORT, MODE[kind], [])
    # The patient reads it in their history as an emergency refused, and why.
    assert await _last_in_history(patient) == {
        "action": DENIED, "actorId": str(account.id), "mode": MODE[kind], "sections": [],
        "reason": reasons.ENDED_BY_REPORT, "emergency": True,
    }


async def test_a_download_after_the_report_ended_the_access_says_so(client: httpx.AsyncClient) -> None:
    patient, record, pro, account, _ = await _people(client)
    entry_id = (await upload(patient, pdf("compte rendu"), "cr.pdf")).ok()["uploadDocument"]["entry"]["id"]
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    assert (await download(pro, entry_id)).status_code == 200
    await _report(patient, session)

    before = await AccessEvent.filter(record_id=record.id).count()
    assert (await download(pro, entry_id)).status_code == 404
    events = await AccessEvent.filter(record_id=record.id, seq__gt=before)
    assert [(e.action, e.mode, e.sections, e.reason) for e in events] == [
        (DENIED, "BREAK_GLASS", [Section.DOCUMENTS.value], reasons.ENDED_BY_REPORT)
    ]


def _plain(event: AccessEvent) -> None:
    """A refusal as any other: no reason, no mode."""
    assert (event.reason, event.mode) == ("", None)


async def test_an_access_run_out_before_its_report_is_not_said_ended_by_it(client: httpx.AsyncClient) -> None:
    patient, record, pro, account, practitioner = await _people(client)
    now = clock.now()
    session = await EmergencySession.create(
        record=record, practitioner=practitioner, kind=EmergencyKind.BREAK_GLASS, reason=REASON,
        opened_at=now - dt.timedelta(minutes=50), expires_at=now - dt.timedelta(minutes=1),
    )
    await _report(patient, session)
    _plain(await _refused(pro, record, account))


async def test_an_access_ended_by_an_opposition_before_its_report_is_not_said_ended_by_it(
    client: httpx.AsyncClient
) -> None:
    patient, record, pro, account, _ = await _people(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    (await patient.gql(PREFERENCES, {"r": True, "b": False})).ok()
    clock.shift(dt.timedelta(seconds=1))
    await _report(patient, session)
    (await patient.gql(PREFERENCES, {"r": True, "b": True})).ok()
    _plain(await _refused(pro, record, account))


async def test_once_the_access_would_have_run_out_the_refusal_is_no_longer_the_reports(
    client: httpx.AsyncClient
) -> None:
    patient, record, pro, account, _ = await _people(client)
    session = await _open(pro, record, EmergencyKind.REGULATOR)
    await _report(patient, session)
    assert (await _refused(pro, record, account)).reason == reasons.ENDED_BY_REPORT
    # Opened 31 minutes ago: the regulator's 30 minutes would have run out by now.
    stored = await EmergencySession.get(id=session.id)
    stored.opened_at -= dt.timedelta(minutes=31)
    await stored.save(update_fields=["opened_at"])
    _plain(await _refused(pro, record, account))


async def test_a_practitioner_blocked_since_is_refused_as_blocked(client: httpx.AsyncClient) -> None:
    patient, record, pro, account, practitioner = await _people(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    await _report(patient, session)
    (await patient.gql(BLOCK, {"id": str(practitioner.id)})).ok()
    _plain(await _refused(pro, record, account))


async def test_a_later_access_that_ran_out_is_the_one_that_ended_last(client: httpx.AsyncClient) -> None:
    patient, record, pro, account, practitioner = await _people(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    await _report(patient, session)
    clock.shift(dt.timedelta(seconds=2))
    # A regulator's access that ran out a second ago, after the report ended the break-glass
    # (which would still be open without it).
    now = clock.now()
    await EmergencySession.create(
        record=record, practitioner=practitioner, kind=EmergencyKind.REGULATOR, reason=REASON,
        opened_at=now - dt.timedelta(minutes=30, seconds=1), expires_at=now - dt.timedelta(seconds=1),
    )
    _plain(await _refused(pro, record, account))


async def test_an_access_reported_again_since_is_no_longer_said_ended_by_the_report(
    client: httpx.AsyncClient
) -> None:
    patient, record, pro, account, _ = await _people(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    await _report(patient, session)
    clock.shift(dt.timedelta(seconds=1))
    await _report(patient, session, "Et je le signale encore")
    _plain(await _refused(pro, record, account))


async def test_why_is_read_as_the_event_is_written_not_before_the_refusal(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole comparison in one hour, the window of the refusals' counter, and the caller's
    # first refusal this hour behind it (it makes its counter's row).
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)
    patient, record, pro, account, _ = await _people(client)
    entry_id = (await upload(patient, pdf("compte rendu"), "cr.pdf")).ok()["uploadDocument"]["entry"]["id"]
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS)
    await _report(patient, session)
    assert (await pro.gql(READ, {"ins": factories.new_ins()})).codes == ["FORBIDDEN"]

    async def read(ins: str) -> list[str]:
        return (await pro.gql(READ, {"ins": ins})).codes

    refused, on_record = await _before_history(monkeypatch, lambda: read(record.ins))
    unknown, on_nothing = await _before_history(monkeypatch, lambda: read(factories.new_ins()))
    assert refused == unknown == ["FORBIDDEN"] and on_record == on_nothing
    gone, on_document = await _before_history(monkeypatch, lambda: download(pro, entry_id))
    missing, on_none = await _before_history(monkeypatch, lambda: download(pro, str(uuid.uuid4())))
    assert gone.status_code == missing.status_code == 404 and on_document == on_none
    # And both refusals say why.
    events = await AccessEvent.filter(record_id=record.id, action=DENIED).order_by("seq")
    assert [(e.reason, e.sections) for e in events] == [
        (reasons.ENDED_BY_REPORT, []), (reasons.ENDED_BY_REPORT, [Section.DOCUMENTS.value])
    ]
