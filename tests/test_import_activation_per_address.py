"""importCareHistory sends at most ten activation e-mails to one address per UTC day.

A leaked or buggy insurer token could open thousands of pending records in one batch, each
with the same `contactEmail`, and have the service mail that address thousands of times.
Past the address's bound the records are still opened and take their items, without a code:
a batch of a later day that gives the address sends them theirs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from backend import clock
from backend.auth import limits
from backend.domain.enums import RecordStatus
from backend.models import ActivationCode, Entry, OutboxMessage, RateCounter, Record
from backend.resolvers import imports
from backend.resolvers.imports import MAILS_PER_ADDRESS_PER_DAY
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller

VICTIM = "victim@example.org"


async def _import(insurer: Caller, items: list[dict[str, Any]]) -> dict[str, Any]:
    payload: dict[str, Any] = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    return payload


async def _codes_and_mails(ins: str) -> tuple[int, list[str]]:
    """The record's activation codes (how many) and the recipients of its e-mails."""
    record = await Record.get(ins=ins)
    codes = await ActivationCode.filter(record_id=record.id).count()
    mails = await OutboxMessage.filter(record_id=record.id).order_by("created_at", "id").values_list(
        "recipient", flat=True)
    return codes, list(mails)


def _next_day() -> None:
    """To the next UTC day, a minute after midnight."""
    now = clock.now()
    clock.shift(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 1), dt.UTC) - now)


async def test_a_batch_opening_twelve_records_for_one_address_mails_it_ten_times(
    client: httpx.AsyncClient,
) -> None:
    assert MAILS_PER_ADDRESS_PER_DAY == 10
    insurer = Caller(client, token=await insurer_token())
    family = [factories.new_ins() for _ in range(12)]
    other = factories.new_ins()
    # The address as the import normalizes it: these spellings are one address.
    spellings = [VICTIM, "Victim@Example.org", " VICTIM@example.org "]
    items = [medication_item(ins, n, contactEmail=spellings[n % 3]) for n, ins in enumerate(family)]
    items.append(medication_item(other, 99, contactEmail="someone.else@example.org"))
    payload = await _import(insurer, items)
    assert (payload["created"], payload["rejected"]) == (13, [])

    states = [await _codes_and_mails(ins) for ins in family]
    assert states[:10] == [(1, [VICTIM])] * 10  # in the batch's order
    assert states[10:] == [(0, [])] * 2
    assert await OutboxMessage.filter(recipient=VICTIM).count() == 10
    for ins in family:  # every record opened, its item imported, its address kept
        record = await Record.get(ins=ins)
        assert (record.status, record.pending_contact) == (RecordStatus.PENDING, VICTIM)
        assert await Entry.filter(record_id=record.id).count() == 1
    # Another address is not affected.
    assert await _codes_and_mails(other) == (1, ["someone.else@example.org"])
    # The counter holds a keyed hash, not the address.
    keys = await RateCounter.all().values_list("key", flat=True)
    assert not [k for k in keys if "victim" in k.lower() or "example" in k.lower()]

    # The next UTC day, a batch giving the address again sends the two records theirs; the
    # ten holding a working code are left as they are.
    _next_day()
    payload = await _import(insurer, [
        medication_item(ins, 100 + n, contactEmail=VICTIM) for n, ins in enumerate(family)])
    assert (payload["created"], payload["rejected"]) == (12, [])
    assert [await _codes_and_mails(ins) for ins in family] == [(1, [VICTIM])] * 12
    assert await OutboxMessage.filter(recipient=VICTIM).count() == 12


async def test_the_bound_is_shared_by_the_batches_of_a_day(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    another_insurer = Caller(client, token=await insurer_token())
    first = [factories.new_ins() for _ in range(6)]
    second = [factories.new_ins() for _ in range(6)]
    await _import(insurer, [medication_item(ins, n, contactEmail=VICTIM) for n, ins in enumerate(first)])
    payload = await _import(another_insurer, [
        medication_item(ins, n, contactEmail=VICTIM) for n, ins in enumerate(second)])
    assert (payload["created"], payload["rejected"]) == (6, [])
    assert [await _codes_and_mails(ins) for ins in first + second] == [(1, [VICTIM])] * 10 + [(0, [])] * 2
    assert await OutboxMessage.filter(recipient=VICTIM).count() == 10

    # The same day, the two records without a code get none from a batch giving the address.
    payload = await _import(insurer, [
        medication_item(ins, 50 + n, contactEmail=VICTIM) for n, ins in enumerate(second[4:])])
    assert (payload["created"], payload["rejected"]) == (2, [])
    assert [await _codes_and_mails(ins) for ins in second[4:]] == [(0, [])] * 2
    assert await OutboxMessage.filter(recipient=VICTIM).count() == 10

    # Records holding a working code are due nothing: the import takes no counter for them.
    counters = await RateCounter.all().order_by("id").values_list("key", "count")
    payload = await _import(insurer, [
        medication_item(ins, 70 + n, contactEmail=VICTIM) for n, ins in enumerate(first)])
    assert (payload["created"], payload["rejected"]) == (6, [])
    assert await RateCounter.all().order_by("id").values_list("key", "count") == counters
    assert [await _codes_and_mails(ins) for ins in first] == [(1, [VICTIM])] * 6


async def test_an_import_for_active_records_takes_no_counter(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    records = [(await factories.patient())[1] for _ in range(3)]
    before = await RateCounter.all().order_by("id").values_list("key", "count")
    payload = await _import(insurer, [
        medication_item(r.ins, n, birthDate=r.birth_date.isoformat(), contactEmail=VICTIM)
        for n, r in enumerate(records)])
    assert (payload["created"], payload["rejected"]) == (3, [])
    assert await RateCounter.all().order_by("id").values_list("key", "count") == before
    assert await OutboxMessage.filter(recipient=VICTIM).count() == 0


async def test_parallel_batches_for_the_same_addresses_share_the_bound(client: httpx.AsyncClient) -> None:
    """Batches racing for the same addresses (in either order in the batch) mail each ten times
    together, whichever takes the counter first or makes its row."""
    insurer = Caller(client, token=await insurer_token())
    addresses = [VICTIM, "second.victim@example.org"]
    batches = []
    for b in range(4):
        items = []
        for n in range(6):
            ins = factories.new_ins()
            address = addresses[(n + b) % 2]
            items.append(medication_item(ins, 10 * b + n, contactEmail=address))
        batches.append(items if b % 2 else items[::-1])
    answers = await asyncio.gather(*(insurer.gql(IMPORT, {"items": items}) for items in batches))
    assert sum(a.ok()["importCareHistory"]["created"] for a in answers) == 24
    for address in addresses:
        assert await OutboxMessage.filter(recipient=address).count() == MAILS_PER_ADDRESS_PER_DAY
        assert await Record.filter(pending_contact=address).count() == 12


@pytest.mark.postgres
async def test_three_batches_making_and_counting_the_same_new_counters_do_not_deadlock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first batch waits for a counter a second has just made, then, once that one commits,
    is slow between its statements; a third batch starting then must queue behind the first,
    not deadlock with it (PostgreSQL aborts one of them, and its import with it)."""
    one, two = "first@example.org", "second@example.org"
    slow: set[int] = set()

    def slowed(run: Any) -> Any:
        async def wrapper(text: str, params: Any, conn: Any = None) -> Any:
            answer = await run(text, params, conn)
            if conn is not None and id(conn) in slow and "rate_counter" in text:
                await asyncio.sleep(0.4)
            return answer
        return wrapper

    monkeypatch.setattr(imports.sql, "fetch", slowed(imports.sql.fetch))
    monkeypatch.setattr(imports.sql, "execute", slowed(imports.sql.execute))
    second_made, second_done = asyncio.Event(), asyncio.Event()

    async def second() -> None:
        async with in_transaction() as conn:
            await imports._within_daily_bound(conn, [(uuid.uuid4(), two)])
            second_made.set()
            await second_done.wait()

    async def batch(slowly: bool) -> int:
        async with in_transaction() as conn:
            if slowly:
                slow.add(id(conn))
            return len(await imports._within_daily_bound(conn, [(uuid.uuid4(), one), (uuid.uuid4(), two)]))

    holder = asyncio.create_task(second())
    await second_made.wait()
    first = asyncio.create_task(batch(slowly=True))
    await asyncio.sleep(0.2)  # the first batch waits for the second's counter
    second_done.set()
    await holder
    await asyncio.sleep(0.1)  # the first is between its statements
    answers = await asyncio.gather(first, batch(slowly=False), return_exceptions=True)
    assert answers == [2, 2]
    window = limits.utc_day()
    counts = {k: c for k, c in await RateCounter.filter(window_start=window).values_list("key", "count")}
    assert sorted(counts.values()) == [2, 3]
