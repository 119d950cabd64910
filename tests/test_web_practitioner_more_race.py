"""/praticien in a real Chromium: a « Plus de résultats » still on its way when the practitioner
asks for another patient's record adds nothing to it (the other record is not shown again with
that page), and two sections' pages asked for together are both added."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Route, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import Server, browser, server, signed_in_tab, wait_for
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_page_on_its_way_is_not_added_to_another_record(server: Server, browser: Browser) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    first, first_record = await factories.patient(email="plus.course.a@example.test", first_name="Alice",
                                                  last_name="Premiere")
    for day in range(1, 12):
        await factories.entry(first_record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
        await factories.entry(first_record, Section.ALLERGIES, title=f"Allergie {day:02d}", days_ago=day)
    second, second_record = await factories.patient(email="plus.course.b@example.test", first_name="Bruno",
                                                    last_name="Second")
    await factories.entry(second_record, Section.MEDICATIONS, title="Paracétamol", days_ago=2)
    sections = [Section.MEDICATIONS.value, Section.ALLERGIES.value]
    for patient in (first, second):
        cookies = {config.settings().session_cookie: await session_for(patient)}
        await server.grant_from_directory(cookies, doctor.last_name, sections)

    tab = await signed_in_tab(browser, server, "practitioner-more-race", doctor)
    page = tab.page
    await page.goto("/praticien")
    ins = page.get_by_label("Numéro INS (numéro de sécurité sociale)").first

    async def consult(record_ins: str) -> None:
        await ins.fill(record_ins)
        await page.get_by_role("button", name="Consulter").click()

    held: list[Route] = []

    async def hold(route: Route) -> None:
        if "$after" in (route.request.post_data or ""):
            held.append(route)
        else:
            await route.continue_()

    async def release() -> None:
        """Lets the held pages go, and waits until the page has them (its next task runs after)."""
        requests = [route.request for route in held]
        for route in held:
            await route.continue_()
        held.clear()
        for request in requests:
            response = await request.response()
            assert response is not None
            await response.finished()
        await page.evaluate("() => new Promise((done) => setTimeout(done, 0))")

    # Two sections' pages asked for together: both are added.
    await consult(first_record.ins)
    await expect(page.get_by_text("20 informations affichées")).to_be_visible()
    await page.route("**/graphql", hold)
    await page.get_by_role("button", name="Plus de résultats : Médicaments").click()
    await page.get_by_role("button", name="Plus de résultats : Allergies").click()
    await wait_for(lambda: len(held) == 2, "both pages asked for")
    await release()
    await expect(page.get_by_text("22 informations affichées")).to_be_visible()
    await expect(page.get_by_role("heading", name="Médicament 11")).to_be_visible()
    await expect(page.get_by_role("heading", name="Allergie 11")).to_be_visible()

    # A page of the first record on its way while the second is asked for: not added to it.
    await consult(first_record.ins)
    await expect(page.get_by_text("20 informations affichées")).to_be_visible()
    await page.get_by_role("button", name="Plus de résultats : Médicaments").click()
    await wait_for(lambda: held, "the page asked for")
    await consult(second_record.ins)
    await expect(page.get_by_role("heading", name="Bruno Second")).to_be_visible()
    await release()
    await page.unroute("**/graphql", hold)
    await expect(page.get_by_role("heading", name="Bruno Second")).to_be_visible()
    await expect(page.get_by_role("heading", name="Alice Premiere")).to_have_count(0)
    await expect(page.get_by_text("1 information affichée")).to_be_visible()
    await tab.check("more-of-another-record")
