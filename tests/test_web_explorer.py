"""The self-hosted GraphiQL explorer runs a query with the signed-in session, and nothing leaves
the server's origin (issue #11)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests import factories
from tests.browser import AXE, Server, Tab, browser, server, signed_in_tab, wait_for

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


# Run on the explorer, every finding counts, whatever its impact (the patient screens' `Tab.axe`
# counts serious and critical ones only). Nothing is left out, not even in graphiql's or monaco's
# own markup, which the explorer mends from outside (frontend/src/explorer.js).
AXE_EXPLORER = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .map((rule) => ({id: rule.id, impact: rule.impact,
                   nodes: rule.nodes.map((n) => n.target.join(' ') + ' ' + n.failureSummary)}))"""

SUGGESTIONS = ".graphiql-query-editor .suggest-widget.visible"


async def explorer_axe(tab: Tab, label: str) -> None:
    if not await tab.page.evaluate("typeof window.axe !== 'undefined'"):
        await tab.page.evaluate(AXE.read_text() + "\n;undefined")
    found = await tab.page.evaluate(AXE_EXPLORER)
    assert not found, f"axe on the explorer, {label}: {found}"
    await tab.shot(label.replace(" ", "-"))
    # Nor does the page scroll sideways, at 360 px too.
    assert await tab.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), label


async def type_operation(page: Page, text: str) -> None:
    """Replaces what the operation editor holds with `text`, typed, the completion list closed."""
    await page.locator(".graphiql-query-editor .monaco-editor").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)
    await page.keyboard.press("Escape")
    await expect(page.locator(SUGGESTIONS)).to_have_count(0)


async def result_shown(page: Page, text: str) -> None:
    """`text` is in the result, and the result is on the screen, beside or below the editor."""
    result = page.locator(".graphiql-response .result-window")
    await expect(result).to_contain_text(text)
    box = await result.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None and box["width"] >= 200 and box["height"] >= 100, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1, box
    assert box["y"] + 100 <= size["height"], box


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_the_explorer_passes_axe_in_each_state(server: Server, browser: Browser, viewport: str) -> None:
    staff = await factories.support(email="helpdesk@example.test")
    tab = await signed_in_tab(browser, server, "explorer-axe", staff, viewport)
    page = tab.page
    await page.goto("/graphql")
    await expect(page.locator(".graphiql-query-editor .monaco-editor").first).to_be_visible()
    await expect(page.get_by_role("button", name="Show Documentation Explorer")).to_be_enabled()
    await explorer_axe(tab, "opened")

    # Typing, with the completion list open, then with it closed.
    await page.locator(".graphiql-query-editor .monaco-editor").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type("{ me { role display")
    await expect(page.locator(SUGGESTIONS)).to_contain_text("displayName")
    await explorer_axe(tab, "completion list")
    await page.keyboard.press("Escape")
    await expect(page.locator(SUGGESTIONS)).to_have_count(0)
    await page.keyboard.type("Name")
    await explorer_axe(tab, "typed")

    await page.keyboard.press("Control+Enter")
    await result_shown(page, '"role": "SUPPORT"')
    await explorer_axe(tab, "result")

    await type_operation(page, "{ nope")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await result_shown(page, "Cannot query field")
    await explorer_axe(tab, "error")

    # The editor tools under the operation (variables, headers).
    await page.get_by_role("button", name="Variables", exact=True).click()
    await expect(page.get_by_role("button", name="Hide editor tools")).to_be_visible()
    await explorer_axe(tab, "variables")
    await page.get_by_role("button", name="Hide editor tools").click()

    # The side panels: the schema's documentation, the history of what was run.
    for panel in ("Documentation Explorer", "History"):
        await page.get_by_role("button", name=f"Show {panel}").click()
        await expect(page.get_by_role("button", name=f"Hide {panel}")).to_be_visible()
        await explorer_axe(tab, panel.lower())
        await page.get_by_role("button", name=f"Hide {panel}").click()

    # The dialogs: short keys, settings.
    for opens in ("Open short keys dialog", "Open settings dialog"):
        await page.get_by_role("button", name=opens).click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await explorer_axe(tab, opens.lower())
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)

    # A second tab: each has its button, the one shown (with its close button) is the current one.
    await page.get_by_role("button", name="New tab").click()
    tabs = page.locator(".graphiql-tab-button")
    await expect(tabs).to_have_count(2)
    await expect(page.get_by_role("button", name="Close Tab").first).to_be_visible()
    await expect(tabs.nth(1)).to_have_attribute("aria-current", "true")
    await expect(tabs.nth(0)).not_to_have_attribute("aria-current", "true")
    await explorer_axe(tab, "two tabs")
    await tabs.nth(0).click()
    await expect(tabs.nth(0)).to_have_attribute("aria-current", "true")
    await expect(tabs.nth(1)).not_to_have_attribute("aria-current", "true")

    # The dark theme, chosen in the settings: the completion list and the result.
    await page.get_by_role("button", name="Open settings dialog").click()
    await page.get_by_role("dialog").get_by_role("button", name="Dark", exact=True).click()
    await expect(page.locator("body")).to_have_class(re.compile(r"\bgraphiql-dark\b"))
    await explorer_axe(tab, "settings dark")
    await page.keyboard.press("Escape")
    await page.locator(".graphiql-query-editor .monaco-editor").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type("{ me { role display")
    await expect(page.locator(SUGGESTIONS)).to_contain_text("displayName")
    await explorer_axe(tab, "completion list dark")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Control+Enter")
    await result_shown(page, '"role": "SUPPORT"')
    await explorer_axe(tab, "result dark")

    assert not tab.problems, tab.problems
    await tab.context.close()


FOCUSED = """() => {
  const e = document.activeElement;
  const r = e.getBoundingClientRect();
  return {tag: e.tagName, cls: e.className.toString(),
          name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
          seen: e.checkVisibility({opacityProperty: true, visibilityProperty: true})
                && r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth};
}"""


async def tab_to(page: Page, css_class: str, limit: int = 25) -> dict[str, Any]:
    """Presses Tab until the focus is on an element of `css_class`; each stop on the way is seen."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused: dict[str, Any] = await page.evaluate(FOCUSED)
        assert focused["seen"], f"Tab stopped on something not seen: {focused}"
        if css_class in focused["cls"].split():
            return focused
    raise AssertionError(f"Tab never reached .{css_class}")


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
async def test_the_explorer_is_used_with_the_keyboard_alone(
    server: Server, browser: Browser, viewport: str
) -> None:
    staff = await factories.support(email="keys@example.test")
    tab = await signed_in_tab(browser, server, "explorer-keyboard", staff, viewport)
    page = tab.page
    runs: list[str] = []
    page.on("request", lambda r: runs.append(r.url) if "displayName" in (r.post_data or "") else None)
    await page.goto("/graphql")
    await expect(page.locator(".graphiql-query-editor .monaco-editor").first).to_be_visible()
    await expect(page.get_by_role("button", name="Show Documentation Explorer")).to_be_enabled()
    assert await page.get_by_role("button", name="<untitled>").get_attribute("aria-current") == "true"

    # From the top of the page, Tab reaches the operation editor's box, which the hint describes;
    # Enter goes into the editor, named after it.
    box = await tab_to(page, "graphiql-editor")
    assert "graphiql-editor" in box["cls"]
    assert await page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "explorer-keys"
    await expect(page.locator("#explorer-keys")).to_contain_text("Ctrl+M then Tab")
    await page.keyboard.press("Enter")
    focused = await page.evaluate(FOCUSED)
    assert (focused["tag"], focused["name"]) == ("TEXTAREA", "Operation editor"), focused
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type("{ me { role display")
    # The completion list offers the field; Enter takes it, and the list closes.
    await expect(page.locator(SUGGESTIONS)).to_contain_text("displayName")
    await page.keyboard.press("Enter")
    await expect(page.locator(SUGGESTIONS)).to_have_count(0)
    await expect(page.locator(".graphiql-query-editor .view-lines")).to_contain_text("displayName")

    # Ctrl+Enter runs it.
    await page.keyboard.press("Control+Enter")
    await result_shown(page, '"role": "SUPPORT"')
    assert len(runs) == 1, runs

    # Ctrl+M, then Tab leaves the editor for the run button; Enter on it runs again.
    await page.keyboard.press("Control+m")
    await page.keyboard.press("Tab")
    focused = await page.evaluate(FOCUSED)
    assert focused["name"] == "Execute query (Ctrl-Enter)", focused
    await page.keyboard.press("Enter")
    await wait_for(lambda: len(runs) == 2, "the second run")

    # Tab goes on to the result, stopping on nothing folded away (the variables' editor is), and
    # Enter goes into it: the answer is read there.
    await tab_to(page, "result-window")
    await page.keyboard.press("Enter")
    focused = await page.evaluate(FOCUSED)
    assert (focused["tag"], focused["name"]) == ("TEXTAREA", "Result"), focused
    await expect(page.locator(".graphiql-response .result-window")).to_contain_text(staff.display_name)
    assert not tab.problems, tab.problems
    await tab.context.close()
