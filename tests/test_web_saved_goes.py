"""« Enregistré. » beside a preferences' form speaks of what was saved, in a real Chromium at a
phone's width: on /partage (the emergency accesses, the e-mail notices) and on /securite (the
channel of the sign-in codes, a passkey's name), it goes as soon as that form is changed again (a
passkey's « Renommer » pressed again), which is not saved yet, and comes back with the next save."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests import factories
from tests.browser import Server, Tab, browser, patient_signed_in, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


def saved_beside(page: Page, form: Locator) -> Locator:
    """« Enregistré. » just after `form` (where its button's notice is said)."""
    return form.locator("xpath=following-sibling::*[1]").filter(has_text="Enregistré.")


async def patient_with_a_passkey(browser: Browser, server: Server, tab_name: str,
                                 email: str) -> tuple[Tab, Callable[[str], Locator]]:
    """A patient signed up as `email`, their tab on /securite with a passkey named « Téléphone »
    created through Chromium's virtual authenticator; and the card of a passkey by its name."""
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, tab_name, email)
    page = tab.page
    await tab.authenticator()
    await page.get_by_role("link", name="Sécurité").click()
    await page.get_by_label("Nom de la clé").fill("Téléphone")
    await page.get_by_role("button", name="Créer une clé d'accès").click()
    passkeys = page.get_by_role("list", name="Clés d'accès (passkeys)")

    def card(name: str) -> Locator:
        return passkeys.locator("li.card").filter(has=page.get_by_role("heading", name=name, exact=True))

    return tab, card


async def test_sharing_preferences_saved_goes_once_changed_again(server: Server, browser: Browser) -> None:
    email = "preferences.changees@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "sharing-saved-then-changed", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")

    emergency = page.get_by_role("form", name="Accès en cas d'urgence")
    saved = saved_beside(page, emergency)
    await emergency.get_by_role("checkbox", name="Autoriser l'accès d'urgence").uncheck()
    await emergency.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_be_visible()
    # Ticked again, not saved: nothing says it is (break-glass is still refused).
    await emergency.get_by_role("checkbox", name="Autoriser l'accès d'urgence").check()
    await expect(saved).to_have_count(0)
    await tab.shot("emergency-changed-after-save")
    await emergency.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_be_visible()

    notices = page.get_by_role("form", name="Avis par e-mail")
    saved = saved_beside(page, notices)
    await notices.get_by_role("checkbox").check()
    await notices.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_be_visible()
    await notices.get_by_role("checkbox").uncheck()
    await expect(saved).to_have_count(0)
    await tab.check("notices-changed-after-save")


async def test_code_channel_saved_goes_once_another_is_chosen(server: Server, browser: Browser) -> None:
    email = "canal.change@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "security-channel-saved-then-changed", email)
    page = tab.page
    await page.get_by_role("link", name="Sécurité").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sécurité de mon compte")

    channel = page.locator("form").filter(has=page.get_by_role("radio", name="SMS"))
    saved = saved_beside(page, channel)
    await channel.get_by_role("button", name="Enregistrer").click()
    await expect(saved).to_be_visible()
    await channel.get_by_role("radio", name="SMS").check()
    await expect(saved).to_have_count(0)
    await tab.check("channel-changed-after-save")


async def test_passkey_renamed_saved_goes_once_renamed_again(server: Server, browser: Browser) -> None:
    email = "cle.renommee.encore@example.test"
    tab, card = await patient_with_a_passkey(browser, server, "security-passkey-saved-then-renamed", email)
    passkey = card("Téléphone")
    await passkey.get_by_role("button", name="Renommer").click()
    await passkey.get_by_label("Nom de la clé").fill("Mon téléphone")
    await passkey.get_by_role("button", name="Enregistrer").click()
    renamed = card("Mon téléphone")
    saved = renamed.get_by_text("Enregistré.")
    await expect(saved).to_be_visible()
    # Renamed again, not saved yet: nothing says the name in the field is.
    await renamed.get_by_role("button", name="Renommer").click()
    await expect(renamed.get_by_label("Nom de la clé")).to_be_focused()
    await expect(saved).to_have_count(0)
    await tab.shot("passkey-renaming-again")
    await renamed.get_by_label("Nom de la clé").fill("Téléphone pro")
    await renamed.get_by_role("button", name="Enregistrer").click()
    await expect(card("Téléphone pro").get_by_text("Enregistré.")).to_be_visible()
    await tab.check("passkey-renamed-again")
