"""A tab opened before the record was closed, or its deletion asked, in another tab reads the
record's status again when the person comes back to it, and stops offering what no longer
applies — without a reload."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests import factories
from tests.browser import Server, browser, confirm_in_page, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def come_back(page: Page, event: str) -> None:
    """The person brings the tab to the front again: the event the browser sends then."""
    target = "document" if event == "visibilitychange" else "window"
    await page.evaluate(f"{target}.dispatchEvent(new Event('{event}'))")


async def test_a_tab_shows_the_status_changed_in_another_when_it_comes_back(
    server: Server, browser: Browser
) -> None:
    email = "deux.onglets@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "status-refresh", email)
    account = tab.page
    await account.goto("/mon-compte")
    state = account.get_by_text("État du dossier :")
    await expect(state).to_contain_text("Actif")
    upload = await tab.context.new_page()
    await upload.goto("/documents")
    await expect(upload.get_by_role("button", name="Envoyer le document")).to_be_visible()

    # Closed in a third tab: the two others still show it as it was, until they come back.
    other = await tab.context.new_page()
    await other.goto("/mon-compte")
    await other.get_by_role("button", name="Fermer mon dossier").click()
    await confirm_in_page(other, "Fermer mon dossier")
    await expect(other.locator(".notice").filter(has_text="Votre dossier est fermé.")).to_be_visible()
    await expect(state).to_contain_text("Actif")

    await come_back(account, "visibilitychange")
    await expect(state).to_contain_text("Fermé")
    await expect(state).not_to_contain_text("Actif")
    await expect(account.get_by_role("button", name="Fermer mon dossier")).to_have_count(0)
    await expect(account.get_by_role("button", name="Rouvrir mon dossier")).to_be_visible()

    await come_back(upload, "focus")
    await expect(upload.get_by_text("Votre dossier est fermé : on ne peut plus")).to_be_visible()
    await expect(upload.get_by_role("button", name="Envoyer le document")).to_have_count(0)

    # Its deletion asked in the third tab (the sign-in's code is recent enough, no new check):
    # the first, brought back, says so and offers to cancel it.
    await other.get_by_role("button", name="Demander la suppression").click()
    await confirm_in_page(other, "Demander la suppression")
    await expect(other.locator(".notice").filter(has_text="La suppression est demandée.")).to_be_visible()
    await come_back(account, "focus")
    await expect(state).to_contain_text("Suppression demandée")
    await expect(account.get_by_role("button", name="Annuler la suppression")).to_be_visible()
    await expect(account.get_by_role("button", name="Rouvrir mon dossier")).to_have_count(0)
    await tab.check("deletion-seen")
    await tab.context.close()
