"""Documents through the page, in a real Chromium (issue #11): a PDF goes in and comes back
byte-identical from the timeline; a fake or oversized file is refused with a clear message and
nothing is stored."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.models import Entry, StoredFile
from tests import factories
from tests.browser import Server, browser, server, signed_in_tab
from tests.document_samples import pdf

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_patient_uploads_a_pdf_and_downloads_it_back_identical(
    server: Server, browser: Browser
) -> None:
    account, record = await factories.patient(email="doc.pdf@example.test")
    tab = await signed_in_tab(browser, server, "documents", account)
    page = tab.page
    await page.goto("/documents")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")

    # A fake PDF (plain text, then a PDF cut before its cross-reference table, under a .pdf
    # name): refused, said clearly, nothing stored.
    for name, content in (("notes.pdf", b"just some text\n"), ("coupe.pdf", pdf("cut")[:120])):
        await page.get_by_label("Fichier").set_input_files(
            files=[{"name": name, "mimeType": "application/pdf", "buffer": content}])
        await page.get_by_label("Titre du document").fill(f"Faux {name}")
        await page.get_by_role("button", name="Envoyer le document").click()
        alert = page.locator(".error")  # focused: the button was disabled while it was sent
        await expect(alert).to_contain_text("Certaines informations saisies ne sont pas valables.")
        await expect(alert).to_contain_text(
            "Ce fichier n'est pas accepté : envoyez un PDF, un JPEG ou un PNG valable.")
        await expect(alert).not_to_contain_text("Accepted")  # not the server's English text
        await expect(page.get_by_text("est ajouté à votre dossier")).to_have_count(0)
        assert await Entry.filter(record_id=record.id).count() == 0
        assert await StoredFile.filter(record_id=record.id).count() == 0
    await tab.shot("fake-refused")

    # Over 20 MB: stopped on the page with the limit stated, nothing sent.
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    big = pdf("big") + b"%" + b"x" * (20 * 1024 * 1024) + b"\n"
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": "gros.pdf", "mimeType": "application/pdf", "buffer": big}])
    await page.get_by_label("Titre du document").fill("Trop gros")
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.locator(".error").filter(has_text="Ce fichier dépasse 20 Mo.")).to_be_focused()
    assert not sent, sent
    assert await StoredFile.filter(record_id=record.id).count() == 0
    await tab.check("too-big")

    # A real PDF: stored, listed on the timeline, downloaded back byte for byte.
    document = pdf("compte rendu")
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": "compte-rendu.pdf", "mimeType": "application/pdf", "buffer": document}])
    await page.get_by_label("Titre du document").fill("Compte rendu opératoire")
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.get_by_text("« Compte rendu opératoire » est ajouté à votre dossier.")).to_be_visible()
    assert await StoredFile.filter(record_id=record.id).count() == 1
    # The form is empty again, its file too: the browser shows no file that would not be sent.
    await expect(page.get_by_label("Fichier")).to_have_value("")
    await expect(page.get_by_label("Titre du document")).to_have_value("")
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    entry = page.locator("li.card").filter(
        has=page.get_by_role("heading", name="Compte rendu opératoire", exact=True))
    await expect(entry).to_have_count(1)
    async with page.expect_download() as info:
        await entry.get_by_role("link", name="Télécharger").click()
    download = await info.value
    assert (await download.path()).read_bytes() == document
    await tab.check("pdf-downloaded")
    await tab.context.close()
