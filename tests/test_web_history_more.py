"""The access history (/historique) in a real Chromium: "More" goes once the last page is shown,
and the keyboard's focus goes to the count of events rather than to the page body; filters that
find nothing say so to a screen reader, as the count does otherwise."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

UPDATE = ("mutation($input: EmergencyProfileInput!)"
          " { updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")


async def patient_with_a_long_history(server: Server, email: str) -> None:
    """A patient signed up as `email` whose access history holds more events than a page shows
    (20): 21 changes of their emergency profile, saved through the API."""
    patient, _ = await factories.patient(email=email)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    for n in range(21):  # more than a page of events (20)
        saved = await server.gql(UPDATE, {"input": {"advanceDirectives": f"version {n}",
                                                    "emergencyContacts": []}}, cookies=cookies)
        assert not saved.get("errors"), saved


async def test_the_last_more_of_the_history_leaves_the_focus_on_its_count(
    server: Server, browser: Browser
) -> None:
    email = "historique.suite@example.test"
    await patient_with_a_long_history(server, email)

    tab = await patient_signed_in(browser, server, "history-more", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    events = page.locator("ul.history > li")
    await expect(events).to_have_count(20)
    more = page.get_by_role("button", name="Afficher plus", exact=True)
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(more).to_have_count(0)
    assert await events.count() > 20
    # The count of events (a status announced when the filters change it; read here as focused).
    count = page.locator("p[tabindex='-1']").filter(has_text="événement")
    await expect(count).to_be_focused()
    await expect(count.get_by_role("status")).to_have_count(0)  # read as focused, not announced too
    await tab.check("history-more-last")
    await tab.context.close()


async def test_a_filter_that_finds_nothing_is_heard(server: Server, browser: Browser) -> None:
    email = "historique.vide@example.test"
    patient, _ = await factories.patient(email=email)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    saved = await server.gql(UPDATE, {"input": {"advanceDirectives": "aucune", "emergencyContacts": []}},
                             cookies=cookies)
    assert not saved.get("errors"), saved
    tab = await patient_signed_in(browser, server, "history-filter-empty", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    await expect(page.get_by_role("status").filter(has_text="événement")).to_be_visible()
    await page.get_by_label("Type d'événement").select_option(label="Dossier exporté")
    nothing = page.get_by_role("status").filter(has_text="Aucun événement pour ces critères.")
    await expect(nothing).to_be_visible()
    await tab.check("filter-empty")
