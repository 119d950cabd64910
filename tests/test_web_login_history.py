"""The sign-in's steps are entries of the browser's history (/connexion, in a real Chromium):
Back from the code step returns to the identifier and password (the identifier kept, the
password not), Forward shows the code step again without sending anything (the same attempt:
no second startLogin, no second code, and the first code still signs in), and neither the
password nor the attempt's token is in the history's state or the address."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, Request, Response, expect

from tests import factories
from tests.browser import Server, browser, open_tab, server
from tests.factories import PASSWORD

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


def _operation(request: Request) -> str | None:
    if request.method != "POST" or not request.url.endswith("/graphql"):
        return None
    body = request.post_data or ""
    for name in ("startLogin", "completeLogin", "beginPasskeyLogin"):
        if name in body:
            return name
    return None


async def test_back_and_forward_move_between_the_sign_in_steps_without_sending_again(
    server: Server, browser: Browser
) -> None:
    email = "pas.a.pas@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "login-history", "mobile")
    page = tab.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(op) if (op := _operation(r)) else None)
    tokens: list[str] = []

    async def keep_token(response: Response) -> None:
        if _operation(response.request) == "startLogin":
            tokens.append((await response.json())["data"]["startLogin"]["attemptToken"])

    page.on("response", keep_token)

    await page.goto("/connexion")
    server.skip_existing_mail()
    await page.get_by_label("Identifiant").fill(email)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérification")
    code = await server.next_code(email)
    assert sent == ["startLogin"] and len(tokens) == 1

    # The step is an entry of its own, at the same address, holding nothing typed or received.
    assert await page.evaluate("history.length") == 3  # about:blank, the first step, the code step
    state = await page.evaluate("JSON.stringify(history.state)")
    assert json.loads(state) == {"dmpStep": "login.code"}
    assert page.url == f"{server.origin}/connexion"
    for secret in (PASSWORD, tokens[0]):
        assert secret not in state and secret not in page.url

    # Back: the first step, the identifier kept and the keyboard on it, the password not kept.
    await page.go_back()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page).to_have_url(f"{server.origin}/connexion")
    await expect(page.get_by_label("Identifiant")).to_have_value(email)
    await expect(page.get_by_label("Identifiant")).to_be_focused()
    await expect(page.get_by_label("Mot de passe", exact=True)).to_have_value("")
    assert PASSWORD not in (await page.evaluate("JSON.stringify(history.state)") or "")
    await tab.check("back-to-first-step")

    # Forward: the code step again, as it was; nothing is sent, no other code goes out.
    await page.go_forward()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérification")
    await expect(page.get_by_text("Si le mot de passe est le bon, un code à 6 chiffres")).to_be_visible()
    assert sent == ["startLogin"]
    assert len(server.messages(email)) == 1

    # The first (and only) code signs in: it is the same attempt.
    await page.get_by_label("Code reçu").fill(code)
    await page.get_by_role("button", name="Valider").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")
    assert sent == ["startLogin", "completeLogin"]
    await tab.check("signed-in")


async def test_starting_again_leaves_no_code_step_for_forward(server: Server, browser: Browser) -> None:
    """« Recommencer » ends the attempt: it goes back in the history as Back does, and Forward
    then finds no code step to show (nothing is sent)."""
    email = "recommence@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "login-history-restart", "mobile")
    page = tab.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(op) if (op := _operation(r)) else None)
    await page.goto("/connexion")
    server.skip_existing_mail()
    await page.get_by_label("Identifiant").fill(email)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérification")

    await page.get_by_role("button", name="Recommencer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page.get_by_label("Identifiant")).to_be_focused()
    assert await page.evaluate("history.state") is None
    await page.go_forward()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    assert await page.evaluate("history.state") is None
    assert sent == ["startLogin"]
    await tab.check("restarted")


async def test_a_reload_on_the_code_step_shows_the_first_step(server: Server, browser: Browser) -> None:
    """The attempt lives in the page's memory only: after a reload the code step's entry shows
    the first step (nothing is sent again)."""
    email = "recharge@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "login-history-reload", "mobile")
    page = tab.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(op) if (op := _operation(r)) else None)
    await page.goto("/connexion")
    await page.get_by_label("Identifiant").fill(email)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérification")
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page.get_by_label("Identifiant")).to_have_value(email)
    assert await page.evaluate("history.state") is None
    assert sent == ["startLogin"]
