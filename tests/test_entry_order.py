"""Entries of the same date of care: the most recently written first, whoever wrote them."""

from __future__ import annotations

import time
import uuid

import httpx

from backend.domain.ids import entry_id, entry_ids
from tests import factories
from tests.care_items import ADD_ENTRY, IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.test_content_add_entry import YESTERDAY, _pharmacist_granted, medication

MEDICATIONS = """{ myRecord { medications(first: 20, includeSuperseded: true) {
  edges { node { id title supersedes } } } } }"""


async def _listed(owner: Caller) -> list[dict[str, str | None]]:
    page = (await owner.gql(MEDICATIONS)).ok()["myRecord"]["medications"]
    return [edge["node"] for edge in page["edges"]]


def _random_bits(made: uuid.UUID) -> int:
    """The 74 bits after an id's millisecond (its version and variant left out)."""
    return (((made.int >> 64) & 0xFFF) << 62) | (made.int & ((1 << 62) - 1))


def _counter(made: uuid.UUID) -> int:
    """Where `uuid_utils` kept its counter: the first 42 of those bits."""
    return _random_bits(made) >> 32


def test_ids_begin_with_their_millisecond_and_those_of_a_later_one_are_greater() -> None:
    before = time.time_ns() // 1_000_000
    first = entry_ids(500)
    time.sleep(0.002)
    later = entry_ids(500)
    after = time.time_ns() // 1_000_000
    made = first + later
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in made) and len({*made}) == len(made)
    assert all(before <= i.int >> 80 <= after for i in made)
    assert max(first) < min(later)


def test_the_ids_of_one_millisecond_count_nothing() -> None:
    """Ids counted up within a millisecond told whoever was shown some entries of one import how
    many they were not shown between two: a masked entry was a missing number. Here the bits
    after the time are drawn for each id: neither in the order the ids were made nor close."""
    made = entry_ids(3_000)
    pairs = [(a, b) for a, b in zip(made, made[1:], strict=False) if a.int >> 80 == b.int >> 80]
    assert len(pairs) >= 1_000  # most of them share their millisecond with the next
    rising = sum(_random_bits(b) > _random_bits(a) for a, b in pairs)
    assert 0.4 < rising / len(pairs) < 0.6  # a counter: every one
    assert all(abs(_counter(b) - _counter(a)) > 1 << 10 for a, b in pairs)  # counted: 1


def test_a_correction_comes_after_the_version_it_replaces_within_one_millisecond() -> None:
    now = time.time_ns() // 1_000_000
    replaced = entry_id()
    assert all(entry_id(after=replaced) > replaced for _ in range(1_000))
    # An id of a millisecond the clock has not reached (set back since), or with no room left
    # above it in its millisecond.
    ahead = uuid.UUID(int=((now + 60_000) << 80) | (replaced.int & ((1 << 80) - 1)))
    assert entry_id(after=ahead) > ahead and entry_id(after=ahead).int >> 80 == now + 60_000
    last = now + 120_000
    full = uuid.UUID(int=(last << 80) | (0x7 << 76) | (0xFFF << 64) | (0b10 << 62) | ((1 << 62) - 1))
    assert entry_id(after=full) > full and entry_id(after=full).int >> 80 == last + 1
    # A version 4 id (an entry written before these ids): any new id will do.
    assert entry_id(after=uuid.uuid4()).version == 7


async def test_entries_of_one_day_come_the_last_written_first(client: httpx.AsyncClient) -> None:
    owner_account, record = await factories.patient()
    owner = Caller(client, session=await session_for(owner_account))
    pharmacist = Caller(client, session=await session_for(await _pharmacist_granted(record, ["MEDICATIONS"])))
    titles = [f"Médicament {n}" for n in range(6)]
    for title in titles:
        (await pharmacist.gql(ADD_ENTRY, {"input": medication(record.ins, title=title)})).ok()
    assert [node["title"] for node in await _listed(owner)] == titles[::-1]


async def test_a_correction_comes_before_the_versions_it_replaces(client: httpx.AsyncClient) -> None:
    owner_account, record = await factories.patient()
    owner = Caller(client, session=await session_for(owner_account))
    pharmacist = Caller(client, session=await session_for(await _pharmacist_granted(record, ["MEDICATIONS"])))
    first = (await pharmacist.gql(ADD_ENTRY, {"input": medication(record.ins, title="v1")})).ok()
    replaced = first["addEntry"]["entry"]["id"]
    for title in ("v2", "v3", "v4"):
        done = (await pharmacist.gql(
            ADD_ENTRY, {"input": medication(record.ins, title=title, supersedes=replaced, date=YESTERDAY)}
        )).ok()
        replaced = done["addEntry"]["entry"]["id"]
    listed = await _listed(owner)
    assert [node["title"] for node in listed] == ["v4", "v3", "v2", "v1"]
    # Each version comes just before the one it replaced.
    assert [node["supersedes"] for node in listed[:-1]] == [node["id"] for node in listed[1:]]


async def test_a_later_batch_of_one_day_comes_before_an_earlier_one(client: httpx.AsyncClient) -> None:
    owner_account, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    for batch in (0, 1):
        items = [medication_item(record.ins, 10 * batch + n, date=YESTERDAY, title=f"Import {batch}.{n}")
                 for n in range(4)]
        (await insurer.gql(IMPORT, {"items": items})).ok()
    owner = Caller(client, session=await session_for(owner_account))
    titles = [node["title"] for node in await _listed(owner)]
    # Among one batch's items, no particular order (ids.py).
    assert {*titles[:4]} == {f"Import 1.{n}" for n in range(4)}
    assert {*titles[4:]} == {f"Import 0.{n}" for n in range(4)}


async def test_the_ids_of_an_import_shown_to_a_practitioner_do_not_count_the_masked_ones(
    client: httpx.AsyncClient,
) -> None:
    """Found by a probe: the ids of one batch were counted up, so a practitioner shown four of
    its five entries saw a number missing between two of them: the masked one, and where."""
    owner_account, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(record.ins, n, title=f"Import {n}") for n in range(5)]
    (await insurer.gql(IMPORT, {"items": items})).ok()
    owner = Caller(client, session=await session_for(owner_account))
    by_title = {node["title"]: node["id"] for node in await _listed(owner)}
    (await owner.gql("mutation($id: ID!) { maskEntry(id: $id) { id } }", {"id": by_title["Import 2"]})).ok()
    pharmacist = Caller(client, session=await session_for(await _pharmacist_granted(record, ["MEDICATIONS"])))
    page = (await pharmacist.gql(
        "query($ins: String!) { patientRecord(ins: $ins) { medications(first: 20) { totalCount "
        "edges { node { id title } } } } }", {"ins": record.ins},
    )).ok()["patientRecord"]["medications"]
    shown = {edge["node"]["title"]: uuid.UUID(edge["node"]["id"]) for edge in page["edges"]}
    assert page["totalCount"] == 4 and "Import 2" not in shown
    # The batch's ids in the order its items were written: no two a step of one apart, so no
    # gap to find, whichever were shown.
    ordered = [shown[f"Import {n}"] for n in (0, 1, 3, 4)]
    steps = [abs(_counter(b) - _counter(a)) for a, b in zip(ordered, ordered[1:], strict=False)]
    assert all(step > 1 << 10 for step in steps), steps  # counted: 1, 2 (the masked one), 1
