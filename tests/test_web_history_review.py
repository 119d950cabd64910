"""Reporting an emergency access as unjustified (/historique), by keyboard, in a real Chromium:
« Signaler comme injustifié » opens the comment's field, which takes the keyboard; the report
can be left with « Annuler », which sends nothing and gives the keyboard back to the button."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.models import AccessEvent
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_report_opens_on_its_comment_and_can_be_cancelled(server: Server, browser: Browser) -> None:
    email = "signalement.annule@example.test"
    _, record = await factories.patient(email=email)
    await server.break_glass(record.ins, "Patient inconscient aux urgences")
    tab = await patient_signed_in(browser, server, "history-report-cancelled", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    card = page.locator("li.card", has_text="Patient inconscient aux urgences").filter(has_text="À examiner")
    report = card.get_by_role("button", name="Signaler comme injustifié")
    await report.focus()
    await page.keyboard.press("Enter")
    comment = card.get_by_label("Commentaire (facultatif)")
    await expect(comment).to_be_focused()
    await page.keyboard.type("Je ne connais pas ce médecin")
    before = await AccessEvent.filter(record_id=record.id).count()
    await card.get_by_role("button", name="Annuler").click()
    await expect(comment).to_have_count(0)
    await expect(report).to_be_focused()
    await expect(card.get_by_text("À examiner")).to_be_visible()
    assert await AccessEvent.filter(record_id=record.id).count() == before
    await tab.check("report-cancelled")
