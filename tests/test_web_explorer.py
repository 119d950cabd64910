"""The self-hosted GraphiQL explorer runs a query with the signed-in session, and nothing leaves
the server's origin (issue #11)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests import factories
from tests.browser import Server, browser, server, signed_in_tab

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_support_runs_a_query_in_the_explorer_offline(server: Server, browser: Browser) -> None:
    staff = await factories.support(email="helpdesk@example.test")
    tab = await signed_in_tab(browser, server, "explorer-query", staff)
    page = tab.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    response = await page.goto("/graphql")
    assert response is not None and response.status == 200
    editor = page.locator(".graphiql-query-editor .monaco-editor").first
    await expect(editor).to_be_visible()
    await expect(page.get_by_role("link", name="Retour au DMP")).to_have_attribute("href", "/")

    # Replace the default query with our own, typed on the keyboard.
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type("{ me { role displayName")
    await page.keyboard.press("Escape")  # close the completion list, keep what was typed
    lines = page.locator(".graphiql-query-editor .view-lines").first
    await expect(lines).to_contain_text("displayName")
    await expect(lines).not_to_contain_text("id")  # the default query (with `id`) is gone
    await page.keyboard.press("Control+Enter")

    result = page.locator(".graphiql-response")
    await expect(result).to_contain_text('"role": "SUPPORT"')
    await expect(result).to_contain_text(f'"displayName": "{staff.display_name}"')
    await expect(result).not_to_contain_text('"id"')  # the typed query ran, not the default one
    await tab.shot("query-run")
    # What was typed and answered is kept for this tab only, never in the origin's localStorage.
    kept = await page.evaluate(
        "() => [Object.keys(localStorage).filter((k) => k.startsWith('dmp-explorer')),"
        " Object.keys(sessionStorage).filter((k) => k.startsWith('dmp-explorer'))"
        ".map((k) => sessionStorage.getItem(k)).join(' ')]"
    )
    assert kept[0] == [] and "displayName" in kept[1], kept
    outside = [u for u in requested if not u.startswith((server.origin, "data:", "blob:"))]
    assert not outside, outside
    assert any(u.startswith(f"{server.origin}/graphql") for u in requested)
    assert not tab.problems, tab.problems
    await tab.context.close()


async def test_screens_of_another_role_send_back_home(server: Server, browser: Browser) -> None:
    """Support staff typing a patient's or a practitioner's screen are sent to their own."""
    staff = await factories.support(email="desk@example.test")
    tab = await signed_in_tab(browser, server, "other-role", staff)
    page = tab.page
    for path in ("/praticien", "/historique", "/urgence", "/dossier"):
        await page.goto(path)
        await expect(page).to_have_url(f"{server.origin}/securite")
    await tab.context.close()
