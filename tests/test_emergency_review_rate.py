"""Emergency openings are bounded per practitioner and hour (RATE_LIMITED), counted before
the record is looked up: past the bound nothing is opened or written, whether the INS names
a record or not."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend import clock
from backend.domain.enums import EmergencyKind
from backend.models import AccessEvent, EmergencySession, OutboxMessage, Record
from backend.resolvers import emergency
from tests import factories
from tests.conftest import Caller, session_for

REASON = "Patient inconscient aux urgences, allergies inconnues"
ARGS = "($ins: String!, $r: String!)"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ mode }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ mode }} }}"
BOUND = 3


def test_the_bounds_leave_room_for_a_regulators_pace() -> None:
    assert emergency.PER_HOUR == {EmergencyKind.BREAK_GLASS: 30, EmergencyKind.REGULATOR: 120}


async def _written(record: Record) -> tuple[int, int, int]:
    return (
        await EmergencySession.filter(record_id=record.id).count(),
        await AccessEvent.filter(record_id=record.id).count(),
        await OutboxMessage.filter(record_id=record.id).count(),
    )


@pytest.mark.parametrize(("kind", "mutation"), [(EmergencyKind.BREAK_GLASS, BREAK_GLASS),
                                                (EmergencyKind.REGULATOR, REGULATOR)])
async def test_openings_past_the_hours_bound_are_refused_and_write_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, kind: EmergencyKind, mutation: str
) -> None:
    monkeypatch.setitem(emergency.PER_HOUR, kind, BOUND)
    # At the start of an hour, so that the whole test runs in one window.
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)
    account, _ = await factories.practitioner(regulator=True)
    caller = Caller(client, session=await session_for(account))
    records = [(await factories.patient())[1] for _ in range(BOUND + 1)]
    # A refused attempt counts as one: the patient opposed this one.
    await Record.filter(id=records[0].id).update(allow_break_glass=False, allow_regulator=False)
    assert (await caller.gql(mutation, {"ins": records[0].ins, "r": REASON})).codes == ["FORBIDDEN"]
    for record in records[1:BOUND]:
        (await caller.gql(mutation, {"ins": record.ins, "r": REASON})).ok()

    last = records[BOUND]
    limited = await caller.gql(mutation, {"ins": last.ins, "r": REASON})
    assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    assert await _written(last) == (0, 0, 0)
    # The same answer for an INS that names no record.
    unknown = await caller.gql(mutation, {"ins": factories.new_ins(), "r": REASON})
    assert (unknown.codes, unknown.errors[0]["message"]) == (limited.codes, limited.errors[0]["message"])

    # Another practitioner has a bound of their own; the other kind, too.
    other_account, _ = await factories.practitioner(regulator=True)
    other = Caller(client, session=await session_for(other_account))
    (await other.gql(mutation, {"ins": last.ins, "r": REASON})).ok()
    other_kind = REGULATOR if mutation == BREAK_GLASS else BREAK_GLASS
    _, spare = await factories.patient()
    (await caller.gql(other_kind, {"ins": spare.ins, "r": REASON})).ok()

    # The next hour, the practitioner opens again.
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(account))
    (await caller.gql(mutation, {"ins": last.ins, "r": REASON})).ok()


async def test_input_refused_before_the_bound_does_not_count(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(emergency.PER_HOUR, EmergencyKind.BREAK_GLASS, 1)
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    _, record = await factories.patient()
    for _ in range(3):
        assert (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": "urgent"})).codes == ["BAD_USER_INPUT"]
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
