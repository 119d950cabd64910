"""HTTP security headers on every kind of response, and the session cookie's flags
(DESIGN §5, §7), checked on a real login through the API."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from backend import config
from backend.app import create_app
from backend.static import DIST
from tests import factories
from tests.auth_flows import COMPLETE, START
from tests.conftest import DB_URL, ORIGIN, TEST_DIR, Caller, session_for
from tests.smtp import SmtpServer

PROD_ORIGIN = "https://dmp.example"


def an_asset() -> str:
    """A script or style sheet of the built page, or the path one would have."""
    built = sorted(p.name for p in (DIST / "assets").glob("*.js")) if (DIST / "assets").is_dir() else []
    return f"/assets/{built[0] if built else 'none.js'}"


async def responses(client: httpx.AsyncClient, origin: str) -> dict[str, httpx.Response]:
    client.cookies.clear()
    seen = {
        "/": await client.get("/"),
        "/some/screen": await client.get("/some/screen"),
        "/graphql": await client.post("/graphql", json={"query": "{ me { id } }"},
                                      headers={"origin": origin}),
        "/graphql GET": await client.get("/graphql", params={"query": "{ me { id } }"},
                                         headers={"accept": "application/json"}),
        "/files/...": await client.get(f"/files/{uuid.uuid4()}"),
        "/assets/...": await client.get(an_asset()),
        "/healthz": await client.get("/healthz"),
        "/livez": await client.get("/livez"),
    }
    client.cookies.set(config.settings().session_cookie, "x")
    seen["/graphql refused"] = await client.post("/graphql", json={"query": "{ me { id } }"},
                                                 headers={"origin": "https://evil.example"})
    client.cookies.clear()
    return seen


def assert_security_headers(response: httpx.Response, *, production: bool) -> None:
    h = response.headers
    csp = h["content-security-policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";")}
    assert directives["script-src"] == "script-src 'self'"  # no inline script, no eval
    assert "'unsafe-inline'" not in directives["default-src"]
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    policy = h["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy
    assert h["cache-control"] == "no-store"
    # No page of another origin of the site embeds any of it (SameSite=Strict sends the cookie).
    assert h["cross-origin-resource-policy"] == "same-origin"
    assert len(h["x-request-id"]) == 32
    if production:
        assert h["strict-transport-security"].startswith("max-age=")
        assert int(h["strict-transport-security"].split("max-age=")[1].split(";")[0]) >= 31536000
    else:
        assert "strict-transport-security" not in h


async def test_headers_on_every_route_in_development(client: httpx.AsyncClient) -> None:
    seen = await responses(client, ORIGIN)
    assert seen["/healthz"].status_code == 200
    assert seen["/files/..."].status_code in (401, 404)
    assert seen["/graphql refused"].status_code == 403
    assert seen["/graphql GET"].status_code == 400
    for name, response in seen.items():
        try:
            assert_security_headers(response, production=False)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc


@pytest.fixture
async def production(smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    saved = config.settings()
    cfg = config.load({
        "DMP_ENV": "production", "DMP_DATABASE_URL": DB_URL,
        "DMP_DATA_DIR": str(TEST_DIR / "prod"), "DMP_PUBLIC_ORIGIN": PROD_ORIGIN,
        "DMP_DATA_KEY": secrets.token_hex(32), "DMP_AUDIT_KEY": secrets.token_hex(32),
        "DMP_SMTP_HOST": smtp_server.host, "DMP_SMTP_PORT": str(smtp_server.port),
        "DMP_MAIL_FROM": "DMP <no-reply@dmp.example>",
    })
    config.reset(cfg)
    try:
        transport = httpx.ASGITransport(app=create_app(cfg, outbox_worker=False))
        async with httpx.AsyncClient(transport=transport, base_url=PROD_ORIGIN) as c:
            yield c
    finally:
        config.reset(saved)


async def test_headers_on_every_route_in_production(production: httpx.AsyncClient) -> None:
    seen = await responses(production, PROD_ORIGIN)
    assert "/dev/mail" not in [r.url.path for r in seen.values()]
    for name, response in seen.items():
        try:
            assert_security_headers(response, production=True)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc


def cookie_attributes(response: httpx.Response) -> tuple[str, str, dict[str, str]]:
    [header] = [v for v in response.headers.get_list("set-cookie") if "session" in v]
    first, *rest = [part.strip() for part in header.split(";")]
    name, value = first.split("=", 1)
    attributes = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val
    return name, value, attributes


async def login(client: httpx.AsyncClient, smtp: SmtpServer, origin: str) -> httpx.Response:
    account, _ = await factories.patient()
    started = await client.post("/graphql", headers={"origin": origin}, json={
        "query": START, "variables": {"i": account.email, "p": factories.PASSWORD}})
    token = started.json()["data"]["startLogin"]["attemptToken"]
    code = await smtp.code_for(account.email or "")
    return await client.post("/graphql", headers={"origin": origin}, json={
        "query": COMPLETE, "variables": {"t": token, "c": code}})


async def test_session_cookie_flags_in_development(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    response = await login(client, smtp_server, ORIGIN)
    assert response.json()["data"]["completeLogin"]["me"]["role"] == "PATIENT"
    name, value, attributes = cookie_attributes(response)
    assert name == "dmp_session"
    assert len(value) >= 22  # ≥ 128 bits, URL-safe
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert "domain" not in attributes
    assert "secure" not in attributes  # http://localhost only; Secure everywhere else
    assert_security_headers(response, production=False)
    # The cookie it set is a working session.
    me = await Caller(client, session=value).gql("{ me { role } }")
    assert me.ok() == {"me": {"role": "PATIENT"}}


async def test_session_cookie_flags_in_production(
    production: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    response = await login(production, smtp_server, PROD_ORIGIN)
    assert response.json()["data"]["completeLogin"]["me"]["role"] == "PATIENT"
    name, value, attributes = cookie_attributes(response)
    assert name == "__Host-dmp_session"
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert "domain" not in attributes  # required by the __Host- prefix
    assert_security_headers(response, production=True)


async def test_cookie_session_refused_from_a_foreign_origin(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    session = await session_for(account)
    client.cookies.set("dmp_session", session)
    response = await client.post("/graphql", json={"query": "{ me { role } }"},
                                 headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
