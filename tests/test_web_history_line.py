"""A line of the access history (/historique) as the patient reads it in Chromium: the sections
in the record's order (the order of the record and sharing pages), and the insurer named once."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, AccessMode, Profession, Section
from backend.models import Record
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

READ = """query($ins: String!) { patientRecord(ins: $ins) {
  hospitalStays(first: 5) { totalCount } labResults(first: 5) { totalCount }
  medications(first: 5) { totalCount } } }"""


async def test_a_lines_sections_follow_the_record_and_the_insurer_is_named_once(
    server: Server, browser: Browser
) -> None:
    email = "ligne.historique@example.test"
    _, record = await factories.patient(email=email)
    for section in (Section.MEDICATIONS, Section.LAB_RESULTS, Section.HOSPITAL_STAYS):
        await factories.entry(record, section, title=f"Entrée {section.value}", days_ago=3)
    insurer = Actor(None, "Assurance Maladie", None, "INSURER")
    await append(insurer, PendingEvent(record.id, AccessAction.ENTRIES_IMPORTED, AccessMode.INSURER,
                                       {Section.HOSPITAL_STAYS, Section.MEDICATIONS}))
    doctor, pro = await factories.practitioner(Profession.MEDECIN)
    await Record.filter(id=record.id).update(treating_physician_id=pro.id)
    read = await server.gql(READ, {"ins": record.ins},
                            cookies={config.settings().session_cookie: await session_for(doctor)})
    assert not read.get("errors"), read

    tab = await patient_signed_in(browser, server, "history-line", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    by_doctor = page.locator("ul.history > li").filter(has_text=doctor.display_name).first
    await expect(by_doctor.locator(".tag")).to_have_text(["Médicaments", "Biologie", "Hospitalisations"])
    imported = page.locator("ul.history > li").filter(has_text="Import de l'Assurance maladie").first
    await expect(imported.locator(".tag")).to_have_text(["Médicaments", "Hospitalisations"])
    meta = imported.locator("p.meta")
    await expect(meta).to_contain_text("Assurance Maladie")
    await expect(meta).not_to_contain_text("· Assurance maladie")
    await tab.check("history-line")
    await tab.context.close()
