"""The forgotten password's code step offers « Recommencer », as the sign-in's does, in a real
Chromium at a phone's width: an identifier mistyped gets no code, and the person needs a way back
that is on the page (not only the browser's Back). It returns to the first step with the
identifier as typed and the keyboard on it, goes back in the browser's history as Back does, and
Forward does not show that request's code step again; the next request sends a code that works."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, open_tab, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_starting_the_reset_again_from_its_code_step(server: Server, browser: Browser) -> None:
    email = "oubli.recommence@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "reset-restart", "mobile")
    page = tab.page
    await page.goto("/mot-de-passe-oublie")
    await page.get_by_label("Identifiant").fill("oubli.recommence@example.tset")  # mistyped
    await page.get_by_role("button", name="Recevoir un code").click()
    await expect(page.get_by_label("Code reçu")).to_be_focused()
    await tab.shot("code-step")

    await page.get_by_role("button", name="Recommencer").click()
    identifier = page.get_by_label("Identifiant")
    await expect(identifier).to_be_focused()
    await expect(identifier).to_have_value("oubli.recommence@example.tset")
    await expect(page.get_by_label("Code reçu")).to_have_count(0)
    await page.wait_for_function("history.state === null")  # back to the first step's entry
    await page.go_forward()
    await expect(page.get_by_label("Code reçu")).to_have_count(0)
    await expect(identifier).to_be_visible()

    await identifier.fill(email)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Recevoir un code").click()
    await page.get_by_label("Code reçu").fill(await server.next_code(email))
    await page.get_by_label("Nouveau mot de passe").fill("un-tout-nouveau-mot-de-passe")
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    await expect(page.get_by_text("Votre mot de passe a été changé.")).to_be_visible()
    await tab.check("changed")
