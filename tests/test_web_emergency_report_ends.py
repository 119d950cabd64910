"""Reporting an emergency access on /historique, in a real Chromium: the access reported says it
is closed, and is (the practitioner reads no more through it); an acknowledged one says nothing
of the kind and stays open."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, expect

from backend import clock
from backend.domain.enums import EmergencyKind, ReviewState
from backend.models import EmergencySession
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server
from tests.history_helpers import break_glass

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

CLOSED = "Cet accès est fermé : il ne permet plus de consulter votre dossier."


def _ends(at: dt.datetime) -> re.Pattern[str]:
    """A card's end line for a time, by its hour and minute (Chromium here uses the machine's
    zone, as Python does); the day before them is worded by the page's locale."""
    return re.compile(rf"Fin de l'accès : [^·]*(?<!\d){at.astimezone().strftime('%H:%M')}(?!\d)")


async def test_a_report_on_the_page_says_the_access_is_closed(server: Server, browser: Browser) -> None:
    email = "urgences.fermeture@example.test"
    _, record = await factories.patient(email=email)
    _, practitioner = await factories.practitioner(regulator=True)
    glass = await break_glass(record, practitioner, reason="Patient inconscient, bris de glace")
    regulator = await break_glass(record, practitioner, kind=EmergencyKind.REGULATOR, minutes=30,
                                  reason="Appel au 15, douleur thoracique")
    tab = await patient_signed_in(browser, server, "emergency-report-ends", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    reviews = page.get_by_role("region", name="Accès d'urgence à examiner")
    reported = reviews.locator("li.card", has_text="bris de glace")
    acknowledged = reviews.locator("li.card", has_text="douleur thoracique")
    await expect(reported).to_contain_text("À examiner")
    await expect(reviews.get_by_text(CLOSED)).to_have_count(0)
    # Each card gives its access's end, as the server keeps it.
    await expect(reported).to_contain_text(_ends(glass.expires_at))
    await expect(acknowledged).to_contain_text(_ends(regulator.expires_at))

    await reported.get_by_role("button", name="Signaler comme injustifié").click()
    await page.keyboard.type("Je ne connais pas ce médecin")
    await reported.get_by_role("button", name="Envoyer le signalement").click()
    await expect(reported).to_contain_text("Vous l'avez signalé")
    await expect(reported.get_by_text(CLOSED)).to_be_visible()
    # The keyboard on the access's heading, which says it is closed.
    heading = reported.get_by_role("heading", level=3)
    await expect(heading).to_be_focused()
    await expect(heading).to_have_accessible_description(CLOSED)
    stored = await EmergencySession.get(id=glass.id)
    assert stored.review_state == ReviewState.REPORTED and stored.expires_at <= clock.now()
    await tab.check("reported-closed")

    # Acknowledged: nothing said of a closing, and the access stays open.
    await acknowledged.get_by_role("button", name="C'était justifié").click()
    await expect(acknowledged).to_contain_text("Vous l'avez accepté")
    await expect(acknowledged.get_by_text(CLOSED)).to_have_count(0)
    await expect(reviews.get_by_text(CLOSED)).to_have_count(1)
    assert (await EmergencySession.get(id=regulator.id)).expires_at == regulator.expires_at
    await tab.check("acknowledged-open")

    # Read again later (a reload forgets what was reported on the page): the reported access's
    # end is the report's time, so the card still says when it ended; the other keeps its end.
    await page.reload()
    await expect(reported).to_contain_text("Vous l'avez signalé")
    await expect(reported).to_contain_text(_ends(stored.expires_at))
    await expect(acknowledged).to_contain_text(_ends(regulator.expires_at))
    await tab.context.close()
