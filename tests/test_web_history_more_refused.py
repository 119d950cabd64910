"""/historique at a phone's width, in a real Chromium: « Afficher plus » refused (a fault on the
service's side) is said under that button, where it was pressed at the bottom of a long list and
the keyboard stays, in sight; it was said above the list, out of sight. Pressed again, the next
page comes and the refusal goes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser import Server, browser, fault_on_next_page, in_view, patient_signed_in, server
from tests.test_web_history_more import patient_with_a_long_history

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_refused_more_of_the_history_is_said_under_its_button(server: Server,
                                                                      browser: Browser) -> None:
    email = "historique.refus@example.test"
    await patient_with_a_long_history(server, email)

    tab = await patient_signed_in(browser, server, "history-more-refused", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    events = page.locator("ul.history > li")
    await expect(events).to_have_count(20)

    fault = fault_on_next_page('"after"')
    await page.route("**/graphql", fault)
    more = page.get_by_role("button", name="Afficher plus", exact=True)
    await more.click()
    refused = page.locator(".error").filter(has_text="Une erreur est survenue de notre côté.")
    await expect(refused).to_be_visible()
    assert await refused.evaluate("(el) => el.previousElementSibling?.contains(document.activeElement)"), \
        "not said under « Afficher plus »"
    await expect(more).to_be_focused()
    assert await in_view(page, refused)
    await tab.shot("more-refused")

    await page.unroute("**/graphql", fault)
    await more.click()
    await expect(more).to_have_count(0)
    assert await events.count() > 20
    await expect(refused).to_have_count(0)
    await tab.check("more-loaded")
