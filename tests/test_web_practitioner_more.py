"""/praticien at a phone's width, in a real Chromium: a « Plus de résultats » refused (a fault on
the service's side) is said under the "More" buttons, where it was pressed and the keyboard
stays, in sight (it was said at the top, under the INS, out of sight below the record); pressed
again, the page comes and the refusal goes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import Server, browser, fault_on_next_page, in_view, server, signed_in_tab
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_refused_more_is_said_under_its_button(server: Server, browser: Browser) -> None:
    patient, record = await factories.patient(email="plus.praticien@example.test")
    # Eleven medicines: the first page shows ten, "More" the oldest.
    for day in range(1, 12):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, doctor.last_name, [Section.MEDICATIONS.value])

    tab = await signed_in_tab(browser, server, "practitioner-more-refused", doctor, "mobile")
    page = tab.page
    await page.goto("/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_text("10 informations affichées")).to_be_visible()

    fault = fault_on_next_page("$after")
    await page.route("**/graphql", fault)
    more = page.get_by_role("button", name="Plus de résultats : Médicaments")
    await more.click()
    refused = page.locator(".error").filter(has_text="Une erreur est survenue de notre côté.")
    await expect(refused).to_be_visible()
    assert await refused.evaluate("(el) => el.previousElementSibling?.contains(document.activeElement)"), \
        "not said under the \"More\" buttons"
    await expect(more).to_be_focused()
    assert await in_view(page, refused)
    await tab.shot("more-refused")

    await page.unroute("**/graphql", fault)
    await more.click()
    await expect(page.get_by_text("11 informations affichées")).to_be_visible()
    await expect(refused).to_have_count(0)
    await tab.check("more-loaded")
