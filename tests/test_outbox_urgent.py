"""Short-lived codes (sign-in, password reset, contact verification, fresh factor) go before
the other messages that are due: behind an insurer import's 20,000 activation e-mails, a
sign-in code waited ~6 minutes, oldest first, and expired (docs/operations.md, "Outbox")."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend import clock
from backend.auth.codes import send_code
from backend.domain.enums import CodeChannel, CodePurpose
from backend.models import OutboxMessage
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from tests import factories
from tests.auth_flows import RESET, start
from tests.conftest import Caller
from tests.smtp import SIX_DIGITS, SmtpServer

BULK = 30


async def test_codes_go_before_the_notices_due_before_them(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    for i in range(BULK):
        await enqueue_email(f"bulk{i}@test.dmp", "Activez votre Dossier Médical Partagé",
                            "Votre code d'activation : ABCD-EFGH-JKLM")
    clock.shift(timedelta(seconds=1))  # queued after every one of them
    signing_in, _ = await factories.patient()
    resetting, _ = await factories.patient()
    changing, _ = await factories.patient()
    await start(client, signing_in.email or "", factories.PASSWORD)
    (await Caller(client).gql(RESET, {"i": resetting.email})).ok()
    await send_code(changing, CodePurpose.VERIFY_CONTACT, CodeChannel.EMAIL, "new@test.dmp")
    await send_code(changing, CodePurpose.FRESH_FACTOR, CodeChannel.EMAIL, changing.email or "")
    codes_to = [signing_in.email, resetting.email, "new@test.dmp", changing.email]

    # One pass with room for four: the four codes, not the four oldest notices.
    assert await deliver_due(smtp_server.settings, limit=4) == (4, 0)
    received = smtp_server.messages
    assert [m.recipients for m in received] == [[address] for address in codes_to]
    assert all(SIX_DIGITS.search(m.body) for m in received)

    # Then the notices, oldest first, as before.
    assert await deliver_due(smtp_server.settings, limit=3) == (3, 0)
    assert [m.recipients for m in smtp_server.messages[4:]] == [[f"bulk{i}@test.dmp"] for i in range(3)]
    assert await OutboxMessage.filter(sent_at=None).count() == BULK - 3


async def test_a_code_not_due_yet_waits_its_back_off_like_any_message(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Going first is among messages due: a code pushed back after a failed try does not
    jump its back-off."""
    account, _ = await factories.patient()
    await start(client, account.email or "", factories.PASSWORD)
    await OutboxMessage.filter(recipient=account.email).update(
        attempts=1, next_attempt_at=clock.now() + timedelta(seconds=10))
    await enqueue_email("bulk@test.dmp", "DMP : test", "Bonjour")
    assert await deliver_due(smtp_server.settings, limit=1) == (1, 0)
    assert [m.recipients for m in smtp_server.messages] == [["bulk@test.dmp"]]
    clock.shift(timedelta(seconds=11))
    assert await deliver_due(smtp_server.settings, limit=1) == (1, 0)
    assert [m.recipients for m in smtp_server.messages][1:] == [[account.email]]
