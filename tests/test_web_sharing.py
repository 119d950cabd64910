"""Sharing choices and account security from the page, in a real Chromium."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Browser, expect

from backend.authz.matrix import allowed_sections
from backend.domain.enums import Profession
from backend.models import Account, BlockedPractitioner, Grant, Practitioner, Record, Session
from tests import factories
from tests.browser import (
    Server,
    Tab,
    browser,
    confirm_in_page,
    confirm_it_is_you,
    open_tab,
    server,
    sign_in_with_code,
)

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def _notified(record_id: object) -> bool:
    return bool((await Record.get(id=record_id)).notify_new_documents)


async def test_revoke_block_treating_physician_and_emergency_preferences(
    server: Server, browser: Browser
) -> None:
    email = "choix@example.test"
    _, record = await factories.patient(email=email)
    nurse, _ = await factories.practitioner(Profession.INFIRMIER)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    tab = await open_tab(browser, server, "sharing", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")

    async def find(name: str) -> None:
        await page.get_by_label("Rechercher un professionnel").fill(name)
        await page.get_by_role("button", name="Rechercher", exact=True).click()

    # Grant the nurse, then withdraw it.
    await find(nurse.last_name)
    results = page.get_by_role("list", name="Résultats de la recherche")
    await results.get_by_role("button", name="Partager avec").click()
    # Only the sections a nurse may see are offered (the server's matrix).
    await expect(results.get_by_role("checkbox")).to_have_count(len(allowed_sections(Profession.INFIRMIER)))
    await expect(results.get_by_label("Imagerie")).to_have_count(0)
    await expect(results.get_by_label("Antécédents")).to_have_count(0)
    await page.get_by_label("Vaccinations").check()
    await page.get_by_role("button", name="Partager ces rubriques").click()
    await expect(page.get_by_text(f"Accès accordé à {nurse.display_name}.")).to_be_visible()
    assert await Grant.filter(record_id=record.id).count() == 1
    # Found again, the nurse's sections are edited in one picker, which shows what she has.
    await find(nurse.last_name)
    await expect(results.get_by_role("button", name="Partager avec")).to_have_count(0)
    await results.get_by_role("button", name="Modifier les rubriques").click()
    await expect(page.get_by_role("button", name="Partager ces rubriques")).to_have_count(1)
    await expect(results.get_by_label("Vaccinations")).to_be_checked()
    await page.get_by_role("button", name="Annuler").click()
    await page.get_by_role("button", name="Retirer l'accès").click()
    await expect(page.get_by_text(f"{nurse.display_name} n'a plus accès à votre dossier.")).to_be_visible()
    await expect(page.get_by_text("Vous n'avez autorisé aucun professionnel.")).to_be_visible()

    # Block the nurse, then lift it.
    await find(nurse.last_name)
    await results.get_by_role("button", name="Bloquer").click()
    await confirm_in_page(page, "Bloquer")  # « Bloquer » asks for confirmation
    await expect(page.get_by_text(f"{nurse.display_name} est bloqué(e)")).to_be_visible()
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 1
    await tab.check("blocked")
    await page.get_by_role("button", name="Débloquer").click()
    await expect(page.get_by_text(f"Le blocage de {nurse.display_name} est levé.")).to_be_visible()
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 0

    # Name a treating physician.
    await find(doctor.last_name)
    await results.get_by_role("button", name="Désigner comme médecin traitant").click()
    named = f"{doctor.display_name} est désormais votre médecin traitant."
    await expect(page.get_by_text(named)).to_be_visible()
    # Found again, the treating physician is said to be one, with nothing to offer.
    await find(doctor.last_name)
    is_treating = "C'est votre médecin traitant : toutes les rubriques lui sont visibles."
    await expect(results.get_by_text(is_treating)).to_be_visible()
    await expect(results.get_by_role("button")).to_have_count(0)

    # Oppose break-glass.
    await page.get_by_label("Autoriser l'accès d'urgence (« bris de glace »)").uncheck()
    emergency = page.get_by_role("form", name="Accès en cas d'urgence")
    await emergency.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    # Ask to be told of new documents.
    notices = page.get_by_role("form", name="Avis par e-mail")
    await notices.get_by_label("M'avertir par e-mail de chaque nouveau document").check()
    await notices.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    for _ in range(50):  # the notice above may be the emergency form's: wait for the row
        if await _notified(record.id):
            break
        await asyncio.sleep(0.1)
    assert await _notified(record.id)
    await page.reload()
    await expect(page.get_by_label("Autoriser l'accès d'urgence (« bris de glace »)")).not_to_be_checked()
    await expect(page.get_by_label("Autoriser l'accès du médecin régulateur du SAMU")).to_be_checked()
    await expect(page.get_by_label("M'avertir par e-mail de chaque nouveau document")).to_be_checked()
    await tab.check("preferences")
    assert (await Record.get(id=record.id)).treating_physician_id is not None  # type: ignore[attr-defined]
    await tab.context.close()


async def treating_physician_granted(browser: Browser, server: Server, tab_name: str,
                                     email: str) -> tuple[Tab, Record, Account, Practitioner]:
    """A patient signed up as `email` whose treating physician (a doctor's account, and its
    practitioner) is also granted one section, VACCINATIONS; the patient's tab on /partage."""
    _, record = await factories.patient(email=email)
    doctor, pro = await factories.practitioner(Profession.MEDECIN)
    await Grant.create(record=record, practitioner=pro, sections=["VACCINATIONS"])
    await Record.filter(id=record.id).update(treating_physician_id=pro.id)
    tab = await open_tab(browser, server, tab_name, "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    return tab, record, doctor, pro


async def test_a_granted_treating_physician_is_said_to_see_every_section(
    server: Server, browser: Browser
) -> None:
    tab, _, doctor, _ = await treating_physician_granted(
        browser, server, "sharing-granted-treating", "traitant.autorise@example.test")
    page = tab.page
    # Among the granted professionals, as in the search's results: the sections chosen change
    # nothing for the treating physician, so none are offered; the grant can still be withdrawn.
    card = page.locator("li.card").filter(has_text=doctor.display_name)
    is_treating = "C'est votre médecin traitant : toutes les rubriques lui sont visibles."
    await expect(card.get_by_text(is_treating)).to_be_visible()
    await expect(card.get_by_role("button", name="Modifier les rubriques")).to_have_count(0)
    await expect(card.get_by_role("button", name="Retirer l'accès")).to_be_visible()
    await tab.check("granted-treating")
    await tab.context.close()


async def test_a_grant_withdrawn_from_the_treating_physician_says_they_still_see_everything(
    server: Server, browser: Browser
) -> None:
    tab, record, doctor, pro = await treating_physician_granted(
        browser, server, "sharing-granted-treating-revoked", "traitant.retire@example.test")
    page = tab.page
    card = page.locator("li.card").filter(has_text=doctor.display_name)
    await card.get_by_role("button", name="Retirer l'accès").click()
    # The grant goes, but the treating physician still sees every section: not said to have no
    # access any more, but what is left and how it ends.
    withdrawn = f"L'autorisation donnée à {doctor.display_name} est retirée."
    said = page.locator(".notice").filter(has_text=withdrawn)
    await expect(said).to_be_visible()
    await expect(said).to_contain_text(
        f"En tant que médecin traitant, {doctor.display_name} voit encore toutes les rubriques")
    await expect(page.get_by_text("n'a plus accès")).to_have_count(0)
    await expect(page.get_by_text("Vous n'avez autorisé aucun professionnel.")).to_be_visible()
    assert await Grant.filter(record_id=record.id).count() == 0
    assert (await Record.get(id=record.id)).treating_physician_id == pro.id  # type: ignore[attr-defined]
    await tab.check("granted-treating-revoked")
    await tab.context.close()


async def test_sessions_and_password_change(server: Server, browser: Browser) -> None:
    email = "secu@example.test"
    account, _ = await factories.patient(email=email)
    other = await open_tab(browser, server, "other-device", "desktop")
    await sign_in_with_code(other, server, email)
    await expect(other.page).to_have_url(f"{server.origin}/dossier")

    tab = await open_tab(browser, server, "security", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    # Codes go by SMS now (set elsewhere, to a confirmed number): the channel form starts from it.
    await Account.filter(id=account.id).update(code_channel="SMS", phone="+33612345678", phone_verified=True)
    await page.get_by_role("link", name="Sécurité").click()
    await expect(page.get_by_text("Cette session", exact=True)).to_be_visible()
    await expect(page.get_by_role("radio", name="SMS")).to_be_checked()
    await expect(page.get_by_role("button", name="Fermer cette session")).to_have_count(1)
    # Its description says which session it closes (another device's, met before this one).
    await expect(page.get_by_role("button", name="Fermer cette session")).to_have_accessible_description(
        re.compile("ouverte le"))
    await tab.check("sessions")
    await page.get_by_role("button", name="Fermer cette session").click()
    await expect(page.get_by_text("La session est fermée.")).to_be_visible()
    assert await Session.filter(account_id=account.id, revoked_at=None).count() == 1
    # Back to codes by e-mail (set elsewhere) for what follows.
    await Account.filter(id=account.id).update(code_channel="EMAIL")

    await page.get_by_label("Mot de passe actuel").fill(factories.PASSWORD)
    await page.get_by_label("Nouveau mot de passe").fill("encore-un-autre-secret-5")
    await page.get_by_role("button", name="Changer le mot de passe").click()
    await expect(page.get_by_text("Votre mot de passe est changé.")).to_be_visible()

    # Ten minutes later (the second factor no longer fresh): the code is asked, and the change
    # made after it is said as the first one was.
    await Session.filter(account_id=account.id).update(fresh_factor_at=None)
    await page.get_by_label("Mot de passe actuel").fill("encore-un-autre-secret-5")
    await page.get_by_label("Nouveau mot de passe").fill("et-encore-un-autre-secret-6")
    await page.get_by_role("button", name="Changer le mot de passe").click()
    confirm = page.get_by_role("group", name="Confirmez que c'est bien vous")
    await confirm_it_is_you(tab, server, email)
    await expect(confirm).to_have_count(0)
    await expect(page.get_by_text("Votre mot de passe est changé.")).to_be_visible()
    await other.context.close()
    await tab.context.close()
