"""Changing the account's e-mail address and phone number from the page, in a real Chromium.

A code goes to the new address or number; the change is made when it is typed. Without a
second factor from the last minutes, the page asks for one first, then goes on by itself.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, expect

from backend import clock
from backend.models import Account, Session
from tests import factories
from tests.browser import Server, browser, confirm_it_is_you, open_tab, server, sign_in_with_code

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_patient_changes_e_mail_then_phone_with_codes(
    server: Server, browser: Browser, viewport: str
) -> None:
    old = f"ancienne.{viewport}@example.test"
    new = f"nouvelle.{viewport}@example.test"
    phone = "+33 6 12 34 56 78" if viewport == "mobile" else "+33 7 98 76 54 32"
    patient, _ = await factories.patient(email=old)
    taken, _ = await factories.patient(email=f"prise.{viewport}@example.test")
    tab = await open_tab(browser, server, "contacts", viewport)
    page = tab.page
    await sign_in_with_code(tab, server, old)
    await expect(page).to_have_url(f"{server.origin}/dossier")

    await page.get_by_role("link", name="Sécurité", exact=True).click()
    await page.get_by_role("link", name="Changer mon adresse e-mail ou mon numéro de téléphone").click()
    await expect(page).to_have_url(f"{server.origin}/securite/coordonnees")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Adresse e-mail et téléphone")
    # A page under "Sécurité": the menu says that is where one is; the way back in the page
    # is not the current page.
    menu = page.get_by_role("navigation", name="Navigation principale")
    await expect(menu.get_by_role("link", name="Sécurité", exact=True)).to_have_attribute(
        "aria-current", "true")
    await expect(menu.locator("[aria-current]")).to_have_count(1)
    await expect(page.get_by_role("link", name="Retour à la sécurité du compte")).not_to_have_attribute(
        "aria-current", re.compile(".*"))
    await tab.check("contacts")

    email_form = page.get_by_role("form", name="Adresse e-mail")
    phone_form = page.get_by_role("form", name="Téléphone")
    # The screen says what the address and number are now.
    await expect(email_form.get_by_text(f"Adresse actuelle : {old}")).to_be_visible()
    await expect(phone_form.get_by_text("Aucun numéro de téléphone enregistré.")).to_be_visible()
    # An address another account uses is refused, and said why.
    await email_form.get_by_label("Nouvelle adresse e-mail").fill(taken.email)
    await email_form.get_by_role("button", name="Envoyer un code à cette adresse").click()
    await expect(email_form.locator(".error")).to_contain_text(
        "Cette adresse e-mail ne peut pas être utilisée.")

    # Signed in a moment ago: the code goes straight to the new address.
    await email_form.get_by_label("Nouvelle adresse e-mail").fill(new)
    server.skip_existing_mail()
    await email_form.get_by_role("button", name="Envoyer un code à cette adresse").click()
    await expect(email_form.get_by_text("Un code à 6 chiffres a été envoyé à n•••@e•••.test")).to_be_visible()
    code = await server.next_code(new)
    # A wrong code changes nothing.
    await email_form.get_by_label("Code reçu").fill("000000" if code != "000000" else "111111")
    await email_form.get_by_role("button", name="Valider").click()
    await expect(email_form.locator(".error")).to_contain_text("Le code n'est pas le bon.")
    assert (await Account.get(id=patient.id)).email == old
    await email_form.get_by_label("Code reçu").fill(code)
    await email_form.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Votre adresse e-mail est modifiée")).to_be_visible()
    changed = await Account.get(id=patient.id)
    assert changed.email == new and changed.email_verified
    await expect(email_form.get_by_label("Nouvelle adresse e-mail")).to_have_value("")
    # The address shown is the new one, read again from the server.
    await expect(email_form.get_by_text(f"Adresse actuelle : {new}")).to_be_visible()
    await expect(page.get_by_text(old)).to_have_count(0)
    await tab.check("contacts-email-changed")

    # Later (the sign-in is 11 minutes old): a code to confirm it is them, then the change.
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11))
    await phone_form.get_by_label("Nouveau numéro de téléphone").fill(phone)
    await phone_form.get_by_role("button", name="Envoyer un code à ce numéro").click()
    fresh = page.get_by_role("group", name="Confirmez que c'est bien vous")
    await expect(fresh).to_be_visible()
    assert (await Account.get(id=patient.id)).pending_phone is None
    # The confirmation code goes to the address just confirmed.
    await confirm_it_is_you(tab, server, new)
    await expect(fresh).to_have_count(0)
    await expect(phone_form.get_by_text("Un code à 6 chiffres a été envoyé à")).to_be_visible()
    await phone_form.get_by_label("Code reçu").fill(await server.next_code(phone))
    # Until the code comes back, the number is still none.
    await expect(phone_form.get_by_text("Aucun numéro de téléphone enregistré.")).to_be_visible()
    await phone_form.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Votre numéro de téléphone est modifié.")).to_be_visible()
    await expect(phone_form.get_by_text(f"Numéro actuel : {phone.replace('+33 ', '0')}")).to_be_visible()
    await expect(email_form.get_by_text(f"Adresse actuelle : {new}")).to_be_visible()
    # The e-mail's notice was about an earlier action: it went when this one started.
    await expect(page.get_by_text("Votre adresse e-mail est modifiée")).to_have_count(0)
    changed = await Account.get(id=patient.id)
    assert changed.phone == phone and changed.phone_verified
    await tab.check("contacts-phone-changed")
    # A page width of 360 px never scrolls sideways.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The new address signs in; the way back to the security screen is there.
    await page.get_by_role("link", name="Retour à la sécurité du compte").click()
    await expect(page).to_have_url(f"{server.origin}/securite")
    await expect(menu.get_by_role("link", name="Sécurité", exact=True)).to_have_attribute(
        "aria-current", "page")
    await page.get_by_role("button", name="Se déconnecter", exact=True).click()
    await sign_in_with_code(tab, server, new)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await tab.context.close()
