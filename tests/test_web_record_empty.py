"""/dossier of a record with nothing in it yet, in a real Chromium at both widths: it says so, and
where its information comes from and how to add a document, instead of « Aucune information pour
ces critères » under filters nobody set; the filters, with nothing to filter, are not shown.
Closed (nothing can be added), it only says that it holds nothing."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.domain.enums import RecordStatus
from backend.models import Record
from tests import factories
from tests.browser import Server, browser, server, signed_in_tab

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

NOTHING_YET = "Votre dossier ne contient encore aucune information."


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_an_empty_record_says_why_it_is_empty(server: Server, browser: Browser, viewport: str) -> None:
    account, record = await factories.patient(email=f"dossier.vide.{viewport}@example.test")
    tab = await signed_in_tab(browser, server, "record-empty", account, viewport)
    page = tab.page
    await page.goto("/dossier")
    await expect(page.get_by_text(NOTHING_YET)).to_be_visible()
    await expect(page.get_by_text("Aucune information pour ces critères.")).to_have_count(0)
    await expect(page.get_by_role("search", name="Filtrer le dossier")).to_have_count(0)
    await expect(page.get_by_text("« Ajouter un document », dans le menu")).to_be_visible()
    await tab.check("empty")

    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    await page.goto("/dossier")
    closed = page.get_by_text("Votre dossier ne contient aucune information.", exact=True)
    await expect(closed).to_be_visible()
    await expect(page.get_by_text(NOTHING_YET)).to_have_count(0)
