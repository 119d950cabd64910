"""A caller who may not open an emergency access at all (a patient, support, a practitioner
who is no regulator) is bounded too: each of its attempts on an existing record is a denied
emergency attempt in that record's history, so without a bound one account filled a
patient's history with them at will. Past the bound: RATE_LIMITED, nothing written, whether
the INS names a record or not."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend import clock
from backend.models import AccessEvent, Account, Record
from backend.resolvers import emergency
from tests import factories
from tests.conftest import Caller, session_for

REASON = "Patient inconscient aux urgences, allergies inconnues"
ARGS = "($ins: String!, $r: String!)"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ mode }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ mode }} }}"


async def _patient() -> Account:
    return (await factories.patient())[0]


async def _support() -> Account:
    return await factories.support()


async def _non_regulator() -> Account:
    return (await factories.practitioner(regulator=False))[0]


def test_the_bound_is_ten_an_hour() -> None:
    assert emergency.REFUSED_CALLER_PER_HOUR == 10


# A patient or support may open neither kind (both count together); a practitioner who is
# no regulator may break the glass, not open a regulator's access.
BOTH = (BREAK_GLASS, REGULATOR)


@pytest.mark.parametrize(("make", "kinds"), [
    (_patient, BOTH), (_support, BOTH), (_non_regulator, (REGULATOR, REGULATOR)),
])
async def test_a_caller_without_the_right_writes_a_bounded_number_of_attempts(
    client: httpx.AsyncClient, make: object, kinds: tuple[str, str]
) -> None:
    # At the start of an hour, so that the whole test runs in one window.
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)
    _, record = await factories.patient()
    account = await make()  # type: ignore[operator]
    caller = Caller(client, session=await session_for(account))
    bound = 10  # emergency.REFUSED_CALLER_PER_HOUR
    for n in range(bound):
        result = await caller.gql(kinds[n % 2], {"ins": record.ins, "r": REASON})
        assert result.codes == ["FORBIDDEN"]
    assert await AccessEvent.filter(record_id=record.id).count() == bound

    limited = await caller.gql(kinds[0], {"ins": record.ins, "r": REASON})
    assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    assert (await caller.gql(kinds[1], {"ins": record.ins, "r": REASON})).codes == ["RATE_LIMITED"]
    assert await AccessEvent.filter(record_id=record.id).count() == bound
    # The same answer for an INS that names no record.
    unknown = await caller.gql(kinds[0], {"ins": factories.new_ins(), "r": REASON})
    assert (unknown.codes, unknown.errors[0]["message"]) == (limited.codes, limited.errors[0]["message"])

    # Another caller has a bound of its own.
    other = Caller(client, session=await session_for(await make()))  # type: ignore[operator]
    assert (await other.gql(kinds[0], {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    assert await AccessEvent.filter(record_id=record.id).count() == bound + 1

    # The next hour, the caller's attempts are answered (and written) again.
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(account))
    assert (await caller.gql(kinds[0], {"ins": record.ins, "r": REASON})).codes == ["FORBIDDEN"]
    assert await AccessEvent.filter(record_id=record.id).count() == bound + 2
    assert await Record.filter(id=record.id).exists()
