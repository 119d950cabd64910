"""Where the keyboard goes when a step appears or is cancelled, and what the sharing screen asks
before it acts, in a real Chromium at phone width (360 px): the check that it is the patient
takes the focus (and so comes into view), "Annuler" gives it back, a search too short to be
made says so instead of showing the previous results, and blocking a professional is
confirmed first, in the page's own modal dialog (never the browser's window.confirm)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, Dialog, expect

from backend import clock
from backend.auth.passwords import verify_password
from backend.domain.enums import Profession
from backend.models import Account, BlockedPractitioner, Grant, Session
from tests import factories
from tests.browser import Server, Tab, browser, open_tab, server, sign_in_with_code

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

CHECK = "Confirmez que c'est bien vous"


async def _signed_in(browser: Browser, server: Server, name: str, email: str) -> Tab:
    tab = await open_tab(browser, server, name, "mobile")
    await sign_in_with_code(tab, server, email)
    await expect(tab.page).to_have_url(f"{server.origin}/dossier")
    return tab


async def _no_longer_fresh(account: Account) -> None:
    """The sign-in's second factor is 11 minutes old: sensitive changes ask for it again."""
    await Session.filter(account_id=account.id).update(fresh_factor_at=clock.now() - dt.timedelta(minutes=11))


async def test_the_check_that_it_is_you_takes_the_focus_on_the_security_screen(
    server: Server, browser: Browser
) -> None:
    email = "focus.verif@example.test"
    account, _ = await factories.patient(email=email)
    tab = await _signed_in(browser, server, "focus-check", email)
    page = tab.page
    await page.get_by_role("link", name="Sécurité", exact=True).click()
    await _no_longer_fresh(account)

    # The password form is far below the top of the page, where the step appears.
    change = page.get_by_role("button", name="Changer le mot de passe")
    await page.get_by_label("Mot de passe actuel").fill(factories.PASSWORD)
    await page.get_by_label("Nouveau mot de passe").fill("un-nouveau-secret-solide-8")
    await change.click()
    check = page.get_by_role("group", name=CHECK)
    heading = check.get_by_role("heading", name=CHECK)
    await expect(heading).to_be_focused()
    await expect(heading).to_be_in_viewport()
    await tab.check("focus-check-asked")

    # Cancelled: back to the button that asked, nothing changed.
    await check.get_by_role("button", name="Annuler").click()
    await expect(check).to_have_count(0)
    await expect(change).to_be_focused()
    assert await verify_password((await Account.get(id=account.id)).password_hash, factories.PASSWORD)

    # Asked again, then the code: its field takes the keyboard once sent.
    await change.click()
    await expect(heading).to_be_focused()
    server.skip_existing_mail()
    await check.get_by_role("button", name="Recevoir un code").click()
    await expect(check.get_by_label("Code reçu")).to_be_focused()
    await page.keyboard.type(await server.next_code(email))
    await page.keyboard.press("Enter")
    await expect(check).to_have_count(0)
    await expect(page.get_by_text("Votre mot de passe est changé.")).to_be_visible()
    assert await verify_password(
        (await Account.get(id=account.id)).password_hash, "un-nouveau-secret-solide-8"
    )
    await tab.context.close()


async def test_cancel_on_the_contacts_screen_gives_the_focus_back_to_the_form(
    server: Server, browser: Browser
) -> None:
    email = "focus.annuler@example.test"
    account, _ = await factories.patient(email=email)
    tab = await _signed_in(browser, server, "focus-cancel", email)
    page = tab.page
    await page.get_by_role("link", name="Sécurité", exact=True).click()
    await page.get_by_role("link", name="Changer mon adresse e-mail ou mon numéro de téléphone").click()
    email_form = page.get_by_role("form", name="Adresse e-mail")
    phone_form = page.get_by_role("form", name="Téléphone")

    # "Annuler" on the code step: back to the address, as typed, where the keyboard goes.
    await email_form.get_by_label("Nouvelle adresse e-mail").fill("focus.autre@example.test")
    await email_form.get_by_role("button", name="Envoyer un code à cette adresse").click()
    await expect(email_form.get_by_label("Code reçu")).to_be_focused()
    await email_form.get_by_role("button", name="Annuler").click()
    field = email_form.get_by_label("Nouvelle adresse e-mail")
    await expect(field).to_be_focused()
    await expect(field).to_have_value("focus.autre@example.test")
    await expect(email_form.get_by_label("Code reçu")).to_have_count(0)
    assert (await Account.get(id=account.id)).email == email

    # The check that it is them, asked above the form, takes the focus; cancelled, back to the form.
    await _no_longer_fresh(account)
    await phone_form.get_by_label("Nouveau numéro de téléphone").fill("+33 6 11 22 33 44")
    await phone_form.get_by_role("button", name="Envoyer un code à ce numéro").click()
    check = page.get_by_role("group", name=CHECK)
    await expect(check.get_by_role("heading", name=CHECK)).to_be_focused()
    await tab.check("focus-cancel-check")
    await check.get_by_role("button", name="Annuler").click()
    await expect(check).to_have_count(0)
    await expect(phone_form.get_by_label("Nouveau numéro de téléphone")).to_be_focused()
    assert (await Account.get(id=account.id)).pending_phone is None
    await tab.context.close()


async def test_a_search_too_short_says_so_and_blocking_is_confirmed_first(
    server: Server, browser: Browser
) -> None:
    email = "focus.partage@example.test"
    _, record = await factories.patient(email=email)
    nurse, practitioner = await factories.practitioner(Profession.INFIRMIER)
    tab = await _signed_in(browser, server, "sharing-confirm", email)
    page = tab.page
    # The page asks in a dialog of its own, never the browser's (window.confirm): refused here.
    native: list[str] = []

    async def refuse_native(dialog: Dialog) -> None:
        native.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", refuse_native)
    await page.get_by_role("link", name="Partage").click()
    search = page.get_by_label("Rechercher un professionnel")
    results = page.get_by_role("list", name="Résultats de la recherche")
    await expect(search).to_have_accessible_description(
        "Nom, profession, ville ou numéro RPPS (au moins 2 caractères)."
    )

    async def find(text: str) -> None:
        await search.fill(text)
        await page.get_by_role("button", name="Rechercher", exact=True).click()

    await find(nurse.last_name)
    await expect(results.get_by_role("heading", name=nurse.display_name)).to_be_visible()

    # One character (spaces aside): the previous results go, and the page says why.
    await find(" P ")
    # Found by its paragraph: said once, its text leaves its live region when the language changes.
    warning = page.get_by_role("search").locator("p.error")
    too_short = warning.filter(has_text="Tapez au moins 2 caractères pour rechercher un professionnel.")
    await expect(too_short).to_be_visible()
    # Said (the keyboard stays on « Rechercher »): its text came into its live region.
    await expect(warning.get_by_role("alert")).to_have_text(
        "Tapez au moins 2 caractères pour rechercher un professionnel."
    )
    await expect(results).to_have_count(0)
    await expect(search).to_have_value(" P ")
    await tab.check("sharing-too-short")
    # Said in the language chosen, worded again when it changes.
    await page.get_by_label("Langue").select_option("en")
    await expect(warning).to_have_text("Type at least 2 characters to find a professional.")
    await page.get_by_label("Language").select_option("fr")
    await expect(too_short).to_be_visible()

    # A search that can be made clears the message.
    await page.get_by_role("button", name="Rechercher", exact=True).click()  # still " P ": still said
    await expect(too_short).to_be_visible()
    await find(nurse.last_name)
    await expect(too_short).to_have_count(0)

    # Granted, then « Bloquer »: the page asks first, in a dialog of its own; cancelled,
    # nothing changes and nothing is sent.
    await results.get_by_role("button", name="Partager avec").click()
    await page.get_by_label("Vaccinations").check()
    await page.get_by_role("button", name="Partager ces rubriques").click()
    await expect(page.get_by_text(f"Accès accordé à {nurse.display_name}.")).to_be_visible()
    await find(nurse.last_name)
    block = results.get_by_role("button", name="Bloquer")
    question = page.get_by_role("dialog")
    cancel = question.get_by_role("button", name="Annuler")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.post_data or "") if request.method == "POST"
            else None)

    async def nothing_changed() -> None:
        await expect(question).to_have_count(0)
        await expect(block).to_be_focused()
        await expect(page.get_by_text(f"{nurse.display_name} est bloqué(e)")).to_have_count(0)
        await expect(page.get_by_role("button", name="Retirer l'accès")).to_have_count(1)
        assert not [body for body in sent if "blockPractitioner" in body], sent
        assert await BlockedPractitioner.filter(record_id=record.id).count() == 0
        assert await Grant.filter(record_id=record.id, practitioner_id=practitioner.id).count() == 1
        assert not native, native

    await block.click()
    await expect(question).to_be_visible()
    assert await question.evaluate("dialog => dialog.matches(':modal')"), "not opened with showModal()"
    await expect(question).to_have_accessible_name("Veuillez confirmer")
    await expect(question).to_have_accessible_description(
        f"Bloquer {nurse.display_name} ? Ce professionnel perdra tout accès à votre dossier, même en urgence."
        " Vous pourrez le débloquer plus tard."
    )
    await expect(question.get_by_role("button")).to_have_text(["Annuler", "Bloquer"])
    await expect(question.get_by_role("button", name="Bloquer")).to_have_class(re.compile(r"\bdanger\b"))
    await expect(cancel).to_be_focused()  # the safe answer
    await tab.check("sharing-block-asked")
    # Escape cancels.
    await page.keyboard.press("Escape")
    await nothing_changed()

    # « Annuler » cancels.
    await block.click()
    await expect(cancel).to_be_focused()
    await cancel.click()
    await nothing_changed()

    # Confirmed: blocked, and the grant withdrawn.
    await block.click()
    await expect(cancel).to_be_focused()
    await question.get_by_role("button", name="Bloquer").click()
    await expect(question).to_have_count(0)
    await expect(page.get_by_text(f"{nurse.display_name} est bloqué(e)")).to_be_visible()
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 1
    assert await Grant.filter(record_id=record.id).count() == 0
    await expect(page.get_by_text("Vous n'avez autorisé aucun professionnel.")).to_be_visible()
    await tab.check("sharing-blocked-confirmed")
    assert not native, native
    await tab.context.close()
