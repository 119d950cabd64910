"""The forgotten password's and the activation's code steps are entries of the browser's history,
as the sign-in's are (tests/test_web_login_history.py): Back returns to the first step, Forward
shows the code step again without sending anything (no second request, no second code, and
the first code still works); the history's state holds only the step's name."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, Request, expect

from backend import config
from backend.domain.enums import Profession
from tests import factories
from tests.browser import Server, browser, open_tab, server
from tests.conftest import session_for
from tests.factories import PASSWORD

__all__ = ["browser", "server"]

pytestmark = pytest.mark.browser

OPEN_RECORD = """mutation Open($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { activationCode }
}"""


def _operations(page_requests: list[Request], name: str) -> int:
    return sum(1 for r in page_requests if r.method == "POST" and name in (r.post_data or ""))


async def test_back_and_forward_on_the_forgotten_password_steps(server: Server, browser: Browser) -> None:
    email = "oubli.historique@example.test"
    await factories.patient(email=email)
    tab = await open_tab(browser, server, "reset-history", "mobile")
    page = tab.page
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))
    await page.goto("/mot-de-passe-oublie")
    await page.get_by_label("Identifiant").fill(email)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Recevoir un code").click()
    await expect(page.get_by_label("Code reçu")).to_be_focused()
    code = await server.next_code(email)
    assert json.loads(await page.evaluate("JSON.stringify(history.state)")) == {"dmpStep": "reset.code"}

    await page.go_back()
    await expect(page).to_have_url(f"{server.origin}/mot-de-passe-oublie")
    await expect(page.get_by_label("Identifiant")).to_have_value(email)
    await expect(page.get_by_label("Identifiant")).to_be_focused()
    await expect(page.get_by_label("Code reçu")).to_have_count(0)
    await tab.check("back")

    await page.go_forward()
    await expect(page.get_by_label("Code reçu")).to_be_visible()
    assert _operations(requests, "requestPasswordReset") == 1
    assert len(server.messages(email)) == 1
    await page.get_by_label("Code reçu").fill(code)
    await page.get_by_label("Nouveau mot de passe").fill("un-tout-nouveau-mot-de-passe")
    await page.get_by_role("button", name="Changer mon mot de passe").click()
    done = page.locator(".notice").filter(has_text="Votre mot de passe a été changé.")  # focused
    await expect(done).to_be_visible()


async def test_back_and_forward_on_the_activation_steps(server: Server, browser: Browser) -> None:
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    ins = factories.new_ins()
    email = "activation.historique@example.test"
    opened = await server.gql(OPEN_RECORD, {"input": {
        "ins": ins, "firstName": "Inès", "lastName": "Marchand", "birthDate": "1990-04-02",
    }}, cookies={config.settings().session_cookie: await session_for(doctor)})
    assert not opened.get("errors"), opened
    activation_code = opened["data"]["openRecordForPatient"]["activationCode"]

    tab = await open_tab(browser, server, "activation-history", "mobile")
    page = tab.page
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))
    await page.goto("/activation")
    await page.get_by_label("Numéro INS (numéro de sécurité sociale)").fill(ins)
    await page.get_by_label("Code d'activation").fill(activation_code)
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Activer mon dossier").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer vos coordonnées")
    code = await server.next_code(email)
    state = await page.evaluate("JSON.stringify(history.state)")
    assert json.loads(state) == {"dmpStep": "activate.code"}
    assert PASSWORD not in state and activation_code not in state

    await page.go_back()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Activer mon dossier")
    await expect(page.get_by_label("Numéro INS (numéro de sécurité sociale)")).to_be_focused()
    await expect(page.get_by_label("Mot de passe", exact=True)).to_have_value("")
    await tab.check("back")

    await page.go_forward()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer vos coordonnées")
    assert _operations(requests, "createRecord") == 1
    assert len(server.messages(email)) == 1
    await page.get_by_label("Code reçu").fill(code)
    await page.get_by_role("button", name="Confirmer").click()
    await expect(page).to_have_url(f"{server.origin}/dossier")
