"""`first: 0` as the GraphQL Cursor Connections spec has it: an empty page, no cursor, and
`hasNextPage` telling whether any item follows `after` (or exists at all, without `after`).

The spec's `first` is a non-negative integer (only a negative one is an error); its
HasNextPage is true when the edges after `after` are more than `first`, and `endCursor` is the
cursor of the page's last edge, so null for an empty page. A client that wants what follows
asks again with a positive `first` and the same `after`: the empty page has moved nothing.
`first: 0` is how a client asks for `totalCount` alone, so it is answered, not refused.
What the caller may not see (an entry the patient masked) is no next page either.
"""

from __future__ import annotations

import httpx

from backend.domain.enums import Section
from backend.models import Grant, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, setup

SECTIONS = """query($ins: String!, $first: Int!, $after: String) { patientRecord(ins: $ins) {
  allergies(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } }
  medications(first: 0) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
ONE_SECTION = """query($ins: String!, $first: Int!, $after: String) { patientRecord(ins: $ins) {
  allergies(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }"""

HISTORY = """query($first: Int!, $after: String, $filter: AccessHistoryFilter) {
  myAccessHistory(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { seq } } } }"""

EMPTY_AND_DONE = {"hasNextPage": False, "endCursor": None}
EMPTY_AND_MORE = {"hasNextPage": True, "endCursor": None}


async def _reader(client: httpx.AsyncClient, record: Record, *sections: Section) -> Caller:
    account, practitioner = await factories.practitioner()
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[s.value for s in sections])
    return Caller(client, session=await session_for(account))


async def test_first_zero_on_a_section(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    for i in range(3):
        await factories.entry(record, Section.ALLERGIES, title=f"a{i}", days_ago=1 + i)
    caller = await _reader(client, record, Section.ALLERGIES, Section.MEDICATIONS)

    for query in (SECTIONS, ONE_SECTION):  # read with another page in one statement, and alone
        page = (await caller.gql(query, {"ins": record.ins, "first": 0})).ok()["patientRecord"]
        assert page["allergies"] == {"totalCount": 3, "pageInfo": EMPTY_AND_MORE, "edges": []}
        if query is SECTIONS:  # an empty section: nothing follows
            assert page["medications"] == {"totalCount": 0, "pageInfo": EMPTY_AND_DONE, "edges": []}

    whole = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 3})).ok()
    cursors = [edge["cursor"] for edge in whole["patientRecord"]["allergies"]["edges"]]
    # After the first entry: two follow; asked again with the same `after`, they come.
    page = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 0, "after": cursors[0]})).ok()
    assert page["patientRecord"]["allergies"]["pageInfo"] == EMPTY_AND_MORE
    assert page["patientRecord"]["allergies"]["edges"] == []
    page = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 2, "after": cursors[0]})).ok()
    assert [e["cursor"] for e in page["patientRecord"]["allergies"]["edges"]] == cursors[1:]
    # After the last entry: nothing follows.
    page = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 0, "after": cursors[-1]})).ok()
    assert page["patientRecord"]["allergies"]["pageInfo"] == EMPTY_AND_DONE
    assert page["patientRecord"]["allergies"]["totalCount"] == 3


async def test_first_zero_does_not_reveal_a_masked_entry(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="visible", days_ago=1)
    await factories.entry(record, Section.ALLERGIES, title="masked", days_ago=5, masked=True)
    caller = await _reader(client, record, Section.ALLERGIES)
    whole = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 5})).ok()["patientRecord"][
        "allergies"]
    assert len(whole["edges"]) == 1 and whole["pageInfo"]["hasNextPage"] is False
    # Only the masked entry is older than the visible one: for this reader, nothing follows.
    after = whole["edges"][0]["cursor"]
    page = (await caller.gql(ONE_SECTION, {"ins": record.ins, "first": 0, "after": after})).ok()
    assert page["patientRecord"]["allergies"]["pageInfo"] == EMPTY_AND_DONE
    assert page["patientRecord"]["allergies"]["totalCount"] == 1


async def test_first_zero_on_the_access_history(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    patient: Caller = s["as_patient"]
    empty = (await patient.gql(HISTORY, {"first": 0})).ok()["myAccessHistory"]
    assert empty == {"totalCount": 0, "pageInfo": EMPTY_AND_DONE, "edges": []}

    for _ in range(3):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    page = (await patient.gql(HISTORY, {"first": 0})).ok()["myAccessHistory"]
    assert page == {"totalCount": 3, "pageInfo": EMPTY_AND_MORE, "edges": []}

    whole = (await patient.gql(HISTORY, {"first": 3})).ok()["myAccessHistory"]
    cursors = [edge["cursor"] for edge in whole["edges"]]
    page = (await patient.gql(HISTORY, {"first": 0, "after": cursors[0]})).ok()["myAccessHistory"]
    assert page["pageInfo"] == EMPTY_AND_MORE and page["edges"] == []
    page = (await patient.gql(HISTORY, {"first": 5, "after": cursors[0]})).ok()["myAccessHistory"]
    assert [e["cursor"] for e in page["edges"]] == cursors[1:]
    page = (await patient.gql(HISTORY, {"first": 0, "after": cursors[-1]})).ok()["myAccessHistory"]
    assert page["pageInfo"] == EMPTY_AND_DONE and page["edges"] == []
    # A filter no event matches: nothing follows.
    page = (await patient.gql(HISTORY, {"first": 0, "filter": {"modes": ["OWNER"]}})).ok()
    assert page["myAccessHistory"]["pageInfo"] == EMPTY_AND_DONE


async def test_a_negative_first_is_refused(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    for caller, query, variables in (
        (s["as_pro"], ONE_SECTION, {"ins": s["record"].ins, "first": -1}),
        (s["as_patient"], HISTORY, {"first": -1}),
    ):
        result = await caller.gql(query, variables)
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["reason"] == "OUT_OF_RANGE"
