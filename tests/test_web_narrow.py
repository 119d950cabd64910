"""The record at a phone's width (360 px), in a real Chromium: a document's long file name (no
space to break at, as scanners and hospitals name them) and a long title wrap inside their card,
and in the notice that names them; the screen never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.document_samples import pdf

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

LONG_NAME = "compte_rendu_operatoire_hopital_europeen_georges_pompidou_2026.pdf"
LONG_TITLE = "Hydroxyméthylglutaryl-coenzyme-A-réductase_inhibiteur_posologie_renforcée"
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def test_long_names_wrap_inside_their_card(server: Server, browser: Browser) -> None:
    email = "noms.longs@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "narrow-long-names", email)
    page = tab.page
    await page.get_by_role("link", name="Ajouter un document").click()
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": LONG_NAME, "mimeType": "application/pdf", "buffer": pdf("long")}])
    await page.get_by_label("Titre du document").fill(LONG_TITLE)
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.get_by_text("est ajouté à votre dossier")).to_be_visible()
    assert await page.evaluate(SIDEWAYS) == 0, "the notice scrolls sideways at 360 px"

    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    card = page.locator("li.card", has_text=LONG_TITLE)
    await expect(card.get_by_role("link", name=f"Télécharger {LONG_NAME}")).to_be_visible()
    await card.get_by_role("button", name="Voir le détail").click()
    await expect(card.get_by_text(LONG_NAME, exact=True)).to_be_visible()
    assert await page.evaluate(SIDEWAYS) == 0, "the record scrolls sideways at 360 px"
    box = await card.bounding_box()
    assert box and box["x"] + box["width"] <= 360
    await tab.check("record")
    await tab.context.close()
