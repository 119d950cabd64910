"""Reading a record: masked rows filtered in SQL, pagination, query counts, access events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from backend.authz.matrix import render_markdown
from backend.domain.enums import Profession, Section
from backend.models import AccessEvent, Account, Entry, Grant, Practitioner, Record
from tests import factories
from tests.authz_walker import CONNECTION_FIELDS
from tests.conftest import Caller, session_for

ROOT = Path(__file__).resolve().parent.parent
PAGE = """query($ins: String!, $first: Int!, $after: String) { patientRecord(ins: $ins) {
  allergies(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id masked } } } } }"""


async def _granted(client: httpx.AsyncClient, record: Record, sections: set[Section],
                   profession: Profession = Profession.MEDECIN) -> tuple[Caller, Account, Practitioner]:
    account, practitioner = await factories.practitioner(profession)
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[s.value for s in sections])
    return Caller(client, session=await session_for(account)), account, practitioner


async def _page(caller: Caller, record: Record, first: int, after: str | None = None) -> dict:  # type: ignore[type-arg]
    data = (await caller.gql(PAGE, {"ins": record.ins, "first": first, "after": after})).ok()
    return data["patientRecord"]["allergies"]  # type: ignore[no-any-return]


async def _allergies(record: Record, pattern: str) -> list[Entry]:
    """Entries from a pattern, newest first: 'v' visible, 'm' masked; pairs share a date."""
    created = []
    for i, kind in enumerate(pattern):
        created.append(await factories.entry(
            record, Section.ALLERGIES, title=f"{kind}{i}", days_ago=1 + i // 2, masked=kind == "m"
        ))
    return created


def _expected_order(entries: list[Entry]) -> list[str]:
    ordered = sorted(entries, key=lambda e: (e.care_date, str(e.id)), reverse=True)
    return [str(e.id) for e in ordered]


async def test_first_5_over_masked_rows_still_returns_5(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    entries = await _allergies(record, "vvv" + "m" * 10 + "vv" + "mmmmm")
    visible = [e for e in entries if not e.masked]
    caller, _, _ = await _granted(client, record, {Section.ALLERGIES})

    page = await _page(caller, record, 5)
    assert [e["node"]["id"] for e in page["edges"]] == _expected_order(visible)
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is False  # exact: the masked tail does not count
    assert all(e["node"]["masked"] is None for e in page["edges"])

    first = await _page(caller, record, 3)
    assert first["pageInfo"]["hasNextPage"] is True and first["totalCount"] == 5
    rest = await _page(caller, record, 3, first["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasNextPage"] is False and rest["totalCount"] == 5
    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert ids == _expected_order(visible)


async def test_pages_of_2_walk_every_visible_entry_once(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    entries = await _allergies(record, "vmvvmmvmvvvmmvmv")
    caller, _, _ = await _granted(client, record, {Section.ALLERGIES})
    as_owner = Caller(client, session=await session_for(owner))
    for who, expected in (
        (caller, _expected_order([e for e in entries if not e.masked])),
        (as_owner, _expected_order(entries)),
    ):
        seen: list[str] = []
        after = None
        while True:
            page = await _page(who, record, 2, after)
            assert page["totalCount"] == len(expected)
            seen += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected


async def test_masked_entry_by_its_author_only_while_granted(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, author, practitioner = await _granted(client, record, {Section.ALLERGIES})
    own = await factories.entry(record, Section.ALLERGIES, author=author, masked=True, days_ago=1)
    other = await factories.entry(record, Section.ALLERGIES, masked=True, days_ago=2)
    page = await _page(caller, record, 5)
    ids = [e["node"]["id"] for e in page["edges"]]
    assert ids == [str(own.id)] and str(other.id) not in ids and page["totalCount"] == 1
    await Grant.filter(practitioner_id=practitioner.id).delete()
    assert (await caller.gql(PAGE, {"ins": record.ins, "first": 5})).codes == ["FORBIDDEN"]


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Every SQL statement Tortoise sends (its db_client logger sees each one)."""
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(str(record.args[0]) if record.args else record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Collect(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _record_query(fields: list[str]) -> str:
    sections = " ".join(
        f"{name}(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }} "
        f"edges {{ cursor node {{ id title date author {{ displayName }} }} }} }}"
        for name in fields
    )
    profile = "emergencyProfile { bloodGroup }" if len(fields) == len(CONNECTION_FIELDS) else ""
    return (f"query($ins: String!) {{ patientRecord(ins: $ins) {{ ins accessMode "
            f"sectionAccess {{ section mode }} {sections} {profile} }} }}")


async def _queries_for(client: httpx.AsyncClient, per_section: int, fields: list[str]) -> int:
    _, record = await factories.patient()
    author, _ = await factories.practitioner()
    for section in CONNECTION_FIELDS.values():
        for i in range(per_section):
            await factories.entry(record, section, days_ago=i + 1, author=author if i % 3 else None,
                                  masked=i % 4 == 0)
    caller, _, _ = await _granted(client, record, set(Section))
    query = _record_query(fields)
    (await caller.gql(query, {"ins": record.ins})).ok()  # warm up: session touch, first-access notice
    with count_queries() as statements:
        data = (await caller.gql(query, {"ins": record.ins})).ok()
    assert data["patientRecord"]["accessMode"] == "GRANTED"
    return len(statements)


async def test_query_count_does_not_grow_with_entries(client: httpx.AsyncClient) -> None:
    fields = list(CONNECTION_FIELDS)
    one = await _queries_for(client, 1, fields)
    fifty = await _queries_for(client, 50, fields)
    assert one == fifty


async def test_query_count_per_section_is_bounded(client: httpx.AsyncClient) -> None:
    one = await _queries_for(client, 2, ["allergies"])
    eleven = await _queries_for(client, 2, list(CONNECTION_FIELDS))  # ten lists and the profile
    # The first pages of every section are read in one statement, as one section's is.
    assert eleven == one


async def test_a_practitioner_read_is_one_event_listing_the_sections_returned(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    caller, account, _ = await _granted(
        client, record, {Section.ALLERGIES, Section.MEDICATIONS, Section.VACCINATIONS}
    )
    query = """query($ins: String!) { patientRecord(ins: $ins) {
      allergies { totalCount } medications { totalCount } imaging { totalCount } } }"""
    data = (await caller.gql(query, {"ins": record.ins})).ok()["patientRecord"]
    assert data["imaging"] is None
    events = await AccessEvent.filter(record_id=record.id).order_by("seq")
    assert [(e.action, e.actor_id, e.mode) for e in events] == [
        ("RECORD_READ", str(account.id), "GRANTED")
    ]
    assert sorted(events[0].sections) == ["ALLERGIES", "MEDICATIONS"]


async def test_a_denied_attempt_on_an_existing_record_is_an_event(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    result = await caller.gql("query($ins: String!) { patientRecord(ins: $ins) { ins } }",
                              {"ins": record.ins})
    assert result.codes == ["FORBIDDEN"] and result.data == {"patientRecord": None}
    events = await AccessEvent.filter(record_id=record.id)
    assert [(e.action, e.actor_id, e.sections) for e in events] == [
        ("ACCESS_DENIED", str(account.id), [])
    ]
    # The same refusal for an INS that has no record: nothing tells them apart.
    unknown = await caller.gql("query($ins: String!) { patientRecord(ins: $ins) { ins } }",
                               {"ins": factories.new_ins()})
    assert unknown.errors[0]["message"] == result.errors[0]["message"]
    assert unknown.codes == result.codes


async def test_the_owner_reading_is_not_an_event(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES)
    caller = Caller(client, session=await session_for(owner))
    data = (await caller.gql("{ myRecord { accessMode allergies { totalCount } } }")).ok()
    assert data["myRecord"] == {"accessMode": "OWNER", "allergies": {"totalCount": 1}}
    assert not await AccessEvent.filter(record_id=record.id).exists()


def test_the_profession_matrix_doc_is_generated() -> None:
    assert (ROOT / "docs" / "profession-matrix.md").read_text() == render_markdown()


async def test_a_record_without_access_and_an_unknown_ins_answer_after_the_same_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the existing record's refusal writes an event (a few milliseconds): both answers
    wait until the same floor has passed since the history began to be written, so the time
    does not tell whether the record exists. Checked by what waits, not by a clock."""
    from backend.schema import extensions

    waited: list[float] = []

    async def answer_no_sooner(since: float) -> None:
        waited.append(since)

    monkeypatch.setattr(extensions, "answer_no_sooner", answer_no_sooner)
    _, record = await factories.patient()
    stranger, _ = await factories.practitioner(Profession.INFIRMIER)
    caller = Caller(client, session=await session_for(stranger))
    query = "query($ins: String!) { patientRecord(ins: $ins) { firstName } }"
    existing = await caller.gql(query, {"ins": record.ins})
    unknown = await caller.gql(query, {"ins": factories.new_ins()})
    assert existing.codes == unknown.codes == ["FORBIDDEN"]
    assert len(waited) == 2
    assert await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count() == 1
    # A granted read, and a refusal that tells nothing new (the caller has access), do not wait.
    await Grant.create(record=record, practitioner=await stranger.practitioner,  # type: ignore[attr-defined]
                       sections=["ALLERGIES"])
    (await caller.gql(query, {"ins": record.ins})).ok()
    assert len(waited) == 2


async def test_a_document_not_shared_and_an_unknown_id_answer_after_the_same_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend import downloads
    from tests.document_samples import download, pdf, upload

    waited: list[int] = []

    async def answer_no_sooner(since: float) -> None:
        waited.append(await AccessEvent.filter(action="ACCESS_DENIED").count())

    monkeypatch.setattr(downloads, "answer_no_sooner", answer_no_sooner)
    owner, record = await factories.patient()
    entry_id = (await upload(Caller(client, session=await session_for(owner)), pdf("secret"), "cr.pdf")
                ).ok()["uploadDocument"]["entry"]["id"]
    stranger, _ = await factories.practitioner(Profession.PHARMACIEN)
    caller = Caller(client, session=await session_for(stranger))
    refused, missing = await download(caller, entry_id), await download(caller, str(uuid.uuid4()))
    assert refused.status_code == missing.status_code == 404
    # Each waited, the first after its denied attempt was written.
    assert waited == [1, 1]
