"""An organization's name typed composed once and decomposed once (« é » or « e » + U+0301) is
one organization: `dmp create-token --organization` stores it composed (NFC), `dmp import-file
--organization` reads it so, and finds a token stored decomposed before."""

from __future__ import annotations

import unicodedata

import pytest

from backend import accounts
from backend.importfile import ImportFileError, check_organization, insurer_viewer
from backend.models import ApiToken

COMPOSED = "Mutuelle Générale de l'Étoile"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def test_the_names_differ() -> None:
    assert COMPOSED != DECOMPOSED


async def test_a_token_created_with_a_decomposed_organization_stores_it_composed() -> None:
    row, _ = await accounts.create_token("import", ["insurer:import"], organization=f" {DECOMPOSED} ")
    assert (await ApiToken.get(id=row.id)).organization == COMPOSED


def test_import_file_reads_the_organization_composed() -> None:
    assert check_organization(f"{DECOMPOSED} ") == COMPOSED
    assert check_organization(COMPOSED) == COMPOSED


@pytest.mark.parametrize("typed", [COMPOSED, DECOMPOSED])
async def test_import_file_finds_the_token_whichever_way_it_was_typed(typed: str) -> None:
    row, _ = await accounts.create_token("import", ["insurer:import"], organization=DECOMPOSED)
    viewer = await insurer_viewer(check_organization(typed))
    assert viewer.token_id == row.id
    assert viewer.organization == COMPOSED


@pytest.mark.parametrize("typed", [COMPOSED, DECOMPOSED])
async def test_a_token_stored_decomposed_before_is_found_and_its_name_kept(typed: str) -> None:
    """Existing data stays as stored: the viewer is the token's, its organization as the web
    import with that token shows it, so the entries imported before keep matching."""
    row, _ = await accounts.create_token("import", ["insurer:import"], organization=COMPOSED)
    await ApiToken.filter(id=row.id).update(organization=DECOMPOSED)
    viewer = await insurer_viewer(check_organization(typed))
    assert viewer.token_id == row.id
    assert viewer.organization == DECOMPOSED


async def test_another_organization_is_still_unknown() -> None:
    await accounts.create_token("import", ["insurer:import"], organization=COMPOSED)
    with pytest.raises(ImportFileError, match="unknown organization"):
        await insurer_viewer(check_organization("Mutuelle Generale de l'Etoile"))
