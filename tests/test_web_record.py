"""The patient's record screens and the practitioner view, in a real Chromium (issue #11).

The patient signs in with password + e-mailed code, reads the timeline (filters, details, a
correction shown as such), masks and unmasks, uploads a document and downloads it back, fills
the emergency profile and exports the record. A practitioner opens a record from the page and
uses break-glass on a record nobody shared with them: banner and countdown.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib

import pytest
from playwright.async_api import Browser, Page, expect

from backend import clock, config
from backend.domain.enums import EntrySource, Profession, RecordStatus, Section
from backend.models import ActivationCode, Entry, Record, Session
from tests import factories
from tests.browser import (
    Server,
    browser,
    confirm_it_is_you,
    open_tab,
    patient_signed_in,
    server,
    sign_in_with_code,
)
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser



def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A valid 1×1 grey PNG.
PNG = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
       + _chunk(b"IDAT", zlib.compress(b"\x00\x80")) + _chunk(b"IEND", b""))


def card(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.locator("li.card").filter(has=page.get_by_role("heading", name=title, exact=True))


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_patient_reads_masks_uploads_and_exports(
    server: Server, browser: Browser, viewport: str
) -> None:
    email = f"lea.{viewport}@example.test"
    account, record = await factories.patient(email=email, first_name="Léa", last_name="Martin")
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline 1 g", days_ago=40,
                          dose="1 g x 3/j")
    old = await factories.entry(record, Section.ALLERGIES, title="Allergie (ancienne saisie)",
                                days_ago=20, author=doctor, substance="pénicilline")
    old.superseded = True
    await old.save()
    correction = await factories.entry(record, Section.ALLERGIES, title="Allergie à la pénicilline",
                                       days_ago=20, author=doctor, substance="pénicilline G")
    correction.supersedes = old  # type: ignore[assignment]
    await correction.save()

    tab = await open_tab(browser, server, "record", viewport)
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_text("3 informations affichées")).to_be_visible()
    await tab.check("timeline")

    # Filter by section, then by a period that excludes the medicine.
    await page.get_by_label("Rubrique").select_option("ALLERGIES")
    await expect(page.get_by_text("2 informations affichées")).to_be_visible()
    await page.get_by_label("Rubrique").select_option("")
    await page.get_by_label("Du").fill(str(correction.care_date))
    await expect(page.get_by_text("2 informations affichées")).to_be_visible()
    await page.get_by_label("Du").fill("")

    # The correction is shown as such, and the corrected entry stays, marked as replaced.
    fixed = card(page, "Allergie à la pénicilline")
    await expect(fixed.get_by_text("Correction", exact=True)).to_be_visible()
    await expect(card(page, "Allergie (ancienne saisie)").get_by_text(
        "Remplacée par une correction")).to_be_visible()
    await fixed.get_by_role("button", name="Voir le détail").click()
    await expect(fixed.get_by_text("pénicilline G")).to_be_visible()
    await expect(fixed.get_by_text(doctor.display_name).first).to_be_visible()
    await tab.check("details")

    # Mask, with its plain explanation, then unmask.
    await page.get_by_text("Masquer une information : qu'est-ce que cela change ?").click()
    await expect(page.get_by_text("Elle devient invisible pour les professionnels")).to_be_visible()
    medicine = card(page, "Amoxicilline 1 g")
    await medicine.get_by_role("button", name="Masquer").click()
    await expect(page.get_by_text("L'information « Amoxicilline 1 g » est masquée.")).to_be_visible()
    await expect(medicine.get_by_text("Masquée", exact=True)).to_be_visible()
    stored = await Entry.get(title="Amoxicilline 1 g")
    assert stored.masked is True
    await medicine.get_by_role("button", name="Ne plus masquer").click()
    await expect(page.get_by_text("L'information « Amoxicilline 1 g » n'est plus masquée.")).to_be_visible()
    await stored.refresh_from_db()
    assert stored.masked is False

    # Upload a document, then download it from the timeline.
    await page.get_by_role("link", name="Ajouter un document").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")
    await tab.check("upload")
    await page.get_by_label("Fichier").set_input_files(
        files=[{"name": "radio.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_label("Titre du document").fill("Radio du genou")
    await page.get_by_role("button", name="Envoyer le document").click()
    await expect(page.get_by_text("« Radio du genou » est ajouté à votre dossier.")).to_be_visible()
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    document = card(page, "Radio du genou")
    await expect(document).to_contain_text("Ajouté par vous — Léa Martin")
    async with page.expect_download() as info:
        await document.get_by_role("link", name="Télécharger").click()
    download = await info.value
    assert (await download.path()).read_bytes() == PNG

    # Emergency profile.
    await page.get_by_role("link", name="Urgence").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'urgence")
    await page.get_by_label("Groupe sanguin").select_option("O-")
    await page.get_by_role("button", name="Ajouter une personne").click()
    # A contact whose name is spaces only is refused and said why (it was dropped, "Saved.").
    await page.get_by_label("Nom", exact=True).fill("   ")
    await page.get_by_label("Téléphone").fill("+33600000000")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("« Nom du contact » est à remplir.")).to_be_visible()
    await expect(page.get_by_text("Enregistré.")).to_have_count(0)
    await page.get_by_label("Nom", exact=True).fill("Paul Martin")
    await page.get_by_label("Directives anticipées").fill("Pas d'acharnement thérapeutique.")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    await tab.check("emergency")
    await page.reload()
    await expect(page.get_by_label("Groupe sanguin")).to_have_value("O-")
    await expect(page.get_by_label("Nom", exact=True)).to_have_value("Paul Martin")

    # Export.
    await page.get_by_role("link", name="Mon compte").click()
    await expect(page.get_by_text("Actif", exact=True)).to_be_visible()
    await tab.check("account")
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Télécharger (JSON)").click()
    exported = (await (await info.value).path()).read_text()
    assert "Amoxicilline 1 g" in exported
    assert account.id is not None
    await tab.context.close()


async def test_practitioner_opens_a_record_and_breaks_the_glass(
    server: Server, browser: Browser
) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN, email="dr.urgence@example.test")
    _, record = await factories.patient(email="jean.dupont@example.test", first_name="Jean",
                                        last_name="Dupont")
    await factories.entry(record, Section.ALLERGIES, title="Allergie à l'iode", days_ago=3)

    tab = await open_tab(browser, server, "practitioner", "mobile")
    page = tab.page
    await sign_in_with_code(tab, server, "dr.urgence@example.test")
    await expect(page).to_have_url(f"{server.origin}/praticien")
    await tab.check("home")

    # Open a record at the point of care: the activation code to hand over is shown.
    new_ins = factories.new_ins()
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").nth(1).fill(new_ins)
    await page.get_by_label("Prénom").fill("Nina")
    await page.get_by_label("Nom", exact=True).fill("Bernard")
    await page.get_by_label("Date de naissance").fill("2001-09-30")
    # A double click opens it once: a second opening would void the code handed over.
    await page.get_by_role("button", name="Ouvrir le dossier").dblclick()
    await expect(page.get_by_text("Le dossier est ouvert.")).to_be_visible()
    assert await page.locator(".code").inner_text()
    assert new_ins not in page.url
    opened = await Record.get(ins=new_ins)
    assert await ActivationCode.filter(record_id=opened.id).count() == 1

    # Nothing shared: refused, then break-glass with a justification, banner and countdown.
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_text("Vous n'avez pas accès à cette information.")).to_be_visible()
    # A reason the server refuses (long only in invisible characters) leaves the form there.
    await page.get_by_label("Justification").fill("\u200b" * 12)
    await page.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    await expect(page.locator(".error").filter(has_text="Justification")).to_be_focused()
    await page.get_by_label("Justification").fill("Patient inconscient aux urgences")
    await page.get_by_role("button", name="Ouvrir l'accès d'urgence").click()
    banner = page.get_by_role("alert").filter(has_text="Bris de glace (urgence)")
    await expect(banner).to_be_visible()
    timer = banner.get_by_role("timer")
    first = await timer.inner_text()
    assert first.count(":") in (1, 2)
    await expect(timer).not_to_have_text(first, timeout=5000)
    await expect(page.get_by_role("heading", name="Allergie à l'iode")).to_be_visible()
    await expect(page.get_by_role("list").filter(has_text="Allergies —")).to_contain_text(
        "Bris de glace (urgence)")
    # Emergency access is read-only: no form to add an entry.
    await expect(page.get_by_role("button", name="Ajouter au dossier")).to_have_count(0)
    await tab.check("break-glass")
    assert record.ins not in page.url
    # Read again later (here: asked again), the open access keeps its banner and countdown.
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Allergie à l'iode")).to_be_visible()
    await expect(banner).to_be_visible()
    await expect(banner.get_by_role("timer")).to_be_visible()
    await tab.context.close()

    # The patient finds the opening in the review list and reports it as unjustified.
    patient_tab = await open_tab(browser, server, "review", "mobile")
    await sign_in_with_code(patient_tab, server, "jean.dupont@example.test")
    await expect(patient_tab.page).to_have_url(f"{server.origin}/dossier")
    await patient_tab.page.get_by_role("link", name="Historique des accès").click()
    review = patient_tab.page.locator("li.card", has_text="Patient inconscient aux urgences").filter(
        has_text="À examiner")
    await expect(review).to_have_count(1)
    await expect(patient_tab.page.locator("li.emergency-event", has_text="Accès d'urgence (bris de glace)")
                 ).not_to_have_count(0)
    await patient_tab.check("review")
    # Each review's buttons say whom they are about (their names are the same for every review).
    report = review.get_by_role("button", name="Signaler comme injustifié")
    await expect(report).to_have_accessible_description(re.compile(re.escape(doctor.display_name)))
    await review.get_by_role("button", name="Signaler comme injustifié").click()
    await review.get_by_label("Commentaire (facultatif)").fill("Je n'étais pas aux urgences.")
    await review.get_by_role("button", name="Envoyer le signalement").click()
    await expect(patient_tab.page.get_by_text("Vous l'avez signalé")).to_be_visible()
    await patient_tab.context.close()


async def test_granted_practitioner_reads_and_adds_an_entry(server: Server, browser: Browser) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN, email="dr.grant@example.test")
    patient, record = await factories.patient(first_name="Rose", last_name="Lambert")
    await factories.entry(record, Section.MEDICATIONS, title="Paracétamol 500 mg", days_ago=2)
    await factories.entry(record, Section.LAB_RESULTS, title="Glycémie", days_ago=2)
    # The patient's own note: "by you" to the patient only, "by the patient" to the practitioner.
    own = await factories.entry(record, Section.MEDICATIONS, title="Note de Rose", days_ago=1)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()
    patient_cookie = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(patient_cookie, doctor.last_name, ["MEDICATIONS", "ALLERGIES"])

    tab = await open_tab(browser, server, "granted", "desktop")
    page = tab.page
    await sign_in_with_code(tab, server, "dr.grant@example.test")
    await expect(page).to_have_url(f"{server.origin}/praticien")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").first.fill(record.ins)
    await page.get_by_role("button", name="Consulter").click()
    await expect(page.get_by_role("heading", name="Rose Lambert")).to_be_visible()
    access = page.locator("ul.access")
    await expect(access.locator("li")).to_have_count(2)
    await expect(access).to_contain_text("Médicaments — Accès autorisé par le patient")
    await expect(access).to_contain_text("Allergies — Accès autorisé par le patient")
    await expect(page.get_by_role("heading", name="Paracétamol 500 mg")).to_be_visible()
    await expect(page.get_by_role("heading", name="Glycémie")).to_have_count(0)
    note = card(page, "Note de Rose")
    await expect(note).to_contain_text(f"Ajouté par le patient — {patient.display_name}")
    await note.get_by_role("button", name="Voir le détail").click()
    await expect(note.get_by_text("Ajouté par le patient", exact=True)).to_be_visible()
    await expect(page.get_by_text("Ajouté par vous")).to_have_count(0)
    await tab.check("granted-view")

    form = page.get_by_role("form", name="Ajouter une information")
    # The date of care cannot be picked in the future, as on the patient's own form.
    today = await page.evaluate(
        "() => { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
        " return d.toISOString().slice(0, 10); }")
    await expect(form.get_by_label("Date des soins")).to_have_attribute("max", today)
    await form.get_by_label("Rubrique").select_option("ALLERGIES")
    await form.get_by_label("Intitulé").fill("Allergie aux arachides")
    await form.get_by_label("Substance").fill("arachide")
    # A double click adds the entry once: the button waits for the first answer.
    await form.get_by_role("button", name="Ajouter au dossier").dblclick()
    await expect(page.get_by_text("« Allergie aux arachides » est ajouté au dossier.")).to_be_visible()
    assert await Entry.filter(title="Allergie aux arachides").count() == 1
    await expect(page.get_by_role("heading", name="Allergie aux arachides")).to_be_visible()
    added = await Entry.get(title="Allergie aux arachides")
    assert added.author_id == doctor.id  # type: ignore[attr-defined]
    assert added.section == Section.ALLERGIES
    assert added.details.get("substance") == "arachide"
    await tab.check("granted-added")
    await tab.context.close()


async def test_patient_closes_then_reopens_the_record(server: Server, browser: Browser) -> None:
    email = "cycle@example.test"
    _, record = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "lifecycle", email)
    page = tab.page
    await page.get_by_role("link", name="Mon compte").click()
    await expect(page.get_by_text("Actif", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Fermer mon dossier").click()
    await expect(page.get_by_text("Votre dossier est fermé.")).to_be_visible()
    await expect(page.get_by_text("Fermé", exact=True)).to_be_visible()
    assert (await Record.get(ins=record.ins)).status == RecordStatus.CLOSED
    await tab.check("closed")
    await page.get_by_role("button", name="Rouvrir mon dossier").click()
    await expect(page.get_by_text("Votre dossier est rouvert.")).to_be_visible()
    await expect(page.get_by_text("Actif", exact=True)).to_be_visible()
    await tab.context.close()


async def test_deletion_asks_for_a_code_when_the_sign_in_is_not_recent(
    server: Server, browser: Browser
) -> None:
    email = "suppression@example.test"
    patient, record = await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "lifecycle-fresh", email)
    page = tab.page
    # Signed in 11 minutes ago, as far as the server knows.
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11)
    )
    await page.get_by_role("link", name="Mon compte").click()
    await page.get_by_role("button", name="Demander la suppression").click()
    card = page.get_by_role("group", name="Confirmez que c'est bien vous")
    await expect(card).to_be_visible()
    assert (await Record.get(id=record.id)).status == RecordStatus.ACTIVE
    await confirm_it_is_you(tab, server, email)
    await expect(page.get_by_text("La suppression est demandée.")).to_be_visible()
    await expect(page.get_by_text("Suppression demandée", exact=True)).to_be_visible()
    assert (await Record.get(id=record.id)).status == RecordStatus.DELETED
    await tab.check("deletion-fresh")
    await tab.context.close()


async def test_a_deletion_asked_meanwhile_takes_the_record_screen_away(
    server: Server, browser: Browser
) -> None:
    """The deletion is asked from another tab while the record is on screen: masking, deleting
    an entry or loading more is refused or finds nothing, and the screen reads the record's
    status again and says why, as the other screens do, instead of a bare refusal."""
    email = "entre-temps@example.test"
    patient, record = await factories.patient(email=email)
    for n in range(12):  # more than a page: "More" is offered
        await factories.entry(record, Section.MEDICATIONS, title=f"Traitement {n:02}", days_ago=n + 1)
    own = await factories.entry(record, Section.ALLERGIES, title="Allergie notée par moi", author=patient)
    await Entry.filter(id=own.id).update(source=EntrySource.PATIENT)
    deletion = "La suppression de votre dossier est demandée"
    tab = await patient_signed_in(browser, server, "record-deleted-meanwhile", email)
    page = tab.page

    async def asked_meanwhile() -> None:
        await Record.filter(id=record.id).update(status=RecordStatus.ACTIVE)
        await page.reload()
        await expect(card(page, "Traitement 00")).to_be_visible()
        await Record.filter(id=record.id).update(status=RecordStatus.DELETED)

    async def says_why(label: str) -> None:
        await expect(page.get_by_text(deletion)).to_be_visible()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
        await expect(page.locator("li.card")).to_have_count(0)
        await expect(page.get_by_role("link", name="Voir où en est mon dossier (Mon compte)")).to_be_visible()
        await tab.check(label)

    # Masking.
    await asked_meanwhile()
    await card(page, "Traitement 00").get_by_role("button", name="Masquer").click()
    await says_why("mask")
    assert not await Entry.filter(record_id=record.id, masked=True).exists()

    # Deleting one's own entry.
    await asked_meanwhile()
    await card(page, "Allergie notée par moi").get_by_role("button", name="Supprimer").click()
    await says_why("delete")
    assert await Entry.filter(id=own.id).exists()

    # Loading more: the record is no longer read.
    await asked_meanwhile()
    await page.get_by_role("button", name="Plus de résultats : Médicaments").click()
    await says_why("more")
    await tab.context.close()
