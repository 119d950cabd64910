"""The page checks its own forms and says what is wrong in its own language, whatever the
browser's (here an English Chromium showing the French page): beside the field, linked to it
(aria-describedby, aria-invalid), the keyboard on the first field with a problem, nothing sent.
Date fields ask for dd/mm/yyyy, say so in their hint, and send ISO days to the API; counts take
their plural form."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, Request, expect

from backend.domain.enums import Section
from backend.models import Entry
from tests import factories
from tests.browser import VIEWPORTS, Server, Tab, browser, server, sign_in_with_code

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def english_browser_tab(browser: Browser, server: Server, name: str, viewport: str = "mobile") -> Tab:
    """As tests.browser.open_tab, with the browser itself in English (its own bubbles would be)."""
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US", base_url=server.origin)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return Tab(context=context, page=page, problems=problems, name=f"{name}-{viewport}")


def _is_graphql_post(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/graphql")


async def test_a_form_says_what_is_missing_beside_the_field_in_the_page_language(
    server: Server, browser: Browser
) -> None:
    tab = await english_browser_tab(browser, server, "form-checks-login")
    page = tab.page
    await page.goto("/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if _is_graphql_post(r) else None)

    identifier = page.get_by_label("Identifiant")
    password = page.get_by_label("Mot de passe", exact=True)
    assert await page.locator("form").first.evaluate("f => f.noValidate")
    await page.get_by_role("button", name="Continuer").click()
    # Both fields say it; the keyboard is on the first; nothing went to the server.
    await expect(identifier).to_be_focused()
    await expect(identifier).to_have_attribute("aria-invalid", "true")
    await expect(identifier).to_have_accessible_description(
        "Votre adresse e-mail ou votre numéro INS (numéro de sécurité sociale). Praticiens : e-mail ou RPPS."
        " Ce champ est à remplir.")
    await expect(password).to_have_accessible_description("Ce champ est à remplir.")
    assert not [body for body in sent if "startLogin" in body]
    await tab.check("both-missing")

    # Typed in, a field's problem goes; the next submit puts the keyboard on what is left.
    await identifier.fill("lea@example.test")
    await expect(identifier).not_to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("Ce champ est à remplir.")).to_have_count(1)
    await identifier.press("Enter")
    await expect(password).to_be_focused()

    # In English, the same problem in English.
    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_label("Password", exact=True)).to_have_accessible_description(
        "This field is required.")
    assert not [body for body in sent if "startLogin" in body]
    await tab.check("password-missing-english")


async def test_a_date_field_asks_for_dd_mm_yyyy_and_sends_an_iso_day(
    server: Server, browser: Browser
) -> None:
    email = "dates@example.test"
    _, record = await factories.patient(email=email)
    tab = await english_browser_tab(browser, server, "form-checks-dates")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    await expect(page.get_by_text("Votre dossier ne contient encore aucune information.")).to_be_visible()
    await page.get_by_role("link", name="Ajouter un document").click()

    form = page.get_by_role("form", name="Ajouter une information")
    date = form.get_by_label("Date des soins")
    # A text field whatever the browser's language, its format said in the page's.
    assert await date.get_attribute("type") == "text"
    await expect(date).to_have_accessible_description("Au format jj/mm/aaaa.")
    today = await page.evaluate(
        "() => { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
        " return d.toISOString().slice(0, 10); }")
    shown_today = dt.date.fromisoformat(today).strftime("%d/%m/%Y")
    await expect(date).to_have_value(shown_today)

    await form.get_by_label("Intitulé").fill("Vaccin contre la grippe")
    await date.fill("31/02/2024")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(date).to_be_focused()
    await expect(date).to_have_accessible_description(
        "Au format jj/mm/aaaa. Une date au format jj/mm/aaaa, par exemple 05/03/2024.")
    await tab.check("date-not-a-day")

    await date.fill("01/01/2999")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(date).to_have_accessible_description(
        f"Au format jj/mm/aaaa. La date ne peut pas être après le {shown_today}.")
    assert await Entry.filter(record_id=record.id).count() == 0

    await date.fill("5/3/2024")
    await form.get_by_role("button", name="Ajouter au dossier").click()
    await expect(page.get_by_text("« Vaccin contre la grippe » est ajouté au dossier.")).to_be_visible()
    entry = await Entry.get(record_id=record.id, title="Vaccin contre la grippe")
    assert entry.care_date == dt.date(2024, 3, 5)

    # A count of one is singular, in both languages.
    await page.get_by_role("link", name="Mon dossier", exact=True).click()
    await expect(page.get_by_text("1 information affichée", exact=True)).to_be_visible()
    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_text("1 entry shown", exact=True)).to_be_visible()


async def test_a_filter_says_a_day_it_cannot_read_when_the_field_is_left(
    server: Server, browser: Browser
) -> None:
    """The record's filters are never sent: a date field checks itself when it is left."""
    email = "filtre@example.test"
    _, record = await factories.patient(email=email)
    # Something to filter: a record with nothing in it says so, without filters.
    await factories.entry(record, Section.VACCINATIONS, title="Vaccin antigrippal", days_ago=3)
    tab = await english_browser_tab(browser, server, "form-checks-filter")
    page = tab.page
    await sign_in_with_code(tab, server, email)
    await expect(page).to_have_url(f"{server.origin}/dossier")
    since = page.get_by_label("Du")
    await since.fill("12/13/2024")
    await since.press("Tab")
    await expect(since).to_have_attribute("aria-invalid", "true")
    await expect(since).to_have_accessible_description(
        "Au format jj/mm/aaaa. Une date au format jj/mm/aaaa, par exemple 05/03/2024.")
    await tab.check("filter-not-a-day")
    await since.fill("2024-12-13")
    await since.press("Tab")
    await expect(since).to_have_value("13/12/2024")
    await expect(since).not_to_have_attribute("aria-invalid", "true")
