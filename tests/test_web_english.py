"""Switching to English translates every screen (issue #11).

The language is chosen once per browser with the selector and remembered; then every screen of
the page (routes.js) is visited as the actor who can see it, at the desktop width. A screen
fails if it shows any distinctive French text of the catalogue (a French message that differs
from its English one and is at least 12 characters long), or a raw catalogue key.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from playwright.async_api import Browser, expect

from backend import config
from backend.domain.enums import Profession, Section
from tests import factories
from tests.browser import ROOT, Server, Tab, browser, open_tab, server, signed_in_tab
from tests.conftest import session_for

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

# Every screen the router knows: a new screen not visited here fails the test.
EVERY_ROUTE = set(re.findall(r"^\s*'(/[^']*)':", (ROOT / "frontend/src/routes.js").read_text(), re.M))
DISTINCTIVE = 12


def _catalogues() -> tuple[dict[str, str], dict[str, str]]:
    script = ("Promise.all([import('./frontend/src/i18n/fr.js'), import('./frontend/src/i18n/en.js')])"
              ".then(([fr, en]) => console.log(JSON.stringify([fr.default, en.default])))")
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT,  # noqa: S607
                         capture_output=True, text=True, check=True).stdout
    fr, en = json.loads(out)
    return fr, en


FR, EN = _catalogues()
# Each French message that is not also the English one, cut at its {placeholders}: the fixed
# parts long enough to be unmistakably French.
FRENCH = sorted({part.strip() for key, text in FR.items() if EN.get(key) != text
                 for part in re.split(r"\{\w+\}", text) if len(part.strip()) >= DISTINCTIVE})
PREFIXES = sorted({key.split(".")[0] for key in FR})
RAW_KEY = re.compile(r"\b(?:" + "|".join(PREFIXES) + r")\.[A-Za-z_][\w.]*\b")

# Everything a person reads or hears on the screen: visible text, the tab title, and the
# accessible names and hints given as attributes.
SCREEN_TEXT = """() => [document.title, document.body.innerText,
  ...[...document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')].flatMap(
     (e) => ['aria-label', 'placeholder', 'title', 'alt'].map((a) => e.getAttribute(a) || ''))
].join('\\n')"""


def test_the_catalogues_give_the_checks_something_to_find() -> None:
    assert len(EVERY_ROUTE) >= 11
    assert len(FRENCH) > 150
    assert "Vos données de santé sont à vous : chaque accès à votre dossier vous est montré." in FRENCH
    assert RAW_KEY.search("upload.title") and not RAW_KEY.search("lea@example.test")


async def in_english(tab: Tab, label: str, heading: str | None = None) -> None:
    """The screen is settled, then: no French, no raw key. Screenshot for review."""
    page = tab.page
    if heading is not None:
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await expect(page.locator(".loading")).to_have_count(0)
    assert await page.evaluate("document.documentElement.lang") == "en", label
    text = await page.evaluate(SCREEN_TEXT)
    french = [phrase for phrase in FRENCH if phrase in text]
    assert not french, f"{label}: untranslated French on the page: {french}"
    raw = RAW_KEY.findall(text)
    assert not raw, f"{label}: raw catalogue keys on the page: {raw}"
    await tab.shot(label)
    assert not tab.problems, f"{label}: {tab.problems}"


async def choose_english(tab: Tab) -> None:
    await tab.page.get_by_label("Langue").select_option("en")
    await expect(tab.page.get_by_label("Language")).to_have_value("en")


async def test_english_on_every_screen(server: Server, browser: Browser) -> None:
    visited: set[str] = set()
    doctor, _ = await factories.practitioner(Profession.MEDECIN, email="dr.en@example.test")
    patient, record = await factories.patient(email="pat.en@example.test", first_name="Emma",
                                              last_name="Moreau")
    _, stranger = await factories.patient(first_name="Hugo", last_name="Petit")
    await factories.entry(record, Section.MEDICATIONS, title="Paracétamol 500 mg", days_ago=5,
                          dose="1 g x 3/j")
    await factories.entry(record, Section.ALLERGIES, title="Allergie au latex", days_ago=9,
                          author=doctor, substance="latex")
    await factories.entry(stranger, Section.ALLERGIES, title="Allergie à l'iode", days_ago=3)
    patient_cookie = {config.settings().session_cookie: await session_for(patient)}
    await server.grant_from_directory(patient_cookie, doctor.last_name, ["MEDICATIONS", "ALLERGIES"])
    # Another doctor breaks the glass on Emma's record: her history then has an access to review.
    await server.break_glass(record.ins, "Unconscious patient in the emergency room")

    # Public screens, signed out; the choice is made here once and remembered.
    tab = await open_tab(browser, server, "english-public", "desktop")
    page = tab.page
    await page.goto("/connexion")
    await choose_english(tab)
    await page.reload()
    await in_english(tab, "login", "Sign in")
    visited.add("/connexion")
    await page.get_by_label("Identifier").fill("pat.en@example.test")
    await page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_label("Code received")).to_be_visible()
    await in_english(tab, "login-code")
    await page.goto("/activation")
    await in_english(tab, "activation", "Activate my record")
    visited.add("/activation")
    await page.goto("/mot-de-passe-oublie")
    await in_english(tab, "reset", "Forgotten password")
    visited.add("/mot-de-passe-oublie")
    await page.goto("/no-such-screen")
    await in_english(tab, "not-found")
    await tab.context.close()

    # The practitioner: home, a granted record, then break-glass on a record nobody shared.
    tab = await signed_in_tab(browser, server, "english-practitioner", doctor)
    page = tab.page
    await page.goto("/praticien")
    await choose_english(tab)
    await in_english(tab, "practitioner", "Patient records")
    visited.add("/praticien")
    ins = page.get_by_label("INS number (social security number)").first
    await ins.fill(record.ins)
    await page.get_by_role("button", name="Read", exact=True).click()
    await expect(page.get_by_role("heading", name="Emma Moreau")).to_be_visible()
    await expect(page.get_by_role("heading", name="Paracétamol 500 mg")).to_be_visible()
    await in_english(tab, "practitioner-record")
    await ins.fill(stranger.ins)
    await page.get_by_role("button", name="Read", exact=True).click()
    await expect(page.get_by_label("Justification")).to_be_visible()
    await in_english(tab, "practitioner-refused")
    await page.get_by_label("Justification").fill("Unconscious patient in the emergency room")
    await page.get_by_role("button", name="Open emergency access").click()
    await expect(page.get_by_role("heading", name="Allergie à l'iode")).to_be_visible()
    await in_english(tab, "practitioner-break-glass")
    await tab.context.close()

    # The patient: every screen of theirs, with something on each.
    tab = await signed_in_tab(browser, server, "english-patient", patient)
    page = tab.page
    await page.goto("/dossier")
    await choose_english(tab)
    await expect(page.get_by_role("heading", name="Paracétamol 500 mg")).to_be_visible()
    await in_english(tab, "record")
    await page.get_by_role("button", name="Show details").first.click()
    await in_english(tab, "record-details")
    visited.add("/dossier")
    for path, label in (("/partage", "sharing"), ("/historique", "history"), ("/documents", "upload"),
                        ("/urgence", "emergency"), ("/securite", "security"),
                        ("/securite/coordonnees", "contacts"), ("/mon-compte", "lifecycle")):
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_have_text(EN[f"{label}.title"])
        await in_english(tab, label)
        visited.add(path)
        if path == "/historique":
            review = page.locator("li.card", has_text="Unconscious patient").filter(has_text="To review")
            await expect(review).to_have_count(1)
            await review.get_by_role("button", name="Report as unjustified").click()
            await expect(review.get_by_label("Comment (optional)")).to_be_visible()
            await in_english(tab, "history-report")
        if path == "/documents":
            await page.get_by_label("File").set_input_files(
                files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"not a PDF\n"}])
            await page.get_by_label("Document title").fill("Notes")
            await page.get_by_role("button", name="Upload the document").click()
            await expect(page.locator(".error")).to_contain_text(
                "This file is not accepted: send a valid PDF, JPEG or PNG."
            )
            await in_english(tab, "upload-refused")
    await tab.context.close()

    # Support staff land on their security screen, with the explorer in the menu.
    staff = await factories.support(email="support.en@example.test")
    tab = await signed_in_tab(browser, server, "english-support", staff)
    page = tab.page
    await page.goto("/securite")
    await choose_english(tab)
    await expect(page.get_by_role("link", name="GraphQL explorer (support)")).to_be_visible()
    await in_english(tab, "support-security", EN["security.title"])
    await tab.context.close()

    assert visited == EVERY_ROUTE


async def test_the_check_fails_on_french_text_and_on_raw_keys(server: Server, browser: Browser) -> None:
    tab = await open_tab(browser, server, "english-check", "desktop")
    page = tab.page
    await page.goto("/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await page.evaluate("document.documentElement.lang = 'en'")
    with pytest.raises(AssertionError, match="untranslated French on the page: .*Mot de passe oublié"):
        await in_english(tab, "check-french")
    await page.evaluate("document.title = 'Sign in'; document.body.innerText = 'Sign in upload.title'")
    with pytest.raises(AssertionError, match=r"raw catalogue keys on the page: \['upload.title'\]"):
        await in_english(tab, "check-raw-key")
    await tab.context.close()
