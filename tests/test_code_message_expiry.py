"""A code's message gives the moment it expires, in French time: it may arrive minutes after it
was written, and « in 10 minutes » would then be wrong."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import CodePurpose
from backend.models import OneTimeCode
from tests import factories
from tests.auth_flows import start
from tests.smtp import SmtpServer


async def test_a_sign_in_code_says_until_when_it_is_valid(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    account, _ = await factories.patient()
    # 14 July, 09:55 UTC: 11:55 in Paris (summer time, two hours ahead).
    clock.shift(dt.datetime(2026, 7, 14, 9, 55, tzinfo=dt.UTC) - clock.now())
    await start(client, account.email or "", factories.PASSWORD)
    await smtp_server.deliver()
    body = smtp_server.to(account.email or "")[-1].body
    row = await OneTimeCode.get(account_id=account.id, purpose=CodePurpose.LOGIN)
    expires = row.expires_at.astimezone(dt.UTC)
    assert (expires.hour, expires.minute) in ((10, 5), (10, 6))  # its 10 minutes
    paris = f"{expires.hour + 2:02d}:{expires.minute:02d}"
    assert f"Il expire à {paris} (heure de Paris)" in body
    assert "dans 10 minutes" not in body
