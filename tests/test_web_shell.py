"""The page shell in a real Chromium: screens, language switch, accessibility, the explorer."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser import Server, browser, open_tab, server

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_public_screens_french_first_and_language_remembered(
    server: Server, browser: Browser, viewport: str
) -> None:
    tab = await open_tab(browser, server, "shell", viewport)
    page = tab.page
    await page.goto("/")
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    assert await page.evaluate("document.documentElement.lang") == "fr"
    await tab.check("login")

    await page.get_by_role("link", name="Activer mon dossier avec le code reçu").click()
    await expect(page).to_have_url(f"{server.origin}/activation")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Activer mon dossier")
    await tab.check("activation")

    await page.go_back()
    await page.get_by_role("link", name="Mot de passe oublié").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    await tab.check("reset")

    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Forgotten password")
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Forgotten password")
    assert await page.evaluate("document.documentElement.lang") == "en"
    await tab.check("reset-en")

    # A page width of 360 px never scrolls sideways.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_explorer_is_self_hosted_graphiql_under_the_csp(server: Server, browser: Browser) -> None:
    tab = await open_tab(browser, server, "explorer", "desktop")
    page = tab.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    response = await page.goto("/graphql")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await expect(page.locator(".graphiql-container")).to_be_visible()
    await expect(page.locator(".graphiql-query-editor .monaco-editor").first).to_be_visible()
    await tab.shot("graphiql")
    outside = [u for u in requested if not u.startswith((server.origin, "data:", "blob:"))]
    assert not outside, outside
    assert not [p for p in tab.problems if "Content Security Policy" in p], tab.problems
