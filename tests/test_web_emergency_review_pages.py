"""The emergency accesses to review (/historique) in a real Chromium, in pages: 20 shown, then
« Afficher plus » adds the rest and leaves the keyboard on their count; an acknowledged access
may still be reported (the same comment step as a pending one), a reported one offers neither
button; an acknowledgement refused because the access was reported elsewhere says so in the
page's words and shows the access as it now is."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from backend import clock, config
from backend.domain.enums import AccessAction, EmergencyKind, ReviewState
from backend.models import AccessEvent, EmergencySession, Practitioner, Record
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

REPORT = "mutation($id: ID!) { reportEmergencyAccess(id: $id) { reviewState } }"


async def _openings(record: Record, practitioner: Practitioner, count: int,
                    states: dict[int, ReviewState]) -> list[EmergencySession]:
    """`count` break-glass openings a minute apart, n°00 the oldest; `states` by number."""
    start = clock.now() - dt.timedelta(days=1)
    rows = [
        EmergencySession(
            id=uuid.uuid4(), record=record, practitioner=practitioner, kind=EmergencyKind.BREAK_GLASS,
            reason=f"Patient inconscient, passage n°{n:02d}",
            opened_at=start + dt.timedelta(minutes=n), expires_at=start + dt.timedelta(minutes=n, hours=1),
            review_state=states.get(n, ReviewState.PENDING),
        )
        for n in range(count)
    ]
    await EmergencySession.bulk_create(rows)
    return rows


def _reviews(page: Page) -> Locator:
    return page.get_by_role("region", name="Accès d'urgence à examiner")


def _card(reviews: Locator, n: int) -> Locator:
    return reviews.locator("li.card", has_text=f"passage n°{n:02d}")


async def test_twenty_then_more_and_an_acknowledged_access_reported(server: Server, browser: Browser) -> None:
    email = "urgences.pages@example.test"
    _, record = await factories.patient(email=email)
    _, practitioner = await factories.practitioner()
    rows = await _openings(record, practitioner, 25, {2: ReviewState.ACKNOWLEDGED, 20: ReviewState.REPORTED})
    tab = await patient_signed_in(browser, server, "emergency-review-pages", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    reviews = _reviews(page)
    cards = reviews.locator("li.card")
    await expect(cards).to_have_count(20)
    await expect(reviews.get_by_role("status")).to_have_text("25 accès d'urgence")
    # Newest first: n°24 .. n°05; the five oldest wait for « Afficher plus ».
    await expect(cards.first).to_contain_text("passage n°24")
    await expect(_card(reviews, 4)).to_have_count(0)
    # A pending access: both buttons; a reported one: neither, only the block a report is not
    # (test_web_emergency_report_block.py).
    await expect(_card(reviews, 21).get_by_role("button")).to_have_text(
        ["C'était justifié", "Signaler comme injustifié"])
    await expect(_card(reviews, 20)).to_contain_text("Vous l'avez signalé")
    await expect(_card(reviews, 20).get_by_role("button")).to_have_text(["Bloquer ce professionnel"])

    more = reviews.get_by_role("button", name="Afficher plus")
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(cards).to_have_count(25)
    await expect(more).to_have_count(0)
    counted = reviews.locator("p").filter(has_text="25 accès d'urgence")
    await expect(counted).to_be_focused()
    await expect(counted.get_by_role("status")).to_have_count(0)  # read as focused, not announced too
    await tab.check("all-shown")

    # An acknowledged access (on the second page): only « Signaler comme injustifié ».
    acknowledged = _card(reviews, 2)
    await expect(acknowledged).to_contain_text("Vous l'avez accepté")
    await expect(acknowledged.get_by_role("button")).to_have_text(["Signaler comme injustifié"])
    await acknowledged.get_by_role("button", name="Signaler comme injustifié").click()
    comment = acknowledged.get_by_label("Commentaire (facultatif)")
    await expect(comment).to_be_focused()
    await page.keyboard.type("Je ne connaissais pas ce service")
    await acknowledged.get_by_role("button", name="Envoyer le signalement").click()
    await expect(acknowledged).to_contain_text("Vous l'avez signalé")
    await expect(acknowledged.get_by_role("button")).to_have_text(["Bloquer ce professionnel"])
    await expect(acknowledged.get_by_role("heading", level=3)).to_be_focused()
    # Reviewed in place: the pages shown stay shown.
    await expect(cards).to_have_count(25)
    assert (await EmergencySession.get(id=rows[2].id)).review_state == ReviewState.REPORTED
    assert await AccessEvent.filter(record_id=record.id, action=AccessAction.EMERGENCY_REVIEWED).count() == 1
    await expect(page.get_by_role("alert")).to_have_count(0)
    await tab.check("acknowledged-reported")
    await tab.context.close()


async def test_an_access_reported_elsewhere_is_not_acknowledged(server: Server, browser: Browser) -> None:
    email = "urgences.conflit@example.test"
    patient, record = await factories.patient(email=email)
    _, practitioner = await factories.practitioner()
    rows = await _openings(record, practitioner, 22, {})
    tab = await patient_signed_in(browser, server, "emergency-review-conflict", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    reviews = _reviews(page)
    cards = reviews.locator("li.card")
    await expect(cards).to_have_count(20)
    await reviews.get_by_role("button", name="Afficher plus").click()
    await expect(cards).to_have_count(22)
    oldest = _card(reviews, 0)
    await expect(oldest).to_contain_text("À examiner")

    # Meanwhile the patient reports it from another device.
    cookies = {config.settings().session_cookie: await session_for(patient)}
    reported = await server.gql(REPORT, {"id": str(rows[0].id)}, cookies=cookies)
    assert reported["data"]["reportEmergencyAccess"]["reviewState"] == "REPORTED", reported
    events = await AccessEvent.filter(record_id=record.id).count()

    await oldest.get_by_role("button", name="C'était justifié").click()
    said = reviews.locator(".error")
    await expect(said).to_contain_text("Cet accès a déjà été signalé comme injustifié")
    await expect(said).to_be_focused()
    await expect(said.get_by_role("alert")).to_have_count(0)  # read as focused, not announced too
    await expect(oldest).to_contain_text("Vous l'avez signalé")
    await expect(oldest.get_by_role("button")).to_have_text(["Bloquer ce professionnel"])
    await expect(cards).to_have_count(22)
    assert (await EmergencySession.get(id=rows[0].id)).review_state == ReviewState.REPORTED
    assert await AccessEvent.filter(record_id=record.id).count() == events
    await tab.check("reported-elsewhere")
    await tab.context.close()
