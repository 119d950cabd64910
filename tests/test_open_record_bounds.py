"""openRecordForPatient is bounded twice. Its refusals on an existing record (CONFLICT for an
active one, IDENTITY_MISMATCH for a pending one of another identity, a blocked practitioner's
recovery) each write a denied attempt in the patient's history: they count with the caller's
refused accesses to records (records.REFUSED_READS_PER_HOUR), before anything is written,
and past that bound answer RATE_LIMITED with nothing written, the same words and statements
whatever the record. And its calls are bounded per practitioner and hour (signup.
OPENINGS_PER_HOUR), counted before the record is looked up: one account cannot open pending
records for any INS under made-up identities (and hold their codes) at will."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend import accounts, clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, BlockedPractitioner, OutboxMessage, Record
from backend.resolvers import records, signup
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_authz_reading import count_queries

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo } }"""
READ = "query($ins: String!) { patientRecord(ins: $ins) { firstName } }"
RECOVERY = "mutation($i: String!) { startContactRecovery(identifier: $i) }"


@pytest.fixture(autouse=True)
def _start_of_an_hour() -> None:
    """The whole test in one window of both bounds."""
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


def _identity(ins: str, **extra: Any) -> dict[str, Any]:
    return {"ins": ins, "firstName": "X", "lastName": "Y", "birthDate": "1985-06-12", **extra}


async def _written() -> tuple[int, int, int, int]:
    """Everything an opening or its refusal writes: records, events, codes, messages."""
    return (await Record.all().count(), await AccessEvent.all().count(),
            await ActivationCode.all().count(), await OutboxMessage.all().count())


async def _pending(first: str = "Léa", last: str = "Martin") -> Record:
    return await Record.create(ins=factories.new_ins(), first_name=first, last_name=last,
                               birth_date=dt.date(1990, 4, 2), status=RecordStatus.PENDING)


async def _blocked_recovery(client: httpx.AsyncClient, practitioner: Any) -> Record:
    """An active record whose patient blocked `practitioner`, with a contact recovery open."""
    _, record = await factories.patient()
    await BlockedPractitioner.create(record_id=record.id, practitioner_id=practitioner.id)
    support = Caller(client, session=await session_for(await factories.support()))
    (await support.gql(RECOVERY, {"i": record.ins})).ok()
    return record


def test_the_bounds() -> None:
    assert signup.OPENINGS_PER_HOUR == 30
    assert records.REFUSED_READS_PER_HOUR == 60


@pytest.mark.parametrize("kind", ["active record", "other identity", "blocked recovery"])
async def test_refused_openings_count_with_refused_reads_and_past_the_bound_write_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 3)
    account, practitioner = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    if kind == "active record":
        record = (await factories.patient())[1]
    elif kind == "other identity":
        record = await _pending()
    else:
        record = await _blocked_recovery(client, practitioner)
    refusal = {"active record": "CONFLICT", "other identity": "BAD_USER_INPUT",
               "blocked recovery": "CONFLICT"}[kind]

    # A refused read and two refused openings: three refusals, three denied attempts.
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    for _ in range(2):
        assert (await caller.gql(OPEN, {"input": _identity(record.ins)})).codes == [refusal]
    assert await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count() == 3

    # Past the bound: RATE_LIMITED, and nothing written (no event, code, message, record).
    before = await _written()
    limited = await caller.gql(OPEN, {"input": _identity(record.ins, email="squat@test.dmp")})
    assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    assert limited.errors[0]["message"] == records.TOO_MANY_REFUSED
    assert await _written() == before
    # The counter is the one of refused reads: patientRecord is past it too.
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["RATE_LIMITED"]
    assert await _written() == before
    reloaded = await Record.get(id=record.id)
    assert (reloaded.first_name, reloaded.status) == (record.first_name, record.status)

    # An opening that is no refusal is answered past the bound, as a granted read is.
    opened = (await caller.gql(OPEN, {"input": _identity(factories.new_ins())})).ok()
    assert opened["openRecordForPatient"]["activationCode"]

    # Another practitioner has a bound of their own (not blocked: the recovery's identity is
    # compared, and refused).
    other = Caller(client, session=await session_for((await factories.practitioner())[0]))
    other_refusal = "BAD_USER_INPUT" if kind == "blocked recovery" else refusal
    assert (await other.gql(OPEN, {"input": _identity(record.ins)})).codes == [other_refusal]
    assert await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count() == 4


async def test_refusals_on_any_record_past_the_bound_answer_alike_after_the_same_statements(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 1)
    account, practitioner = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    active, pending = (await factories.patient())[1], await _pending()
    blocked = await _blocked_recovery(client, practitioner)
    assert (await caller.gql(OPEN, {"input": _identity(active.ins)})).codes == ["CONFLICT"]
    # Past the bound already (and the session's first use, touched, behind it).
    assert (await caller.gql(OPEN, {"input": _identity(pending.ins)})).codes == ["RATE_LIMITED"]
    before = await _written()
    answers, shapes = [], []
    for record in (active, pending, blocked):
        with count_queries() as statements:
            limited = await caller.gql(OPEN, {"input": _identity(record.ins)})
        assert limited.codes == ["RATE_LIMITED"]
        answers.append((limited.errors[0]["message"], limited.errors[0]["extensions"]))
        shapes.append([s.split(" WHERE ")[0] for s in statements])
    assert answers[0] == answers[1] == answers[2]
    assert shapes[0] == shapes[1] == shapes[2] and any("rate_counter" in s for s in shapes[0])
    assert await _written() == before


async def test_openings_past_the_hours_bound_are_refused_and_write_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signup, "OPENINGS_PER_HOUR", 4)
    account, practitioner = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    # A partner app's token of the practitioner counts with their sessions.
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=practitioner.rpps)
    app = Caller(client, token=token)
    pending, active = await _pending("X", "Y"), (await factories.patient())[1]
    pending_identity = {"firstName": "X", "lastName": "Y", "birthDate": "1990-04-02"}
    # A new record, a new code for a pending one, a refusal: each counts.
    (await caller.gql(OPEN, {"input": _identity(factories.new_ins())})).ok()
    (await app.gql(OPEN, {"input": {"ins": pending.ins, **pending_identity}})).ok()
    assert (await app.gql(OPEN, {"input": _identity(active.ins)})).codes == ["CONFLICT"]
    # Input refused before the bound does not count.
    assert (await caller.gql(OPEN, {"input": _identity("185057500000199")})).codes == ["BAD_USER_INPUT"]
    (await caller.gql(OPEN, {"input": _identity(factories.new_ins())})).ok()

    # Past the bound: RATE_LIMITED and nothing written, whether the INS names a record or not,
    # from the app or a session alike.
    before = await _written()
    new_ins = factories.new_ins()
    answers = []
    for who, ins, identity in ((caller, new_ins, {}), (app, pending.ins, pending_identity),
                               (caller, active.ins, {})):
        limited = await who.gql(OPEN, {"input": {**_identity(ins, email="squat@test.dmp"), **identity}})
        assert limited.codes == ["RATE_LIMITED"] and limited.data is None
        answers.append((limited.errors[0]["message"], limited.errors[0]["extensions"]))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == signup.TOO_MANY_OPENINGS
    assert await _written() == before
    assert not await Record.filter(ins=new_ins).exists()

    # Another practitioner has a bound of their own.
    other = Caller(client, session=await session_for((await factories.practitioner())[0]))
    (await other.gql(OPEN, {"input": _identity(new_ins)})).ok()

    # The next hour, the practitioner opens again.
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(account))
    (await caller.gql(OPEN, {"input": _identity(factories.new_ins())})).ok()
