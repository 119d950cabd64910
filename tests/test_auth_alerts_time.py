"""A security notice (a new password, a changed address, a lock of code login) says when it
happened, in French time: it may be read hours later."""

from __future__ import annotations

import datetime as dt

from backend import clock
from backend.auth import alerts
from backend.models import OutboxMessage
from tests import factories


async def test_a_security_notice_says_when() -> None:
    account, _ = await factories.patient()
    # 14 January, 09:30 UTC: 10:30 in Paris (winter time).
    clock.shift(dt.datetime(2027, 1, 14, 9, 30, 20, tzinfo=dt.UTC) - clock.now())
    await alerts.notify(account, "Votre mot de passe DMP a été modifié", "Le mot de passe a changé.\n")
    message = await OutboxMessage.get(account_id=account.id, subject="Votre mot de passe DMP a été modifié")
    assert "Date : le 14/01/2027 à 10:30 (heure de Paris).\n" in message.body
    assert message.body.startswith("Le mot de passe a changé.\n")
