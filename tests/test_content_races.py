"""Content writes that meet another change of the same record: each decides, and reads what
it depends on, under the record's lock (docs/security.md), so the one that waited sees what
the other committed."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from backend.domain.enums import Profession
from backend.models import AccessEvent, Account, Entry, Grant, Record
from tests import factories
from tests.care_items import ADD_ENTRY, cip13
from tests.conftest import DB_URL, Caller, GraphQLResult, session_for
from tests.lock_waits import waiting

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()
MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id masked } }"
MASK_ALL = "mutation { maskAllEntries }"
PROFILE = """mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }"""
MEDS = """query ($ins: String!) {
  patientRecord(ins: $ins) { medications(includeSuperseded: true) { totalCount } } }"""


def medication(ins: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ins": ins, "section": "MEDICATIONS", "title": "Metformine 850 mg", "date": YESTERDAY,
        "code": "A10BA02", "medication": {"cip13": cip13(42), "dose": "1 cp matin et soir"},
    }
    data.update(over)
    return data


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def in_line(
    record: Record, first: Callable[[], Awaitable[GraphQLResult]],
    second: Callable[[], Awaitable[GraphQLResult]],
) -> tuple[GraphQLResult, GraphQLResult]:
    """`first` then `second` queue for the record's row, held meanwhile by another
    connection; each has done all it does before taking the record's lock when it is let go."""
    url = DB_URL.replace("asyncpg://", "postgres://")
    holder, watch = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute('SELECT 1 FROM "record" WHERE "id" = $1 FOR UPDATE', record.id)
        one = asyncio.create_task(first())
        await waiting(watch, 1)
        two = asyncio.create_task(second())
        await waiting(watch, 2)
        await hold.rollback()
        return await one, await two
    finally:
        await holder.close()
        await watch.close()


@pytest.mark.postgres
@pytest.mark.parametrize("order", ["correction-then-mask", "mask-then-correction",
                                   "mask-all-then-correction"])
async def test_a_correction_committed_with_a_masking_is_masked_too(
    client: httpx.AsyncClient, order: str
) -> None:
    """The patient is told "masked": whichever of the correction and the masking took the
    record's lock first, every version ends masked, and the granted pharmacist sees none."""
    patient, record = await factories.patient()
    doctor, physician = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)
    pharmacist, pharma = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=pharma, sections=["MEDICATIONS"])
    author, owner = await _as(client, doctor), await _as(client, patient)
    v1 = (await author.gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()["addEntry"]["entry"]["id"]

    def correct() -> Awaitable[GraphQLResult]:
        return author.gql(ADD_ENTRY, {"input": medication(record.ins, supersedes=v1, title="1000 mg")})

    def mask() -> Awaitable[GraphQLResult]:
        if order.startswith("mask-all"):
            return owner.gql(MASK_ALL)
        return owner.gql(MASK, {"id": v1})

    if order == "correction-then-mask":
        corrected, masked = await in_line(record, correct, mask)
    else:
        masked, corrected = await in_line(record, mask, correct)

    v2 = corrected.ok()["addEntry"]["entry"]["id"]
    masked.ok()
    rows = {str(e.id): e for e in await Entry.filter(record_id=record.id)}
    assert set(rows) == {v1, v2} and rows[v2].supersedes_id is not None  # type: ignore[attr-defined]
    assert [rows[v1].masked, rows[v2].masked] == [True, True]
    seen = (await (await _as(client, pharmacist)).gql(MEDS, {"ins": record.ins})).ok()
    assert seen["patientRecord"]["medications"]["totalCount"] == 0
    actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list(
        "action", flat=True)
    assert "ENTRY_MASKED" in actions and actions.count("ENTRY_ADDED") == 2


def before_the_lock(monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]) -> list[bool]:
    """Run `change` once, after the request's first decision and before it takes the record's
    lock (the change's own request then takes the lock as usual)."""
    from backend.audit.collector import AccessLog

    ran: list[bool] = []
    changing = AccessLog.changing

    @asynccontextmanager
    async def meanwhile(self: AccessLog, record_id: Any) -> AsyncIterator[Any]:
        if not ran:
            ran.append(True)
            await change()
        async with changing(self, record_id) as conn:
            yield conn

    monkeypatch.setattr(AccessLog, "changing", meanwhile)
    return ran


async def _actions(record: Record) -> list[str]:
    return list(await AccessEvent.filter(record_id=record.id).order_by("seq").values_list(
        "action", flat=True))


async def test_a_physician_replaced_meanwhile_does_not_write_the_emergency_profile(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient, record = await factories.patient()
    doctor, physician = await factories.practitioner()
    _, other = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)
    former, owner = await _as(client, doctor), await _as(client, patient)

    async def replace() -> None:
        result = await owner.gql("mutation($p: ID) { setTreatingPhysician(practitionerId: $p)"
                                 " { sharing { treatingPhysician { rpps } } } }", {"p": str(other.id)})
        assert result.ok()["setTreatingPhysician"]["sharing"]["treatingPhysician"] == {"rpps": other.rpps}

    ran = before_the_lock(monkeypatch, replace)
    result = await former.gql(PROFILE, {"input": {"ins": record.ins, "bloodGroup": "B+"}})
    assert ran == [True]
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "No access to this record"  # as for any stranger now
    assert (await Record.get(id=record.id)).blood_group is None
    assert await _actions(record) == ["SHARING_CHANGED", "ACCESS_DENIED"]


async def test_an_owner_whose_record_was_closed_meanwhile_does_not_write_the_emergency_profile(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)

    async def close() -> None:
        result = await owner.gql("mutation { closeMyRecord { status } }")
        assert result.ok()["closeMyRecord"]["status"] == "CLOSED"

    ran = before_the_lock(monkeypatch, close)
    result = await owner.gql(PROFILE, {"input": {"bloodGroup": "B+"}})
    assert ran == [True]
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "Only the patient or their treating physician edit this profile"
    assert (await Record.get(id=record.id)).blood_group is None
    # A refusal of the owner in their own record writes no denied attempt.
    assert await _actions(record) == ["RECORD_CLOSED"]
