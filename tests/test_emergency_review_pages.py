"""The emergency accesses to review, in pages: myEmergencyAccessReviews(first, after), a
connection beside myEmergencyAccesses, whose list keeps its type and is bounded to the
newest 100."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

from backend import clock
from backend.domain.enums import EmergencyKind
from backend.models import EmergencySession, Practitioner, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import setup

PAGE = """query($first: Int!, $after: String) {
  myEmergencyAccessReviews(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind reviewState openedAt } } } }"""
LIST = "{ myEmergencyAccesses { id } }"


async def _openings(record: Record, practitioner: Practitioner, count: int, *,
                    at: dt.datetime | None = None) -> list[EmergencySession]:
    """`count` openings a minute apart (all at `at` if given), oldest first."""
    start = clock.now() - dt.timedelta(days=1)
    rows = [
        EmergencySession(
            id=uuid.uuid4(), record=record, practitioner=practitioner, kind=EmergencyKind.BREAK_GLASS,
            reason="Patient inconscient aux urgences",
            opened_at=at or start + dt.timedelta(minutes=n),
            expires_at=(at or start + dt.timedelta(minutes=n)) + dt.timedelta(hours=1),
        )
        for n in range(count)
    ]
    await EmergencySession.bulk_create(rows)
    return rows


def _newest_first(rows: list[EmergencySession]) -> list[str]:
    return [str(r.id) for r in sorted(rows, key=lambda r: (r.opened_at, str(r.id)), reverse=True)]


async def _all_pages(caller: Caller, first: int) -> tuple[list[str], int, int]:
    """Every id, page by page; the pages asked for; the totalCount."""
    ids: list[str] = []
    after, pages, total = None, 0, -1
    while True:
        page = (await caller.gql(PAGE, {"first": first, "after": after})).ok()["myEmergencyAccessReviews"]
        pages += 1
        total = page["totalCount"]
        ids += [e["node"]["id"] for e in page["edges"]]
        assert all(e["cursor"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids, pages, total
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]


async def test_pages_go_through_every_access_newest_first(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    rows = await _openings(s["record"], s["pro"], 5)
    # Three opened at the same instant: the id orders them, none is skipped or repeated.
    rows += await _openings(s["record"], s["pro"], 3, at=clock.now() - dt.timedelta(hours=2))
    ids, pages, total = await _all_pages(s["as_patient"], 3)
    assert ids == _newest_first(rows)
    assert (pages, total) == (3, 8)
    # The first page of the connection is the list's beginning.
    listed = [r["id"] for r in (await s["as_patient"].gql(LIST)).ok()["myEmergencyAccesses"]]
    assert listed == ids


async def test_the_list_without_pages_keeps_the_newest_hundred(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    rows = await _openings(s["record"], s["pro"], 103)
    listed = [r["id"] for r in (await s["as_patient"].gql(LIST)).ok()["myEmergencyAccesses"]]
    assert listed == _newest_first(rows)[:100]
    ids, _, total = await _all_pages(s["as_patient"], 100)
    assert ids == _newest_first(rows) and total == 103


async def test_bad_pages_are_refused(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await _openings(s["record"], s["pro"], 2)
    for first in (-1, 101):
        result = await s["as_patient"].gql(PAGE, {"first": first})
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["reason"] == "OUT_OF_RANGE"
    history_cursor = "aHwxMg=="  # myAccessHistory's kind of cursor ("h|12")
    for after in ("not a cursor", history_cursor, "cnx4fHh4"):
        result = await s["as_patient"].gql(PAGE, {"first": 2, "after": after})
        assert result.codes == ["BAD_USER_INPUT"], after
        assert result.errors[0]["extensions"]["reason"] == "INVALID_ID"
    empty = (await s["as_patient"].gql(PAGE, {"first": 0})).ok()["myEmergencyAccessReviews"]
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is True and empty["totalCount"] == 2


async def test_a_cursor_is_only_a_position_in_ones_own_list(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    mine = await _openings(s["record"], s["pro"], 3)
    other, other_record = await factories.patient()
    await _openings(other_record, s["pro"], 4)
    as_other = Caller(client, session=await session_for(other))
    first = (await as_other.gql(PAGE, {"first": 1})).ok()["myEmergencyAccessReviews"]
    after = first["pageInfo"]["endCursor"]
    page = (await s["as_patient"].gql(PAGE, {"first": 10, "after": after})).ok()["myEmergencyAccessReviews"]
    assert {e["node"]["id"] for e in page["edges"]} <= {str(r.id) for r in mine}
    assert page["totalCount"] == 3


async def test_only_the_patient_reads_the_pages(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await _openings(s["record"], s["pro"], 1)
    assert (await s["as_pro"].gql(PAGE, {"first": 5})).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(PAGE, {"first": 5})).codes == ["UNAUTHENTICATED"]
    nobody, _ = await factories.patient()
    as_nobody = Caller(client, session=await session_for(nobody))
    page = (await as_nobody.gql(PAGE, {"first": 5})).ok()["myEmergencyAccessReviews"]
    assert page == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}


async def test_a_pages_statements_do_not_grow_with_it(client: httpx.AsyncClient) -> None:
    from tests.care_items import QueryCounter

    s = await setup(client)
    await _openings(s["record"], s["pro"], 2)

    async def cost(first: int) -> int:
        with QueryCounter() as counter:
            (await s["as_patient"].gql(PAGE, {"first": first})).ok()
        return counter.count

    small = await cost(2)
    other_account, other = await factories.practitioner()
    await _openings(s["record"], other, 30)
    assert await cost(30) == small
