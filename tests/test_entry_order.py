"""Entries of the same date of care: the most recently written first, whoever wrote them."""

from __future__ import annotations

import uuid

import httpx

from backend.domain.ids import entry_ids
from tests import factories
from tests.care_items import ADD_ENTRY, IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.test_content_add_entry import YESTERDAY, _pharmacist_granted, medication

MEDICATIONS = """{ myRecord { medications(first: 20, includeSuperseded: true) {
  edges { node { id title supersedes } } } } }"""


async def _listed(owner: Caller) -> list[dict[str, str | None]]:
    page = (await owner.gql(MEDICATIONS)).ok()["myRecord"]["medications"]
    return [edge["node"] for edge in page["edges"]]


def test_ids_increase_in_the_order_they_are_made() -> None:
    made = entry_ids(2_000) + entry_ids(2_000)
    assert all(a < b for a, b in zip(made, made[1:], strict=False))
    assert all(i.version == 7 for i in made) and len({*made}) == len(made)
    assert all(isinstance(i, uuid.UUID) for i in made)


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


async def test_an_imported_batch_of_one_day_comes_last_item_first(client: httpx.AsyncClient) -> None:
    owner_account, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(record.ins, n, date=YESTERDAY, title=f"Import {n}") for n in range(8)]
    (await insurer.gql(IMPORT, {"items": items})).ok()
    owner = Caller(client, session=await session_for(owner_account))
    assert [node["title"] for node in await _listed(owner)] == [f"Import {n}" for n in reversed(range(8))]
