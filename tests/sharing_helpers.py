"""Helpers for the tests of the sharing page's changes (backend/resolvers/sharing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.enums import RecordStatus
from backend.models import Record
from backend.resolvers import sharing


def left_active_after_the_check(
    monkeypatch: pytest.MonkeyPatch, record: Record, status: RecordStatus
) -> None:
    """From now on, each sharing change finds `record` active at its first check, then the record
    is set to `status` (committed meanwhile), before the change writes anything."""
    checked = sharing._owned_active_record

    async def then_left_active(ctx: Any) -> Record:
        found = await checked(ctx)
        await Record.filter(id=record.id).update(status=status)  # committed meanwhile
        return found

    monkeypatch.setattr(sharing, "_owned_active_record", then_left_active)
