"""The access event of a repeated access, written without a transaction (PostgreSQL).

writer._append_steady reads the head, then moves it by one and inserts the event in one
statement, only if the head has not moved. These tests make it move: the chain must stay
whole, numbered without gaps, and verifiable; the first access of a professional still
takes the locked path, which e-mails the patient.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from backend import sql
from backend.audit import writer
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode
from backend.models import AccessEvent, OutboxMessage, Record
from tests.conftest import db_kind
from tests.history_helpers import READ, setup
from tests.server import run_dmp


async def _seqs(record: Record) -> list[int]:
    return list(await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("seq", flat=True))


def _spy_steady(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each request's event was written by the steady path."""
    written: list[bool] = []
    steady = writer._append_steady

    async def spy(*args: Any) -> Any:
        row = await steady(*args)
        written.append(row is not None)
        return row

    monkeypatch.setattr(writer, "_append_steady", spy)
    return written


async def _competitor(record: Record) -> None:
    """Another process's writer: the locked path, with an actor of its own."""
    actor = writer.Actor(account_id=None, name="Autre processus", profession=None, role="SUPPORT")
    event = writer.PendingEvent(record.id, AccessAction.RECORD_READ, mode=AccessMode.GRANTED)
    async with in_transaction() as conn:
        await writer._append(conn, settings().audit_key, actor, event)


async def test_first_access_locked_then_steady(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await setup(client)
    steady = _spy_steady(monkeypatch)
    for _ in range(3):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    if db_kind() == "postgres":
        # The first access e-mails the patient from the locked path; then the steady path.
        assert steady == [False, True, True]
    else:
        assert steady == []  # SQLite has one writer at a time: always the locked path
    assert await OutboxMessage.filter(record_id=s["record"].id).count() == 1  # one first-access e-mail
    assert await _seqs(s["record"]) == [1, 2, 3]
    assert run_dmp("audit", "verify").returncode == 0


@pytest.mark.parametrize("moves", [1, 99])
async def test_the_head_moves_between_read_and_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, moves: int
) -> None:
    """Another writer moves the head after each read: the write is retried, or after a few
    tries left to the locked path; either way the chain stays whole."""
    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()  # the first access
    fetch = sql.fetch
    left = [moves]

    async def moving(statement: str, params: Any, conn: Any = None) -> Any:
        if statement == writer._PG_STEADY_APPEND and left[0] > 0:
            left[0] -= 1
            await _competitor(record)
        return await fetch(statement, params, conn)

    monkeypatch.setattr(sql, "fetch", moving)
    steady = _spy_steady(monkeypatch)
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    monkeypatch.setattr(sql, "fetch", fetch)

    events = list(await AccessEvent.filter(record_id=record.id).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    practitioner_reads = [e for e in events if e.actor_name != "Autre processus"]
    assert len(practitioner_reads) == 2
    if db_kind() == "postgres":
        competitors = len(events) - 2
        # Retried after one move; after moves on every try, the locked path wrote it.
        assert steady == ([True] if moves == 1 else [False])
        assert competitors == (1 if moves == 1 else writer._STEADY_TRIES)
        assert events[-1].actor_name != "Autre processus"
    assert (await Record.get(id=record.id)).event_seq == len(events)
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_change_and_a_repeated_read_of_one_record_do_not_wait_on_each_other(
    client: httpx.AsyncClient,
) -> None:
    """A change's transaction locks its record's row first; a repeated read of the record in
    the same process, its event on the steady path, waits on PostgreSQL for that lock while
    holding the record's asyncio lock. The change's own event must not wait for that asyncio
    lock (it takes the locked path inside its transaction), or both would wait until the
    statement timeout."""
    import asyncio

    from backend.audit.collector import AccessLog

    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()  # the first access: seen before now
    owner = writer.Actor(account_id=s["patient"].id, name="Patient", profession=None, role="PATIENT")
    log = AccessLog(owner)
    locked, go_on = asyncio.Event(), asyncio.Event()

    async def change() -> None:
        async with log.changing(record.id):
            locked.set()
            await go_on.wait()
            await asyncio.wait_for(
                log.record_change(record.id, AccessAction.SHARING_CHANGED, mode=AccessMode.OWNER,
                                  reason="test"),
                timeout=5,
            )

    changing = asyncio.create_task(change())
    await locked.wait()
    # Created outside the change's transaction, as another request would be.
    reading = asyncio.create_task(s["as_pro"].gql(READ, {"ins": record.ins}))
    await asyncio.sleep(0.3)
    assert not reading.done()  # the read waits for the change's row lock
    go_on.set()
    await asyncio.wait_for(changing, timeout=10)
    (await asyncio.wait_for(reading, timeout=10)).ok()
    assert await _seqs(record) == [1, 2, 3]
    actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("action", flat=True)
    assert list(actions) == ["RECORD_READ", "SHARING_CHANGED", "RECORD_READ"]
    assert run_dmp("audit", "verify").returncode == 0
