"""Support's calls that take an identifier are bounded per support account and hour: each
look-up of a patient answers their name, statuses and masked contacts, and a stolen support
session looked up 150 INS numbers in under a second, learning which have records and whose
they are. supportAccount, unlockAccount, resendActivation and startContactRecovery share one
count (each is a look-up, if only through its refusals), taken before the identifier is read:
past the bound the answer is RATE_LIMITED, nothing looked up or written, the same whether the
identifier names an account, a record or nothing."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest

from backend import clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage, Record
from backend.resolvers import support
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_authz_reading import count_queries

LOOKUP = "query($i: String!) { supportAccount(identifier: $i) { displayName } }"
UNLOCK = "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }"
RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"
RECOVER = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
BOUND = 120


@pytest.fixture(autouse=True)
def _start_of_an_hour() -> None:
    """The whole test in one window."""
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


def test_the_bound_is_120_calls_an_hour() -> None:
    assert support.LOOKUPS_PER_HOUR == BOUND


async def _lock(account: Account) -> None:
    await Account.filter(id=account.id).update(
        locked_at=clock.now(), lock_reason="too many wrong codes", failure_count=10,
        failure_day=clock.now().date(),
    )


async def _scene() -> dict[str, str]:
    """A locked patient, a record waiting for activation with a contact, a locked practitioner:
    what each of the four calls would act on; by the identifiers support types."""
    patient, record = await factories.patient(email="lea.sweep@test.dmp")
    doctor, pro = await factories.practitioner()
    await _lock(patient)
    await _lock(doctor)
    pending = await Record.create(
        ins=factories.new_ins(), first_name="Paul", last_name="Pending", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact="paul.sweep@test.dmp")
    return {"ins": record.ins, "email": "lea.sweep@test.dmp", "pending": pending.ins, "rpps": pro.rpps,
            "unknown ins": factories.new_ins(), "unknown email": "nobody.sweep@test.dmp"}


async def _written() -> tuple[int, int, int, int]:
    return (await AccessEvent.all().count(), await OutboxMessage.all().count(),
            await ActivationCode.all().count(), await Account.filter(locked_at=None).count())


async def test_past_the_bound_every_support_call_is_rate_limited_and_writes_nothing(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _scene()
    agent = await factories.support()
    caller = Caller(client, session=await session_for(agent))
    # The bound: look-ups of an INS that names a record and of INS that name none, alike.
    for n in range(BOUND):
        found = await caller.gql(LOOKUP, {"i": ids["ins"] if n % 2 else factories.new_ins()})
        assert found.codes == ([] if n % 2 else ["NOT_FOUND"])
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == BOUND // 2
    written = await _written()

    # Past it, each call on each identifier: the same answer, nothing looked up or written.
    caplog.set_level(logging.INFO, logger="dmp.support")
    answers = set()
    for query in (LOOKUP, UNLOCK, RESEND, RECOVER):
        for identifier in ids.values():
            limited = await caller.gql(query, {"i": identifier})
            assert limited.codes == ["RATE_LIMITED"] and limited.data is None, (query, identifier)
            # The seconds to the hour's end tell the time, nothing of the identifier.
            assert 0 < limited.errors[0]["extensions"].pop("retryAfter") <= 3600
            answers.add((limited.errors[0]["message"], repr(limited.errors[0]["extensions"])))
    assert len(answers) == 1
    assert await _written() == written  # no event, message or code; both accounts still locked
    assert not [r for r in caplog.records if r.name == "dmp.support"]

    # Another support account has a count of its own.
    other = Caller(client, session=await session_for(await factories.support()))
    found = (await other.gql(LOOKUP, {"i": ids["ins"]})).ok()["supportAccount"]
    assert found["displayName"].startswith("Alice")
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == BOUND // 2 + 1

    # The next hour, the agent's calls are answered (and written) again.
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(agent))
    assert (await caller.gql(UNLOCK, {"i": ids["email"]})).ok()["unlockAccount"] == {"locked": False}
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == BOUND // 2 + 3  # unlock, look-up
    assert (await caller.gql(RESEND, {"i": ids["pending"]})).ok()["resendActivation"] is True


async def test_the_four_calls_share_one_count_an_unlock_counted_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unlock answers the account's status as supportAccount does: one call, counted once."""
    monkeypatch.setattr(support, "LOOKUPS_PER_HOUR", 4)
    ids = await _scene()
    caller = Caller(client, session=await session_for(await factories.support()))
    assert (await caller.gql(LOOKUP, {"i": ids["ins"]})).ok()
    assert (await caller.gql(UNLOCK, {"i": ids["ins"]})).ok()["unlockAccount"] == {"locked": False}
    assert (await caller.gql(RESEND, {"i": ids["pending"]})).ok()["resendActivation"] is True
    assert (await caller.gql(RECOVER, {"i": ids["ins"]})).ok()["startContactRecovery"] is True
    written = await _written()
    for query in (LOOKUP, UNLOCK, RESEND, RECOVER):
        assert (await caller.gql(query, {"i": ids["rpps"]})).codes == ["RATE_LIMITED"]
    assert await _written() == written
    assert await Account.filter(locked_at__not_isnull=True).count() == 1  # the practitioner's


async def test_refusals_and_malformed_identifiers_count_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every call counts whatever it answers: a count of successes only would let a sweep of
    unknown numbers run free, and its refusals tell which numbers name nothing."""
    monkeypatch.setattr(support, "LOOKUPS_PER_HOUR", 4)
    ids = await _scene()
    caller = Caller(client, session=await session_for(await factories.support()))
    assert (await caller.gql(LOOKUP, {"i": "dupont"})).codes == ["BAD_USER_INPUT"]
    assert (await caller.gql(LOOKUP, {"i": ids["unknown ins"]})).codes == ["NOT_FOUND"]
    assert (await caller.gql(UNLOCK, {"i": ids["pending"]})).codes == ["NOT_FOUND"]
    assert (await caller.gql(RECOVER, {"i": ids["pending"]})).codes == ["NOT_FOUND"]
    events = await AccessEvent.all().count()
    assert (await caller.gql(LOOKUP, {"i": ids["ins"]})).codes == ["RATE_LIMITED"]
    assert (await caller.gql(LOOKUP, {"i": "dupont"})).codes == ["RATE_LIMITED"]
    assert await AccessEvent.all().count() == events


async def test_past_the_bound_a_record_and_an_unknown_ins_run_the_same_statements(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(support, "LOOKUPS_PER_HOUR", 2)
    ids = await _scene()
    caller = Caller(client, session=await session_for(await factories.support()))
    for _ in range(2):
        assert (await caller.gql(LOOKUP, {"i": ids["unknown ins"]})).codes == ["NOT_FOUND"]
    # Past the bound already (and the session's first use, touched, behind it).
    assert (await caller.gql(LOOKUP, {"i": ids["ins"]})).codes == ["RATE_LIMITED"]
    shapes = []
    for identifier in (ids["ins"], factories.new_ins(), ids["pending"]):
        with count_queries() as statements:
            assert (await caller.gql(LOOKUP, {"i": identifier})).codes == ["RATE_LIMITED"]
        shapes.append([s.split(" WHERE ")[0] for s in statements])
    assert shapes[0] == shapes[1] == shapes[2] and any("rate_counter" in s for s in shapes[0])
    # The caller's session and the counter, nothing else: no account or record is looked up.
    assert all("rate_counter" in s or 'FROM "session"' in s for s in shapes[0]), shapes[0]
