"""On /dossier, a refusal of masking, unmasking or deleting an entry names the entry first.

Its error's own text is generic (« Trop de tentatives. Réessayez plus tard. », « Introuvable :
cela n'existe pas, ou plus. »): said in the entry's card, or where that card was once a filter
hides it, beside another entry's card, it read as being about that other entry. A first line
« Masquer « Vaccin antigrippal » : » says which entry the refusal is about; it follows a change of
language. The deletion's question names the entry too. « Tout masquer », about no one entry, is
refused as before. In a real Chromium at a phone's width (360×740).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, Route, expect

from backend.domain.enums import EntrySource, Section
from backend.models import Entry
from tests import factories
from tests.browser import Server, browser, confirm_in_page, in_view, patient_signed_in, server
from tests.test_web_record import card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

TOO_MANY = "Trop de tentatives. Réessayez plus tard."
NOT_FOUND = "Introuvable : cela n'existe pas, ou plus."


def refusing(mutation: str, code: str) -> Callable[[Route], Awaitable[None]]:
    """A route that answers `mutation` with a refusal of `code`, and lets any other request by."""
    async def handle(route: Route) -> None:
        if re.search(rf"\b{mutation}\b", route.request.post_data or ""):
            await route.fulfill(json={"data": None, "errors": [
                {"message": "refused", "extensions": {"code": code}}]})
        else:
            await route.continue_()
    return handle


async def test_a_record_refusal_names_its_entry_where_it_is_said(server: Server, browser: Browser) -> None:
    email = "dossier.refus.nomme@example.test"
    patient, record = await factories.patient(email=email)
    latex = await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=5)
    vaccine = await factories.entry(record, Section.VACCINATIONS, title="Vaccin antigrippal", days_ago=10)
    own = await factories.entry(record, Section.ALLERGIES, title="Ma note", days_ago=15)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()
    knee = await factories.entry(record, Section.MEDICATIONS, title="Anti-inflammatoire", days_ago=20)
    knee.masked = True
    await knee.save()

    tab = await patient_signed_in(browser, server, "refusal-names-entry", email)
    page = tab.page
    # The confirmations are read here, not answered by the tab on its own.
    await page.remove_locator_handler(page.get_by_role("dialog"))
    await expect(page.get_by_text("4 informations affichées")).to_be_visible()
    said = page.locator("p.notice, div.error")

    # Masking refused (too many tries): in the vaccine's card, an alert that names it first, in
    # bold, then says why; the keyboard stays on « Masquer », the alert comes into view.
    too_many = refusing("maskEntry", "RATE_LIMITED")
    await page.route("**/graphql", too_many)
    mask = card(page, vaccine.title).get_by_role("button", name="Masquer")
    await mask.click()
    alert = card(page, vaccine.title).get_by_role("alert")
    await expect(alert.locator("p")).to_have_text(["Masquer « Vaccin antigrippal » :", TOO_MANY])
    assert int(await alert.locator("p strong").evaluate("e => getComputedStyle(e).fontWeight")) >= 600
    await expect(mask).to_be_focused()
    assert await in_view(page, alert)
    await expect(said).to_have_count(1)
    await page.unroute("**/graphql", too_many)
    assert not (await Entry.get(id=vaccine.id)).masked

    # The allergies only: the vaccine's card is hidden, its refusal is shown where the card was,
    # beside the allergies' cards (not read out again); it says it is about the vaccine.
    await page.get_by_label("Rubrique").select_option("ALLERGIES")
    await expect(page.get_by_text("2 informations affichées")).to_be_visible()
    await expect(card(page, vaccine.title)).to_have_count(0)
    await expect(page.locator("ul.cards > li.said div.error p")).to_have_text(
        ["Masquer « Vaccin antigrippal » :", TOO_MANY])
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(card(page, latex.title).locator("div.error")).to_have_count(0)
    await tab.check("refused-named-where-its-card-was")

    # In English, the same refusal, the title kept as the patient wrote it.
    await page.get_by_label("Langue").select_option("en")
    await expect(said.locator("p")).to_have_text(
        ["Mask “Vaccin antigrippal”:", "Too many attempts. Try again later."])
    await page.get_by_label("Language").select_option("fr")
    await expect(said.locator("p")).to_have_text(["Masquer « Vaccin antigrippal » :", TOO_MANY])
    await page.get_by_label("Rubrique").select_option("")
    await expect(page.get_by_text("4 informations affichées")).to_be_visible()

    # The deletion's question names the note, in English too (cancelled: nothing changes).
    await page.get_by_label("Langue").select_option("en")
    await card(page, own.title).get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("dialog").locator("p")).to_have_text(
        "Delete “Ma note”, which you added, for good?")
    await page.get_by_role("dialog").get_by_role("button", name="Cancel", exact=True).click()
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await page.get_by_label("Language").select_option("fr")

    # The allergy gone meanwhile (another tab, another device): masking it is refused by the
    # service as not found, named.
    await Entry.filter(id=latex.id).delete()
    await card(page, latex.title).get_by_role("button", name="Masquer").click()
    await expect(card(page, latex.title).get_by_role("alert").locator("p")).to_have_text(
        ["Masquer « Allergie au latex » :", NOT_FOUND])
    await expect(said).to_have_count(1)

    # Deleting the patient's own note: the question names it. Gone meanwhile, its deletion is
    # refused, named, in its card, which stays; the keyboard is back on « Supprimer ».
    await Entry.filter(id=own.id).delete()
    delete = card(page, own.title).get_by_role("button", name="Supprimer")
    await delete.click()
    await expect(page.get_by_role("dialog").locator("p")).to_have_text(
        "Supprimer définitivement l'information « Ma note » que vous avez ajoutée ?")
    await confirm_in_page(page, "Supprimer")
    await expect(card(page, own.title).get_by_role("alert").locator("p")).to_have_text(
        ["Supprimer « Ma note » :", NOT_FOUND])
    await expect(delete).to_be_focused()
    await expect(said).to_have_count(1)

    # Unmasking refused as forbidden: named, and the record is read again (its status may say why).
    forbidden = refusing("unmaskEntry", "FORBIDDEN")
    await page.route("**/graphql", forbidden)
    async with page.expect_request(lambda r: "myRecord" in (r.post_data or "")) as again:
        await card(page, knee.title).get_by_role("button", name="Ne plus masquer").click()
    assert "unmaskEntry" not in ((await again.value).post_data or "")
    await expect(card(page, knee.title).get_by_role("alert").locator("p")).to_have_text(
        ["Ne plus masquer « Anti-inflammatoire » :", "Vous n'avez pas accès à cette information."])
    await page.unroute("**/graphql", forbidden)
    assert (await Entry.get(id=knee.id)).masked

    # « Tout masquer », about no one entry, refused: at the top, its error alone, as before.
    refused_all = refusing("maskAllEntries", "RATE_LIMITED")
    await page.route("**/graphql", refused_all)
    await page.get_by_text("Masquer une information : qu'est-ce que cela change ?").click()
    await page.get_by_role("button", name="Tout masquer").click()
    await confirm_in_page(page, "Tout masquer")
    await expect(page.get_by_role("alert").locator("p")).to_have_text([TOO_MANY])
    await expect(said).to_have_count(1)
    await page.unroute("**/graphql", refused_all)
    assert not (await Entry.get(id=vaccine.id)).masked
    await tab.check("refusals-named")
    await tab.context.close()
