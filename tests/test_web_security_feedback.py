"""Account security (/securite) at a phone's width, in a real Chromium: saving the channel of the
sign-in codes, at the bottom of a long screen, says « Enregistré. » beside that form, in sight,
not at the top of the screen."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_the_code_channel_says_saved_beside_its_form(server: Server, browser: Browser) -> None:
    email = "canal.vu@example.test"
    await factories.patient(email=email, phone="+33612345678")
    tab = await patient_signed_in(browser, server, "security-channel-saved", email)
    page = tab.page
    await page.get_by_role("link", name="Sécurité").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sécurité de mon compte")
    channel = page.get_by_role("group", name="Recevoir mes codes de connexion par")
    await channel.get_by_label("SMS").check()
    await page.get_by_role("button", name="Enregistrer", exact=True).last.click()
    saved = page.get_by_role("status").filter(has_text="Enregistré.")
    await expect(saved).to_have_count(1)
    await expect(saved).to_be_in_viewport()
    await tab.check("channel-saved")
