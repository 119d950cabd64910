"""Sharing (/partage) at a phone's width, in a real Chromium: what a button does shows where it
was pressed. Saving the emergency or e-mail preferences, at the bottom of a long screen, says
« Enregistré. » beside that form (not at the top, out of sight); cancelling the choice of
sections gives the keyboard back to the button that opened it, not to the page body; what a
search found, or that it found nobody, is said to a screen reader too."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_preferences_say_saved_beside_their_form(server: Server, browser: Browser) -> None:
    email = "preferences.vues@example.test"
    patient, _ = await factories.patient(email=email)
    pharmacist, _ = await factories.practitioner(Profession.PHARMACIEN)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, pharmacist.last_name, [Section.MEDICATIONS.value])

    tab = await patient_signed_in(browser, server, "sharing-preferences-saved", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    saved = page.get_by_role("status").filter(has_text="Enregistré.")

    emergency = page.get_by_role("form", name="Accès en cas d'urgence")
    await emergency.get_by_role("checkbox").first.uncheck()
    await emergency.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_have_count(1)
    await expect(saved).to_be_in_viewport()
    await tab.shot("emergency-saved")

    notices = page.get_by_role("form", name="Avis par e-mail")
    await notices.get_by_role("checkbox").check()
    await notices.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_have_count(1)
    await expect(saved).to_be_in_viewport()
    await tab.check("notices-saved")


async def test_cancelling_the_choice_of_sections_gives_the_focus_back(
    server: Server, browser: Browser
) -> None:
    email = "rubriques.annulees@example.test"
    patient, _ = await factories.patient(email=email)
    pharmacist, _ = await factories.practitioner(Profession.PHARMACIEN)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, pharmacist.last_name, [Section.MEDICATIONS.value])

    tab = await patient_signed_in(browser, server, "sharing-picker-cancelled", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()
    edit = page.get_by_role("button", name="Modifier les rubriques")
    await edit.click()
    await page.get_by_role("button", name="Annuler", exact=True).click()
    await expect(page.get_by_role("button", name="Annuler", exact=True)).to_have_count(0)
    await expect(edit).to_be_focused()
    await tab.check("picker-cancelled")


async def test_a_search_says_what_it_found_to_a_screen_reader(server: Server, browser: Browser) -> None:
    email = "recherche.entendue@example.test"
    await factories.patient(email=email)
    nurse, _ = await factories.practitioner(Profession.INFIRMIER)
    tab = await patient_signed_in(browser, server, "sharing-search-heard", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()
    search = page.get_by_label("Rechercher un professionnel")
    button = page.get_by_role("button", name="Rechercher", exact=True)

    await search.fill("Zzyzxwvutsr")
    await button.click()
    none = page.get_by_role("status").filter(has_text="Aucun professionnel ne correspond.")
    await expect(none).to_be_visible()

    await search.fill(nurse.last_name)
    await button.click()
    results = page.get_by_role("list", name="Résultats de la recherche")
    await expect(results.get_by_role("listitem")).to_have_count(1)
    await expect(page.get_by_role("status").filter(has_text="1 professionnel trouvé")).to_have_count(1)
    await expect(none).to_have_count(0)
    await tab.check("search-heard")
