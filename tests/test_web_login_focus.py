"""The sign-in's code step (/connexion) by keyboard, in a real Chromium: « Valider » is disabled
while the code is checked, so a wrong code's refusal takes the focus (not the page body), and
« Recommencer » brings the keyboard to the identifier, the first field of the first step. A
passkey not used (cancelled, or none on this device) is said where the keyboard then goes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, open_tab, server, sign_in_first_step

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_wrong_code_and_starting_again_keep_the_keyboard(server: Server, browser: Browser) -> None:
    email = "code.faux@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "login-wrong-code", "mobile")
    page = tab.page
    await sign_in_first_step(tab, server, email)
    code = await server.next_code(email)
    wrong = "000000" if code != "000000" else "111111"
    await page.get_by_label("Code reçu").fill(wrong)
    await page.get_by_label("Code reçu").press("Enter")
    refusal = page.locator(".error").filter(has_text="Le code n'est pas le bon.")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_count(0)  # read as focused, not announced too
    await expect(page.get_by_label("Code reçu")).to_have_value(wrong)
    await tab.shot("refused")

    await page.get_by_role("button", name="Recommencer").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page.get_by_label("Identifiant")).to_be_focused()
    await expect(page.get_by_label("Identifiant")).to_have_value(email)
    await tab.check("started-again")


async def test_a_passkey_that_was_not_used_says_so_and_keeps_the_keyboard(
    server: Server, browser: Browser
) -> None:
    tab = await open_tab(browser, server, "login-passkey-unused", "mobile")
    page = tab.page
    await tab.authenticator()  # holds no passkey for this site: the browser refuses
    await page.goto("/connexion")
    await page.get_by_role("button", name="Se connecter avec une clé d'accès").click()
    said = page.locator(".error").filter(has_text="La clé d'accès n'a pas été utilisée.")
    await expect(said).to_be_visible()
    await expect(said).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_count(0)  # read as focused, not announced too
    await tab.check("passkey-unused")
