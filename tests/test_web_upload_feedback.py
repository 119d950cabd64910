"""Adding a document (/documents) at a phone's width, in a real Chromium: a file over 20 MB is
refused by the page before anything is sent, and the refusal takes the keyboard, so that it
comes into view above the form (« Envoyer le document » is far below it) and is heard; what
was typed stays."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.models import Entry
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_file_too_big_is_said_in_sight(server: Server, browser: Browser) -> None:
    email = "trop.gros@example.test"
    _, record = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "upload-too-big", email)
    page = tab.page
    await page.get_by_role("link", name="Ajouter un document").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")
    big = b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)
    await page.get_by_label("Fichier").set_input_files(
        {"name": "scanner.pdf", "mimeType": "application/pdf", "buffer": big})
    await page.get_by_label("Titre du document").fill("Scanner thoracique")
    await page.get_by_role("button", name="Envoyer le document").click()
    refusal = page.locator(".error").filter(has_text="Ce fichier dépasse 20 Mo.")
    await expect(refusal).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_count(0)  # read as focused, not announced too
    await expect(refusal).to_be_in_viewport()
    await expect(page.get_by_label("Titre du document")).to_have_value("Scanner thoracique")
    assert await Entry.filter(record_id=record.id).count() == 0
    await tab.check("refused")
