"""A purge committed while `dmp audit anchor` or `dmp audit verify --anchor` runs is no problem
(DESIGN §4): the anchor reads each head and its MAC in one statement, so a record purged
meanwhile is left out whole; the check re-reads a record whose anchored event it did not find,
and one purged meanwhile is checked against its seal as any purged record."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from backend import clock, config, sql
from backend.audit import verify as verify_mod
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, RecordStatus, Role
from backend.models import PurgedRecord, Record
from backend.purge import PurgeReport, purge, purge_record
from tests import factories
from tests.lifecycle_rows import set_state


async def _doomed_and_kept() -> tuple[Record, Record]:
    _, doomed = await factories.patient()
    _, kept = await factories.patient()
    await set_state(doomed.id, RecordStatus.DELETED, clock.now() - dt.timedelta(days=31))
    owner = Actor(None, "Patient", None, Role.PATIENT.value)
    await append(owner, PendingEvent(kept.id, AccessAction.SHARING_CHANGED))  # a chain that stays
    return doomed, kept


async def test_an_anchor_taken_while_a_purge_commits_holds_no_head_without_its_mac(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doomed, kept = await _doomed_and_kept()
    original = sql.fetch
    ran: list[PurgeReport] = []

    async def purge_first(statement: str, params: Sequence[Any], conn: Any = None) -> list[Any]:
        if not ran:  # a nightly purge commits as the anchor's statement that reads MACs starts
            ran.append(PurgeReport())
            ran[0] = await purge()
        return await original(statement, params, conn)

    monkeypatch.setattr(sql, "fetch", purge_first)
    taken = await verify_mod.anchor()
    monkeypatch.setattr(sql, "fetch", original)

    assert ran[0].deleted == 1 and not await Record.filter(id=doomed.id).exists()
    assert all(head["mac"] for head in taken["heads"])
    assert str(kept.id) in {head["record"] for head in taken["heads"]}
    checked = await verify_mod.check_anchor(config.settings().audit_key, taken["heads"])
    assert checked.problems == []


async def test_a_purge_committed_while_the_anchor_is_checked_is_a_purge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doomed, _ = await _doomed_and_kept()
    taken = await verify_mod.anchor()  # before the purge: the doomed record is in it
    original = verify_mod.macs_at
    ran: list[PurgeReport] = []

    async def purge_between(heads: list[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], str]:
        if not ran:  # after the check read which records exist, before it reads their MACs
            ran.append(await purge())
        return await original(heads)

    monkeypatch.setattr(verify_mod, "macs_at", purge_between)
    checked = await verify_mod.check_anchor(config.settings().audit_key, taken["heads"])

    assert ran[0].deleted == 1 and await PurgedRecord.filter(record_id=doomed.id).exists()
    assert checked.problems == []
    assert (checked.records, checked.purged) == (2, 1)


async def test_a_record_gone_unsealed_while_the_anchor_is_checked_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleted meanwhile without a purge's seal (its PurgedRecord row deleted too): reported as
    a record gone with no purge recorded, as when it was gone before the check began."""
    doomed, _ = await _doomed_and_kept()
    taken = await verify_mod.anchor()
    original = verify_mod.macs_at
    ran: list[bool] = []

    async def delete_between(heads: list[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], str]:
        if not ran:
            ran.append(True)
            await purge_record(await Record.get(id=doomed.id))
            await PurgedRecord.filter(record_id=doomed.id).delete()
        return await original(heads)

    monkeypatch.setattr(verify_mod, "macs_at", delete_between)
    checked = await verify_mod.check_anchor(config.settings().audit_key, taken["heads"])

    head = next(h for h in taken["heads"] if h["record"] == str(doomed.id))
    assert [str(p) for p in checked.problems] == [
        f"record {doomed.id} seq {head['seq']}: the record and its history are gone, and no purge is recorded"
    ]
    assert checked.purged == 0
