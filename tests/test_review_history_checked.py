"""What the review of the access history and of emergency accesses checked and found sound:
bounds inclusive to the microsecond, another record's cursor, callers who are not the owner,
reviews of what is not one's own or no longer exists. Each refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import accounts, clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, EmergencySession, Record
from backend.purge import purge_record
from backend.resolvers import history
from tests import factories
from tests.care_items import insurer_token
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, break_glass, setup
from tests.test_history_api import ACK, HISTORY, REPORT, REVIEWS


def seqs(answer: dict) -> list[int]:  # type: ignore[type-arg]
    return [e["node"]["seq"] for e in answer["myAccessHistory"]["edges"]]


async def test_bounds_are_inclusive_to_the_microsecond(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    for _ in range(3):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    base = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    # One event on the second, one a microsecond after it, one a microsecond before.
    tick = dt.timedelta(microseconds=1)
    for seq, at in ((1, base - tick), (2, base), (3, base + tick)):
        await AccessEvent.filter(record_id=s["record"].id, seq=seq).update(at=at)
    paris = dt.timezone(dt.timedelta(hours=1))
    cases = [
        ({"from": base.isoformat(), "to": base.isoformat()}, [2]),
        ({"from": base.astimezone(paris).isoformat(), "to": base.replace(tzinfo=None).isoformat()}, [2]),
        ({"from": base.isoformat()}, [3, 2]),
        ({"to": base.isoformat()}, [2, 1]),
        ({"from": (base + dt.timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")}, [3]),
        ({"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59.999999Z"}, [3, 2, 1]),
    ]
    for bounds, expected in cases:
        answer = (await s["as_patient"].gql(HISTORY, {"first": 5, "filter": bounds})).ok()
        assert seqs(answer) == expected, bounds
        assert answer["myAccessHistory"]["totalCount"] == len(expected)


async def test_another_records_cursor_pages_only_ones_own_history(client: httpx.AsyncClient) -> None:
    mine = await setup(client)
    theirs = await setup(client)
    for _ in range(2):
        (await mine["as_pro"].gql(READ, {"ins": mine["record"].ins})).ok()
    for _ in range(5):
        (await theirs["as_pro"].gql(READ, {"ins": theirs["record"].ins})).ok()
    their_page = (await theirs["as_patient"].gql(HISTORY, {"first": 1})).ok()["myAccessHistory"]
    cursor = their_page["pageInfo"]["endCursor"]  # their event 5
    answer = (await mine["as_patient"].gql(HISTORY, {"first": 5, "after": cursor})).ok()
    assert seqs(answer) == [2, 1]
    record_id = mine["record"].id
    assert {e["node"]["id"] for e in answer["myAccessHistory"]["edges"]} <= {
        history.event_id(record_id, seq)
        for seq in await AccessEvent.filter(record_id=record_id).values_list("seq", flat=True)
    }


async def test_no_one_but_the_owner_reads_or_reviews(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    session = await break_glass(s["record"], s["pro"])
    staff = await factories.support()
    _, partner = await accounts.create_token("app", ["practitioner"], practitioner_rpps=s["pro"].rpps)
    callers = {
        "FORBIDDEN": [Caller(client, session=await session_for(staff)), s["as_pro"],
                      Caller(client, token=partner), Caller(client, token=await insurer_token())],
        "UNAUTHENTICATED": [Caller(client)],
    }
    before = await AccessEvent.filter(record_id=s["record"].id).count()
    for code, who in callers.items():
        for caller in who:
            for query, variables in ((HISTORY, {"first": 5}), (REVIEWS, None), (ACK, {"id": str(session.id)}),
                                     (REPORT, {"id": str(session.id), "c": "non"})):
                assert (await caller.gql(query, variables)).codes == [code], (code, query)
    assert await AccessEvent.filter(record_id=s["record"].id).count() == before
    assert (await EmergencySession.get(id=session.id)).review_state == "PENDING"


async def test_a_closed_record_is_reviewed_and_a_purged_one_is_not_found(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record = s["record"]
    session = await break_glass(record, s["pro"])
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED, closed_at=clock.now())
    # The access came before the closing: its review stays the patient's to give.
    (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "Inconnu"})).ok()
    assert await AccessEvent.filter(record_id=record.id, action="EMERGENCY_REVIEWED").count() == 1
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED, deletion_requested_at=clock.now())
    page = (await s["as_patient"].gql(HISTORY, {"first": 1})).ok()["myAccessHistory"]
    cursor = page["pageInfo"]["endCursor"]
    await purge_record(await Record.get(id=record.id))
    # The purge removed the owner's account and sessions with the record.
    assert (await s["as_patient"].gql(ACK, {"id": str(session.id)})).codes == ["UNAUTHENTICATED"]
    assert (await s["as_patient"].gql(HISTORY, {"first": 5, "after": cursor})).codes == ["UNAUTHENTICATED"]
    assert not await EmergencySession.filter(id=session.id).exists()
    assert not await AccessEvent.filter(record_id=record.id).exists()
