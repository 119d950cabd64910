"""A patient's report of an emergency access as unjustified ends that access at once.

Reported while still open, the session ends at the report's time, in the review's transaction:
the practitioner's next request is refused (a denied attempt in the history). Only the access
reported ends: not the practitioner's other kind, not another practitioner's. An access already
over keeps its end; an acknowledgement ends nothing; a refused report ends nothing. The same
practitioner opening again afterwards opens a new session, with its event and the patient's
e-mail."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from backend import clock
from backend.domain.enums import AccessAction, EmergencyKind, ReviewState, Section
from backend.models import AccessEvent, Account, EmergencySession, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import break_glass, reviewed

REASON = "Patient inconscient aux urgences, allergies inconnues"
AGAIN = "Nouvelle prise en charge, le patient est revenu aux urgences"
ARGS = "($ins: String!, $r: String!)"
PAYLOAD = "expiresAt mode"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ {PAYLOAD} }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ {PAYLOAD} }} }}"
READ = """query($ins: String!) {
  patientRecord(ins: $ins) { accessMode emergencyExpiresAt allergies { totalCount } } }"""
REVIEW = "id kind openedAt expiresAt reviewState"
REPORT = f"""mutation($id: ID!, $c: String) {{
  reportEmergencyAccess(id: $id, comment: $c) {{ {REVIEW} }} }}"""
ACK = f"mutation($id: ID!) {{ acknowledgeEmergencyAccess(id: $id) {{ {REVIEW} }} }}"
REVIEWS = f"{{ myEmergencyAccessReviews(first: 20) {{ edges {{ node {{ {REVIEW} }} }} }} }}"
KINDS = [
    pytest.param(EmergencyKind.BREAK_GLASS, BREAK_GLASS, "openBreakGlass", "BREAK_GLASS", 60,
                 id="break-glass"),
    pytest.param(EmergencyKind.REGULATOR, REGULATOR, "regulatorAccess", "EMERGENCY_REGULATOR", 30,
                 id="regulator"),
]
MUTATIONS = {EmergencyKind.BREAK_GLASS: BREAK_GLASS, EmergencyKind.REGULATOR: REGULATOR}
OPENED = [AccessAction.BREAK_GLASS_OPENED.value, AccessAction.REGULATOR_ACCESS.value]
REVIEWED = AccessAction.EMERGENCY_REVIEWED.value
DENIED = AccessAction.ACCESS_DENIED.value


async def _patient(client: httpx.AsyncClient) -> tuple[Caller, Record]:
    patient, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="Pénicilline")
    return Caller(client, session=await session_for(patient)), record


async def _pro(client: httpx.AsyncClient) -> tuple[Caller, Account]:
    account, _ = await factories.practitioner(regulator=True)
    return Caller(client, session=await session_for(account)), account


async def _open(caller: Caller, record: Record, kind: EmergencyKind, account: Account,
                reason: str = REASON) -> EmergencySession:
    """The practitioner opens an access of this kind through the API: its session."""
    (await caller.gql(MUTATIONS[kind], {"ins": record.ins, "r": reason})).ok()
    session = await EmergencySession.filter(
        record_id=record.id, practitioner__account_id=account.id, kind=kind
    ).order_by("-opened_at").first()
    assert session is not None
    return session


async def _ends(*sessions: EmergencySession) -> list[dt.datetime]:
    return [(await EmergencySession.get(id=s.id)).expires_at for s in sessions]


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def _refused_read(caller: Caller, record: Record, account: Account) -> None:
    """The practitioner's read is refused, and written as a denied attempt (nothing read)."""
    denied = await AccessEvent.filter(record_id=record.id, action=DENIED, actor_id=str(account.id)).count()
    reads = await AccessEvent.filter(
        record_id=record.id, action=AccessAction.RECORD_READ.value, actor_id=str(account.id)
    ).count()
    refused = await caller.gql(READ, {"ins": record.ins})
    assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}
    assert await AccessEvent.filter(
        record_id=record.id, action=DENIED, actor_id=str(account.id)).count() == denied + 1
    assert await AccessEvent.filter(
        record_id=record.id, action=AccessAction.RECORD_READ.value, actor_id=str(account.id)
    ).count() == reads


@pytest.mark.parametrize(("kind", "mutation", "field", "mode", "minutes"), KINDS)
async def test_a_report_ends_the_open_access_at_once(
    client: httpx.AsyncClient, kind: EmergencyKind, mutation: str, field: str, mode: str, minutes: int
) -> None:
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    colleague, other = await _pro(client)
    session = await _open(pro, record, kind, account)
    theirs = await _open(colleague, record, kind, other)
    assert (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["accessMode"] == mode
    (theirs_end,) = await _ends(theirs)

    before = clock.now()
    done = (await as_patient.gql(REPORT, {"id": str(session.id), "c": "Je ne connais pas ce médecin"})
            ).ok()["reportEmergencyAccess"]
    after = clock.now()

    stored = await EmergencySession.get(id=session.id)
    assert stored.review_state == ReviewState.REPORTED
    # The access ended at the report's time, the time it was reviewed at; the payload says so.
    assert stored.expires_at == stored.reviewed_at
    assert before <= stored.expires_at <= after
    assert done["reviewState"] == "REPORTED" and _at(done["expiresAt"]) == stored.expires_at
    assert _at(done["expiresAt"]) < _at(done["openedAt"]) + dt.timedelta(minutes=minutes)
    # The history has the report, once; the end is its consequence, no event of its own.
    events = await AccessEvent.filter(record_id=record.id, action=REVIEWED)
    assert [(e.entry_id, e.reason) for e in events] == [
        (str(session.id), await reviewed(session, "REPORTED", "Je ne connais pas ce médecin"))
    ]

    # The practitioner's next request is refused, written as a denied attempt.
    await _refused_read(pro, record, account)
    # The colleague's access of the same kind is theirs, and stays open.
    assert await _ends(theirs) == [theirs_end] and theirs_end > clock.now()
    read = (await colleague.gql(READ, {"ins": record.ins})).ok()["patientRecord"]
    assert read["accessMode"] == mode and _at(read["emergencyExpiresAt"]) == theirs_end
    # The list shows the access reported and ended.
    listed = (await as_patient.gql(REVIEWS)).ok()["myEmergencyAccessReviews"]["edges"]
    mine = next(e["node"] for e in listed if e["node"]["id"] == str(session.id))
    assert mine["reviewState"] == "REPORTED" and _at(mine["expiresAt"]) == stored.expires_at


async def test_the_practitioners_other_kind_stays_open(client: httpx.AsyncClient) -> None:
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    glass = await _open(pro, record, EmergencyKind.BREAK_GLASS, account)
    regulator = await _open(pro, record, EmergencyKind.REGULATOR, account)
    (regulator_end,) = await _ends(regulator)

    (await as_patient.gql(REPORT, {"id": str(glass.id)})).ok()
    (glass_end,) = await _ends(glass)
    assert glass_end <= clock.now()
    assert await _ends(regulator) == [regulator_end]
    assert (await EmergencySession.get(id=regulator.id)).review_state == ReviewState.PENDING
    # Still reading, through the regulator's access alone, until its own end.
    read = (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]
    assert read["accessMode"] == "EMERGENCY_REGULATOR"
    assert _at(read["emergencyExpiresAt"]) == regulator_end
    assert read["allergies"]["totalCount"] == 1

    # Reported too, it ends as well: nothing left to read through.
    (await as_patient.gql(REPORT, {"id": str(regulator.id)})).ok()
    await _refused_read(pro, record, account)
    assert await _ends(glass) == [glass_end]


async def test_a_report_of_an_access_over_keeps_its_end(client: httpx.AsyncClient) -> None:
    """Run out, or ended early (an opposition): the report is recorded, the end stays."""
    as_patient, record = await _patient(client)
    _, practitioner = await factories.practitioner(regulator=True)
    now = clock.now()
    ran_out = await EmergencySession.create(
        record=record, practitioner=practitioner, kind=EmergencyKind.BREAK_GLASS, reason=REASON,
        opened_at=now - dt.timedelta(hours=2), expires_at=now - dt.timedelta(hours=1),
    )
    # Opened for 30 minutes ten minutes ago, ended early five minutes ago.
    ended = await break_glass(record, practitioner, kind=EmergencyKind.REGULATOR, minutes=30)
    await EmergencySession.filter(id=ended.id).update(
        opened_at=now - dt.timedelta(minutes=10), expires_at=now - dt.timedelta(minutes=5))
    ends = await _ends(ran_out, ended)

    for session in (ran_out, ended):
        done = (await as_patient.gql(REPORT, {"id": str(session.id), "c": "Injustifié"})
                ).ok()["reportEmergencyAccess"]
        assert done["reviewState"] == "REPORTED"
        stored = await EmergencySession.get(id=session.id)
        assert _at(done["expiresAt"]) == stored.expires_at
        assert stored.review_state == ReviewState.REPORTED and stored.reviewed_at > stored.expires_at
    assert await _ends(ran_out, ended) == ends
    assert await AccessEvent.filter(record_id=record.id, action=REVIEWED).count() == 2


@pytest.mark.parametrize(("kind", "mutation", "field", "mode", "minutes"), KINDS)
async def test_acknowledging_ends_nothing(
    client: httpx.AsyncClient, kind: EmergencyKind, mutation: str, field: str, mode: str, minutes: int
) -> None:
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    session = await _open(pro, record, kind, account)
    (end,) = await _ends(session)
    done = (await as_patient.gql(ACK, {"id": str(session.id)})).ok()["acknowledgeEmergencyAccess"]
    assert done["reviewState"] == "ACKNOWLEDGED" and _at(done["expiresAt"]) == end
    assert await _ends(session) == [end] and end > clock.now()
    read = (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]
    assert read["accessMode"] == mode and _at(read["emergencyExpiresAt"]) == end
    # Acknowledged again: still nothing ended.
    (await as_patient.gql(ACK, {"id": str(session.id)})).ok()
    assert await _ends(session) == [end]


async def test_a_refused_report_ends_nothing(client: httpx.AsyncClient) -> None:
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS, account)
    (end,) = await _ends(session)
    other_patient, other_record = await factories.patient()
    as_other = Caller(client, session=await session_for(other_patient))
    events = await AccessEvent.filter(record_id=record.id).count()

    # Another patient's access (theirs is not this record), an unknown id, no id at all.
    assert (await as_other.gql(REPORT, {"id": str(session.id)})).codes == ["NOT_FOUND"]
    assert (await as_patient.gql(REPORT, {"id": str(uuid.uuid4())})).codes == ["NOT_FOUND"]
    assert (await as_patient.gql(REPORT, {"id": "not-a-uuid"})).codes == ["NOT_FOUND"]
    # The practitioner, not the patient; nobody signed in; a comment too long.
    assert (await pro.gql(REPORT, {"id": str(session.id)})).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(REPORT, {"id": str(session.id)})).codes == ["UNAUTHENTICATED"]
    too_long = await as_patient.gql(REPORT, {"id": str(session.id), "c": "x" * 2001})
    assert too_long.codes == ["BAD_USER_INPUT"]

    stored = await EmergencySession.get(id=session.id)
    assert stored.expires_at == end and stored.review_state == ReviewState.PENDING
    assert stored.reviewed_at is None
    assert await AccessEvent.filter(record_id=record.id).count() == events
    assert not await AccessEvent.filter(record_id=other_record.id).exists()
    read = (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]
    assert read["accessMode"] == "BREAK_GLASS"


@pytest.mark.parametrize(("kind", "mutation", "field", "mode", "minutes"), KINDS)
async def test_opening_again_after_a_report_opens_a_new_session(
    client: httpx.AsyncClient, kind: EmergencyKind, mutation: str, field: str, mode: str, minutes: int
) -> None:
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    reported = await _open(pro, record, kind, account)
    assert await OutboxMessage.filter(record_id=record.id).count() == 1
    (await as_patient.gql(REPORT, {"id": str(reported.id), "c": "Non justifié"})).ok()
    (reported_end,) = await _ends(reported)

    opened = (await pro.gql(mutation, {"ins": record.ins, "r": AGAIN})).ok()[field]
    ends = _at(opened["expiresAt"])
    assert opened["mode"] == mode
    assert ends - clock.now() > dt.timedelta(minutes=minutes - 1)
    sessions = await EmergencySession.filter(record_id=record.id).order_by("opened_at")
    assert [s.id for s in sessions][0] == reported.id and len(sessions) == 2
    new = sessions[1]
    assert new.reason == AGAIN and new.review_state == ReviewState.PENDING and new.expires_at == ends
    # Its own opening event and its own e-mail to the patient.
    assert await AccessEvent.filter(record_id=record.id, action__in=OPENED).count() == 2
    assert await AccessEvent.filter(record_id=record.id, action__in=OPENED, reason=AGAIN).count() == 1
    assert await OutboxMessage.filter(record_id=record.id).count() == 2
    # The reported access stays reported and ended; the new one is read through.
    stored = await EmergencySession.get(id=reported.id)
    assert stored.review_state == ReviewState.REPORTED and stored.expires_at == reported_end
    read = (await pro.gql(READ, {"ins": record.ins})).ok()["patientRecord"]
    assert read["accessMode"] == mode and _at(read["emergencyExpiresAt"]) == ends
    listed = (await as_patient.gql(REVIEWS)).ok()["myEmergencyAccessReviews"]["edges"]
    assert [(e["node"]["id"], e["node"]["reviewState"]) for e in listed] == [
        (str(new.id), "PENDING"), (str(reported.id), "REPORTED"),
    ]


async def test_a_report_again_ends_an_access_reported_while_reports_did_not_end(
    client: httpx.AsyncClient,
) -> None:
    """An access reported before reports ended accesses, still open: the same report again,
    without a comment, ends it, and the history says the patient reported it again."""
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS, account)
    await EmergencySession.filter(id=session.id).update(
        review_state=ReviewState.REPORTED, reviewed_at=clock.now())
    (await as_patient.gql(REPORT, {"id": str(session.id)})).ok()
    stored = await EmergencySession.get(id=session.id)
    assert stored.expires_at == stored.reviewed_at and stored.expires_at <= clock.now()
    events = await AccessEvent.filter(record_id=record.id, action=REVIEWED)
    said = await reviewed(session, "REPORTED")
    assert [(e.entry_id, e.reason) for e in events] == [(str(session.id), said)]
    await _refused_read(pro, record, account)
    # Once ended, the same report again writes nothing.
    (await as_patient.gql(REPORT, {"id": str(session.id)})).ok()
    assert await AccessEvent.filter(record_id=record.id, action=REVIEWED).count() == 1
    assert await _ends(session) == [stored.expires_at]


async def test_an_access_ended_while_the_report_waited_keeps_its_end(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access ends (an opposition) after the report read it open and before the report takes
    the record's lock: the report, deciding under the lock, keeps the end it finds."""
    from backend.audit.collector import AccessLog

    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS, account)
    earlier = clock.now() - dt.timedelta(seconds=30)
    changing = AccessLog.changing

    @asynccontextmanager
    async def meanwhile(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[Any]:
        await EmergencySession.filter(id=session.id).update(expires_at=earlier)
        async with changing(self, record_id) as conn:
            yield conn

    monkeypatch.setattr(AccessLog, "changing", meanwhile)
    done = (await as_patient.gql(REPORT, {"id": str(session.id)})).ok()["reportEmergencyAccess"]
    assert done["reviewState"] == "REPORTED" and _at(done["expiresAt"]) == earlier
    assert await _ends(session) == [earlier]


async def test_a_read_at_the_moment_of_the_report_and_the_next_one_refused(client: httpx.AsyncClient) -> None:
    """A read racing with the report may have been decided before the end (a read is decided
    once per request); the request after the report is refused."""
    as_patient, record = await _patient(client)
    pro, account = await _pro(client)
    session = await _open(pro, record, EmergencyKind.BREAK_GLASS, account)
    answers = await asyncio.gather(
        as_patient.gql(REPORT, {"id": str(session.id)}),
        *(pro.gql(READ, {"ins": record.ins}) for _ in range(3)),
    )
    answers[0].ok()
    for read in answers[1:]:
        assert read.codes in ([], ["FORBIDDEN"])
    stored = await EmergencySession.get(id=session.id)
    assert stored.expires_at == stored.reviewed_at
    await _refused_read(pro, record, account)
