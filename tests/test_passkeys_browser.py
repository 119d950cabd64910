"""Passkeys with Debian's Chromium and its virtual authenticator against a real `dmp serve`.

The page only carries the origin: the WebAuthn calls are Chromium's own
(parseCreationOptionsFromJSON, credentials.create/get, toJSON), verified by the server.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from backend.auth.secrets_util import digest
from backend.models import Account, PasskeyCredential, Session
from tests import factories
from tests.browser import Server, Tab, browser, server, signed_in_tab

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

GQL = """
  const gql = async (query, variables) => (await fetch('/graphql', {
    method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({query, variables}),
  })).json();
"""

REGISTER = """
async () => {""" + GQL + """
  const begin = await gql('mutation { beginPasskeyRegistration { optionsJson } }');
  const json = JSON.parse(begin.data.beginPasskeyRegistration.optionsJson);
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json);
  const credential = await navigator.credentials.create({publicKey});
  return await gql(
    'mutation($c: String!) { finishPasskeyRegistration(credentialJson: $c, name: "Chromium")'
    + ' { id name } }', {c: JSON.stringify(credential.toJSON())});
}
"""

LOGIN = """
async (userVerification) => {""" + GQL + """
  const begin = await gql('mutation { beginPasskeyLogin { optionsJson } }');
  const json = JSON.parse(begin.data.beginPasskeyLogin.optionsJson);
  // The server asks for "required"; a page may lower it, the server must still refuse.
  json.userVerification = userVerification;
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(json);
  const credential = await navigator.credentials.get({publicKey});
  return await gql(
    'mutation($c: String!) { finishPasskeyLogin(credentialJson: $c) { me { id role } } }',
    {c: JSON.stringify(credential.toJSON())});
}
"""


async def _signed_in_tab(browser: Browser, server: Server, account: Account) -> Tab:
    """Signed in, on a page of the server's origin, where the scripts above run."""
    tab = await signed_in_tab(browser, server, "passkeys", account)
    await tab.page.goto("/healthz")
    return tab


async def test_register_then_log_in_without_password(server: Server, browser: Browser) -> None:
    account, _ = await factories.patient()
    tab = await _signed_in_tab(browser, server, account)
    cdp, authenticator_id = await tab.authenticator()

    registered: dict[str, Any] = await tab.page.evaluate(REGISTER)
    assert "errors" not in registered, registered
    assert registered["data"]["finishPasskeyRegistration"]["name"] == "Chromium"
    row = await PasskeyCredential.get(account_id=account.id)
    held = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert [c["isResidentCredential"] for c in held["credentials"]] == [True]

    await tab.context.clear_cookies()
    logged_in: dict[str, Any] = await tab.page.evaluate(LOGIN, "required")
    assert "errors" not in logged_in, logged_in
    assert logged_in["data"]["finishPasskeyLogin"]["me"] == {
        "id": str(account.id), "role": "PATIENT",
    }
    cookies = {c["name"]: c for c in await tab.context.cookies()}
    session = await Session.get(token_hash=digest(cookies["dmp_session"]["value"]))
    assert session.account_id == account.id  # type: ignore[attr-defined]
    assert cookies["dmp_session"]["httpOnly"] and cookies["dmp_session"]["sameSite"] == "Strict"
    after = await PasskeyCredential.get(id=row.id)
    assert after.sign_count > row.sign_count and after.last_used_at is not None


async def test_unverified_assertion_is_refused_by_the_server(
    server: Server, browser: Browser
) -> None:
    account, _ = await factories.patient()
    tab = await _signed_in_tab(browser, server, account)
    cdp, authenticator_id = await tab.authenticator()
    assert "errors" not in await tab.page.evaluate(REGISTER)
    row = await PasskeyCredential.get(account_id=account.id)

    await tab.context.clear_cookies()
    sessions = await Session.all().count()
    await cdp.send("WebAuthn.setUserVerified", {
        "authenticatorId": authenticator_id, "isUserVerified": False,
    })
    refused: dict[str, Any] = await tab.page.evaluate(LOGIN, "discouraged")
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]
    assert refused["data"] is None
    assert await tab.context.cookies() == []
    assert await Session.all().count() == sessions
    assert (await PasskeyCredential.get(id=row.id)).last_used_at is None
