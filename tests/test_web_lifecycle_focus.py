"""Asking for the record's deletion with a sign-in that is not recent (/mon-compte), by keyboard,
in a real Chromium: the check that it is you can be cancelled at either of its steps, also once
the code is sent, and then the keyboard goes back to « Demander la suppression », nothing asked."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, expect

from backend import clock
from backend.domain.enums import RecordStatus
from backend.models import Record, Session
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("step", ["before-the-code", "after-the-code"])
async def test_cancelling_the_check_gives_the_focus_back(server: Server, browser: Browser, step: str) -> None:
    email = f"suppression.annulee.{step}@example.test"
    patient, record = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, f"lifecycle-cancel-{step}", email)
    page = tab.page
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11))
    await page.get_by_role("link", name="Mon compte").click()
    delete = page.get_by_role("button", name="Demander la suppression")
    await delete.click()  # the page's question is answered by patient_signed_in's handler
    check = page.get_by_role("group", name="Confirmez que c'est bien vous")
    await expect(check).to_be_visible()
    if step == "after-the-code":
        server.skip_existing_mail()
        await check.get_by_role("button", name="Recevoir un code").click()
        await expect(check.get_by_label("Code reçu")).to_be_focused()
        await server.next_code(email)
    await check.get_by_role("button", name="Annuler").click()
    await expect(check).to_have_count(0)
    await expect(delete).to_be_focused()
    assert (await Record.get(id=record.id)).status == RecordStatus.ACTIVE
    await tab.check("cancelled")
    await tab.context.close()
