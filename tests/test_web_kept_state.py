"""What the page shows and what the person typed stay put across the page's own actions.

Masking an entry keeps the pages loaded with "More"; switching language keeps the screen's
state; the access history narrows to one person and back.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from backend.models import AccessEvent, Entry
from tests import factories
from tests.browser import Server, browser, open_tab, patient_signed_in, server, sign_in_first_step
from tests.conftest import session_for
from tests.test_web_record import card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_masking_keeps_the_pages_loaded_with_more(server: Server, browser: Browser) -> None:
    email = "pages@example.test"
    _, record = await factories.patient(email=email)
    # Twelve medicines: the first page shows ten, "More" the two oldest.
    for day in range(1, 13):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
    tab = await patient_signed_in(browser, server, "mask-pages", email)
    page = tab.page
    await expect(page.get_by_text("10 informations affichées")).to_be_visible()
    await page.get_by_role("button", name="Plus de résultats : Médicaments").click()
    await expect(page.get_by_text("12 informations affichées")).to_be_visible()

    oldest = card(page, "Médicament 12")
    await oldest.get_by_role("button", name="Masquer").click()
    await expect(page.get_by_text("L'information « Médicament 12 » est masquée.")).to_be_visible()
    await expect(oldest.get_by_text("Masquée", exact=True)).to_be_visible()
    await expect(page.get_by_text("12 informations affichées")).to_be_visible()
    await expect(card(page, "Médicament 11")).to_be_visible()
    await expect(page.locator(".tag.masked")).to_have_count(1)
    assert (await Entry.get(title="Médicament 12")).masked is True

    await oldest.get_by_role("button", name="Ne plus masquer").click()
    await expect(page.get_by_text("L'information « Médicament 12 » n'est plus masquée.")).to_be_visible()
    await expect(page.get_by_text("12 informations affichées")).to_be_visible()
    await expect(page.locator(".tag.masked")).to_have_count(0)
    assert (await Entry.get(title="Médicament 12")).masked is False

    # Masking everything keeps them too, each one shown masked.
    await page.get_by_text("Masquer une information : qu'est-ce que cela change ?").click()
    await page.get_by_role("button", name="Tout masquer").click()
    await expect(page.get_by_text("Toutes les informations sont masquées.")).to_be_visible()
    await expect(page.get_by_text("12 informations affichées")).to_be_visible()
    await expect(page.locator(".tag.masked")).to_have_count(12)
    await tab.check("masked-with-more")
    await tab.context.close()


async def test_switching_language_keeps_what_was_typed_and_shown(server: Server, browser: Browser) -> None:
    email = "langue@example.test"
    _, record = await factories.patient(email=email)
    for day in range(1, 13):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
    tab = await open_tab(browser, server, "language-kept", "mobile")
    page = tab.page

    # A code half typed at the second step of the sign-in stays, and the step with it.
    await sign_in_first_step(tab, server, email)
    code = await server.next_code(email)
    await page.get_by_label("Code reçu").fill(code[:3])
    await page.get_by_label("Langue").focus()
    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Verification")
    await expect(page.get_by_label("Code received")).to_have_value(code[:3])
    # The selector keeps the keyboard's focus (it was replaced, with the whole page).
    assert await page.evaluate("document.activeElement?.closest('label.lang') !== null")
    await page.get_by_label("Code received").fill(code)
    await page.get_by_role("button", name="Confirm").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")

    # The record's pages, filters and the last action's notice stay, in the other language.
    await page.get_by_role("button", name="More in Medicines").click()
    await expect(page.get_by_text("12 entries shown")).to_be_visible()
    await card(page, "Médicament 12").get_by_role("button", name="Mask").click()
    notice = page.locator("p.notice")
    await expect(notice).to_have_text("“Médicament 12” is masked.")
    # Its card hidden by « From », the notice is said where the card was, beside another
    # medicine's: it names the entry it is about, in either language.
    await page.get_by_label("From").fill(str(await _day_of(record.id, "Médicament 11")))
    await expect(page.get_by_text("11 entries shown")).to_be_visible()
    await expect(notice).to_have_text("“Médicament 12” is masked.")
    await page.get_by_label("Language").select_option("fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    await expect(notice).to_have_text("L'information « Médicament 12 » est masquée.")
    await expect(page.get_by_text("11 informations affichées")).to_be_visible()
    await expect(page.get_by_label("Du")).not_to_have_value("")
    await expect(card(page, "Médicament 11")).to_be_visible()
    await tab.check("language-kept")
    await tab.context.close()


async def _day_of(record_id: object, title: str) -> object:
    return (await Entry.get(record_id=record_id, title=title)).care_date


READ = "query($ins: String!) { patientRecord(ins: $ins) { ins medications(first: 5) { totalCount } } }"


async def test_history_shows_one_persons_accesses_then_everyone_again(
    server: Server, browser: Browser
) -> None:
    email = "qui@example.test"
    patient, record = await factories.patient(email=email)
    await factories.entry(record, Section.MEDICATIONS, title="Doliprane", days_ago=3)
    patient_cookie = {config.settings().session_cookie: await session_for(patient)}
    readers = []
    for reads in (2, 1):
        doctor, _ = await factories.practitioner(Profession.MEDECIN)
        await server.grant_from_directory(patient_cookie, doctor.last_name, ["MEDICATIONS"])
        cookie = {config.settings().session_cookie: await session_for(doctor)}
        for _ in range(reads):
            read = await server.gql(READ, {"ins": record.ins}, cookies=cookie)
            assert not read.get("errors"), read
        readers.append(doctor)
    first, second = readers
    total = await AccessEvent.filter(record_id=record.id).count()
    first_reads = await AccessEvent.filter(record_id=record.id, actor_id=str(first.id)).count()
    assert first_reads == 2 and total > first_reads + 1

    tab = await patient_signed_in(browser, server, "history-person", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    await expect(page.get_by_text(f"{total} événement{'s' if total > 1 else ''}")).to_be_visible()
    events = page.locator("ul.history > li")
    row = events.filter(has_text=first.display_name).first
    only = row.get_by_role("button", name=f"Seulement cette personne : {first.display_name}")
    await only.click()
    await expect(page.get_by_text(f"{first_reads} événement{'s' if first_reads > 1 else ''}")).to_be_visible()
    await expect(events).to_have_count(first_reads)
    await expect(events.filter(has_text=second.display_name)).to_have_count(0)
    shown = page.get_by_role("group", name="Personne")
    await expect(shown).to_contain_text(first.display_name)
    back = shown.get_by_role("button", name="Revoir tout le monde")
    # The choice is said where the keyboard now is: on the way back.
    await expect(back).to_be_focused()
    # Filters combine: this person's reads only, then everyone's reads.
    await page.get_by_label("Type d'événement").select_option("RECORD_READ")
    await expect(events).to_have_count(first_reads)
    await tab.check("history-one-person")
    await back.click()
    await expect(events.filter(has_text=second.display_name)).to_have_count(1)
    await expect(events).to_have_count(first_reads + 1)
    await expect(page.get_by_role("group", name="Personne")).to_have_count(0)
    await page.get_by_label("Type d'événement").select_option("")
    await expect(page.get_by_text(f"{total} événement{'s' if total > 1 else ''}")).to_be_visible()
    await tab.context.close()
