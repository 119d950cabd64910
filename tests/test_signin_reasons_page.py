"""In a real Chromium: a sign-in code refused where waiting does not help says what to do,
not « Réessayez plus tard »."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from backend import clock
from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account
from tests import factories
from tests.auth_flows import wrong
from tests.browser import Server, browser, open_tab, server, sign_in_first_step

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser


async def test_a_code_tried_too_often_and_a_locked_code_login_say_what_to_do(
    server: Server, browser: Browser
) -> None:
    email = "essais@example.test"
    account, _ = await factories.patient(email=email)
    tab = await open_tab(browser, server, "signin-reasons", "mobile")
    page = tab.page
    # The sign-in's refusal takes the keyboard: read as the focused element, it is no live
    # region (docs/frontend.md), so it is found by its class, not by role="alert".
    alert = page.locator(".error")

    # A wrong password: the code step, whose tries answer as a real code's.
    await sign_in_first_step(tab, server, email, password="pas-le-bon-mot-de-passe")
    for _ in range(6):
        await page.get_by_label("Code reçu").fill("000000")
        async with page.expect_response(lambda r: r.url.endswith("/graphql")):
            await page.get_by_role("button", name="Valider").click()
        # The refusal drawn and given the keyboard before the next try: a click while it was
        # still appearing (the page moving under it) was sometimes lost, and no request went.
        await expect(alert).to_be_focused()
    await expect(alert).not_to_have_attribute("role", "alert")
    await expect(alert).to_contain_text("Trop de tentatives.")
    await expect(alert).to_contain_text("Ce code a été essayé trop de fois : recommencez")
    await expect(alert).not_to_contain_text("plus tard")
    await tab.check("code-tries-used-up")

    # The right password, then the day's tenth wrong code: code sign-in locks at this try, and
    # the page says so at once (it used to say « code incorrect », and only the next try told
    # the lock).
    await page.get_by_role("button", name="Recommencer").click()
    await sign_in_first_step(tab, server, email, open_login=False)
    await Account.filter(id=account.id).update(
        failure_day=clock.now().date(), failure_count=DAILY_CODE_FAILURES - 1
    )
    await page.get_by_label("Code reçu").fill(wrong(await server.next_code(email)))
    await page.get_by_role("button", name="Valider").click()
    await expect(alert).to_contain_text("La connexion par code est bloquée")
    await expect(alert).to_contain_text("clé d'accès")
    await expect(alert).to_contain_text("contactez le support")
    await expect(alert).not_to_contain_text("plus tard")
    await expect(page).not_to_have_url(f"{server.origin}/dossier")
    locked = await Account.get(id=account.id)
    assert locked.locked_at is not None and locked.failure_count == DAILY_CODE_FAILURES
    await tab.check("code-login-locked")
    await tab.context.close()
