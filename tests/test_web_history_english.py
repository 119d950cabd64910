"""The English history words the service's own reasons in English, a practitioner's as written.

The reasons the service writes in the events are French and sealed; the page words them in the
language chosen (frontend/src/lib/history.js `shownReason`), keeping their variable parts.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession
from tests import factories
from tests.browser import Server, browser, open_tab, server, sign_in_with_code
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_service_reason_reads_in_english(server: Server, browser: Browser) -> None:
    doctor, practitioner = await factories.practitioner(Profession.MEDECIN)
    patient, record = await factories.patient(email="pat.hist.en@example.test")
    # The patient shares a section: the service writes « accès accordé à … (médecin, RPPS …) ».
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, doctor.last_name, ["MEDICATIONS"])
    # Another doctor breaks the glass, stating a reason of their own, in French.
    await server.break_glass(record.ins, "patient inconscient aux urgences")

    tab = await open_tab(browser, server, "history-english", "desktop")
    page = tab.page
    await sign_in_with_code(tab, server, "pat.hist.en@example.test")
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await page.goto("/historique")
    events = page.locator("ul.history")
    granted = f"{doctor.display_name} (médecin, RPPS {practitioner.rpps})"
    await expect(events.get_by_text(f"Détail : accès accordé à {granted}")).to_have_count(1)

    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Access history")
    await expect(events.get_by_text(
        f"Details: access granted to {doctor.display_name} (doctor, RPPS {practitioner.rpps})"
    )).to_have_count(1)
    await expect(events.get_by_text("accès accordé")).to_have_count(0)
    await expect(events.get_by_text("Stated reason: patient inconscient aux urgences")).to_have_count(1)
    await tab.shot("history-english")
    assert not tab.problems, tab.problems
