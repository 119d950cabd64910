"""The security screen (/securite) in a real Chromium, at phone width: a refused password change
keeps what was typed and says why beside the form, where the keyboard goes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.auth.passwords import verify_password
from backend.models import Account
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_wrong_current_password_keeps_the_fields_and_says_so_by_the_form(
    server: Server, browser: Browser
) -> None:
    email = "mdp.faux@example.test"
    account, _ = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "password-refused", email)
    page = tab.page
    await page.get_by_role("link", name="Sécurité").click()
    form = page.locator("form").filter(has=page.get_by_label("Mot de passe actuel"))
    await form.get_by_label("Mot de passe actuel").fill("pas-le-bon-mot-de-passe")
    await form.get_by_label("Nouveau mot de passe").fill("un-nouveau-secret-solide-7")
    await form.get_by_role("button", name="Changer le mot de passe").click()
    error = form.locator(".error")  # focused: read as such, no live region too
    await expect(error).to_contain_text("Le mot de passe actuel n'est pas le bon.")
    await expect(error).to_be_focused()
    await expect(error).to_be_in_viewport()
    await expect(form.get_by_label("Mot de passe actuel")).to_have_value("pas-le-bon-mot-de-passe")
    await expect(form.get_by_label("Nouveau mot de passe")).to_have_value("un-nouveau-secret-solide-7")
    stored = await Account.get(id=account.id)
    assert await verify_password(stored.password_hash, factories.PASSWORD)
    await tab.check("password-refused")

    # Corrected: changed, said by the form, and the fields emptied.
    await form.get_by_label("Mot de passe actuel").fill(factories.PASSWORD)
    await form.get_by_role("button", name="Changer le mot de passe").click()
    await expect(form.get_by_text("Votre mot de passe est changé.")).to_be_visible()
    await expect(form.get_by_role("alert")).to_have_count(0)
    await expect(form.get_by_label("Mot de passe actuel")).to_have_value("")
    await expect(form.get_by_label("Nouveau mot de passe")).to_have_value("")
    stored = await Account.get(id=account.id)
    assert await verify_password(stored.password_hash, "un-nouveau-secret-solide-7")
    await tab.context.close()
