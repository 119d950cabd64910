"""On /dossier, the notice of masking, unmasking or deleting an entry names the entry by its title.

It is said in the entry's card, or, once that card is no longer shown (deleted, hidden by a
filter), in the list where the card was: beside another entry's card. « L'information est
masquée. » said next to « Allergie au latex » read as being about the allergy; « L'information
« Vaccin antigrippal » est masquée. » does not. The title follows a change of language with the
rest of the notice, and a long one wraps at a phone's width (360×740), in a real Chromium.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.domain.enums import EntrySource, Section
from backend.models import Entry
from tests import factories
from tests.browser import VIEWPORTS, Server, browser, patient_signed_in, server
from tests.test_web_record import card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

PHONE = VIEWPORTS["mobile"]
# One word longer than the screen is wide: it wraps inside the notice, never widens the page.
LONG = "Compte-rendu-de-consultation-de-dermatologie-du-docteur-Durand-avec-ordonnance-jointe"


async def test_a_record_notice_names_its_entry_where_it_is_said(server: Server, browser: Browser) -> None:
    email = "dossier.avis.nomme@example.test"
    patient, record = await factories.patient(email=email)
    latex = await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=5)
    vaccine = await factories.entry(record, Section.VACCINATIONS, title="Vaccin antigrippal", days_ago=10)
    own = await factories.entry(record, Section.ALLERGIES, title=LONG, days_ago=15)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()

    tab = await patient_signed_in(browser, server, "notice-names-entry", email)
    page = tab.page
    await expect(page.get_by_text("3 informations affichées")).to_be_visible()
    notice = page.locator("p.notice")

    # Masked: said in its card, naming it.
    await card(page, vaccine.title).get_by_role("button", name="Masquer").click()
    await expect(card(page, vaccine.title).get_by_role("status")).to_have_text(
        "L'information « Vaccin antigrippal » est masquée.")
    assert (await Entry.get(id=vaccine.id)).masked

    # The allergies only: the vaccine's card is hidden, its notice is said where the card was,
    # beside the allergies' cards; it says which entry it is about, not the one next to it.
    await page.get_by_label("Rubrique").select_option("ALLERGIES")
    await expect(page.get_by_text("2 informations affichées")).to_be_visible()
    await expect(card(page, vaccine.title)).to_have_count(0)
    await expect(page.locator("ul.cards > li.said")).to_have_text(
        "L'information « Vaccin antigrippal » est masquée.")
    await expect(card(page, latex.title).locator("p.notice")).to_have_count(0)

    # In English, the same notice, the title kept as the patient wrote it.
    await page.get_by_label("Langue").select_option("en")
    await expect(notice).to_have_text("“Vaccin antigrippal” is masked.")
    await page.get_by_label("Language").select_option("fr")
    await expect(notice).to_have_text("L'information « Vaccin antigrippal » est masquée.")

    # Every section again: unmasked, in its card, naming it.
    await page.get_by_label("Rubrique").select_option("")
    await expect(page.get_by_text("3 informations affichées")).to_be_visible()
    await card(page, vaccine.title).get_by_role("button", name="Ne plus masquer").click()
    await expect(card(page, vaccine.title).get_by_role("status")).to_have_text(
        "L'information « Vaccin antigrippal » n'est plus masquée.")
    await expect(notice).to_have_count(1)
    assert not (await Entry.get(id=vaccine.id)).masked

    # Deleted, its card gone: said where it was, between the other cards, naming it; its long
    # title wraps inside the notice, and the page does not scroll sideways.
    await card(page, own.title).get_by_role("button", name="Supprimer").click()
    deleted = page.locator(".notice").filter(has_text=f"L'information « {LONG} » a été supprimée.")
    await expect(deleted).to_be_focused()
    await expect(deleted.get_by_role("status")).to_have_count(0)  # read as focused, not announced too
    await expect(card(page, own.title)).to_have_count(0)
    await expect(page.locator("ul.cards > li.said")).to_have_text(
        f"L'information « {LONG} » a été supprimée.")
    assert not await Entry.filter(id=own.id).exists()
    box = await deleted.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.get_by_label("Langue").select_option("en")
    await expect(notice).to_have_text(f"“{LONG}” was deleted.")
    await tab.check("deleted-named-in-english")
    await tab.context.close()
