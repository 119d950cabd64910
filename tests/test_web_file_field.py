"""The document's file field (/documents) speaks the page's language, in a real Chromium whose own
language is English: the browser's file field (« Choose File », « No file chosen ») is hidden, the
page shows « Choisir un fichier » and « Aucun fichier choisi », then the chosen file's name, and no
file again once the document is sent; switched to English, the page's own words follow. The
hidden field keeps the keyboard (its button shows the focus) and the form's check."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, server, signed_in_tab
from tests.document_samples import pdf

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_the_file_field_speaks_the_pages_language(server: Server, browser: Browser,
                                                        viewport: str) -> None:
    account, _ = await factories.patient(email=f"fichier.{viewport}@example.test")
    tab = await signed_in_tab(browser, server, "file-field", account, viewport)
    page = tab.page
    await page.goto("/documents")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")
    field = page.get_by_label("Fichier")
    pick = page.locator(".file-pick")
    await expect(pick.get_by_text("Choisir un fichier")).to_be_visible()
    await expect(pick.get_by_text("Aucun fichier choisi")).to_be_visible()
    box = await field.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box  # the browser's own, hidden

    # Sent without a file: the form's own check says so, and the keyboard is on the field.
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.get_by_text("Choisissez un fichier.")).to_be_visible()
    await expect(field).to_be_focused()
    await tab.shot("no-file")

    await field.set_input_files(files=[{"name": "compte-rendu.pdf", "mimeType": "application/pdf",
                                        "buffer": pdf("compte rendu")}])
    await expect(pick.get_by_text("compte-rendu.pdf")).to_be_visible()
    await expect(pick.get_by_text("Aucun fichier choisi")).to_have_count(0)
    await page.get_by_label("Titre du document").fill("Compte rendu")
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.get_by_text("« Compte rendu » est ajouté à votre dossier.")).to_be_visible()
    await expect(pick.get_by_text("Aucun fichier choisi")).to_be_visible()
    await expect(field).to_have_value("")

    await page.get_by_label("Langue").select_option("en")
    await expect(pick.get_by_text("Choose a file")).to_be_visible()
    await expect(pick.get_by_text("No file chosen")).to_be_visible()
    await tab.check("english")
