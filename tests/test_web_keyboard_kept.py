"""The keyboard is not lost to the page body when a step replaces the button pressed, in a real
Chromium: the sign-in's « Continuer » gives it to the code's field; on /praticien, an emergency
access opened (its form replaced by the record read in that mode) gives it to the record's
heading, and « Fermer ce dossier » to the INS field, for the next record; an emergency opening
refused (a reason the server refuses, or the patient's opposition) gives it to the refusal, by
the form, as the other forms' own refusals do."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.domain.enums import Profession, Section
from backend.models import Record
from tests import factories
from tests.browser import Server, browser, in_view, open_tab, server, sign_in_first_step, signed_in_tab

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_the_sign_in_code_field_takes_the_keyboard(server: Server, browser: Browser,
                                                         viewport: str) -> None:
    email = f"code.clavier.{viewport}@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "sign-in-code-focus", viewport)
    await sign_in_first_step(tab, server, email)
    await expect(tab.page.get_by_label("Code reçu")).to_be_focused()
    await tab.check("code-step")


async def test_practitioner_keyboard_after_an_emergency_opening_and_a_close(server: Server,
                                                                            browser: Browser) -> None:
    _, record = await factories.patient(email="urgence.clavier@example.test", first_name="Jeanne",
                                        last_name="Clavier")
    await factories.entry(record, Section.ALLERGIES, title="Allergie à l'iode", days_ago=3)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    tab = await signed_in_tab(browser, server, "practitioner-keyboard", doctor)
    page = tab.page
    await page.goto("/praticien")
    ins = page.get_by_label("Numéro INS (numéro de sécurité sociale)").first
    await ins.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_text("Vous n'avez pas accès à cette information.")).to_be_visible()

    await page.get_by_label("Justification").fill("Patiente inconsciente aux urgences")
    await page.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    heading = page.get_by_role("heading", name="Jeanne Clavier")
    await expect(heading).to_be_focused()
    await expect(page.get_by_role("button", name="Ouvrir l'accès d'urgence")).to_have_count(0)
    await tab.check("emergency-opened")

    await page.get_by_role("button", name="Fermer ce dossier").click()
    await expect(heading).to_have_count(0)
    await expect(ins).to_be_focused()
    await expect(ins).to_have_value("")
    await tab.check("record-closed")


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_an_emergency_opening_refused_takes_the_keyboard(server: Server, browser: Browser,
                                                               viewport: str) -> None:
    _, record = await factories.patient(first_name="Nina", last_name="Oppose")
    await Record.filter(id=record.id).update(allow_break_glass=False)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    tab = await signed_in_tab(browser, server, "emergency-refused-keyboard", doctor, viewport)
    page = tab.page
    await page.goto("/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    emergency = page.get_by_role("form", name="Accès d'urgence (bris de glace)")

    # A reason the server refuses (long only in invisible characters): its refusal, by the form.
    await emergency.get_by_label("Justification").fill("\u200b" * 12)
    await emergency.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    await expect(emergency.locator(".error").filter(has_text="Justification")).to_be_focused()

    # The patient opposed it: said as the emergency access's own refusal, which has the keyboard.
    await emergency.get_by_label("Justification").fill("Malaise au domicile, patiente confuse")
    await emergency.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    refused = emergency.locator(".error").filter(has_text="L'accès d'urgence est refusé")
    await expect(refused).to_be_focused()
    await tab.check("emergency-refused")


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_a_record_opened_for_a_patient_shows_its_code_where_the_keyboard_goes(
    server: Server, browser: Browser, viewport: str
) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    tab = await signed_in_tab(browser, server, "record-opened-keyboard", doctor, viewport)
    page = tab.page
    await page.goto("/praticien")

    # Refused (an INS that is not one): the form's own refusal, with the keyboard.
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").nth(1).fill("123")
    await page.get_by_label("Prénom").fill("Nina")
    await page.get_by_label("Nom", exact=True).fill("Bernard")
    await page.get_by_label("Date de naissance").fill("30/09/2001")
    await page.get_by_role("button", name="Ouvrir le dossier").click()
    await expect(page.locator(".error").filter(has_text="Le numéro INS n'est pas valable")).to_be_focused()

    # Opened: the code to hand over has the keyboard, in sight above the form.
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").nth(1).fill(factories.new_ins())
    await page.get_by_role("button", name="Ouvrir le dossier").click()
    opened = page.locator(".notice").filter(has_text="Le dossier est ouvert. Remettez ce code au patient :")
    await expect(opened).to_be_focused()
    assert await in_view(page, opened.locator(".code"))
    await tab.check("record-opened")


async def test_a_record_opened_by_enter_in_a_field_shows_its_code_where_the_keyboard_goes(
    server: Server, browser: Browser
) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    tab = await signed_in_tab(browser, server, "record-opened-by-enter", doctor, "mobile")
    page = tab.page
    await page.goto("/praticien")
    # Sent by Enter in its last field: that field keeps the keyboard (emptied), and the code to hand
    # over, above the form out of sight on a phone, would be neither in view nor read.
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").nth(1).fill(factories.new_ins())
    await page.get_by_label("Prénom").fill("Nina")
    await page.get_by_label("Nom", exact=True).fill("Bernard")
    await page.get_by_label("Date de naissance").fill("30/09/2001")
    await page.get_by_label("E-mail du patient").fill("nina.bernard@example.test")
    await page.get_by_label("E-mail du patient").press("Enter")
    opened = page.locator(".notice").filter(has_text="Le dossier est ouvert. Remettez ce code au patient :")
    await expect(opened).to_be_focused()
    await expect(opened.locator('[role="status"], [role="alert"], [aria-live]')).to_have_count(0)
    assert await in_view(page, opened.locator(".code"))
    await tab.check("record-opened-by-enter")
