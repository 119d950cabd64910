"""Stored text as the patient's page shows it, in a real Chromium: an entry's title and details,
a professional's name, an emergency contact, directives, a stated reason of emergency access,
all holding markup, are shown as the characters they are, never read as HTML (no element made
of them, nothing run), and the tab's title stays the page's own."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from backend import config
from backend.domain.enums import Section
from backend.models import Account
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

TITLE = '<img src=x onerror="window.injected=1">Arachides'
NOTES = "<script>window.injected=2</script>javascript:alert(1)"
NAME = "<b>Mal</b>veillant"
CONTACT = '<a href="javascript:window.injected=3">Paul</a>'
DIRECTIVES = "<style>body{display:none}</style>Aucune"
REASON = '<iframe src="javascript:window.injected=4"></iframe>Inconscient'
MADE = "main img, main script, main b, main iframe, main style, main a[href^='javascript']"


async def nothing_made(page: Page, title: str) -> None:
    assert await page.evaluate(f"document.querySelectorAll({MADE!r}).length") == 0
    assert await page.evaluate("window.injected") is None
    assert await page.title() == title


async def test_stored_markup_is_shown_as_text(server: Server, browser: Browser) -> None:
    email = "balises@example.test"
    patient, record = await factories.patient(email=email)
    await factories.entry(record, Section.ALLERGIES, title=TITLE, substance=NOTES)
    record.emergency_contacts = [{"name": CONTACT, "phone": "+33698765432", "relation": NAME}]
    record.advance_directives = DIRECTIVES
    await record.save()
    doctor, _ = await factories.practitioner()
    await server.grant_from_directory({config.settings().session_cookie: await session_for(patient)},
                                      doctor.last_name, ["ALLERGIES"])
    await Account.filter(id=doctor.id).update(last_name=NAME)
    await server.break_glass(record.ins, REASON)

    tab = await patient_signed_in(browser, server, "review-injection", email)
    page = tab.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))

    card = page.locator("li.card", has_text="Arachides")
    await expect(card.get_by_role("heading", level=3)).to_have_text(TITLE)
    await card.get_by_role("button", name="Voir le détail").click()
    await expect(card.get_by_text(NOTES)).to_be_visible()
    await nothing_made(page, "Mon dossier — Mon dossier médical partagé")

    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_text(NAME).first).to_be_visible()
    await nothing_made(page, "Partage de mon dossier — Mon dossier médical partagé")

    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_label("Nom", exact=True).first).to_have_value(CONTACT)
    await expect(page.get_by_label("Lien (facultatif)").first).to_have_value(NAME)
    await expect(page.get_by_label("Directives anticipées")).to_have_value(DIRECTIVES)
    await nothing_made(page, "Mon profil d'urgence — Mon dossier médical partagé")

    await page.get_by_role("link", name="Historique des accès").click()
    await expect(page.get_by_text(REASON).first).to_be_visible()
    await nothing_made(page, "Historique des accès — Mon dossier médical partagé")

    assert not dialogs, dialogs
    await tab.check("injection")
    await tab.context.close()
