"""DMP_PUBLIC_ORIGIN is kept as a browser writes its `Origin` header: a value typed in capitals or
with its default port still lets the service's own page sign in and change things."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend import config
from backend.app import create_app
from tests import factories
from tests.conftest import DB_URL, TEST_DIR, session_for

PRODUCTION = {
    "DMP_ENV": "production", "DMP_DATA_KEY": secrets.token_hex(32), "DMP_AUDIT_KEY": secrets.token_hex(32),
    "DMP_SMTP_HOST": "mail.example", "DMP_MAIL_FROM": "DMP <no-reply@dmp.example>",
}


@pytest.mark.parametrize(("typed", "origin"), [
    ("http://LOCALHOST:8000", "http://localhost:8000"),
    ("HTTP://Localhost:8000/", "http://localhost:8000"),
    ("http://localhost:80", "http://localhost"),
    (" http://localhost:5173 ", "http://localhost:5173"),
    ("http://localhost:8000/?#", "http://localhost:8000"),  # an empty query and fragment
    ("http://localhost:8000?", "http://localhost:8000"),
])
def test_a_development_origin_is_kept_as_browsers_write_it(tmp_path: Path, typed: str, origin: str) -> None:
    cfg = config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_PUBLIC_ORIGIN": typed})
    assert cfg.public_origin == origin and cfg.rp_id == "localhost"


@pytest.mark.parametrize(("typed", "origin"), [
    ("https://example.org:443", "https://example.org"),
    ("HTTPS://DMP.Example.ORG:443/", "https://dmp.example.org"),
    ("https://dmp.example:8443", "https://dmp.example:8443"),
    ("https://dossier-médical.example", "https://xn--dossier-mdical-jkb.example"),  # as browsers send it
])
def test_a_production_origin_is_kept_as_browsers_write_it(tmp_path: Path, typed: str, origin: str) -> None:
    cfg = config.load({"DMP_DATA_DIR": str(tmp_path / "data"), **PRODUCTION, "DMP_PUBLIC_ORIGIN": typed})
    assert cfg.public_origin == origin
    assert cfg.rp_id == origin.removeprefix("https://").partition(":")[0]
    assert cfg.secure_cookies


@pytest.mark.parametrize("typed", [
    "http://localhost:8000/dmp", "http://localhost:8000//", "http://localhost:8000/?next=1",
    "http://localhost:8000/#top", "http://localhost:port", "http://localhost:70000",
    "http://localhost:0", "http://local host:8000", "localhost:8000", "ws://localhost:8000", "http://[::1",
])
def test_an_origin_with_more_or_less_than_an_origin_is_refused(tmp_path: Path, typed: str) -> None:
    with pytest.raises(config.ConfigError, match="DMP_PUBLIC_ORIGIN must be an origin like") as refused:
        config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_PUBLIC_ORIGIN": typed})
    assert "\n" not in str(refused.value)


def test_a_user_name_and_password_are_refused_unsaid(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="DMP_PUBLIC_ORIGIN") as refused:
        config.load({"DMP_DATA_DIR": str(tmp_path / "data"),
                     "DMP_PUBLIC_ORIGIN": "http://admin:s3cret-pw@localhost:8000"})
    assert "s3cret-pw" not in str(refused.value)


@pytest.fixture
async def typed_in_capitals() -> AsyncIterator[httpx.AsyncClient]:
    saved = config.settings()
    cfg = config.load({
        "DMP_DATABASE_URL": DB_URL, "DMP_DATA_DIR": str(TEST_DIR / "data"),
        "DMP_PUBLIC_ORIGIN": "http://LOCALHOST:8000/",
        "DMP_DATA_KEY": saved.data_key.hex(), "DMP_AUDIT_KEY": saved.audit_key.hex(),
    })
    config.reset(cfg)
    try:
        transport = httpx.ASGITransport(app=create_app(cfg, outbox_worker=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
            yield c
    finally:
        config.reset(saved)


async def test_the_pages_own_requests_are_accepted(typed_in_capitals: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    typed_in_capitals.cookies.set("dmp_session", await session_for(account))
    # What a browser sends from the page at http://LOCALHOST:8000/: its origin in lower case.
    ok = await typed_in_capitals.post("/graphql", json={"query": "{ me { role } }"},
                                      headers={"origin": "http://localhost:8000"})
    assert ok.status_code == 200 and ok.json() == {"data": {"me": {"role": "PATIENT"}}}
    foreign = await typed_in_capitals.post("/graphql", json={"query": "{ me { role } }"},
                                           headers={"origin": "http://localhost:8001"})
    assert foreign.status_code == 403
