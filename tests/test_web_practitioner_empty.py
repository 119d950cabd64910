"""/praticien on a record with nothing in the sections the practitioner may see, in a real
Chromium at both widths: it says so, worded for them (the record may hold information in other
sections), instead of « Aucune information pour ces critères » under filters nobody set; the
filters, with nothing to filter, are not shown. An entry added in those sections is then listed."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import Server, browser, server, signed_in_tab
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

NOTHING_YET = "Ce dossier ne contient encore aucune information dans les rubriques qui vous sont accessibles."


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_a_record_with_nothing_shared_says_so(server: Server, browser: Browser, viewport: str) -> None:
    patient, record = await factories.patient(email=f"praticien.vide.{viewport}@example.test")
    # Information in a section the practitioner may not see: still nothing for them.
    await factories.entry(record, Section.IMAGING, title="IRM du genou")
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, doctor.last_name, [Section.VACCINATIONS.value])

    tab = await signed_in_tab(browser, server, "practitioner-empty", doctor, viewport)
    page = tab.page
    await page.goto("/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    shown = page.get_by_role("article", name=f"Dossier de {record.first_name} {record.last_name}")
    await expect(shown.get_by_text(NOTHING_YET)).to_be_visible()
    await expect(page.get_by_text("Aucune information pour ces critères.")).to_have_count(0)
    await expect(page.get_by_role("search", name="Filtrer le dossier")).to_have_count(0)
    await expect(page.get_by_text("IRM du genou")).to_have_count(0)
    await tab.check("nothing-shared")

    # Something in a section they may see: listed, and the words go.
    await factories.entry(record, Section.VACCINATIONS, title="Vaccin antigrippal")
    await page.get_by_role("button", name="Consulter").click()
    await expect(shown.get_by_text("Vaccin antigrippal")).to_be_visible()
    await expect(page.get_by_text(NOTHING_YET)).to_have_count(0)
