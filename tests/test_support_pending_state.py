"""Support sees which of an account's unsent messages will still go out: a code that expired
unsent, or a message marked undeliverable, no longer looks like one waiting its turn."""

from __future__ import annotations

import httpx

from backend.models import OutboxMessage
from backend.notify.delivery import NEVER
from backend.notify.outbox import enqueue_email
from tests import factories
from tests.conftest import Caller, session_for

QUERY = """query($i: String!) { supportAccount(identifier: $i) {
  pendingMessages { subject attempts willBeSent nextAttemptAt } } }"""


async def test_pending_messages_say_whether_they_will_be_sent(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient(email="lea.pending@test.dmp")
    address = "lea.pending@test.dmp"
    waiting = await enqueue_email(address, "DMP : en attente", "Bonjour", account_id=patient.id)
    dead = await enqueue_email(address, "DMP : jamais", "Bonjour", account_id=patient.id)
    await OutboxMessage.filter(id=dead.id).update(next_attempt_at=NEVER, attempts=1,
                                                  last_error="undeliverable: test")
    support = Caller(client, session=await session_for(await factories.support()))
    messages = (await support.gql(QUERY, {"i": record.ins})).ok()["supportAccount"]["pendingMessages"]
    by_subject = {m["subject"]: m for m in messages}
    assert by_subject["DMP : en attente"]["willBeSent"] is True
    assert by_subject["DMP : en attente"]["nextAttemptAt"] is not None
    assert by_subject["DMP : jamais"] == {
        "subject": "DMP : jamais", "attempts": 1, "willBeSent": False, "nextAttemptAt": None}
    assert waiting.id != dead.id
