"""The end of a session and a button pressed twice, in a real Chromium: after « Se déconnecter »
the browser's Back shows no screen of the record and asks the server for nothing; a sign-out
that does not reach the server says so and leaves the person signed in (the session lives on,
a reload would show the record); « Recevoir un code » and « Enregistrer » pressed twice send once."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Request, Route, expect

from backend import clock, config
from backend.domain.enums import Section
from backend.models import Session
from tests import factories
from tests.browser import Server, browser, patient_signed_in, server, wait_for
from tests.conftest import session_for
from tests.test_web_history_more import patient_with_a_long_history

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


def graphql_requests(page: Page) -> list[str]:
    """The bodies of the GraphQL requests the page sends from now on."""
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            sent.append(request.post_data or "")

    page.on("request", seen)
    return sent


async def test_back_after_signing_out_shows_and_asks_nothing(server: Server, browser: Browser) -> None:
    email = "retour.apres.deconnexion@example.test"
    await factories.patient(email=email, last_name="Retourdeconnexion")
    tab = await patient_signed_in(browser, server, "review-back-after-logout", email)
    page = tab.page
    await expect(page.get_by_text("Retourdeconnexion")).to_be_visible()
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    sent = graphql_requests(page)
    await page.go_back()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    # Signed out on purpose: not told that a session expired.
    await expect(page.get_by_text("Votre session a expiré")).to_have_count(0)
    await expect(page.get_by_text("Retourdeconnexion")).to_have_count(0)
    assert not [body for body in sent if "query Record" in body], sent
    await tab.check("back-after-logout")
    await tab.context.close()


async def test_a_sign_out_that_fails_says_so(server: Server, browser: Browser) -> None:
    email = "deconnexion.echouee@example.test"
    await factories.patient(email=email, last_name="Deconnexionechouee")
    tab = await patient_signed_in(browser, server, "review-logout-fails", email)
    page = tab.page
    await expect(page.get_by_text("Deconnexionechouee")).to_be_visible()

    async def cut(route: Route) -> None:
        if "mutation Logout" in (route.request.post_data or ""):
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await page.route("**/graphql", cut)
    await page.get_by_role("button", name="Se déconnecter").click()
    failed = page.locator(".error")  # focused: read as such, no live region too
    await expect(failed).to_contain_text("La déconnexion n'a pas abouti")
    await expect(failed).to_contain_text("Le service ne répond pas")
    await expect(failed).to_be_focused()
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    await expect(page.get_by_text("Deconnexionechouee")).to_be_visible()
    # The request cut on purpose is the only console error.
    tab.problems[:] = [p for p in tab.problems if "ERR_INTERNET_DISCONNECTED" not in p]
    await tab.check("logout-failed")
    await page.unroute("**/graphql")
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await expect(page.locator(".error")).to_have_count(0)
    await tab.context.close()


async def test_pressed_twice_sends_once(server: Server, browser: Browser) -> None:
    email = "double.clic@example.test"
    patient, record = await factories.patient(email=email)
    await factories.entry(record, Section.ALLERGIES, title="Allergie aux arachides")
    tab = await patient_signed_in(browser, server, "review-double-press", email)
    page = tab.page
    sent = graphql_requests(page)

    # An entry masked with a double click: masked once, said once, no refusal.
    await page.get_by_role("button", name="Masquer : Allergie aux arachides").dblclick()
    await expect(page.get_by_role("button", name="Ne plus masquer : Allergie aux arachides")).to_be_visible()
    masks = [body for body in sent if "maskEntry" in body]
    assert len(masks) == 1, masks
    await expect(page.locator(".error")).to_have_count(0)

    # An access taken back with a double click: one request, no refusal after the success.
    doctor, _ = await factories.practitioner()
    cookies = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(cookies, doctor.last_name, ["ALLERGIES"])
    await page.get_by_role("link", name="Partage").click()
    await page.get_by_role("button", name="Retirer l'accès").dblclick()
    await expect(page.get_by_role("button", name="Retirer l'accès")).to_have_count(0)
    revokes = [body for body in sent if "revokeAccess" in body]
    assert len(revokes) == 1, revokes
    await expect(page.locator(".error")).to_have_count(0)

    # The emergency profile, saved with a double click.
    await page.get_by_role("link", name="Urgence").click()
    await page.get_by_label("Directives anticipées").fill("Pas d'acharnement.")
    await page.get_by_role("button", name="Enregistrer").dblclick()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    saves = [body for body in sent if "mutation UpdateEmergencyProfile" in body]
    assert len(saves) == 1, saves

    # The check that it is you: « Recevoir un code » double-clicked sends one code, which works.
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11))
    await page.get_by_role("link", name="Mon compte").click()
    # An export double-clicked: one export, one file.
    await page.get_by_role("button", name="Télécharger (JSON)").dblclick()
    await expect(page.get_by_text("Votre export est prêt.")).to_be_visible()
    exports = [body for body in sent if "exportMyRecord" in body]
    assert len(exports) == 1, exports
    await page.get_by_role("button", name="Demander la suppression").click()
    check = page.get_by_role("group", name="Confirmez que c'est bien vous")
    server.skip_existing_mail()
    before = len(server.messages(email))
    await check.get_by_role("button", name="Recevoir un code").dblclick()
    await expect(check.get_by_label("Code reçu")).to_be_visible()
    code = await server.next_code(email)
    asked: list[Any] = [body for body in sent if "mutation RequestFreshFactor" in body]
    assert len(asked) == 1, asked
    assert len(server.messages(email)) == before + 1
    # A wrong code first: refused, said where the keyboard is, the code typed kept.
    wrong = "000000" if code != "000000" else "111111"
    await check.get_by_label("Code reçu").fill(wrong)
    await check.get_by_role("button", name="Valider").click()
    refused = check.locator(".error")
    await expect(refused).to_contain_text("Le code n'est pas le bon.")
    await expect(refused).to_be_focused()
    await expect(check.get_by_label("Code reçu")).to_have_value(wrong)
    await check.get_by_label("Code reçu").fill(code)
    await check.get_by_role("button", name="Valider").dblclick()
    await expect(check).to_have_count(0)
    confirmed = [body for body in sent if "mutation ConfirmFreshFactor" in body]
    assert len(confirmed) == 2, confirmed  # the wrong code's, then the right one's once
    await expect(page.locator(".error")).to_have_count(0)
    await tab.check("double-press")
    await tab.context.close()


async def test_closing_another_session_twice_is_said_once(server: Server, browser: Browser) -> None:
    email = "session.double.clic@example.test"
    patient, _ = await factories.patient(email=email)
    await session_for(patient)  # another browser's session
    tab = await patient_signed_in(browser, server, "review-revoke-twice", email)
    page = tab.page
    sent = graphql_requests(page)
    await page.get_by_role("link", name="Sécurité").click()
    await page.get_by_role("button", name="Fermer cette session").dblclick()
    await expect(page.get_by_text("La session est fermée.")).to_be_visible()
    await expect(page.get_by_role("button", name="Fermer cette session")).to_have_count(0)
    revokes = [body for body in sent if "revokeSession" in body]
    assert len(revokes) == 1, revokes
    await expect(page.locator(".error")).to_have_count(0)
    await tab.check("revoke-twice")
    await tab.context.close()




async def test_a_late_more_does_not_fill_the_history_of_other_filters(
    server: Server, browser: Browser,
) -> None:
    email = "historique.tardif@example.test"
    await patient_with_a_long_history(server, email)
    tab = await patient_signed_in(browser, server, "review-late-more", email)
    page = tab.page
    await page.get_by_role("link", name="Historique des accès").click()
    events = page.locator("ul.history > li")
    await expect(events).to_have_count(20)

    answered: list[str] = []

    async def slow_more(route: Route) -> None:
        body = route.request.post_data or ""
        if '"after":"' in body:  # the page after the first: answered late
            await asyncio.sleep(1.5)
            answered.append(body)
        await route.continue_()

    await page.route("**/graphql", slow_more)
    await page.get_by_role("button", name="Afficher plus", exact=True).click()
    # Meanwhile the patient keeps only the exports, of which there is none.
    await page.get_by_label("Type d'événement").select_option(label="Dossier exporté")
    await expect(page.get_by_text("Aucun événement pour ces critères.")).to_be_visible()
    await wait_for(lambda: answered, "the late page")
    await asyncio.sleep(0.5)  # its answer handled
    await expect(events).to_have_count(0)
    await expect(page.get_by_text("Aucun événement pour ces critères.")).to_be_visible()
    await tab.context.close()


async def test_a_late_search_does_not_replace_the_last_one(server: Server, browser: Browser) -> None:
    email = "recherche.tardive@example.test"
    await factories.patient(email=email)
    await factories.practitioner()
    doctor, practice = await factories.practitioner()
    tab = await patient_signed_in(browser, server, "review-late-search", email)
    page = tab.page
    await page.get_by_role("link", name="Partage").click()

    answered: list[str] = []

    async def slow_first(route: Route) -> None:
        body = route.request.post_data or ""
        if '"search":"Dr"' in body:  # the first search, every doctor: answered late
            await asyncio.sleep(1.5)
            answered.append(body)
        await route.continue_()

    await page.route("**/graphql", slow_first)
    search = page.get_by_label("Rechercher un professionnel")
    await search.fill("Dr")
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    await search.fill(practice.rpps)
    await page.get_by_role("button", name="Rechercher", exact=True).click()
    results = page.get_by_role("list", name="Résultats de la recherche").locator("> li")
    await expect(results).to_have_count(1)
    await wait_for(lambda: answered, "the first search's answer")
    await asyncio.sleep(0.5)  # its answer handled
    await expect(results).to_have_count(1)
    await expect(results).to_contain_text(doctor.last_name)
    await tab.context.close()


async def test_a_fault_of_the_service_says_so_with_its_reference_and_keeps_what_was_typed(
    server: Server, browser: Browser,
) -> None:
    email = "panne.serveur@example.test"
    await factories.patient(email=email)
    tab = await patient_signed_in(browser, server, "review-server-fault", email)
    page = tab.page
    reference = "0123456789abcdef0123456789abcdef"
    answers = [
        # A fault masked by the service (INTERNAL), then a proxy's 503 in HTML.
        {"status": 200, "content_type": "application/json", "headers": {"x-request-id": reference},
         "body": '{"data":null,"errors":[{"message":"Internal error","path":["updateEmergencyProfile"],'
                 '"extensions":{"code":"INTERNAL"}}]}'},
        {"status": 503, "content_type": "text/html", "headers": {"x-request-id": reference},
         "body": "<html><body>Service Unavailable</body></html>"},
    ]

    async def failing(route: Route) -> None:
        if "mutation UpdateEmergencyProfile" in (route.request.post_data or "") and answers:
            await route.fulfill(**answers.pop(0))
        else:
            await route.continue_()

    await page.route("**/graphql", failing)
    await page.get_by_role("link", name="Urgence").click()
    directives = page.get_by_label("Directives anticipées")
    await directives.fill("Pas de transfusion.")
    await page.get_by_role("button", name="Enregistrer").click()
    refused = page.locator(".error")
    await expect(refused).to_contain_text("Une erreur est survenue de notre côté")
    await expect(refused).to_contain_text(f"Référence à donner au support : {reference}")
    await expect(refused).not_to_contain_text("Internal error")
    await expect(refused).to_be_focused()
    await expect(directives).to_have_value("Pas de transfusion.")
    tab.problems.clear()  # the failed answers the page was given on purpose
    await tab.check("server-fault")

    await page.get_by_role("button", name="Enregistrer").click()
    await expect(refused).to_contain_text("Le service ne répond pas")
    await expect(refused).to_contain_text(reference)
    await expect(refused).not_to_contain_text("Service Unavailable")
    await expect(directives).to_have_value("Pas de transfusion.")

    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    await tab.context.close()
