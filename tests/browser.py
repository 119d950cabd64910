"""End-to-end helpers: a real `dmp serve` process and Debian's Chromium driven by Playwright.

The server runs in its own process against the test database (tests.conftest.DB_URL), with a
data directory of its own, on http://localhost:<free port>: one process and one Chromium for
the run, the mailbox and the stored files emptied before each test. Mail and SMS land in the dev mailbox
(DMP_DATA_DIR/mail/*.json), where the tests read the one-time codes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Locator,
    Page,
    Route,
    async_playwright,
    expect,
)

from backend import config
from backend.domain.enums import Profession
from backend.models import Account
from tests import factories
from tests.conftest import DB_URL, session_for
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
VIEWPORTS = {"mobile": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
CODE = re.compile(r"\b(\d{6})\b")
WAIT_STEP = 0.1
WAIT_LIMIT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(check: Callable[[], Any], what: str, limit: float = WAIT_LIMIT) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail after `limit` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(WAIT_STEP)


@dataclass
class Server:
    """A running `dmp serve` process."""

    origin: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    seen_mail: set[str] = field(default_factory=set)

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def messages(self, recipient: str) -> list[dict[str, Any]]:
        found = []
        if self.mail_dir.exists():
            for path in sorted(self.mail_dir.glob("*.json")):
                message = json.loads(path.read_text())
                if message["to"] == recipient:
                    found.append({**message, "file": path.name})
        return found

    async def next_code(self, recipient: str) -> str:
        """The code in the first message to `recipient` not read before (waits for the outbox)."""

        def fresh() -> str | None:
            for message in self.messages(recipient):
                if message["file"] in self.seen_mail:
                    continue
                match = CODE.search(message["body"])
                self.seen_mail.add(message["file"])
                if match:
                    return match.group(1)
            return None

        return str(await wait_for(fresh, f"a code sent to {recipient}"))

    def skip_existing_mail(self) -> None:
        if self.mail_dir.exists():
            self.seen_mail.update(p.name for p in self.mail_dir.glob("*.json"))

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  cookies: dict[str, str] | None = None) -> dict[str, Any]:
        """A GraphQL call from outside the browser (e.g. a practitioner's practice software)."""
        async with httpx.AsyncClient(base_url=self.origin, cookies=cookies or {}) as client:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables or {}},
                headers={"origin": self.origin},
            )
        body: dict[str, Any] = response.json()
        body["cookies"] = dict(response.cookies)
        return body


    async def grant_from_directory(self, patient_cookies: dict[str, str], search: str,
                                   sections: list[str]) -> None:
        """The patient finds a practitioner in the directory and shares `sections` with them."""
        found = await self.gql("query($s: String!) { practitionerDirectory(search: $s) { id } }",
                               {"s": search}, cookies=patient_cookies)
        granted = await self.gql(
            "mutation($id: ID!, $sections: [Section!]!) { grantAccess(practitionerId: $id,"
            " sections: $sections) { sharing { grants { sections } } } }",
            {"id": found["data"]["practitionerDirectory"][0]["id"], "sections": sections},
            cookies=patient_cookies)
        assert not granted.get("errors"), granted

    async def break_glass(self, ins: str, reason: str) -> None:
        """A doctor of their own breaks the glass on the record of `ins`, stating `reason`."""
        urgentist, _ = await factories.practitioner(Profession.MEDECIN)
        opened = await self.gql(
            "mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) { mode } }",
            {"ins": ins, "r": reason},
            cookies={config.settings().session_cookie: await session_for(urgentist)})
        assert not opened.get("errors"), opened


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


async def _start_server() -> Server:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        raise AssertionError("frontend not built: run `npm run build` (bin/setup does)")
    port = free_port()
    origin = f"http://localhost:{port}"
    data_dir = Path(tempfile.mkdtemp(prefix="dmp-web-"))
    env = {
        **os.environ,
        "DMP_DATABASE_URL": DB_URL,
        "DMP_DATA_DIR": str(data_dir),
        "DMP_PUBLIC_ORIGIN": origin,
        "DMP_ENV": "development",
    }
    for name in ("DMP_SMTP_HOST", "DMP_SMTP_PORT"):
        env.pop(name, None)
    log = data_dir / "server.log"
    dmp = Path(sys.executable).parent / "dmp"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 — our own command, fixed arguments
            [str(dmp), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        async def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"dmp serve exited: {log.read_text()[-2000:]}")
            try:
                async with httpx.AsyncClient() as client:
                    r = await client.get(f"{origin}/healthz", timeout=1)
                return r.status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(healthy, "dmp serve to answer")
    except BaseException:
        _stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Server(origin=origin, data_dir=data_dir, process=process, log=log)


def _empty(folder: Path) -> None:
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)


# One `dmp serve` and one Chromium for the whole run, each test with its own tables (the
# suite's `clean`), its own mailbox and files (emptied here) and its own browser contexts
# (closed after it): starting both for each test took about 2 s of the test's time.
_shared: dict[str, Any] = {}


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    running: Server | None = _shared.get("server")
    if running is None or running.process.poll() is not None:
        if running is not None:
            shutil.rmtree(running.data_dir, ignore_errors=True)
        running = _shared["server"] = await _start_server()
    _empty(running.mail_dir)
    _empty(running.data_dir / "files")
    running.seen_mail.clear()
    yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    await wait_for(lambda: Path(CHROMIUM).exists(), "Chromium to be installed", limit=300)
    running: Browser | None = _shared.get("browser")
    if running is None or not running.is_connected():
        if "playwright" not in _shared:
            _shared["playwright"] = await async_playwright().start()
        running = _shared["browser"] = await _shared["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
    try:
        yield running
    finally:
        for context in list(running.contexts):
            await context.close()


async def stop_shared() -> None:
    """At the end of the run (tests/conftest.py): the browser, Playwright and the server."""
    browser = _shared.pop("browser", None)
    if browser is not None and browser.is_connected():
        await browser.close()
    playwright = _shared.pop("playwright", None)
    if playwright is not None:
        await playwright.stop()
    running = _shared.pop("server", None)
    if running is not None:
        _stop(running.process)
        shutil.rmtree(running.data_dir, ignore_errors=True)


@dataclass
class Tab:
    """One browser context and page, watching for console errors and CSP violations."""

    context: BrowserContext
    page: Page
    problems: list[str]
    name: str

    async def shot(self, label: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{label}.png"), full_page=True)

    async def axe(self, label: str) -> None:
        """No serious or critical accessibility violation on the current screen."""
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated over CDP: a <script> tag (add_script_tag) would be refused by the page's CSP.
            await self.page.evaluate(AXE.read_text() + "\n;undefined")
        result = await self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {label}: {bad}"

    async def check(self, label: str) -> None:
        """Screenshot, accessibility, and no console error so far."""
        await self.shot(label)
        await self.axe(label)
        assert not self.problems, f"{label}: {self.problems}"

    async def authenticator(self) -> tuple[CDPSession, str]:
        cdp = await self.context.new_cdp_session(self.page)
        await cdp.send("WebAuthn.enable", {"enableUI": False})
        added = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }})
        return cdp, str(added["authenticatorId"])


async def in_view(page: Page, element: Locator) -> bool:
    """`element` is within the screen as it is now (not scrolled away)."""
    box = await element.bounding_box()
    height = await page.evaluate("innerHeight")
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= height + 1


def fault_on_next_page(marker: str) -> Callable[[Route], Awaitable[None]]:
    """A route handler for **/graphql: a request whose body holds `marker` (that of a list's next
    page: "$after" in the query, or '"after"' among the variables) is answered with a fault on the
    service's side (INTERNAL); any other goes on to the server."""
    async def fault(route: Route) -> None:
        if marker in (route.request.post_data or ""):
            await route.fulfill(json={"data": None, "errors": [
                {"message": "fault", "extensions": {"code": "INTERNAL"}}]})
        else:
            await route.continue_()

    return fault


async def open_tab(browser: Browser, server: Server, name: str, viewport: str) -> Tab:
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR",
                                        base_url=server.origin)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return Tab(context=context, page=page, problems=problems, name=f"{name}-{viewport}")


async def sign_in_first_step(tab: Tab, server: Server, identifier: str, *, password: str = PASSWORD,
                             open_login: bool = True) -> None:
    """The sign-in's first step, identifier and password, up to the second factor's (a code
    sent, or a passkey): from /connexion, or (`open_login=False`) on the login page already
    shown, where an identifier the page kept is not typed again."""
    page = tab.page
    if open_login:
        await page.goto("/connexion")
    kept = not open_login and await page.get_by_label("Identifiant").input_value()
    if not kept:
        await page.get_by_label("Identifiant").fill(identifier)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    server.skip_existing_mail()
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérification")


async def sign_in_with_code(tab: Tab, server: Server, identifier: str, mailbox: str | None = None, *,
                            password: str = PASSWORD, open_login: bool = True) -> None:
    """Signs in with the password and the code sent to `mailbox` (the identifier's, by default)."""
    await sign_in_first_step(tab, server, identifier, password=password, open_login=open_login)
    await tab.page.get_by_label("Code reçu").fill(await server.next_code(mailbox or identifier))
    await tab.page.get_by_role("button", name="Valider").click()


async def confirm_it_is_you(tab: Tab, server: Server, mailbox: str) -> None:
    """Answers the check that asks a signed-in person for a new code before a sensitive change."""
    check = tab.page.get_by_role("group", name="Confirmez que c'est bien vous")
    server.skip_existing_mail()
    await check.get_by_role("button", name="Recevoir un code").click()
    await check.get_by_label("Code reçu").fill(await server.next_code(mailbox))
    await check.get_by_role("button", name="Valider").click()


async def confirm_in_page(page: Page, verb: str) -> None:
    """Answers the page's own confirmation dialog (components/ConfirmDialog.jsx) with its confirming
    button, the action's verb (« Supprimer », « Bloquer »…); then it is gone."""
    question = page.get_by_role("dialog")
    await question.get_by_role("button", name=verb, exact=True).click()
    await expect(question).to_have_count(0)


async def decline_in_page(page: Page) -> None:
    """Cancels the page's own confirmation dialog with « Annuler »; then it is gone."""
    question = page.get_by_role("dialog")
    await question.get_by_role("button", name="Annuler", exact=True).click()
    await expect(question).to_have_count(0)


async def _confirm_any(question: Locator) -> None:
    # Its buttons: « Annuler », then the action's verb.
    await question.get_by_role("button").last.click()


async def patient_signed_in(browser: Browser, server: Server, name: str, email: str,
                           viewport: str = "mobile") -> Tab:
    """A patient's tab, signed in on their record, that accepts the page's confirmations: whenever
    its confirmation dialog is open before the next step, its confirming button is pressed."""
    tab = await open_tab(browser, server, name, viewport)
    await tab.page.add_locator_handler(tab.page.get_by_role("dialog"), _confirm_any)
    await sign_in_with_code(tab, server, email)
    await expect(tab.page).to_have_url(f"{server.origin}/dossier")
    return tab


async def signed_in_tab(browser: Browser, server: Server, name: str, account: Account,
                        viewport: str = "desktop") -> Tab:
    """A tab that holds a session of `account`'s, as a sign-in would leave it."""
    tab = await open_tab(browser, server, name, viewport)
    await tab.context.add_cookies([{"name": config.settings().session_cookie,
                                    "value": await session_for(account), "url": server.origin}])
    return tab
