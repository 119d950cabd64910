"""What the page offers follows the state of things, in a real Chromium.

A closed record, or one whose deletion is pending, offers no write form (the server would
refuse it), and says why; a practitioner whose record was closed while on screen is shown
so. A practitioner who reads a record through a grant may still open emergency access for
the other sections. A notice belongs to the action that produced it: it goes when the
person starts another one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, RecordStatus, Section
from backend.models import AccessEvent, EmergencySession, Entry, Grant, Record
from tests import factories
from tests.browser import Server, browser, open_tab, server, sign_in_first_step, sign_in_with_code
from tests.conftest import session_for
from tests.test_web_record import PNG

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

CLOSED = "Votre dossier est fermé"
DELETION = "La suppression de votre dossier est demandée"
INS_LABEL = "Numéro INS (numéro de sécurité sociale)"


async def test_a_closed_record_offers_no_write_form(server: Server, browser: Browser) -> None:
    email = "ferme@example.test"
    patient, record = await factories.patient(email=email)
    owner = {config.settings().session_cookie: await session_for(patient)}
    closed = await server.gql("mutation { closeMyRecord { status } }", cookies=owner)
    assert closed["data"]["closeMyRecord"]["status"] == "CLOSED"

    tab = await open_tab(browser, server, "closed-record", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")

    # Documents: neither the upload nor the add-entry form, and the reason.
    await page.get_by_role("link", name="Ajouter un document").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")
    await expect(page.get_by_text(CLOSED)).to_be_visible()
    await expect(page.get_by_label("Fichier")).to_have_count(0)
    await expect(page.get_by_role("button", name="Ajouter au dossier")).to_have_count(0)
    await expect(page.get_by_role("link", name="Mon compte").last).to_be_visible()
    await tab.check("documents")

    # Sharing: no search, no grant, no preference form.
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    await expect(page.get_by_text(CLOSED)).to_be_visible()
    await expect(page.get_by_label("Rechercher un professionnel")).to_have_count(0)
    await expect(page.get_by_role("button", name="Enregistrer")).to_have_count(0)
    await tab.check("sharing")

    # Emergency profile: not editable.
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'urgence")
    await expect(page.get_by_text(CLOSED)).to_be_visible()
    await expect(page.get_by_role("button", name="Enregistrer")).to_have_count(0)
    await tab.check("emergency")

    # Deletion pending: the same, with its own reason.
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED)
    await page.get_by_role("link", name="Ajouter un document").click()
    await expect(page.get_by_text(DELETION)).to_be_visible()
    await expect(page.get_by_label("Fichier")).to_have_count(0)
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_text(DELETION)).to_be_visible()
    await expect(page.get_by_label("Rechercher un professionnel")).to_have_count(0)
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_text(DELETION)).to_be_visible()
    await expect(page.get_by_role("button", name="Enregistrer")).to_have_count(0)
    # The record itself is no longer read: the page says why, not that there is none.
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    await expect(page.get_by_text(DELETION)).to_be_visible()
    await expect(page.get_by_text("Aucun dossier actif")).to_have_count(0)
    assert not tab.problems, tab.problems
    await tab.context.close()


async def test_a_record_closed_while_on_screen_takes_its_form_away(
    server: Server, browser: Browser
) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN, email="dr.ferme@example.test")
    patient, record = await factories.patient(first_name="Marc", last_name="Roux")
    owner = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(owner, doctor.last_name, ["ALLERGIES"])

    tab = await open_tab(browser, server, "closed-on-screen", "desktop")
    page = tab.page
    await sign_in_with_code(tab, server, "dr.ferme@example.test")
    await page.get_by_label(INS_LABEL).first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Marc Roux")).to_be_visible()
    # The patient closes the record meanwhile.
    closed = await server.gql("mutation { closeMyRecord { status } }", cookies=owner)
    assert closed["data"]["closeMyRecord"]["status"] == "CLOSED"
    form = page.get_by_role("form", name="Ajouter une information")
    await form.get_by_label("Intitulé").fill("Allergie au latex")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    # The refusal is shown, and the record with its form is gone: nothing left to fill in vain.
    await expect(page.get_by_text("Vous n'avez pas accès à cette information.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Marc Roux")).to_have_count(0)
    await expect(page.get_by_role("button", name="Ajouter au dossier")).to_have_count(0)
    assert await Entry.filter(record_id=record.id).count() == 0
    await tab.check("refused")
    await tab.context.close()


async def test_break_glass_over_a_grant_and_notices_per_patient(
    server: Server, browser: Browser
) -> None:
    nurse, _ = await factories.practitioner(Profession.INFIRMIER, email="inf.bdg@example.test")
    patient, record = await factories.patient(first_name="Lina", last_name="Garnier")
    other, other_record = await factories.patient(first_name="Paul", last_name="Henry")
    await factories.entry(record, Section.MEDICATIONS, title="Metformine 500 mg", days_ago=4)
    await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=8)
    for account in (patient, other):
        cookie = {config.settings().session_cookie: await session_for(account)}
        await server.grant_from_directory(cookie, nurse.last_name, ["MEDICATIONS"])

    tab = await open_tab(browser, server, "break-glass-grant", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, "inf.bdg@example.test")
    await page.get_by_label(INS_LABEL).first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Lina Garnier")).to_be_visible()
    await expect(page.get_by_role("heading", name="Metformine 500 mg")).to_be_visible()
    await expect(page.get_by_role("heading", name="Allergie au latex")).to_have_count(0)

    # An entry added for Lina: its notice is about Lina, and goes when Paul's record is read.
    form = page.get_by_role("form", name="Ajouter une information")
    await form.get_by_label("Intitulé").fill("Insuline rapide")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    added = page.get_by_text("« Insuline rapide » est ajouté au dossier.")
    await expect(added).to_be_visible()
    await page.get_by_label(INS_LABEL).first.fill(other_record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Paul Henry")).to_be_visible()
    await expect(added).to_have_count(0)

    # Back to Lina: emergency access for the sections not shared, beside the grant.
    await page.get_by_label(INS_LABEL).first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Lina Garnier")).to_be_visible()
    emergency = page.get_by_role("form", name="Accès d'urgence aux autres rubriques (bris de glace)")
    await expect(emergency).to_be_visible()
    await tab.check("offered")
    await emergency.get_by_label("Justification").fill("Malaise au domicile, patiente confuse")
    await emergency.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    banner = page.get_by_role("alert").filter(has_text="Bris de glace (urgence)")
    await expect(banner).to_be_visible()
    await expect(page.get_by_role("heading", name="Allergie au latex")).to_be_visible()
    access = page.locator("ul.access")
    await expect(access).to_contain_text("Médicaments — Accès autorisé par le patient")
    await expect(access).to_contain_text("Allergies — Bris de glace (urgence)")
    # Open now: not offered a second time; the granted section is still written in.
    await expect(emergency).to_have_count(0)
    await expect(page.get_by_role("form", name="Ajouter une information")).to_be_visible()
    assert await AccessEvent.filter(record_id=record.id, action="BREAK_GLASS_OPENED").count() == 1
    assert await Grant.filter(record_id=record.id).count() == 1
    await tab.check("opened")

    # The emergency access runs out on screen: the record is read again in what the grant
    # still gives, and the emergency access is offered again.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    await EmergencySession.filter(record_id=record.id).update(expires_at=soon)
    await page.get_by_role("button", name="Consulter").click()
    await expect(banner).to_be_visible()
    await expect(banner).to_have_count(0, timeout=15_000)
    await expect(page.get_by_role("heading", name="Lina Garnier")).to_be_visible()
    await expect(page.get_by_role("heading", name="Metformine 500 mg")).to_be_visible()
    await expect(page.get_by_role("heading", name="Allergie au latex")).to_have_count(0)
    await expect(emergency).to_be_visible()
    await tab.check("ran-out")
    await tab.context.close()


async def test_notices_go_when_another_action_starts(server: Server, browser: Browser) -> None:
    email = "avis@example.test"
    _, record = await factories.patient(email=email)
    await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline 1 g", days_ago=3)
    nurse, _ = await factories.practitioner(Profession.INFIRMIER)
    tab = await open_tab(browser, server, "notices", "mobile")
    page = tab.page

    # A wrong code, then "start again": the error of the code step is not on the first step.
    await sign_in_first_step(tab, server, email)
    await server.next_code(email)  # sent, and not the one to type
    await page.get_by_label("Code reçu").fill("000000")
    await page.get_by_role("button", name="Valider").click()
    wrong = page.locator(".error").filter(has_text="Le code n'est pas le bon.")
    await expect(wrong).to_be_visible()
    await page.get_by_role("button", name="Recommencer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(wrong).to_have_count(0)

    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")

    # Sharing: the notice of a grant goes when the patient searches again.
    await page.get_by_role("link", name="Partage").click()
    await page.get_by_label("Rechercher un professionnel").fill(nurse.last_name)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    results = page.get_by_role("list", name="Résultats de la recherche")
    await results.get_by_role("button", name="Partager avec").click()
    await page.get_by_label("Vaccinations").check()
    await page.get_by_role("button", name="Partager ces rubriques").click()
    granted = page.get_by_text(f"Accès accordé à {nurse.display_name}.")
    await expect(granted).to_be_visible()
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    # Found again, now granted: her sections are changed, not shared anew.
    await expect(results.get_by_role("button", name="Modifier les rubriques")).to_be_visible()
    await expect(granted).to_have_count(0)

    # Documents: the notice of an added entry goes when a document is uploaded, and back.
    await page.get_by_role("link", name="Ajouter un document").click()
    entry_form = page.get_by_role("form", name="Ajouter une information")
    await entry_form.get_by_label("Intitulé").fill("Vaccin grippe")
    await entry_form.get_by_role("button", name="Ajouter au dossier").click()
    entry_added = page.get_by_text("« Vaccin grippe » est ajouté au dossier.")
    await expect(entry_added).to_be_visible()
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": "compte-rendu.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_label("Titre du document").fill("Compte rendu")
    await page.get_by_role("button", name="Envoyer le document").click()
    uploaded = page.get_by_text("« Compte rendu » est ajouté à votre dossier.")
    await expect(uploaded).to_be_visible()
    await expect(entry_added).to_have_count(0)
    await entry_form.get_by_label("Intitulé").fill("Vaccin tétanos")
    await entry_form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(page.get_by_text("« Vaccin tétanos » est ajouté au dossier.")).to_be_visible()
    await expect(uploaded).to_have_count(0)
    await tab.check("documents")

    # Record: the notice of a masking is not left beside the refusal of the next action.
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    medicine = page.locator("li.card").filter(has=page.get_by_role("heading", name="Amoxicilline 1 g"))
    await medicine.get_by_role("button", name="Masquer").click()
    masked = page.get_by_text("L'information « Amoxicilline 1 g » est masquée.")
    await expect(masked).to_be_visible()
    # Deleted meanwhile (from another tab): the refusal is shown, without the notice before it.
    # (A deletion of the record asked meanwhile shows why instead: test_web_record.)
    await Entry.filter(record_id=record.id, title="Amoxicilline 1 g").delete()
    await medicine.get_by_role("button", name="Ne plus masquer").click()
    await expect(page.get_by_text("Introuvable : cela n'existe pas, ou plus.")).to_be_visible()
    await expect(masked).to_have_count(0)
    await tab.context.close()


async def test_a_refused_emergency_access_says_so(server: Server, browser: Browser) -> None:
    """The patient opposed break-glass: the form says the emergency access is refused, not the
    read's "no access" a second time."""
    doctor, _ = await factories.practitioner(Profession.MEDECIN, email="dr.oppose@example.test")
    _, record = await factories.patient(first_name="Nina", last_name="Roy")
    await Record.filter(id=record.id).update(allow_break_glass=False)
    tab = await open_tab(browser, server, "emergency-refused", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, "dr.oppose@example.test")
    await page.get_by_label(INS_LABEL).first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    emergency = page.get_by_role("form", name="Accès d'urgence (bris de glace)")
    await emergency.get_by_label("Justification").fill("Malaise au domicile, patiente confuse")
    await emergency.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    refused = emergency.locator(".error")  # focused: read as such, no live region too
    await expect(refused).to_have_text(
        "L'accès d'urgence est refusé : le patient s'y est opposé, vous a bloqué, "
        "ou son dossier n'est pas actif.")
    await expect(refused).to_be_focused()
    assert not await EmergencySession.filter(record_id=record.id).exists()
    await tab.check("refused")
    await tab.context.close()
