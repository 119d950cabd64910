"""A refusal past a rate limit, in a real Chromium (/partage's search of the directory): when the
service says when the limit's window ends (`extensions.retryAfter`, in seconds), the page says when
to try again, rounded up (« Réessayez dans 12 minutes. »); when it does not, « Réessayez plus
tard. » as before. The service's answer is made here (a route): reaching the directory's bound
would take hundreds of searches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser, Route, expect

from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


def _limited(extensions: dict[str, Any]) -> Any:
    """A route handler: the directory's search is refused (RATE_LIMITED, with `extensions`)."""
    async def answer(route: Route) -> None:
        if "practitionerDirectory" in (route.request.post_data or ""):
            await route.fulfill(content_type="application/json", body=json.dumps({"data": None, "errors": [
                {"message": "Too many searches", "extensions": {"code": "RATE_LIMITED", **extensions}}]}))
        else:
            await route.continue_()

    return answer


async def test_a_rate_limit_says_when_to_try_again(server: Server, browser: Browser) -> None:
    email = "limite.attente@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "rate-limited-wait", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")

    handler = _limited({"retryAfter": 690})
    await page.route("**/graphql", handler)
    await page.get_by_label("Rechercher un professionnel").fill("Martin")
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("Trop de tentatives.Réessayez dans 12 minutes.")
    await expect(alert.locator("p")).to_have_text(["Trop de tentatives.", "Réessayez dans 12 minutes."])
    await tab.check("minutes")

    # Worded in the page's language when it changes.
    await page.get_by_label("Langue").select_option("en")
    await expect(page.locator("div.error")).to_contain_text("Try again in 12 minutes.")
    await page.get_by_label("Language").select_option("fr")

    # Without retryAfter: as before.
    await page.unroute("**/graphql", handler)
    await page.route("**/graphql", _limited({}))
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    await expect(page.locator("div.error")).to_have_text("Trop de tentatives. Réessayez plus tard.")
    await expect(page.get_by_text("Réessayez dans")).to_have_count(0)
    await tab.check("later")
    await tab.context.close()
