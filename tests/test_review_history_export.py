"""The export reads the record's whole history in one statement (`history.record_history`),
where it read it by pages of myAccessHistory, each page checking the owner's record again:
its cost no longer grows with the history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from backend import clock
from backend.domain.enums import AccessAction, AccessMode, Profession, Role
from backend.models import AccessEvent, Account, Record
from backend.resolvers import history
from tests import factories
from tests.care_items import QueryCounter
from tests.conftest import Caller, session_for

EXPORT = """
mutation ($format: ExportFormat!) {
  exportMyRecord(format: $format) { content }
}"""


async def _many_events(record: Record, n: int, actor: Account) -> None:
    start = clock.now() - dt.timedelta(days=400)
    await AccessEvent.bulk_create([
        AccessEvent(record_id=record.id, seq=seq, at=start + dt.timedelta(hours=seq), actor_id=str(actor.id),
                    actor_name=actor.display_name, actor_profession="pharmacien",
                    actor_role=Role.PRACTITIONER.value, action=AccessAction.RECORD_READ.value,
                    mode=AccessMode.GRANTED.value, sections=["MEDICATIONS"], reason="", mac=f"{seq:064x}")
        for seq in range(1, n + 1)
    ], batch_size=500)
    await Record.filter(id=record.id).update(event_seq=n)


async def test_record_history_is_one_statement_oldest_first_up_to_the_number_given() -> None:
    _, record = await factories.patient()
    _, other = await factories.patient()
    pro, _ = await factories.practitioner(Profession.PHARMACIEN)
    await _many_events(record, 450, pro)
    await _many_events(other, 3, pro)
    with QueryCounter() as counter:
        events = await history.record_history(record.id, 300)
    assert counter.count == 1
    assert [e.seq for e in events] == list(range(1, 301))
    assert {e.record_id for e in events} == {record.id}  # type: ignore[attr-defined]
    # A number past the column's range reads everything, and none is no statement.
    assert len(await history.record_history(record.id, 2**40)) == 450
    with QueryCounter() as counter:
        assert await history.record_history(record.id, 0) == []
    assert counter.count == 0


async def test_an_exports_statements_do_not_grow_with_its_history(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 events were 2 pages (4 statements), 2,500 were 25 (50): now the same count."""
    pro, _ = await factories.practitioner(Profession.PHARMACIEN)
    costs = []
    calls: list[int] = []
    real = history.record_history

    async def counted(*args: Any, **kwargs: Any) -> list[AccessEvent]:
        events = await real(*args, **kwargs)
        calls.append(len(events))
        return events

    monkeypatch.setattr(history, "record_history", counted)
    for n in (150, 2500):
        owner, record = await factories.patient()
        await _many_events(record, n, pro)
        caller = Caller(client, session=await session_for(owner))
        with QueryCounter() as counter:
            content = (await caller.gql(EXPORT, {"format": "JSON"})).ok()["exportMyRecord"]["content"]
        costs.append(counter.count)
        assert [e["seq"] for e in json.loads(content)["accessHistory"]] == list(range(1, n + 1))
    assert costs[0] == costs[1]
    assert calls == [150, 2500]  # each history read once, whole
