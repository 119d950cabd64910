"""The development mailbox (/dev/mail) shows every one-time code: it answers this machine's
own connections only, whatever `--host` lets reach the rest of the service."""

from __future__ import annotations

import httpx
import pytest

from backend import config
from backend.app import create_app
from tests.conftest import ORIGIN


@pytest.mark.parametrize("peer", ["192.0.2.7", "10.0.0.5", "2001:db8::1", "testclient"])
async def test_the_mailbox_is_not_shown_to_another_machine(peer: str) -> None:
    app = create_app(config.settings(), outbox_worker=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        page = await c.get("/dev/mail", headers={"X-Forwarded-For": "127.0.0.1"})
        listing = await c.get("/dev/mail", headers={"Accept": "application/json"})
    assert page.status_code == 404 and listing.status_code == 404
    assert "Courrier" not in page.text


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1"])
async def test_the_mailbox_is_shown_on_this_machine(peer: str) -> None:
    app = create_app(config.settings(), outbox_worker=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        page = await c.get("/dev/mail")
    assert page.status_code == 200
    assert "Courrier de développement" in page.text
