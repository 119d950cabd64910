"""The practitioner directory searched with decomposed accents: « e » + U+0301, as some keyboards
and macOS copy-paste give it, finds the names stored composed (NFC)."""

from __future__ import annotations

import unicodedata

import httpx

from backend import accounts
from backend.domain.enums import Profession, Role
from backend.models import Practitioner
from tests import factories
from tests.conftest import Caller, session_for
from tests.factories import new_rpps

DIRECTORY = "query($s: String!) { practitionerDirectory(search: $s) { displayName city } }"


async def test_a_search_typed_decomposed_finds_the_name_stored_composed(client: httpx.AsyncClient) -> None:
    await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email="eloise@test.dmp", password="a-long-enough-passphrase",
        first_name="Éloïse", last_name="Bézier", rpps=new_rpps(), profession=Profession.MEDECIN,
        city="Orléans",
    ))
    patient, _ = await factories.patient()
    caller = Caller(client, session=await session_for(patient))
    for search in ("Bézier Orléans", "ÉLOÏSE", "bézier\u200b"):
        decomposed = unicodedata.normalize("NFD", search)
        assert decomposed != search
        found = await caller.gql(DIRECTORY, {"s": decomposed})
        assert found.ok()["practitionerDirectory"] == [
            {"displayName": "Éloïse Bézier", "city": "Orléans"}
        ], search


async def test_a_practitioner_whose_search_text_was_stored_decomposed_is_still_found(
    client: httpx.AsyncClient,
) -> None:
    """Existing data stays as stored: a search text written decomposed before names were stored
    composed is found by the search, composed or not, as it was by a decomposed one."""
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email="eloise@test.dmp", password="a-long-enough-passphrase",
        first_name="Éloïse", last_name="Bézier", rpps=new_rpps(), profession=Profession.MEDECIN,
        city="Orléans",
    ))
    practitioner = await Practitioner.get(account_id=account.id)
    await Practitioner.filter(id=practitioner.id).update(
        search_text=unicodedata.normalize("NFD", practitioner.search_text)
    )
    patient, _ = await factories.patient()
    caller = Caller(client, session=await session_for(patient))
    for search in ("Bézier Orléans", unicodedata.normalize("NFD", "Bézier orléans"), "éloïse"):
        found = await caller.gql(DIRECTORY, {"s": search})
        assert found.ok()["practitionerDirectory"] == [
            {"displayName": "Éloïse Bézier", "city": "Orléans"}
        ], search
