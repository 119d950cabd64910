"""How the page words what browsers and people typed, in a real Chromium: an open session is
named by its browser and system (« Safari sur iPhone »), its user agent kept one click away;
a phone number is shown grouped (« 06 12 34 56 78 »), and kept as stored where it is edited."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.auth.sessions import create_session
from backend.domain.enums import Profession
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server, signed_in_tab
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CONTACTS = [
    {"name": "Paul Martin", "phone": "+33698765432", "relation": "frère"},
    {"name": "Ann Smith", "phone": "+442079460958", "relation": None},
]


async def test_sessions_say_the_browser_and_phones_read_by_pairs(server: Server, browser: Browser) -> None:
    email = "affichage@example.test"
    account, record = await factories.patient(email=email, phone="+33612345678")
    record.emergency_contacts = CONTACTS
    await record.save()
    await create_session(account, user_agent=SAFARI_IPHONE)
    await create_session(account, user_agent="")
    tab = await patient_signed_in(browser, server, "display", email)
    page = tab.page

    await page.get_by_role("link", name="Sécurité", exact=True).click()
    sessions = page.get_by_role("list").filter(has_text="Cette session")
    await expect(sessions.get_by_role("listitem")).to_have_count(3)
    # This one: Debian's Chromium, headless, on Linux.
    here = sessions.get_by_role("listitem").filter(has_text="Cette session")
    await expect(here.locator("p").first).to_have_text("Chrome sur Linux")
    # The iPhone's: named, its user agent behind « Détails techniques » (and in a tooltip).
    iphone = sessions.get_by_role("listitem").filter(has_text="Safari sur iPhone")
    await expect(iphone).to_have_count(1)
    await expect(iphone.get_by_text("Safari sur iPhone", exact=True)).to_have_attribute(
        "title", SAFARI_IPHONE
    )
    raw = iphone.get_by_text(SAFARI_IPHONE, exact=True)
    await expect(raw).to_be_hidden()
    await expect(iphone.get_by_role("button", name="Fermer cette session")).to_have_accessible_description(
        re.compile(r"^Safari sur iPhone\s*ouverte le")
    )
    await iphone.get_by_text("Détails techniques").click()
    await expect(raw).to_be_visible()
    # The one whose browser said nothing: no details to open.
    unknown = sessions.get_by_role("listitem").filter(has_text="Navigateur inconnu")
    await expect(unknown).to_have_count(1)
    await expect(unknown.get_by_text("Détails techniques")).to_have_count(0)
    await tab.check("display-sessions")

    await page.get_by_role("link", name="Changer mon adresse e-mail ou mon numéro de téléphone").click()
    await expect(page.get_by_text("Numéro actuel : 06 12 34 56 78", exact=True)).to_be_visible()
    await expect(page.get_by_text("+33612345678")).to_have_count(0)
    await tab.check("display-contacts")

    # Where the numbers are edited, they stay as stored.
    await page.get_by_role("link", name="Urgence").click()
    phones = page.get_by_label("Téléphone", exact=True)
    await expect(phones).to_have_count(2)
    await expect(phones.nth(0)).to_have_value("+33698765432")
    await expect(phones.nth(1)).to_have_value("+442079460958")
    await tab.context.close()


async def test_a_practitioner_reads_the_emergency_contacts_grouped(server: Server, browser: Browser) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    patient, record = await factories.patient(first_name="Rose", last_name="Lambert")
    record.emergency_contacts = CONTACTS
    await record.save()
    patient_cookie = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(patient_cookie, doctor.last_name, ["EMERGENCY"])

    tab = await signed_in_tab(browser, server, "display-practitioner", doctor, "mobile")
    page = tab.page
    await page.goto("/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    summary = page.locator(".card").filter(has=page.get_by_role("heading", name="Urgence (groupe sanguin"))
    await expect(summary.locator("dd").nth(1)).to_have_text(
        "Paul Martin (frère) 06 98 76 54 32 ; Ann Smith +44 207 946 0958"
    )
    await tab.check("display-practitioner")
    await tab.context.close()
