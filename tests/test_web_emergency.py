"""The patient's emergency profile (/urgence) in a real Chromium: « Enregistré. » speaks of what was
saved, so it goes as soon as the profile is changed again (typed, chosen, a person added or
removed), and comes back with the next save."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_saved_goes_once_the_profile_is_changed_again(server: Server, browser: Browser) -> None:
    email = "urgence.modifiee@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "emergency-saved-then-changed", email)
    page = tab.page
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'urgence")
    # « Enregistrer » is disabled while it is sent: the notice takes the focus (no live region too).
    saved = page.locator(".notice").filter(has_text="Enregistré.")
    save = page.get_by_role("button", name="Enregistrer", exact=True)

    await page.get_by_label("Directives anticipées").fill("Pas d'acharnement thérapeutique")
    await save.click()
    await expect(saved).to_be_visible()
    await expect(saved).to_be_in_viewport()  # beside « Enregistrer », at the bottom on a phone
    await page.get_by_label("Directives anticipées").press_sequentially(", sauf avis de ma sœur")
    await expect(saved).to_have_count(0)  # not saved yet: nothing says it is
    await tab.shot("changed-after-save")

    await save.click()
    await expect(saved).to_be_visible()
    await page.get_by_label("Groupe sanguin").select_option("O+")
    await expect(saved).to_have_count(0)

    await save.click()
    await expect(saved).to_be_visible()
    await page.get_by_role("button", name="Ajouter une personne").click()
    await expect(saved).to_have_count(0)
    await page.get_by_role("button", name="Retirer le contact 1").click()
    await save.click()
    await expect(saved).to_be_visible()
    await tab.check("saved-again")

    # A refusal is said there too, and what was typed stays.
    await page.get_by_role("button", name="Ajouter une personne").click()
    await page.get_by_label("Nom").fill("Jean Martin")
    await page.get_by_label("Téléphone").fill("pas un numéro")
    await save.click()
    refused = page.locator(".error").filter(has_text="numéro de téléphone")
    await expect(refused).to_be_in_viewport()
    await expect(page.get_by_label("Nom")).to_have_value("Jean Martin")
    await tab.context.close()


async def test_a_person_added_and_left_empty_is_dropped_on_save(server: Server, browser: Browser) -> None:
    email = "urgence.ligne.vide@example.test"
    _, record = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "emergency-empty-row", email)
    page = tab.page
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'urgence")
    save = page.get_by_role("button", name="Enregistrer", exact=True)
    missing = page.get_by_text("Ce champ est à remplir.")

    # A row added, then one of its fields entered and left empty again: wholly empty, it is left out.
    await page.get_by_label("Directives anticipées").fill("Pas de transfusion")
    await page.get_by_role("button", name="Ajouter une personne").click()
    await page.get_by_label("Nom").fill("x")
    await page.get_by_label("Nom").fill("")
    await save.click()
    await expect(page.locator(".notice").filter(has_text="Enregistré.")).to_be_visible()
    await expect(missing).to_have_count(0)
    await record.refresh_from_db()
    assert record.emergency_contacts == []
    assert record.advance_directives == "Pas de transfusion"

    # A half-filled row still says what it lacks, by its field, and nothing is saved.
    await page.get_by_label("Téléphone").fill("06 12 34 56 78")
    await save.click()
    await expect(missing).to_have_count(1)
    name = page.get_by_label("Nom")
    await expect(name).to_be_focused()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await record.refresh_from_db()
    assert record.emergency_contacts == []
    await tab.check("half-filled-row")
    await tab.context.close()
