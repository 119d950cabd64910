"""On /dossier, a notice or refusal said where its button was pressed (test_web_notice_place.py)
and moved by a change of the filters (its card hidden, then shown again; an entry deleted, said
where its card was, the list emptied then filled again) is shown where it now is, but not read
out again (role="status" / "alert" once) nor scrolled to: that pulled the screen away from the
filter the person is using, down to the card. In a real Chromium at a phone's width (360×740).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, Route, expect

from backend.domain.enums import EntrySource, Section
from backend.models import Entry
from tests import factories
from tests.browser import Server, browser, in_view, patient_signed_in, server
from tests.test_web_record import card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_notice_moved_by_the_record_filters_is_not_said_nor_scrolled_to_again(
    server: Server, browser: Browser
) -> None:
    email = "dossier.avis.filtres@example.test"
    patient, record = await factories.patient(email=email)
    for day in range(1, 9):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
    allergy = await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=20)
    own = await factories.entry(record, Section.ALLERGIES, title="Ma note", days_ago=25)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()
    low = await factories.entry(record, Section.VACCINATIONS, title="Vaccin grippe", days_ago=29)

    tab = await patient_signed_in(browser, server, "notice-filters", email)
    page = tab.page
    await expect(page.get_by_text("11 informations affichées")).to_be_visible()
    section = page.get_by_label("Rubrique")
    said = page.locator("p.notice, div.error")

    # Masked at the bottom of the list: said in its card, as a status.
    vaccine = card(page, low.title)
    await vaccine.get_by_role("button", name="Masquer").click()
    await expect(vaccine.get_by_role("status")).to_have_text(f"L'information « {low.title} » est masquée.")

    # The allergies only (the filter chosen by keyboard): the vaccine's notice is shown where its
    # card was, not said again.
    await section.focus()
    await section.select_option("ALLERGIES")
    await expect(page.get_by_text("2 informations affichées")).to_be_visible()
    await expect(said).to_have_text(f"L'information « {low.title} » est masquée.")
    await expect(page.get_by_role("status").filter(has_text="masquée")).to_have_count(0)

    # Every section again, from the filter at the top: back in the vaccine's card, neither said
    # again nor scrolled to: the screen stays on the filter, which keeps the keyboard.
    await section.select_option("")
    await expect(page.get_by_text("11 informations affichées")).to_be_visible()
    await expect(vaccine.locator("p.notice")).to_have_text(f"L'information « {low.title} » est masquée.")
    await expect(page.get_by_role("status").filter(has_text="masquée")).to_have_count(0)
    await expect(section).to_be_focused()
    assert await in_view(page, section)
    await tab.check("moved-by-the-filters")

    # A refusal (too many tries) in the allergy's card: an alert there, readable; moved by the
    # filters, it is not read out again, and the screen stays on the filter.
    async def too_many(route: Route) -> None:
        if "maskEntry" in (route.request.post_data or ""):
            await route.fulfill(json={"data": None, "errors": [
                {"message": "slow down", "extensions": {"code": "RATE_LIMITED"}}]})
        else:
            await route.continue_()

    await page.route("**/graphql", too_many)
    latex = card(page, allergy.title)
    await latex.get_by_role("button", name="Masquer").click()
    refused = [f"Masquer « {allergy.title} » :", "Trop de tentatives. Réessayez plus tard."]
    await expect(latex.get_by_role("alert").locator("p")).to_have_text(refused)
    await expect(said).to_have_count(1)
    await page.unroute("**/graphql", too_many)
    assert not (await Entry.get(id=allergy.id)).masked
    await section.focus()
    await section.select_option("VACCINATIONS")
    await expect(page.get_by_text("1 information affichée")).to_be_visible()
    await expect(said.locator("p")).to_have_text(refused)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await section.select_option("")
    await expect(latex.locator("div.error")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(section).to_be_focused()
    assert await in_view(page, section)

    # Deleted, said where its card was, with the keyboard. A date typed in « Du » that leaves
    # nothing to show, then taken away: the notice moves under « nothing » and back into the
    # list, not said again; the keyboard and the screen stay on the date field.
    await card(page, own.title).get_by_role("button", name="Supprimer").click()
    # Read as it takes the focus, it is no live region (announced once); moved, it is none either.
    notice = page.locator(".notice").filter(has_text=f"L'information « {own.title} » a été supprimée.")
    deleted = page.get_by_role("status").filter(has_text=f"L'information « {own.title} » a été supprimée.")
    await expect(notice).to_be_focused()
    await expect(deleted).to_have_count(0)
    assert not await Entry.filter(id=own.id).exists()
    since = page.get_by_label("Du")
    await since.fill(dt.date.today().isoformat())
    await expect(page.get_by_text(re.compile(r"^0 information"))).to_be_visible()
    await expect(said).to_have_text(f"L'information « {own.title} » a été supprimée.")
    await expect(deleted).to_have_count(0)
    await since.fill("")
    await expect(page.get_by_text("10 informations affichées")).to_be_visible()
    await expect(page.locator("ul.cards > li.said")).to_have_text(
        f"L'information « {own.title} » a été supprimée.")
    await expect(deleted).to_have_count(0)
    await expect(since).to_be_focused()
    assert await in_view(page, since)
    await tab.check("deleted-moved-by-a-date")
