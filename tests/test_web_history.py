"""The patient's access history (/historique) in a real Chromium: the one-person filter is worded
in the language of the moment."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import Server, browser, server
from tests.conftest import session_for
from tests.test_web_kept_state import _patient_tab

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

READ = "query($ins: String!) { patientRecord(ins: $ins) { ins medications(first: 5) { totalCount } } }"


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

    tab = await _patient_tab(browser, server, "history-filter-language", email)
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
