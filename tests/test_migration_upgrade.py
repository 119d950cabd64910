"""A database of an earlier release takes the new migrations with its rows in place."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.upgrade_probe import upgraded


async def test_a_record_written_before_the_audit_epoch_migrates_with_epoch_zero() -> None:
    """Migration 0005 adds `record.audit_epoch` (moved by a rekey) to existing records."""
    # The record table's columns without a database default, as migration 0004 left them.
    rows = await upgraded("models.0004_purged_record", "record", [{
        "id": uuid.uuid4(), "ins": "185057500000001", "first_name": "Ada", "last_name": "Lovelace",
        "birth_date": dt.date(1980, 1, 1), "status": "ACTIVE", "allow_regulator": True,
        "allow_break_glass": True, "notify_new_documents": False, "emergency_contacts": "[]",
        "advance_directives": "", "event_seq": 7, "created_at": dt.datetime.now(dt.UTC),
    }])
    assert [(r["ins"], r["event_seq"], r["audit_epoch"]) for r in rows] == [("185057500000001", 7, 0)]
