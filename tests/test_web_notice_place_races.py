"""On /partage, an action answered once another has started (a search made while a revocation was
under way, a revocation while a search was) is applied, but its notice or error is not said
beside the other one's (« X n'a plus accès » under the search, a refused search in the grants):
a notice belongs to its action (docs/frontend.md), and is said where its button was pressed
(test_web_notice_place.py). In a real Chromium at a phone's width (360×740).
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Page, Route, expect

from backend import config
from backend.domain.enums import Profession
from backend.models import Grant
from tests import factories
from tests.browser import Server, browser, in_view, patient_signed_in, server
from tests.conftest import session_for
from tests.test_web_notice_place import pharmacists_granted, pro_card, to_sharing

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def held(page: Page, marker: str) -> tuple[asyncio.Event, asyncio.Event]:
    """GraphQL requests whose body names `marker` wait for the returned `release` event; `seen`
    is set once one is waiting."""
    seen, release = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        if marker in (route.request.post_data or ""):
            seen.set()
            await release.wait()
        await route.continue_()

    await page.route("**/graphql", hold)
    return seen, release


async def test_sharing_says_no_action_s_notice_beside_another_started_meanwhile(
    server: Server, browser: Browser
) -> None:
    email = "partage.avis.courses@example.test"
    patient, record = await factories.patient(email=email)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    granted = await pharmacists_granted(server, cookies, 2)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)

    tab = await patient_signed_in(browser, server, "notice-races", email)
    page = tab.page
    grants, results = await to_sharing(page)
    await expect(grants.locator("li.card")).to_have_count(2)
    first, second = granted

    # Sections saved for one professional while the choice is opened for another: the first is
    # saved, « Accès accordé » is not said in its card, and the choice just opened stays open.
    seen, release = await held(page, "grantAccess")
    await pro_card(grants, first).get_by_role("button", name="Modifier les rubriques").click()
    await pro_card(grants, first).get_by_label("Vaccinations").check()
    await pro_card(grants, first).get_by_role("button", name="Partager ces rubriques").click()
    await seen.wait()
    await pro_card(grants, second).get_by_role("button", name="Modifier les rubriques").click()
    release.set()
    await expect(pro_card(grants, first).get_by_text("Vaccinations", exact=True)).to_be_visible()
    still_open = pro_card(grants, second).get_by_role("button", name="Partager ces rubriques")
    await expect(still_open).to_be_visible()
    await expect(page.locator(".notice").filter(has_text="Accès accordé")).to_have_count(0)
    await page.unroute("**/graphql")
    await pro_card(grants, second).get_by_role("button", name="Annuler").click()

    # A revocation under way when a search is made: the access is withdrawn, but « n'a plus
    # accès » is not said under the search, which found the doctor.
    seen, release = await held(page, "revokeAccess")
    await pro_card(grants, first).get_by_role("button", name="Retirer l'accès").click()
    await seen.wait()
    await page.get_by_label("Rechercher un professionnel").fill(doctor.last_name)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    await expect(pro_card(results, doctor)).to_have_count(1)
    release.set()
    await expect(grants.locator("li.card")).to_have_count(1)
    assert await Grant.filter(record=record).count() == 1
    await expect(page.locator(".notice").filter(has_text="n'a plus accès")).to_have_count(0)
    await expect(page.locator("li.said")).to_have_count(0)
    await page.unroute("**/graphql")
    await tab.check("revoked-meanwhile-not-said")

    # A search under way (refused: too many) when an access is revoked: the revocation is said
    # where its card was, the search's refusal is not said beside it.
    async def refused(route: Route) -> None:
        if "practitionerDirectory" in (route.request.post_data or ""):
            searching.set()
            await answer.wait()
            await route.fulfill(json={"data": None, "errors": [
                {"message": "slow down", "extensions": {"code": "RATE_LIMITED"}}]})
        else:
            await route.continue_()

    searching, answer = asyncio.Event(), asyncio.Event()
    await page.route("**/graphql", refused)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    await searching.wait()
    await pro_card(grants, second).get_by_role("button", name="Retirer l'accès").click()
    said = page.locator(".notice").filter(has_text=f"{second.display_name} n'a plus accès")
    await expect(said).to_be_focused()
    answer.set()
    await expect(results).to_have_count(0)  # that search's answer: no results shown
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(said).to_have_count(1)

    # The same refusal, with no other action started: said under the search, readable, in view.
    answer.clear()
    searching.clear()
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    await searching.wait()
    answer.set()
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("Trop de tentatives. Réessayez plus tard.")
    await expect(said).to_have_count(0)
    await expect(page.get_by_role("button", name="Rechercher", exact=True)).to_be_focused()
    assert await in_view(page, alert)
    await page.unroute("**/graphql")
    await tab.check("search-refused-under-it")
