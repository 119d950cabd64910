"""A notice is said where the button pressed is, on /dossier and /partage, in a real Chromium at a
phone's width (360×740), where the top of the screen is out of sight once the person has scrolled
to an entry or a professional: masking, unmasking or deleting an entry, and granting, revoking,
blocking, unblocking or naming the treating physician, say their confirmation or refusal in the
card whose button was pressed (role="status" / role="alert", as elsewhere), or, once that card is
gone (an entry deleted, an access revoked, a block lifted), in the list where it was. The person
keeps their place: the notice is in the viewport, beside the cards that were around the button.
The keyboard stays on a button still there, and goes to the notice when its button is gone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from backend import config
from backend.domain.enums import EntrySource, Profession, Section
from backend.models import Account, Entry
from tests import factories
from tests.browser import VIEWPORTS, Server, browser, fault_on_next_page, patient_signed_in, server
from tests.conftest import session_for
from tests.test_web_record import card

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

PHONE = VIEWPORTS["mobile"]


async def wholly_in_view(page: Page, said: Locator) -> None:
    """`said` is on the screen as it is now, all of it (to a pixel's rounding), without scrolling."""
    await expect(said).to_be_in_viewport(ratio=0.95)
    box = await said.bounding_box()
    assert box is not None
    assert -1 <= box["y"] and box["y"] + box["height"] <= PHONE["height"] + 1, box
    assert -1 <= box["x"] and box["x"] + box["width"] <= PHONE["width"] + 1, box


async def said_before(said: Locator, title: str) -> None:
    """`said` is in the list where a card was gone: just before the card headed `title`."""
    assert await said.evaluate(
        "(el, title) => { const li = el.closest('ul.cards > li.said');"
        " const next = li && li.nextElementSibling;"
        " const text = next?.querySelector('h3, p')?.textContent ?? '';"
        " return text === title || text.startsWith(title + ' —'); }",
        title,
    ), f"not said where the card before « {title} » was"


async def test_record_says_an_entrys_notice_beside_it(server: Server, browser: Browser) -> None:
    email = "dossier.avis.places@example.test"
    patient, record = await factories.patient(email=email)
    # Eleven medicines: the first page shows ten, "More" the oldest.
    for day in range(1, 12):
        await factories.entry(record, Section.MEDICATIONS, title=f"Médicament {day:02d}", days_ago=day)
    own = await factories.entry(record, Section.ALLERGIES, title="Ma note", days_ago=27)
    own.source, own.author, own.author_name = EntrySource.PATIENT, patient, patient.display_name
    await own.save()
    elsewhere = await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=28)
    low = await factories.entry(record, Section.VACCINATIONS, title="Vaccin grippe", days_ago=29)

    tab = await patient_signed_in(browser, server, "notice-place-record", email)
    page = tab.page
    await expect(page.get_by_text("13 informations affichées")).to_be_visible()

    # "More" refused (a fault on the service's side): said under the "More" buttons, at the
    # bottom of the list, as an alert; the keyboard stays on the button, to try again.
    fault = fault_on_next_page("$after")
    await page.route("**/graphql", fault)
    more = page.get_by_role("button", name="Plus de résultats : Médicaments")
    await more.click()
    refused = page.get_by_role("alert")
    await expect(refused).to_contain_text("Une erreur est survenue de notre côté.")
    assert await refused.evaluate(
        "(el) => el.closest('.error').previousElementSibling?.contains(document.activeElement)")
    await expect(more).to_be_focused()
    await wholly_in_view(page, refused)
    await page.unroute("**/graphql", fault)
    await more.click()
    await expect(page.get_by_text("14 informations affichées")).to_be_focused()
    await expect(refused).to_have_count(0)

    masked = page.get_by_role("status").filter(has_text=f"L'information « {low.title} » est masquée.")
    unmasked = page.get_by_role("status").filter(
        has_text=f"L'information « {low.title} » n'est plus masquée.")

    # Masked, far down the list: said in the entry's card, in view; the keyboard stays on its
    # button (now « Ne plus masquer »).
    vaccine = card(page, low.title)
    await vaccine.get_by_role("button", name="Masquer").click()
    await expect(vaccine.get_by_role("status")).to_have_text(f"L'information « {low.title} » est masquée.")
    await expect(masked).to_have_count(1)
    await wholly_in_view(page, masked)
    await expect(vaccine.get_by_role("button", name="Ne plus masquer")).to_be_focused()
    assert (await Entry.get(id=low.id)).masked
    await tab.check("masked-in-its-card")

    await vaccine.get_by_role("button", name="Ne plus masquer").click()
    await expect(vaccine.get_by_role("status")).to_have_text(
        f"L'information « {low.title} » n'est plus masquée.")
    await expect(masked).to_have_count(0)  # the notice of the previous action goes
    await wholly_in_view(page, unmasked)
    assert not (await Entry.get(id=low.id)).masked

    # Refused (the entry was deleted meanwhile, from another device): said in its card, as an alert.
    await Entry.filter(id=elsewhere.id).delete()
    latex = card(page, elsewhere.title)
    await latex.get_by_role("button", name="Masquer").click()
    refused = latex.get_by_role("alert")
    await expect(refused.locator("p")).to_have_text(
        [f"Masquer « {elsewhere.title} » :", "Introuvable : cela n'existe pas, ou plus."])
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(unmasked).to_have_count(0)
    await wholly_in_view(page, refused)
    await tab.check("refused-in-its-card")

    # Deleted, its card gone: said where the card was (before the next one), in view, with the
    # keyboard; the entries around it are still on the screen.
    await card(page, own.title).get_by_role("button", name="Supprimer").click()
    # Read as it takes the focus, it is no live region too (announced once).
    deleted = page.locator(".notice").filter(has_text=f"L'information « {own.title} » a été supprimée.")
    await expect(deleted).to_be_focused()
    await expect(deleted.get_by_role("status")).to_have_count(0)
    await expect(card(page, own.title)).to_have_count(0)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await said_before(deleted, elsewhere.title)
    await wholly_in_view(page, deleted)
    await expect(card(page, elsewhere.title)).to_be_in_viewport()
    assert not await Entry.filter(id=own.id).exists()
    await tab.check("deleted-where-it-was")

    # « Tout masquer », at the top of the screen: said there, as before.
    await page.get_by_text("Masquer une information : qu'est-ce que cela change ?").click()
    await page.get_by_role("button", name="Tout masquer").click()
    all_masked = page.get_by_role("status").filter(has_text="Toutes les informations sont masquées.")
    await expect(all_masked).to_have_count(1)
    await expect(deleted).to_have_count(0)
    await wholly_in_view(page, all_masked)
    await tab.check("all-masked-at-the-top")


def pro_card(scope: Locator, who: Account) -> Locator:
    """The card of `who` in `scope` (a list), by the words it opens with: « Dr Pro12 — … »."""
    return scope.locator("li.card").filter(has_text=re.compile(rf"^{re.escape(who.display_name)} —"))


async def pharmacists_granted(server: Server, cookies: dict[str, str], count: int) -> list[Account]:
    """`count` new pharmacists, each granted the medications from the directory by the patient
    whose session `cookies` hold."""
    granted = []
    for _ in range(count):
        pharmacist, _ = await factories.practitioner(Profession.PHARMACIEN)
        await server.grant_from_directory(cookies, pharmacist.last_name, [Section.MEDICATIONS.value])
        granted.append(pharmacist)
    return granted


async def to_sharing(page: Page) -> tuple[Locator, Locator]:
    """Goes to /partage by its link: the page's list of grants, and the search's results."""
    await page.get_by_role("link", name="Partage").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    return (page.locator("h2:text-is('Professionnels autorisés') + ul"),
            page.get_by_role("list", name="Résultats de la recherche"))


async def test_sharing_says_a_professionals_notice_beside_them(server: Server, browser: Browser) -> None:
    email = "partage.avis.places@example.test"
    patient, _ = await factories.patient(email=email)
    cookies = {config.settings().session_cookie: await session_for(patient)}
    granted = await pharmacists_granted(server, cookies, 5)
    _, treating_pro = await factories.practitioner(Profession.MEDECIN)
    name = "mutation($id: ID) { setTreatingPhysician(practitionerId: $id) { sharing { allowBreakGlass } } }"
    named = await server.gql(name, {"id": str(treating_pro.id)}, cookies=cookies)
    assert not named.get("errors"), named
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    nurse, _ = await factories.practitioner(Profession.INFIRMIER)
    once_blocked, once_blocked_pro = await factories.practitioner(Profession.KINESITHERAPEUTE)
    later_blocked, later_blocked_pro = await factories.practitioner(Profession.INFIRMIER)
    block = "mutation($id: ID!) { blockPractitioner(practitionerId: $id) { sharing { allowBreakGlass } } }"
    blocked = await server.gql(block, {"id": str(once_blocked_pro.id)}, cookies=cookies)
    assert not blocked.get("errors"), blocked

    tab = await patient_signed_in(browser, server, "notice-place-sharing", email)
    page = tab.page
    grants, results = await to_sharing(page)
    blocked_list = page.locator("h2:text-is('Professionnels bloqués') + ul")
    await expect(grants.locator("li.card")).to_have_count(5)
    # The grants as the page lists them: the fourth is revoked, the fifth follows it.
    shown = [await pro_card(grants, p).evaluate(
        "(li) => [...li.parentElement.children].indexOf(li)") for p in granted]
    in_order = [p for _, p in sorted(zip(shown, granted, strict=True), key=lambda pair: pair[0])]
    revoked, next_one = in_order[3], in_order[4]

    # Revoked, its card gone: said where it was, before the next grant, in view, with the keyboard.
    await pro_card(grants, revoked).get_by_role("button", name="Retirer l'accès").click()
    gone = f"{revoked.display_name} n'a plus accès à votre dossier."
    said = page.locator(".notice").filter(has_text=gone)
    await expect(said).to_be_focused()
    await expect(said.get_by_role("status")).to_have_count(0)  # read as focused, not announced too
    await expect(grants.locator("li.card")).to_have_count(4)
    await said_before(said, next_one.display_name)
    await wholly_in_view(page, said)
    await tab.check("revoked-where-it-was")

    # The sections changed: said in that professional's card, once the choice is closed.
    last = pro_card(grants, next_one)
    await last.get_by_role("button", name="Modifier les rubriques").click()
    await last.get_by_label("Vaccinations").check()
    await last.get_by_role("button", name="Partager ces rubriques").click()
    said = last.locator(".notice")
    await expect(said).to_have_text(f"Accès accordé à {next_one.display_name}.")
    await expect(said).to_be_focused()
    await expect(page.locator(".notice").filter(has_text="n'a plus accès")).to_have_count(0)
    await wholly_in_view(page, said)

    async def find(who: Account) -> Locator:
        await page.get_by_label("Rechercher un professionnel").fill(who.last_name)
        await page.get_by_role("button", name="Rechercher", exact=True).click()
        found = pro_card(results, who)
        await expect(found).to_have_count(1)
        return found

    # Named treating physician from the search's results: said in their card there.
    found = await find(doctor)
    await found.get_by_role("button", name="Désigner comme médecin traitant").click()
    said = found.locator(".notice")
    await expect(said).to_have_text(f"{doctor.display_name} est désormais votre médecin traitant.")
    await expect(said).to_be_focused()
    await wholly_in_view(page, said)
    await tab.check("treating-set-in-its-card")

    # Blocked (after the page's question): said in their card among the results.
    found = await find(nurse)
    await found.get_by_role("button", name="Bloquer").click()
    said = found.locator(".notice")
    await expect(said).to_have_text(f"{nurse.display_name} est bloqué(e) : aucun accès, même en urgence.")
    await expect(said).to_be_focused()
    await wholly_in_view(page, said)

    # A grant refused (blocked meanwhile, from another device): said in that card, as an alert,
    # beside the choice still open.
    found = await find(later_blocked)
    await found.get_by_role("button", name="Partager avec").click()
    await found.get_by_label("Vaccinations").check()
    blocked = await server.gql(block, {"id": str(later_blocked_pro.id)}, cookies=cookies)
    assert not blocked.get("errors"), blocked
    await found.get_by_role("button", name="Partager ces rubriques").click()
    refused = found.get_by_role("alert")
    await expect(refused).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(page.locator(".notice").filter(has_text="est bloqué(e)")).to_have_count(0)
    await wholly_in_view(page, refused)
    await tab.check("grant-refused-in-its-card")

    # Unblocked, its card gone from the list of blocks: said where it was, in view.
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Partage de mon dossier")
    await expect(blocked_list.locator("li.card")).to_have_count(3)
    await pro_card(blocked_list, once_blocked).get_by_role("button", name="Débloquer").click()
    said = page.locator(".notice").filter(has_text=f"Le blocage de {once_blocked.display_name} est levé.")
    await expect(said).to_be_focused()
    await expect(blocked_list.locator("li.card")).to_have_count(2)
    assert await said.evaluate("(el) => !!el.closest('ul.cards > li.said')")
    await wholly_in_view(page, said)
    await tab.check("unblocked-where-it-was")

    # The treating physician no longer named: said under « Mon médecin traitant ».
    await page.get_by_role("button", name="Ne plus désigner ce médecin").click()
    said = page.locator(".notice").filter(has_text="Vous n'avez plus de médecin traitant désigné.")
    await expect(said).to_be_focused()
    assert await said.evaluate(
        "(el) => el.previousElementSibling?.textContent === \"Vous n'avez pas désigné de médecin traitant.\"")
    await wholly_in_view(page, said)
    await tab.check("treating-cleared")
