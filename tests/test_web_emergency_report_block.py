"""After reporting an emergency access on /historique, in a real Chromium: the access's card says
that a report does not stop its practitioner from opening another emergency access, only a block
does, and offers « Bloquer ce professionnel » (/partage's question first), after which the card says
they are blocked and that the block is lifted on /partage. A practitioner blocked already is said
so, with no button; a treating physician, who cannot be blocked, is said so with the way to
« Mon médecin traitant » on /partage, the keyboard on its heading (/partage#medecin-traitant; the
review names the practitioner's id: `practitionerId`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from backend import config
from backend.audit import reasons
from backend.domain.enums import AccessAction, Profession, ReviewState
from backend.models import AccessEvent, Account, BlockedPractitioner, EmergencySession, Practitioner, Record
from tests import factories
from tests.browser import (
    Server,
    Tab,
    browser,
    confirm_in_page,
    decline_in_page,
    open_tab,
    server,
    sign_in_with_code,
)
from tests.conftest import session_for
from tests.history_helpers import break_glass

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

CLOSED = "Cet accès est fermé : il ne permet plus de consulter votre dossier."
BLOCKABLE = (
    "Ce signalement n'empêche pas ce professionnel d'ouvrir un nouvel accès d'urgence à votre dossier :"
    " seul un blocage l'en empêche."
)
IS_BLOCKED = (
    "Vous avez bloqué ce professionnel : il n'a plus aucun accès à votre dossier, même en urgence."
    " Ce blocage se lève sur la page « Partage de mon dossier »."
)
TREATING = (
    "Ce signalement n'empêche pas ce professionnel d'ouvrir un nouvel accès d'urgence à votre dossier."
    " C'est votre médecin traitant : un médecin traitant ne peut pas être bloqué. Pour le bloquer,"
    " désignez d'abord un autre médecin traitant, ou aucun (« Mon médecin traitant », sur la page"
    " « Partage de mon dossier »), puis bloquez-le ici."
)
TO_TREATING = "Aller à « Mon médecin traitant », sur la page « Partage de mon dossier »"
BLOCK_BUTTON = "Bloquer ce professionnel"
IS_TREATING = "C'est votre médecin traitant : toutes les rubriques lui sont visibles."
BREAK_GLASS = "mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) { mode } }"
READ = "query($ins: String!) { patientRecord(ins: $ins) { accessMode } }"
BLOCK = "mutation($id: ID!) { blockPractitioner(practitionerId: $id) { sharing { blocked { id } } } }"


def _done(who: str) -> str:
    return (
        f"{who} est bloqué(e) : aucun accès à votre dossier, même en urgence. Vous pouvez lever ce"
        " blocage sur la page « Partage de mon dossier »."
    )


def _unblock_link(who: str) -> str:
    return f"Aller à « Partage de mon dossier » pour lever le blocage de {who}"


async def _as(account: Account) -> dict[str, str]:
    return {config.settings().session_cookie: await session_for(account)}


async def _open_again(server: Server, record: Record, account: Account) -> dict[str, Any]:
    reason = "Nouvelle venue aux urgences, inconsciente"
    return await server.gql(BREAK_GLASS, {"ins": record.ins, "r": reason}, cookies=await _as(account))


def _code(answer: dict[str, Any]) -> str | None:
    errors = answer.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def _refused(server: Server, record: Record, account: Account) -> None:
    """The practitioner opens no emergency access, and reads nothing: no access is written."""
    sessions = await EmergencySession.filter(record_id=record.id).count()
    opened = await _open_again(server, record, account)
    assert _code(opened) == "FORBIDDEN" and opened["data"] is None, opened
    assert await EmergencySession.filter(record_id=record.id).count() == sessions
    read = await server.gql(READ, {"ins": record.ins}, cookies=await _as(account))
    assert _code(read) == "FORBIDDEN" and not (read["data"] or {}).get("patientRecord"), read


async def _signed_in(browser: Browser, server: Server, name: str, email: str, viewport: str) -> Tab:
    tab = await open_tab(browser, server, name, viewport)
    await sign_in_with_code(tab, server, email)
    await expect(tab.page).to_have_url(f"{server.origin}/dossier")
    return tab


def _under(page: Page, heading: str) -> Locator:
    """What /partage shows under one of its headings (a card, a list)."""
    return page.get_by_role("heading", name=heading, exact=True).locator("xpath=following-sibling::*[1]")


def _reviews(page: Page) -> Locator:
    return page.get_by_role("region", name="Accès d'urgence à examiner")


async def _report(page: Page, card: Locator, comment: str) -> None:
    await card.get_by_role("button", name="Signaler comme injustifié").click()
    await page.keyboard.type(comment)
    await card.get_by_role("button", name="Envoyer le signalement").click()
    await expect(card).to_contain_text("Vous l'avez signalé")


async def _find(page: Page, name: str) -> Locator:
    await page.get_by_label("Rechercher un professionnel").fill(name)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    return page.get_by_role("list", name="Résultats de la recherche")


async def _who(practitioner: Practitioner, account: Account) -> str:
    return reasons.professional(account.display_name, Profession(practitioner.profession), practitioner.rpps)


async def test_a_reported_practitioner_is_blocked_from_the_card(server: Server, browser: Browser) -> None:
    email = "urgences.blocage@example.test"
    _, record = await factories.patient(email=email)
    account, practitioner = await factories.practitioner()
    name = account.display_name
    await break_glass(record, practitioner, reason="Patient inconscient, bris de glace")
    tab = await _signed_in(browser, server, "emergency-report-block", email, "mobile")
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    reviews = _reviews(page)
    card = reviews.locator("li.card", has_text="Patient inconscient, bris de glace")
    await expect(card).to_contain_text("À examiner")
    # Not reported yet: nothing said of blocking.
    await expect(reviews.get_by_text(BLOCKABLE)).to_have_count(0)
    await expect(reviews.get_by_role("button", name=BLOCK_BUTTON)).to_have_count(0)

    await _report(page, card, "Je ne connais pas ce médecin")
    await expect(card.get_by_text(BLOCKABLE)).to_be_visible()
    # The keyboard on the access's heading, which says it is closed; what a report does not stop
    # comes next in the card, under the closing's notice, with the button that blocks them.
    heading = card.get_by_role("heading", level=3)
    await expect(heading).to_be_focused()
    await expect(heading).to_have_accessible_description(CLOSED)
    await expect(card.locator("p.notice + p")).to_have_text(BLOCKABLE)
    await expect(page.get_by_role("alert")).to_have_count(0)
    button = card.get_by_role("button", name=BLOCK_BUTTON)
    await expect(button).to_have_accessible_description(re.compile(re.escape(name)))
    await tab.check("reported")

    # What the card says is so: the same practitioner opens another emergency access at once.
    again = await _open_again(server, record, account)
    assert not again.get("errors"), again
    assert await EmergencySession.filter(record_id=record.id).count() == 2

    # Blocked from the card, once /partage's question is confirmed.
    await button.click()
    await expect(page.get_by_role("dialog")).to_contain_text(
        f"Bloquer {name} ? Ce professionnel perdra tout accès à votre dossier, même en urgence."
    )
    await confirm_in_page(page, "Bloquer")
    # Said once: the button is gone, the notice takes the keyboard and is read as focused.
    notice = card.locator("p.notice", has_text=_done(name))
    await expect(notice).to_be_focused()
    await expect(notice).to_have_text(_done(name))
    await expect(notice.get_by_role("status")).to_have_count(0)
    await expect(card.get_by_role("button")).to_have_count(0)
    await expect(card.get_by_role("link", name=_unblock_link(name))).to_have_attribute("href", "/partage")
    assert await BlockedPractitioner.filter(record_id=record.id, practitioner_id=practitioner.id).count() == 1
    # The history: the block, read again under the reviews.
    events = page.locator("ul.history > li")
    await expect(events.filter(has_text=f"{await _who(practitioner, account)} bloqué")).to_have_count(1)
    await tab.check("blocked")
    # The API: blocked, they open no emergency access and read nothing (the access opened again
    # above was ended by the block).
    await _refused(server, record, account)
    assert await AccessEvent.filter(record_id=record.id, action=AccessAction.ACCESS_DENIED).count() >= 1

    # Read again: the card says they are blocked, with no button; the new access, ended by the
    # block, is to review, and once reported says the same.
    await page.reload()
    await expect(card).to_contain_text("Vous l'avez signalé")
    await expect(card.get_by_text(IS_BLOCKED)).to_be_visible()
    await expect(card.get_by_role("button")).to_have_count(0)
    fresh = reviews.locator("li.card", has_text="Nouvelle venue aux urgences")
    await expect(fresh).to_contain_text("À examiner")
    await expect(fresh.get_by_text(BLOCKABLE)).to_have_count(0)
    await expect(fresh.get_by_text(IS_BLOCKED)).to_have_count(0)
    await _report(page, fresh, "Toujours inconnu")
    await expect(fresh.get_by_text(IS_BLOCKED)).to_be_visible()
    await expect(fresh.get_by_role("button", name=BLOCK_BUTTON)).to_have_count(0)
    await tab.check("history")
    # /partage lists them as blocked, where the block is lifted.
    await page.goto(f"{server.origin}/partage")
    await expect(_under(page, "Professionnels bloqués")).to_contain_text(name)
    await tab.context.close()


async def test_a_treating_physician_and_one_blocked_already(server: Server, browser: Browser) -> None:
    email = "urgences.traitant@example.test"
    patient, record = await factories.patient(email=email)
    doctor_account, doctor = await factories.practitioner()
    doctor_name = doctor_account.display_name
    await Record.filter(id=record.id).update(treating_physician_id=doctor.id)
    other_account, other = await factories.practitioner()
    # Reported, then blocked, some time ago.
    old = await break_glass(record, other, reason="Ancien passage aux urgences")
    await EmergencySession.filter(id=old.id).update(review_state=ReviewState.REPORTED,
                                                    expires_at=old.opened_at)
    await BlockedPractitioner.create(record_id=record.id, practitioner_id=other.id)
    await break_glass(record, doctor, reason="Patient inconscient, vu par son médecin")
    tab = await _signed_in(browser, server, "emergency-report-treating", email, "desktop")
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    reviews = _reviews(page)

    # Blocked already: said so, and no button.
    reported = reviews.locator("li.card", has_text="Ancien passage")
    await expect(reported).to_contain_text("Vous l'avez signalé")
    await expect(reported.get_by_text(IS_BLOCKED)).to_be_visible()
    await expect(reported.get_by_text(BLOCKABLE)).to_have_count(0)
    await expect(reported.get_by_role("button")).to_have_count(0)
    await _refused(server, record, other_account)

    # The treating physician's access, reported: the card says a treating physician cannot be
    # blocked, and leads to « Mon médecin traitant » on /partage; no button.
    card = reviews.locator("li.card", has_text="vu par son médecin")
    await _report(page, card, "Je ne l'ai pas vu ce jour-là")
    await expect(card.get_by_text(TREATING)).to_be_visible()
    await expect(card.get_by_text(BLOCKABLE)).to_have_count(0)
    await expect(card.get_by_role("button", name=BLOCK_BUTTON)).to_have_count(0)
    await expect(card.get_by_role("heading", level=3)).to_be_focused()
    await tab.check("treating-reported")
    # As the API says: their block is refused while they are named, and nothing is written.
    refused = await server.gql(BLOCK, {"id": str(doctor.id)}, cookies=await _as(patient))
    assert refused["errors"][0]["extensions"]["reason"] == "IS_TREATING_PHYSICIAN", refused
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 1

    # The link leads to « Mon médecin traitant » itself (/partage's anchor): the keyboard on its
    # heading, read first, in view, once /partage has drawn it.
    link = card.get_by_role("link", name=TO_TREATING)
    await expect(link).to_have_attribute("href", "/partage#medecin-traitant")
    await link.click()
    await expect(page).to_have_url(f"{server.origin}/partage#medecin-traitant")
    treating = page.get_by_role("heading", name="Mon médecin traitant", level=2)
    await expect(treating).to_be_focused()
    await expect(treating).to_have_attribute("id", "medecin-traitant")
    await expect(treating).to_be_in_viewport()
    await expect(_under(page, "Mon médecin traitant")).to_contain_text(doctor_name)
    await tab.check("treating-anchor")
    # Tab goes on from there: to the card's button, not back to the top of the page.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Ne plus désigner ce médecin")).to_be_focused()
    await expect(_under(page, "Professionnels bloqués")).to_contain_text(other_account.display_name)
    results = await _find(page, doctor_account.last_name)
    await expect(results.get_by_text(IS_TREATING)).to_be_visible()
    await expect(results.get_by_role("button", name="Bloquer")).to_have_count(0)
    # Named none, then blocked from the card, back on /historique.
    await page.get_by_role("button", name="Ne plus désigner ce médecin").click()
    await expect(page.get_by_text("Vous n'avez plus de médecin traitant désigné.")).to_be_visible()
    await page.get_by_role("link", name="Historique des accès").click()
    await expect(card.get_by_text(BLOCKABLE)).to_be_visible()
    button = card.get_by_role("button", name=BLOCK_BUTTON)
    # « Annuler »: nothing written, the keyboard back on the button.
    await button.click()
    await decline_in_page(page)
    await expect(button).to_be_focused()
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 1
    await button.click()
    await confirm_in_page(page, "Bloquer")
    await expect(card.locator("p.notice", has_text=_done(doctor_name))).to_be_focused()
    await expect(card.get_by_role("link", name=_unblock_link(doctor_name))).to_be_visible()
    assert await BlockedPractitioner.filter(record_id=record.id, practitioner_id=doctor.id).count() == 1
    await tab.check("treating-blocked")
    await _refused(server, record, doctor_account)
    await tab.context.close()
