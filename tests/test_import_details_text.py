"""importCareHistory: the free text of an item's details shows as it is stored."""

from __future__ import annotations

import httpx

from backend.models import Entry, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller


async def test_details_keep_no_invisible_or_direction_character(client: httpx.AsyncClient) -> None:
    """As the title (and addEntry's details): "1 cp\\u202e j/3" would show reversed."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    imaging = {**medication_item(ins, 2), "externalId": "IMG-1", "section": "IMAGING",
               "code": "ZBQK002", "title": "Radiographie du thorax",
               "details": {"modality": "R\u200bX", "report": "Ligne 1\u202e\nLigne\u00ad 2\x1b[31m"}}
    items = [medication_item(ins, 1, details={"atc": "N02BE01", "dose": "1 cp\u202e x 3/j"}), imaging]
    first = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (first["created"], first["rejected"]) == (2, [])
    record = await Record.get(ins=ins)
    medication = await Entry.get(record_id=record.id, external_id="MED-1")
    assert medication.details == {"atc": "N02BE01", "dose": "1 cp x 3/j"}
    image = await Entry.get(record_id=record.id, external_id="IMG-1")
    assert image.details == {"modality": "RX", "report": "Ligne 1\nLigne 2[31m"}
    # The same batch sent again, or without those characters, changes nothing.
    again = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert again["unchanged"] == 2
    plain = [medication_item(ins, 1, details={"atc": "N02BE01", "dose": "1 cp x 3/j"})]
    assert (await insurer.gql(IMPORT, {"items": plain})).ok()["importCareHistory"]["unchanged"] == 1


async def test_the_names_of_a_record_opened_by_an_import_are_on_one_line(
    client: httpx.AsyncClient,
) -> None:
    """Names show on one line (backend/domain/text.py); a tab or a line break from an export
    went into the record as sent. Names are not in an item's hash: nothing else changes."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [medication_item(ins, 1, firstName=" Marie\n Alice\u200b ", lastName="Martin\t\tDupont")]
    first = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (first["created"], first["rejected"]) == (1, [])
    record = await Record.get(ins=ins)
    assert (record.first_name, record.last_name) == ("Marie Alice", "Martin Dupont")
    again = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert again["unchanged"] == 1


async def test_the_names_of_a_record_opened_by_an_import_are_composed(client: httpx.AsyncClient) -> None:
    """As every other writer of a name stores it (NFC): the account activated from the record
    takes these names, and the directory and the identity check compare them composed."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [medication_item(ins, 1, firstName="Zoe\u0301", lastName="Le\u0301ger")]
    assert (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]["created"] == 1
    record = await Record.get(ins=ins)
    assert (record.first_name, record.last_name) == ("Zo\u00e9", "L\u00e9ger")


async def test_a_title_of_letters_that_show_as_nothing_is_refused_as_addentry_refuses_it(
    client: httpx.AsyncClient,
) -> None:
    """Found by a probe: a title of Hangul fillers only was imported, an entry shown blank,
    where addEntry (and an emergency reason) refuse it."""
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    titles = ["\u3164\u3164", " \u2800 ", "Doliprane\u3164500"]
    items = [medication_item(record.ins, n, title=title) for n, title in enumerate(titles)]
    result = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert [(r["index"], r["code"], r["message"]) for r in result["rejected"]] == [
        (0, "BAD_USER_INPUT", "title must be 1 to 300 characters"),
        (1, "BAD_USER_INPUT", "title must be 1 to 300 characters"),
    ]
    assert [e.title for e in await Entry.filter(record_id=record.id)] == ["Doliprane\u3164500"]
