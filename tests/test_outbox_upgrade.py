"""Migration 0009 adds `outbox_message.urgent`: a message queued before it migrates as an
ordinary one, and is still delivered (a NOT NULL column without a database default would
stop the upgrade of a database holding unsent messages)."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.upgrade_probe import upgraded


async def test_a_message_queued_before_0009_migrates_as_an_ordinary_one() -> None:
    now = dt.datetime.now(dt.UTC)
    # A message as 0008's schema held it.
    rows = await upgraded("models.0008_login_attempt_budget", "outbox_message", [{
        "id": uuid.uuid4(), "channel": "EMAIL", "recipient": "old@test.dmp", "subject": "DMP : test",
        "body": "Bonjour", "created_at": now, "attempts": 0, "next_attempt_at": now,
    }])
    assert [[r["recipient"], bool(r["urgent"])] for r in rows] == [["old@test.dmp", False]]
