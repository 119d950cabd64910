"""Pages of several sections read together (one statement): each page is still its own."""

from __future__ import annotations

import httpx

from backend.domain.enums import Section
from backend.models import Entry, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_authz_reading import count_queries

TWO = """query($ins: String!, $a: String, $m: String) { patientRecord(ins: $ins) {
  allergies(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
  medications(first: 3, after: $m) { ...total pageInfo { hasNextPage endCursor } edges { node { id } } }
  vaccinations(first: 5) { totalCount edges { node { id } } } } }
fragment total on EntryConnection { totalCount }"""


def _newest_first(entries: list[Entry]) -> list[str]:
    return [str(e.id) for e in sorted(entries, key=lambda e: (e.care_date, str(e.id)), reverse=True)]


async def _entries(record: Record, section: Section, pattern: str) -> list[Entry]:
    """'v' visible, 'm' masked; two entries share each date, so the id breaks ties."""
    return [
        await factories.entry(record, section, title=f"{kind}{i}", days_ago=1 + i // 2, masked=kind == "m")
        for i, kind in enumerate(pattern)
    ]


def _ids(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_three_sections_in_one_request_page_independently(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    allergies = await _entries(record, Section.ALLERGIES, "vmvvmv")
    medications = await _entries(record, Section.MEDICATIONS, "vvmvvvmvv")
    account, practitioner = await factories.practitioner()
    shared = (Section.ALLERGIES, Section.MEDICATIONS, Section.VACCINATIONS)
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[s.value for s in shared])
    caller = Caller(client, session=await session_for(account))
    visible_allergies = _newest_first([e for e in allergies if not e.masked])
    visible_medications = _newest_first([e for e in medications if not e.masked])

    seen: dict[str, list[str]] = {"allergies": [], "medications": []}
    after: dict[str, str | None] = {"allergies": None, "medications": None}
    done: set[str] = set()
    while len(done) < 2:
        with count_queries() as statements:
            data = (await caller.gql(
                TWO, {"ins": record.ins, "a": after["allergies"], "m": after["medications"]}
            )).ok()
        pages = [s for s in statements if '"entry"' in s and "UNION ALL" in s]
        assert len(pages) == 1, statements  # three pages, one statement
        view = data["patientRecord"]
        assert view["allergies"]["totalCount"] == len(visible_allergies)
        # totalCount asked through a fragment: counted by a statement of its own, same answer.
        assert view["medications"]["totalCount"] == len(visible_medications)
        assert view["vaccinations"] == {"totalCount": 0, "edges": []}
        for name in ("allergies", "medications"):
            if name in done:
                continue
            page = view[name]
            seen[name] += _ids(page)
            if page["pageInfo"]["hasNextPage"]:
                after[name] = page["pageInfo"]["endCursor"]
            else:
                done.add(name)
    seen_a, seen_m = seen["allergies"], seen["medications"]
    assert seen_a == visible_allergies
    assert seen_m == visible_medications

    # The owner, in the same shape of request, sees the masked ones too.
    as_owner = Caller(client, session=await session_for(owner))
    mine = (await as_owner.gql(TWO, {"ins": record.ins})).ok()["patientRecord"]
    assert mine["allergies"]["totalCount"] == len(allergies)
    assert len(mine["medications"]["edges"]) == 3 and mine["medications"]["totalCount"] == len(medications)


def test_an_entry_cursor_is_url_safe_base64_and_reads_back() -> None:
    """The cursor's text is that of earlier versions, so cursors partners hold still work."""
    import base64
    import datetime as dt
    import uuid

    from backend.resolvers.pagination import decode_entry_cursor, encode_entry_cursor

    cursors = []
    for k in range(300):
        date, entry_id = dt.date(2020, 1, 1) + dt.timedelta(days=k), uuid.uuid4()
        cursor = encode_entry_cursor(date, entry_id)
        assert cursor == base64.urlsafe_b64encode(f"e|{date.isoformat()}|{entry_id}".encode()).decode()
        assert decode_entry_cursor(cursor) == (date, entry_id)
        assert encode_entry_cursor(date, str(entry_id)) == cursor  # as an edge encodes it
        cursors.append(cursor)
    assert not any("+" in c or "/" in c or "\n" in c for c in cursors)
