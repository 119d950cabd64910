"""/dossier of a record with nothing in it yet, in a real Chromium at both widths: it says so, and
where its information comes from and how to add a document, instead of « Aucune information pour
ces critères » under filters nobody set; the filters, with nothing to filter, are not shown.
Closed (nothing can be added), it only says that it holds nothing. Its last entry deleted, it says
so at once, under the deletion's notice."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.domain.enums import EntrySource, RecordStatus, Section
from backend.models import Entry, Record
from tests import factories
from tests.browser import Server, browser, confirm_in_page, server, signed_in_tab

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


async def test_a_record_emptied_here_says_it_holds_nothing(server: Server, browser: Browser) -> None:
    account, record = await factories.patient(email="dossier.vide.supprime@example.test")
    own = await factories.entry(record, Section.VACCINATIONS, title="Ma note")
    own.source, own.author, own.author_name = EntrySource.PATIENT, account, account.display_name
    await own.save()
    tab = await signed_in_tab(browser, server, "record-emptied", account, "mobile")
    page = tab.page
    await page.goto("/dossier")
    await expect(page.get_by_text("1 information affichée")).to_be_visible()
    await page.get_by_role("button", name="Supprimer").click()
    await confirm_in_page(page, "Supprimer")
    deleted = page.locator(".notice").filter(has_text="L'information « Ma note » a été supprimée.")
    await expect(deleted).to_be_focused()
    await expect(page.get_by_text(NOTHING_YET)).to_be_visible()
    await expect(page.get_by_text("Aucune information pour ces critères.")).to_have_count(0)
    await expect(page.get_by_role("search", name="Filtrer le dossier")).to_have_count(0)
    assert not await Entry.filter(id=own.id).exists()
    await tab.check("emptied")
    await tab.context.close()
