"""Issue #10's journey in a real Chromium against a real `dmp serve`.

A doctor opens a record at the point of care; the patient activates it in the browser with
the activation code and the e-mailed contact code, registers a passkey (Chromium's virtual
authenticator), signs out and back in with it, grants a pharmacist two sections; the
pharmacist's GraphQL view shows exactly those two, and the patient's history shows that read.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession
from tests import factories
from tests.browser import Server, browser, confirm_in_page, open_tab, server, sign_in_first_step
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

OPEN_RECORD = """mutation Open($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo }
}"""
PRACTITIONER_VIEW = """query View($ins: String!) {
  patientRecord(ins: $ins) {
    accessMode accessibleSections sectionAccess { section mode }
    medications { totalCount } allergies { totalCount } labResults { totalCount }
  }
}"""
PASSWORD = "un-mot-de-passe-solide-42"


def cookie(token: str) -> dict[str, str]:
    return {config.settings().session_cookie: token}


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_patient_activates_uses_a_passkey_and_shares_two_sections(
    server: Server, browser: Browser, viewport: str
) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    pharmacist, pharmacist_info = await factories.practitioner(Profession.PHARMACIEN)
    ins = factories.new_ins()
    email = f"camille.{viewport}@example.test"

    # The doctor opens the record at the point of care (their practice software, over GraphQL).
    opened = await server.gql(OPEN_RECORD, {"input": {
        "ins": ins, "firstName": "Camille", "lastName": "Durand", "birthDate": "1990-04-02",
    }}, cookies=cookie(await session_for(doctor)))
    assert not opened.get("errors"), opened
    activation_code = opened["data"]["openRecordForPatient"]["activationCode"]

    tab = await open_tab(browser, server, "journey", viewport)
    page = tab.page

    # Activation: INS + code, contacts, password; then the code e-mailed to the contact.
    await page.goto("/activation")
    # A Corsican INS holds letters (2A, 2B): a phone must offer its full keyboard.
    await expect(page.get_by_label("Numéro INS (numéro de sécurité sociale)")).not_to_have_attribute(
        "inputmode", "numeric")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").fill(ins)
    await page.get_by_label("Code d'activation").fill(activation_code)
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Activer mon dossier").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer vos coordonnées")
    await tab.check("activation-code")
    await page.get_by_label("Code reçu").fill(await server.next_code(email))
    await page.get_by_role("button", name="Confirmer").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    await expect(page.get_by_text("Camille Durand")).to_be_visible()
    await tab.check("record")
    assert ins not in page.url

    # A passkey, through Chromium's virtual authenticator.
    cdp, authenticator = await tab.authenticator()
    await page.get_by_role("link", name="Sécurité").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sécurité de mon compte")
    await page.get_by_label("Nom de la clé").fill("Téléphone de test")
    await page.get_by_role("button", name="Créer une clé d'accès").click()
    await expect(page.get_by_text("La clé d'accès est enregistrée.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Téléphone de test")).to_be_visible()
    credentials = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    await tab.check("security")

    # Sign out, then back in with the passkey alone.
    await page.get_by_role("button", name="Se déconnecter", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await page.get_by_role("button", name="Se connecter avec une clé d'accès").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_text("Camille Durand")).to_be_visible()

    # Password, then the passkey as the second factor.
    await page.get_by_role("button", name="Se déconnecter", exact=True).click()
    await sign_in_first_step(tab, server, email, password=PASSWORD, open_login=False)
    await page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")

    # Share MEDICATIONS and ALLERGIES with the pharmacist, found in the directory.
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    await tab.check("sharing")
    await page.get_by_label("Rechercher un professionnel").fill(pharmacist.last_name)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    results = page.get_by_role("list", name="Résultats de la recherche")
    await results.get_by_role("button", name="Partager avec").click()
    await page.get_by_label("Médicaments").check()
    await page.get_by_label("Allergies").check()
    await page.get_by_role("button", name="Partager ces rubriques").click()
    await expect(page.get_by_text(f"Accès accordé à {pharmacist.display_name}.")).to_be_visible()
    await tab.check("sharing-granted")

    # The pharmacist's practice software sees exactly those two sections.
    view = await server.gql(PRACTITIONER_VIEW, {"ins": ins},
                            cookies=cookie(await session_for(pharmacist)))
    assert not view.get("errors"), view
    record = view["data"]["patientRecord"]
    assert sorted(record["accessibleSections"]) == ["ALLERGIES", "MEDICATIONS"]
    assert {(a["section"], a["mode"]) for a in record["sectionAccess"]} == {
        ("ALLERGIES", "GRANTED"), ("MEDICATIONS", "GRANTED")}
    assert record["accessMode"] == "GRANTED"
    assert record["labResults"] is None
    assert record["medications"] == {"totalCount": 0}

    # The patient's history shows that read, by whom, and which sections.
    await page.get_by_role("link", name="Historique des accès").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Historique des accès")
    read = page.locator("li.card", has_text="Consultation du dossier").filter(
        has_text=pharmacist.display_name)
    await expect(read).to_have_count(1)
    await expect(read.get_by_text("Médicaments")).to_be_visible()
    await expect(read.get_by_text("Allergies")).to_be_visible()
    await expect(read.get_by_text("Accès autorisé par le patient")).to_be_visible()
    await tab.check("history")
    # Filtered to reads only: just the pharmacist's.
    await page.get_by_label("Type d'événement").select_option("RECORD_READ")
    await expect(page.get_by_text("1 événement")).to_be_visible()
    await expect(page.locator("ul.history > li")).to_have_count(1)
    assert pharmacist_info.id is not None

    # Rename, then remove the passkey.
    await page.get_by_role("link", name="Sécurité").click()
    passkeys = page.get_by_role("list", name="Clés d'accès (passkeys)")
    await passkeys.get_by_role("button", name="Renommer").click()
    await passkeys.get_by_label("Nom de la clé").fill("Ordinateur du salon")
    await passkeys.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("heading", name="Ordinateur du salon")).to_be_visible()
    await passkeys.get_by_role("button", name="Supprimer").click()
    await confirm_in_page(page, "Supprimer")
    await expect(page.get_by_text("La clé d'accès est supprimée.")).to_be_visible()
    await expect(page.get_by_text("Aucune clé d'accès enregistrée.")).to_be_visible()
    await tab.context.close()
