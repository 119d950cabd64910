"""The patient's access history (/historique) in a real Chromium: the one-person filter is worded
in the language of the moment, and reviewing an emergency access shows its event at once."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from backend.models import AccessEvent
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

READ = "query($ins: String!) { patientRecord(ins: $ins) { ins medications(first: 5) { totalCount } } }"
BREAK_GLASS = ("mutation($ins: String!, $reason: String!)"
               " { openBreakGlass(ins: $ins, reason: $reason) { mode } }")


async def test_the_person_filter_follows_the_language(server: Server, browser: Browser) -> None:
    email = "filtre.langue@example.test"
    patient, record = await factories.patient(email=email)
    await factories.entry(record, Section.MEDICATIONS, title="Doliprane", days_ago=3)
    pharmacist, _ = await factories.practitioner(Profession.PHARMACIEN)
    patient_cookie = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(patient_cookie, pharmacist.last_name, ["MEDICATIONS"])
    read = await server.gql(READ, {"ins": record.ins},
                            cookies={config.settings().session_cookie: await session_for(pharmacist)})
    assert not read.get("errors"), read

    tab = await patient_signed_in(browser, server, "history-filter-language", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    row = page.locator("ul.history > li").filter(has_text=pharmacist.display_name).first
    await row.get_by_role("button", name="Seulement cette personne").click()
    shown = page.get_by_role("group", name="Personne")
    await expect(shown).to_contain_text(
        f"Seuls les événements de {pharmacist.display_name} (pharmacien) sont affichés.")
    await page.get_by_label("Langue").select_option("en")
    shown = page.get_by_role("group", name="Person")
    await expect(shown).to_contain_text(f"Only {pharmacist.display_name} (pharmacist)'s events are shown.")
    await expect(shown).not_to_contain_text("pharmacien")
    await tab.check("history-filter-english")
    await tab.context.close()


@pytest.mark.parametrize("review", ["acknowledge", "report"])
async def test_reviewing_an_emergency_access_shows_its_event(
    server: Server, browser: Browser, review: str
) -> None:
    email = f"examen.{review}@example.test"
    _, record = await factories.patient(email=email)
    await factories.entry(record, Section.ALLERGIES, title="Allergie à l'iode", days_ago=3)
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    opened = await server.gql(BREAK_GLASS, {"ins": record.ins, "reason": "Patient inconscient aux urgences"},
                              cookies={config.settings().session_cookie: await session_for(doctor)})
    assert not opened.get("errors"), opened

    tab = await patient_signed_in(browser, server, f"history-review-{review}", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    before = await AccessEvent.filter(record_id=record.id).count()
    await expect(page.get_by_text(f"{before} événement{'s' if before > 1 else ''}")).to_be_visible()
    events = page.locator("ul.history > li")
    await expect(events.filter(has_text="Accès d'urgence examiné")).to_have_count(0)
    # « Urgence » said once: the action's name says it, no tag repeats it.
    access = events.filter(has_text="Patient inconscient aux urgences")
    await expect(access.get_by_role("heading")).to_have_text("Accès d'urgence (bris de glace)")
    card = page.locator("li.card", has_text="Patient inconscient aux urgences").filter(has_text="À examiner")
    if review == "acknowledge":
        await card.get_by_role("button", name="C'était justifié").click()
        await expect(page.get_by_text("Vous l'avez accepté")).to_be_visible()
    else:
        await card.get_by_role("button", name="Signaler comme injustifié").click()
        await card.get_by_role("button", name="Envoyer le signalement").click()
        await expect(page.get_by_text("Vous l'avez signalé")).to_be_visible()
    after = await AccessEvent.filter(record_id=record.id).count()
    assert after == before + 1
    # The list below and its count are read again: the review's own event is there.
    await expect(page.get_by_text(f"{after} événement{'s' if after > 1 else ''}")).to_be_visible()
    reviewed = events.filter(has_text="Accès d'urgence examiné")
    await expect(reviewed).to_have_count(1)
    # It says which access: its kind, and who opened it.
    await expect(reviewed).to_contain_text(
        f"accès en urgence (bris de glace) ouvert par {doctor.display_name} (médecin, RPPS ")
    await tab.check(f"history-reviewed-{review}")
    if review == "report":
        # The report closed the access: the doctor's next read is refused, and the line says why.
        refused = await server.gql(READ, {"ins": record.ins},
                                   cookies={config.settings().session_cookie: await session_for(doctor)})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        await page.reload()
        denied = events.filter(has_text="Accès refusé")
        await expect(denied.get_by_role("heading")).to_have_text("Urgence Accès refusé")
        await expect(denied).to_contain_text("Détail : accès d'urgence fermé par le signalement du patient")
    await tab.context.close()


MASK = "mutation($id: ID!) { maskEntry(id: $id) { id } }"
ADD = ('mutation($title: String!) { addEntry(input: {section: VACCINATIONS, title: $title,'
       ' date: "2026-01-05"}) { entry { id } } }')
DELETE = "mutation($id: ID!) { deleteEntry(id: $id) }"


async def test_an_event_that_names_an_entry_shows_its_title_while_it_is_there(
    server: Server, browser: Browser
) -> None:
    email = "titre.information@example.test"
    patient, record = await factories.patient(email=email)
    entry = await factories.entry(record, Section.MEDICATIONS, title="Metformine 850 mg", days_ago=3)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    for query, variables in ((MASK, {"id": str(entry.id)}), (ADD, {"title": "Tétanos"})):
        done = await server.gql(query, variables, cookies=cookies)
        assert not done.get("errors"), done
    added = await AccessEvent.get(record_id=record.id, action="ENTRY_ADDED")
    deleted = await server.gql(DELETE, {"id": added.entry_id}, cookies=cookies)
    assert not deleted.get("errors"), deleted

    tab = await patient_signed_in(browser, server, "history-entry-title", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    events = page.locator("ul.history > li")
    masked = events.filter(has_text="Information masquée")
    await expect(masked.locator("p.entry-title")).to_have_text("Information : Metformine 850 mg")
    await expect(masked.locator(".tag")).to_have_text(["Médicaments"])
    # Deleted since: its lines say no title, the history kept none.
    for action in ("Ajout d'une information", "Information supprimée"):
        line = events.filter(has_text=action)
        await expect(line).to_have_count(1)
        await expect(line.locator("p.entry-title")).to_have_count(0)
    await expect(page.get_by_text("Tétanos")).to_have_count(0)
    await page.get_by_label("Langue").select_option("en")
    await expect(events.filter(has_text="Entry masked").locator("p.entry-title")).to_have_text(
        "Entry: Metformine 850 mg")
    await tab.check("history-entry-title")
    await tab.context.close()
