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


@pytest.mark.parametrize(("at", "said"), [
    # 25 October 2026: 02:30 happens twice in Paris, first in summer time, then in winter time.
    (dt.datetime(2026, 10, 25, 0, 30, 5, tzinfo=dt.UTC),
     "le 25/10/2026 à 02:30 (heure de Paris, heure d'été)."),
    (dt.datetime(2026, 10, 25, 1, 30, 5, tzinfo=dt.UTC),
     "le 25/10/2026 à 02:30 (heure de Paris, heure d'hiver)."),
    (dt.datetime(2026, 10, 25, 2, 30, 5, tzinfo=dt.UTC), "le 25/10/2026 à 03:30 (heure de Paris)."),
])
async def test_a_security_notice_in_the_hour_that_happens_twice_says_which(
    at: dt.datetime, said: str
) -> None:
    """A notice of a new password « à 02:30 » on the night of the change to winter time named
    two moments an hour apart: the patient could not tell whether it was their own change."""
    from backend.auth import alerts
    from backend.models import OutboxMessage

    account, _ = await factories.patient()
    clock.shift(at - clock.now())
    await alerts.notify(account, "Votre mot de passe DMP a été modifié", "Le mot de passe a changé.\n")
    message = await OutboxMessage.get(account_id=account.id, subject="Votre mot de passe DMP a été modifié")
    assert f"Date : {said}\n" in message.body
