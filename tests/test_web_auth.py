"""Signing in and out in a real Chromium: forgotten password, and an expired session that
sends the person back to login and then to where they were."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend.domain.enums import Profession
from backend.models import Entry, Record, Session
from tests import factories
from tests.browser import Server, browser, open_tab, server, sign_in_first_step, sign_in_with_code

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

NEW_PASSWORD = "un-tout-nouveau-secret-77"


async def test_forgotten_password_then_sign_in_with_the_new_one(server: Server, browser: Browser) -> None:
    email = "oubli@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "reset", "mobile")
    page = tab.page
    await page.goto("/connexion")
    await page.get_by_role("link", name="Mot de passe oublié").click()
    await page.get_by_label("Identifiant").fill(email)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Recevoir un code").click()
    await expect(page.get_by_text("Si ce compte existe, un code vient de lui être envoyé.")).to_be_visible()
    await tab.check("code")
    await page.get_by_label("Code reçu").fill(await server.next_code(email))
    # A refused input is explained in the page's language, from the error's reason.
    await page.get_by_label("Nouveau mot de passe").fill("0123456789ab")
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    # Its button disabled while the server answered: the refusal takes the focus (read as such,
    # no live region too).
    refused = page.locator(".error")
    await expect(refused).to_contain_text("Ce mot de passe est trop courant")
    await expect(refused).not_to_contain_text("This password")
    await page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    await expect(page.get_by_text("Votre mot de passe a été changé.")).to_be_visible()

    await page.get_by_role("link", name="Se connecter", exact=True).last.click()
    await sign_in_first_step(tab, server, email, open_login=False)
    # The old password no longer works; the first step answers alike whatever the password,
    # so the refusal comes with the code.
    await page.get_by_label("Code reçu").fill("000000")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.locator(".error")).to_contain_text("Le code n'est pas le bon.")
    await expect(page).not_to_have_url(f"{server.origin}/dossier")
    await page.get_by_role("button", name="Recommencer").click()
    await sign_in_with_code(tab, server, email, password=NEW_PASSWORD, open_login=False)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await tab.context.close()


async def test_expired_session_returns_to_login_then_to_the_same_screen(
    server: Server, browser: Browser
) -> None:
    email = "expire@example.test"
    account, _ = await factories.patient(email=email)
    tab = await open_tab(browser, server, "expiry", "desktop")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    await expect(page.get_by_text("Votre dossier ne contient encore aucune information.")).to_be_visible()

    # The server forgets the session (timeout, or "log out everywhere" elsewhere).
    await Session.filter(account_id=account.id).delete()
    await page.get_by_role("link", name="Historique des accès").click()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    # The page says why it asks to sign in again.
    await expect(page.get_by_role("status").filter(has_text="Votre session a expiré")).to_be_visible()
    # What the person typed before is kept (not the password).
    await expect(page.get_by_label("Identifiant")).to_have_value(email)
    await sign_in_with_code(tab, server, email, open_login=False)
    await expect(page).to_have_url(f"{server.origin}/historique")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Historique des accès")
    # Signed out by choice, the login page does not speak of an expired session.
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page.get_by_text("Votre session a expiré")).to_have_count(0)
    await tab.context.close()


async def test_practitioner_entry_typed_before_expiry_survives_the_login(
    server: Server, browser: Browser
) -> None:
    email = "dr.expire@example.test"
    doctor, doctor_info = await factories.practitioner(Profession.MEDECIN, email=email)
    patient, record = await factories.patient()
    await Record.filter(id=record.id).update(treating_physician_id=doctor_info.id)
    tab = await open_tab(browser, server, "kept", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    form = page.get_by_role("form", name="Ajouter une information")
    await form.get_by_label("Rubrique").select_option("MEDICAL_HISTORY")
    await form.get_by_label("Intitulé").fill("Appendicectomie en 2010")
    await form.get_by_label("Pathologie").fill("appendicite")

    await Session.filter(account_id=doctor.id).delete()
    await form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    assert await Entry.filter(title="Appendicectomie en 2010").count() == 0
    await sign_in_with_code(tab, server, email, open_login=False)
    await expect(page).to_have_url(f"{server.origin}/praticien")
    form = page.get_by_role("form", name="Ajouter une information")
    await expect(form.get_by_label("Intitulé")).to_have_value("Appendicectomie en 2010")
    await expect(form.get_by_label("Pathologie")).to_have_value("appendicite")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(page.get_by_text("« Appendicectomie en 2010 » est ajouté au dossier.")).to_be_visible()
    assert await Entry.filter(title="Appendicectomie en 2010", record_id=record.id).count() == 1
    assert patient.id is not None
    await tab.context.close()


async def test_emergency_profile_typed_before_expiry_survives_the_login(
    server: Server, browser: Browser
) -> None:
    email = "urgence.expire@example.test"
    patient, record = await factories.patient(email=email)
    tab = await open_tab(browser, server, "kept-emergency", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'urgence")
    await page.get_by_label("Groupe sanguin").select_option("AB+")
    await page.get_by_role("button", name="Ajouter une personne").click()
    await page.get_by_label("Nom", exact=True).fill("Claire Martin")
    await page.get_by_label("Téléphone").fill("+33611223344")
    await page.get_by_label("Lien (facultatif)").fill("sœur")
    await page.get_by_label("Directives anticipées").fill("Pas de transfusion sans accord.")

    await Session.filter(account_id=patient.id).delete()
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await sign_in_with_code(tab, server, email, open_login=False)
    await expect(page).to_have_url(f"{server.origin}/urgence")
    await expect(page.get_by_label("Groupe sanguin")).to_have_value("AB+")
    await expect(page.get_by_label("Nom", exact=True)).to_have_value("Claire Martin")
    await expect(page.get_by_label("Téléphone")).to_have_value("+33611223344")
    await expect(page.get_by_label("Lien (facultatif)")).to_have_value("sœur")
    await expect(page.get_by_label("Directives anticipées")).to_have_value("Pas de transfusion sans accord.")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    saved = await Record.get(id=record.id)
    assert saved.blood_group == "AB+"
    assert saved.advance_directives == "Pas de transfusion sans accord."
    assert [c["name"] for c in saved.emergency_contacts] == ["Claire Martin"]

    # Once saved, what is shown is the profile as stored: a change left unsaved on the way
    # elsewhere is not brought back.
    await page.get_by_label("Groupe sanguin").select_option("O-")
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_label("Groupe sanguin")).to_have_value("AB+")
    await tab.context.close()


async def test_the_code_step_says_the_same_true_thing_whatever_the_password(
    server: Server, browser: Browser
) -> None:
    email = "mauvais.mdp@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "code-step", "mobile")
    page = tab.page
    said = []
    for password in ("pas-le-bon-mot-de-passe", factories.PASSWORD):
        await sign_in_first_step(tab, server, email, password=password)
        notice = page.get_by_role("status").filter(has_text="un code à 6 chiffres")
        await expect(notice).to_contain_text(
            "Si le mot de passe est le bon, un code à 6 chiffres a été envoyé à")
        said.append(await notice.inner_text())
    # Nothing on the page tells a wrong password from a right one.
    assert said[0] == said[1], said
    await tab.check("code-step")
    await tab.context.close()
