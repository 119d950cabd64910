"""Where the keyboard goes when the button that had it disappears, in a real Chromium at phone
width: to the field that appears, else to the action's result message, else to the heading of
what changed; never back to the page body."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from backend import config
from backend.domain.enums import EntrySource, Profession, Section
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for
from tests.test_web_record import PNG, card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

BREAK_GLASS = ("mutation($ins: String!, $reason: String!)"
               " { openBreakGlass(ins: $ins, reason: $reason) { mode } }")


async def not_on_body(page: Page) -> None:
    assert await page.evaluate("document.activeElement && document.activeElement !== document.body")


async def test_a_field_that_appears_takes_the_focus(server: Server, browser: Browser) -> None:
    email = "focus.champs@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "focus-fields", email)
    page = tab.page

    # /urgence: "Add a person" → the new row's name; removing it → back to "Add a person".
    await page.get_by_role("link", name="Urgence").click()
    add = page.get_by_role("button", name="Ajouter une personne")
    await add.click()
    await expect(page.get_by_role("group", name="Contact 1").get_by_label("Nom", exact=True)).to_be_focused()
    await page.keyboard.type("Paul Martin")
    await add.click()
    await expect(page.get_by_role("group", name="Contact 2").get_by_label("Nom", exact=True)).to_be_focused()
    await page.get_by_role("button", name="Retirer le contact 2").click()
    await expect(add).to_be_focused()
    await expect(page.get_by_role("group", name="Contact 1").get_by_label("Nom", exact=True)).to_have_value(
        "Paul Martin")

    # /securite/coordonnees: the code sent → the code field.
    await page.get_by_role("link", name="Sécurité", exact=True).click()
    await page.get_by_role("link", name="Changer mon adresse e-mail ou mon numéro de téléphone").click()
    email_form = page.get_by_role("form", name="Adresse e-mail")
    await email_form.get_by_label("Nouvelle adresse e-mail").fill("focus.nouvelle@example.test")
    await email_form.get_by_role("button", name="Envoyer un code à cette adresse").click()
    await expect(email_form.get_by_label("Code reçu")).to_be_focused()

    # /securite: "Rename" a passkey → its name field; saved → back to "Rename".
    await tab.authenticator()
    await page.get_by_role("link", name="Retour à la sécurité du compte").click()
    await page.get_by_label("Nom de la clé").fill("Téléphone")
    await page.get_by_role("button", name="Créer une clé d'accès").click()
    await expect(page.get_by_role("heading", name="Téléphone", exact=True)).to_be_visible()
    passkey = page.locator("li.card").filter(has=page.get_by_role("heading", name="Téléphone", exact=True))
    await passkey.get_by_role("button", name="Renommer").click()
    field = passkey.get_by_label("Nom de la clé")
    await expect(field).to_be_focused()
    await field.fill("Mon téléphone")
    await passkey.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("heading", name="Mon téléphone", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Renommer Mon téléphone")).to_be_focused()
    await tab.check("focus-fields")
    await tab.context.close()


async def said_by_its_focus(message: Locator) -> None:
    """`message` has the focus, and is read as such: no live region in it announces it too."""
    await expect(message).to_be_focused()
    await expect(message.locator('[role="status"], [role="alert"], [aria-live]')).to_have_count(0)


async def test_a_result_message_takes_the_focus_the_button_had(server: Server, browser: Browser) -> None:
    email = "focus.messages@example.test"
    patient, record = await factories.patient(email=email)
    for day in range(1, 12):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day + 5)
    own = await factories.entry(record, Section.ALLERGIES, title="Ma note", days_ago=1)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()
    pharmacist, _ = await factories.practitioner(Profession.PHARMACIEN)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    opened = await server.gql(BREAK_GLASS, {"ins": record.ins, "reason": "Patient inconscient aux urgences"},
                              cookies={config.settings().session_cookie: await session_for(doctor)})
    assert not opened.get("errors"), opened
    tab = await patient_signed_in(browser, server, "focus-messages", email)
    page = tab.page

    # /dossier: the last "More" of a section → the count it changed; deleting one's entry → the notice.
    await page.get_by_role("button", name="Plus de résultats : Médicaments").click()
    count = page.get_by_text("12 informations affichées")
    await said_by_its_focus(count)
    await card(page, "Ma note").get_by_role("button", name="Supprimer").click()
    deleted = page.locator(".notice").filter(has_text="L'information « Ma note » a été supprimée.")
    await said_by_its_focus(deleted)

    # /documents: the upload's button waits, then the notice has the focus.
    await page.get_by_role("link", name="Ajouter un document").click()
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": "radio.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_label("Titre du document").fill("Radio")
    await page.get_by_role("button", name="Envoyer le document").click()
    added = page.locator(".notice").filter(has_text="« Radio » est ajouté à votre dossier.")
    await said_by_its_focus(added)

    # /partage: "Share these sections" (its picker closes) → the notice.
    await page.get_by_role("link", name="Partage").click()
    await page.get_by_label("Rechercher un professionnel").fill(pharmacist.last_name)
    await page.get_by_label("Rechercher un professionnel").press("Enter")
    await page.get_by_role("button", name="Partager avec").first.click()
    await page.get_by_role("checkbox").first.check()
    await page.get_by_role("button", name="Partager ces rubriques").click()
    await said_by_its_focus(page.locator(".notice").filter(has_text="Accès accordé à"))

    # /historique: the report sent (its form gone) → the review's heading.
    await page.get_by_role("link", name="Historique des accès").click()
    emergency = page.locator("li.card", has_text="Patient inconscient aux urgences")
    review = emergency.filter(has_text="À examiner")
    await review.get_by_role("button", name="Signaler comme injustifié").click()
    await review.get_by_role("button", name="Envoyer le signalement").click()
    reported = emergency.filter(has_text="Vous l'avez signalé")
    await expect(reported.get_by_role("heading", name="Bris de glace")).to_be_focused()

    # /mon-compte: close, then reopen (each button replaced by the other) → the notice.
    await page.get_by_role("link", name="Mon compte").click()
    await page.get_by_role("button", name="Fermer mon dossier").click()
    await said_by_its_focus(page.locator(".notice").filter(has_text="Votre dossier est fermé."))
    await page.get_by_role("button", name="Rouvrir mon dossier").click()
    await said_by_its_focus(page.locator(".notice").filter(has_text="Votre dossier est rouvert."))
    await not_on_body(page)
    await tab.check("focus-messages")
    await tab.context.close()
