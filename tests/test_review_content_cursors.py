"""Keyset cursors of a section's pages as an adversary sends them: forged, borrowed from another
section, record or viewer, out of range, or kept across a masking. A cursor is a position only:
what a page holds is decided for its viewer whatever the cursor names."""

from __future__ import annotations

import base64
import uuid

import httpx

from backend.domain.enums import Profession, Section
from backend.models import AccessEvent, Entry, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

PAGE = """query ($ins: String!, $first: Int!, $after: String) {
  patientRecord(ins: $ins) {
    medications(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title } } } } }"""
OWN_PAGE = """query ($first: Int!, $after: String) {
  myRecord { medications(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title } } } } }"""


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def _pharmacist(client: httpx.AsyncClient, record: Record, sections: list[str]) -> Caller:
    account, practitioner = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=practitioner, sections=sections)
    return Caller(client, session=await session_for(account))


async def _medications(record: Record, count: int, masked: frozenset[int] = frozenset()) -> list[Entry]:
    """`count` medications, one a day, newest first; those at the positions in `masked` masked."""
    return [await factories.entry(record, Section.MEDICATIONS, title=f"m{i}", days_ago=1 + i,
                                  masked=i in masked) for i in range(count)]


async def test_a_cursor_kept_across_a_masking_shows_nothing_masked(client: httpx.AsyncClient) -> None:
    """The pharmacist pages through medications, the patient masks the entry the cursor names
    and those after it: the next page, from the old cursor, holds none of them, and its count
    and hasNextPage leave them out."""
    patient, record = await factories.patient()
    made = await _medications(record, 6)
    pharmacist = await _pharmacist(client, record, ["MEDICATIONS"])
    first = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 2})).ok()
    page = first["patientRecord"]["medications"]
    assert [e["node"]["title"] for e in page["edges"]] == ["m0", "m1"]
    cursor = page["pageInfo"]["endCursor"]
    owner = Caller(client, session=await session_for(patient))
    for entry in made[1:5]:
        (await owner.gql("mutation ($id: ID!) { maskEntry(id: $id) { id } }", {"id": str(entry.id)})).ok()
    after = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 2, "after": cursor})).ok()
    page = after["patientRecord"]["medications"]
    assert [e["node"]["title"] for e in page["edges"]] == ["m5"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is False
    # A cursor forged on the masked entry itself: nothing of it either.
    forged = _cursor(f"e|{made[2].care_date.isoformat()}|{made[2].id}")
    page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5, "after": forged})).ok()
    assert [e["node"]["title"] for e in page["patientRecord"]["medications"]["edges"]] == ["m5"]


async def test_a_cursor_of_another_record_section_or_viewer_is_only_a_position(
    client: httpx.AsyncClient,
) -> None:
    """The owner's cursor, one of another record, one of another section: each is read as a
    place in this viewer's own list, which holds only what the viewer may see."""
    patient, record = await factories.patient()
    _, other = await factories.patient()
    await _medications(record, 4, masked=frozenset({1}))
    theirs = await factories.entry(other, Section.MEDICATIONS, title="other", days_ago=2)
    allergy = await factories.entry(record, Section.ALLERGIES, title="allergy", days_ago=2)
    pharmacist = await _pharmacist(client, record, ["MEDICATIONS"])
    owner = Caller(client, session=await session_for(patient))
    owners = (await owner.gql(OWN_PAGE, {"first": 2})).ok()["myRecord"]["medications"]
    assert [e["node"]["title"] for e in owners["edges"]] == ["m0", "m1"]
    # The owner's cursor after the masked m1: the pharmacist goes on from there, without m1.
    page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5,
                                        "after": owners["pageInfo"]["endCursor"]})).ok()
    assert [e["node"]["title"] for e in page["patientRecord"]["medications"]["edges"]] == ["m2", "m3"]
    for entry in (theirs, allergy):
        cursor = _cursor(f"e|{entry.care_date.isoformat()}|{entry.id}")
        page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5, "after": cursor})).ok()
        titles = [e["node"]["title"] for e in page["patientRecord"]["medications"]["edges"]]
        assert titles in (["m1", "m2", "m3"], ["m2", "m3"]) and "m1" not in titles
        assert "other" not in titles and "allergy" not in titles


async def test_forged_and_out_of_range_cursors(client: httpx.AsyncClient) -> None:
    """A cursor that is not one is refused as INVALID_ID, naming `after`, and reads nothing; one
    at either end of the calendar is a position before or after every entry, never an error
    of the database."""
    _, record = await factories.patient()
    await _medications(record, 3, masked=frozenset({0}))
    pharmacist = await _pharmacist(client, record, ["MEDICATIONS"])
    uid = uuid.uuid4()
    for bad in ("", "%%%", _cursor("x|2024-01-01|" + str(uid)), _cursor("e|2024-02-30|" + str(uid)),
                _cursor("e|2024-01-01|not-a-uuid"), _cursor("e|2024-01-01"), _cursor("e|a|b|c"),
                base64.urlsafe_b64encode(b"e|\xff\xfe|x").decode(), "A" * 100_000):
        result = await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5, "after": bad})
        if bad == "":
            # No cursor: the first page.
            assert len(result.ok()["patientRecord"]["medications"]["edges"]) == 2
            continue
        assert result.codes == ["BAD_USER_INPUT"], bad[:40]
        extensions = result.errors[0]["extensions"]
        assert (extensions["reason"], extensions["field"]) == ("INVALID_ID", "after")
        assert result.data is None or result.data["patientRecord"] is None or (
            result.data["patientRecord"]["medications"] is None)
    top = _cursor(f"e|9999-12-31|{uuid.UUID(int=(1 << 128) - 1)}")
    page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5, "after": top})).ok()
    assert [e["node"]["title"] for e in page["patientRecord"]["medications"]["edges"]] == ["m1", "m2"]
    bottom = _cursor(f"e|0001-01-01|{uuid.UUID(int=0)}")
    page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 5, "after": bottom})).ok()
    meds = page["patientRecord"]["medications"]
    assert meds["edges"] == [] and meds["pageInfo"]["hasNextPage"] is False and meds["totalCount"] == 2
    for first in (-1, 101):
        refused = await pharmacist.gql(PAGE, {"ins": record.ins, "first": first})
        assert refused.errors[0]["extensions"]["reason"] == "OUT_OF_RANGE"
    zero = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 0})).ok()["patientRecord"]["medications"]
    assert zero["edges"] == [] and zero["pageInfo"]["hasNextPage"] is True and zero["totalCount"] == 2


async def test_a_page_read_through_a_cursor_is_one_read_in_the_history(client: httpx.AsyncClient) -> None:
    """Each page a practitioner reads is one RECORD_READ naming the section, written with
    the page; a refused cursor is no read of the section."""
    _, record = await factories.patient()
    await _medications(record, 3)
    pharmacist = await _pharmacist(client, record, ["MEDICATIONS"])
    page = (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 1})).ok()
    cursor = page["patientRecord"]["medications"]["pageInfo"]["endCursor"]
    (await pharmacist.gql(PAGE, {"ins": record.ins, "first": 1, "after": cursor})).ok()
    reads = await AccessEvent.filter(record_id=record.id, action="RECORD_READ").order_by("seq")
    assert [r.sections for r in reads] == [["MEDICATIONS"], ["MEDICATIONS"]]
    await pharmacist.gql(PAGE, {"ins": record.ins, "first": 1, "after": "%%%"})
    sections = await AccessEvent.filter(record_id=record.id).values_list("sections", flat=True)
    assert list(sections)[:2] == [["MEDICATIONS"], ["MEDICATIONS"]]
    assert ["MEDICATIONS"] not in list(sections)[2:]
