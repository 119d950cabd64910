"""Review of sign-in around clock changes: a code's message names the moment it expires in
French time, which a change of time within its ten minutes made misleading."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend import clock
from tests import factories
from tests.auth_flows import start
from tests.smtp import SmtpServer


@pytest.mark.parametrize(("sent", "said"), [
    # 25 October 2026, 00:55 UTC: 02:55 summer time; ten minutes later, 02:05 winter time.
    (dt.datetime(2026, 10, 25, 0, 55, tzinfo=dt.UTC), "Il expire à 02:05 (heure de Paris, après le "
     "passage à l'heure d'hiver)"),
    # 29 March 2026, 00:55 UTC: 01:55 winter time; ten minutes later, 03:05 summer time.
    (dt.datetime(2026, 3, 29, 0, 55, tzinfo=dt.UTC), "Il expire à 03:05 (heure de Paris, après le "
     "passage à l'heure d'été)"),
])
async def test_a_code_whose_ten_minutes_cross_a_change_of_time_says_so(
    client: httpx.AsyncClient, smtp_server: SmtpServer, sent: dt.datetime, said: str
) -> None:
    """« Il expire à 02:05 » read at 02:55 looked expired, while ten minutes were left;
    « 03:05 » read at 01:55 looked like seventy."""
    account, _ = await factories.patient()
    clock.shift(sent - clock.now())
    await start(client, account.email or "", factories.PASSWORD)
    await smtp_server.deliver()
    body = smtp_server.to(account.email or "")[-1].body
    assert said in body


async def test_a_code_within_one_time_says_only_the_time(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    clock.shift(dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC) - clock.now())  # 02:30 winter time
    await start(client, account.email or "", factories.PASSWORD)
    await smtp_server.deliver()
    body = smtp_server.to(account.email or "")[-1].body
    assert "Il expire à 02:40 (heure de Paris)." in body
