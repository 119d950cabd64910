"""/securite at a phone's width, in a real Chromium: a passkey renamed says « Enregistré. » in its
card, where « Renommer » was pressed and the keyboard is back, in sight (the top of the screen,
where it was said before, is out of sight once the name's field has been scrolled to)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser import Server, browser, in_view, server
from tests.test_web_saved_goes import patient_with_a_passkey

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_passkey_renamed_says_saved_in_its_card(server: Server, browser: Browser) -> None:
    email = "cle.renommee@example.test"
    tab, card = await patient_with_a_passkey(browser, server, "passkey-renamed-said", email)
    page = tab.page
    passkey = card("Téléphone")
    await expect(passkey).to_be_visible()

    await passkey.get_by_role("button", name="Renommer").click()
    await passkey.get_by_label("Nom de la clé").fill("Mon téléphone")
    await passkey.get_by_role("button", name="Enregistrer").click()
    renamed = card("Mon téléphone")
    saved = renamed.get_by_text("Enregistré.")
    await expect(saved).to_be_visible()
    await expect(renamed.get_by_role("button", name="Renommer Mon téléphone")).to_be_focused()
    assert await in_view(page, saved)
    # Said once, in the card: not at the top of the screen as well.
    await expect(page.get_by_text("Enregistré.")).to_have_count(1)
    await tab.check("renamed")
