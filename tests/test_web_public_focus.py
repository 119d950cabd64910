"""The public forms by keyboard at a phone's width, in a real Chromium: their buttons are disabled
while the server answers, so the keyboard must not be left on the page body. A refusal of the
long activation form takes the focus (and so comes into view above the form, what was typed
kept); the forgotten password's code field takes it when it appears, a wrong code's refusal
takes it, and so does « mot de passe changé » once the form is gone."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, open_tab, server
from tests.factories import PASSWORD

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_refused_activation_is_said_in_sight(server: Server, browser: Browser) -> None:
    tab = await open_tab(browser, server, "activation-refused", "mobile")
    page = tab.page
    await page.goto("/activation")
    ins = factories.new_ins()
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").fill(ins)
    await page.get_by_label("Code d'activation").fill("PAS-LE-BON")
    await page.get_by_label("Adresse e-mail").fill("nouveau.patient@example.test")
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Activer mon dossier").click()
    # Read as it takes the focus, it is no live region too (announced once).
    refusal = page.locator(".error")
    await expect(refusal).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(refusal).to_be_in_viewport()
    await expect(page.get_by_label("Numéro INS (numéro de sécurité sociale)")).to_have_value(ins)
    await tab.check("refused")


async def test_the_forgotten_password_steps_keep_the_keyboard(server: Server, browser: Browser) -> None:
    email = "oubli.clavier@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "reset-focus", "mobile")
    page = tab.page
    await page.goto("/mot-de-passe-oublie")
    await page.get_by_label("Identifiant").fill(email)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Recevoir un code").click()
    await expect(page.get_by_label("Code reçu")).to_be_focused()
    code = await server.next_code(email)

    await page.get_by_label("Code reçu").fill("000000" if code != "000000" else "111111")
    await page.get_by_label("Nouveau mot de passe").fill("un-tout-nouveau-mot-de-passe")
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    refusal = page.locator(".error")
    await expect(refusal).to_be_focused()

    await page.get_by_label("Code reçu").fill(code)
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    done = page.locator(".notice").filter(has_text="Votre mot de passe a été changé.")
    await expect(done).to_be_focused()
    await tab.check("done")
