"""Items an existing record refuses (closed or deleted, another birth date) are a denied attempt
in its history, one a record and batch; but 200 batches of one refused item wrote 200 events in
12 s. Now an organization's imports write at most DENIED_EVENTS_PER_RECORD_PER_DAY of them on a
record per UTC day: later batches still reject the items with the same codes, without an event.
And a token's tries refused by existing records, distinct (record, birthDate) pairs, are bounded
per hour (REFUSED_TRIES_PER_HOUR): past it the whole batch is RATE_LIMITED, nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend import accounts, clock
from backend.models import AccessEvent, Entry, Record
from backend.resolvers import imports
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for

OTHER_BIRTH = "1990-01-01"


@pytest.fixture(autouse=True)
def _start_of_a_day() -> None:
    """The whole test in one UTC day and hour: a minute into the next day."""
    now = clock.now()
    clock.shift(now.replace(hour=0, minute=1, second=0, microsecond=0) + dt.timedelta(days=1) - now)


def test_the_bounds() -> None:
    assert imports.DENIED_EVENTS_PER_RECORD_PER_DAY == 3
    assert imports.REFUSED_TRIES_PER_HOUR == 1000


async def _denied(record: Record) -> list[AccessEvent]:
    return list(await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").order_by("seq"))


async def _import(caller: Caller, items: list[dict[str, Any]]) -> Any:
    return (await caller.gql(IMPORT, {"items": items})).ok()["importCareHistory"]


async def test_a_record_notes_three_denied_imports_an_organization_a_day(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()  # born 1985-06-12
    owner, closed = await factories.patient()
    assert (await Caller(client, session=await session_for(owner)).gql(
        "mutation { closeMyRecord { status } }")).ok()["closeMyRecord"]["status"] == "CLOSED"
    _, accepting = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    for n in range(6):
        payload = await _import(insurer, [
            medication_item(record.ins, n, birthDate=OTHER_BIRTH),
            medication_item(closed.ins, n),
            medication_item(accepting.ins, n),
        ])
        # Every batch rejects the refused items with the same codes, and takes the others.
        assert [(r["index"], r["code"], r["message"]) for r in payload["rejected"]] == [
            (0, "BAD_USER_INPUT", "birthDate does not match the record of this INS"),
            (1, "FORBIDDEN", "The record is closed or deleted"),
        ]
        assert payload["created"] == 1
    # Three denied attempts on each record, with their reasons; no entry on either.
    assert [(e.mode, e.reason) for e in await _denied(record)] == [
        ("INSURER", "import refusé : date de naissance différente")] * 3
    assert [(e.mode, e.reason) for e in await _denied(closed)] == [
        ("INSURER", "import refusé : dossier fermé")] * 3
    assert not await Entry.filter(record_id__in=[record.id, closed.id]).exists()
    # The accepted items were imported, and noted, batch after batch.
    assert await Entry.filter(record_id=accepting.id).count() == 6
    assert await AccessEvent.filter(record_id=accepting.id, action="ENTRIES_IMPORTED").count() == 6

    # Another organization's imports are noted on their own: the patient sees each insurer try.
    _, other = await accounts.create_token("insurer", ["insurer:import"], organization="Mutuelle Test")
    elsewhere = Caller(client, token=other)
    for n in range(4):
        payload = await _import(elsewhere, [medication_item(record.ins, 100 + n, birthDate=OTHER_BIRTH)])
        assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    assert len(await _denied(record)) == 6

    # A second token of the first organization counts with it.
    second = Caller(client, token=await insurer_token())
    payload = await _import(second, [medication_item(record.ins, 200, birthDate=OTHER_BIRTH)])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    assert len(await _denied(record)) == 6
    assert not await Entry.filter(record_id=record.id).exists()

    # The next day, the first batch that the record refuses is noted again.
    clock.shift(dt.timedelta(days=1))
    await _import(insurer, [medication_item(record.ins, 300, birthDate=OTHER_BIRTH)])
    assert len(await _denied(record)) == 7


async def _counts() -> tuple[int, int, int]:
    return (await Entry.all().count(), await Record.all().count(), await AccessEvent.all().count())


async def test_a_token_past_its_refused_tries_is_rate_limited_and_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 4)
    patients = [(await factories.patient())[1] for _ in range(3)]
    insurer = Caller(client, token=await insurer_token())
    # Three records refuse the items; the many items of one patient with one birth date are one try.
    payload = await _import(insurer, [
        *(medication_item(p.ins, n, birthDate=OTHER_BIRTH) for n, p in enumerate(patients)),
        *(medication_item(patients[0].ins, 10 + n, birthDate=OTHER_BIRTH) for n in range(5)),
        medication_item(factories.new_ins(), 20),
    ])
    assert (payload["created"], len(payload["rejected"])) == (1, 8)

    # Two birth dates guessed on one record are two tries: past the bound, the whole batch is
    # refused, its accepted items and the record it would open too, and nothing is noted.
    before = await _counts()
    new_ins = factories.new_ins()
    limited = await insurer.gql(IMPORT, {"items": [
        medication_item(patients[1].ins, 30, birthDate="1991-01-01"),
        medication_item(patients[1].ins, 31, birthDate="1992-01-01"),
        medication_item(new_ins, 32),
        medication_item(patients[2].ins, 33),
    ]})
    assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    # Retried once the hour is over (the test runs a minute into it).
    assert 0 < limited.errors[0]["extensions"]["retryAfter"] <= 59 * 60
    assert await _counts() == before
    assert not await Record.filter(ins=new_ins).exists()

    # What is left of the bound is still used: one try more, then no more.
    payload = await _import(insurer, [medication_item(patients[1].ins, 40, birthDate="1991-01-01")])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    before = await _counts()
    limited = await insurer.gql(IMPORT, {"items": [
        medication_item(patients[2].ins, 41, birthDate=OTHER_BIRTH)]})
    assert limited.codes == ["RATE_LIMITED"]
    assert await _counts() == before

    # A batch that no record refuses is imported past the bound.
    assert (await _import(insurer, [medication_item(patients[2].ins, 50)]))["created"] == 1
    # Another token has a bound of its own.
    other = Caller(client, token=await insurer_token())
    payload = await _import(other, [medication_item(patients[2].ins, 60, birthDate=OTHER_BIRTH)])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    # The next hour, the token's batches are answered again.
    clock.shift(dt.timedelta(hours=1))
    payload = await _import(insurer, [medication_item(patients[2].ins, 70, birthDate=OTHER_BIRTH)])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
