"""A RATE_LIMITED refusal of a bound counted in a time window carries `extensions.retryAfter`:
the whole seconds until the window ends and its count starts again (at least 1), so that a
partner app knows when to try again; a download refused so answers 429 with `Retry-After`.
A refusal with a `reason` (a locked code login, a code's tries used up) has none: waiting
does not mend it. Nothing is written on a refusal.

The service's clock is stopped at a chosen instant, so that the seconds left are exact."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from backend import clock, ratelimit
from backend.domain.enums import EmergencyKind, RecordStatus
from backend.models import (
    AccessEvent,
    Account,
    ActivationCode,
    EmergencySession,
    LoginAttempt,
    OneTimeCode,
    OutboxMessage,
    Record,
)
from backend.resolvers import auth, emergency, records, support
from tests import factories
from tests.auth_flows import FRESH, START
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import download

LOOKUP = "query($i: String!) { supportAccount(identifier: $i) { displayName } }"
RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"
BREAK_GLASS = "mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) { mode } }"
REASON = "Patient inconscient aux urgences, allergies inconnues"
# 7 min 12.5 s into an hour: 2 min 47.5 s are left of its ten minutes, 52 min 47.5 s of it.
INTO_HOUR = dt.timedelta(minutes=7, seconds=12.5)
TEN_MINUTES_LEFT, HOUR_LEFT = 168, 3168


def _stop_clock(monkeypatch: pytest.MonkeyPatch, into: dt.timedelta, *, day: bool = False) -> None:
    """The clock stopped `into` the next hour (with `day`, the next UTC day)."""
    now = clock.now()
    start = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    if day:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    at = start + into
    monkeypatch.setattr(clock, "now", lambda: at)


def _retry_after(result: GraphQLResult) -> object:
    assert result.codes == ["RATE_LIMITED"], result.errors
    return result.errors[0]["extensions"].get("retryAfter")


@pytest.mark.parametrize(("into", "left"), [(INTO_HOUR, HOUR_LEFT),
                                            (dt.timedelta(minutes=59, seconds=59.9995), 1)])
async def test_an_hours_bound_support_look_ups(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, into: dt.timedelta, left: int
) -> None:
    """The seconds to the hour's end, rounded up: at least 1 in its last millisecond."""
    _stop_clock(monkeypatch, into)
    monkeypatch.setattr(support, "LOOKUPS_PER_HOUR", 1)
    _, record = await factories.patient()
    caller = Caller(client, session=await session_for(await factories.support()))
    assert (await caller.gql(LOOKUP, {"i": record.ins})).ok()["supportAccount"]
    events = await AccessEvent.all().count()
    limited = await caller.gql(LOOKUP, {"i": record.ins})
    assert limited.data is None
    assert _retry_after(limited) == left
    assert limited.errors[0]["message"] == support.TOO_MANY_LOOKUPS
    assert await AccessEvent.all().count() == events


async def test_an_hours_bound_emergency_openings(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stop_clock(monkeypatch, INTO_HOUR)
    monkeypatch.setitem(emergency.PER_HOUR, EmergencyKind.BREAK_GLASS, 1)
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    first, second = (await factories.patient())[1], (await factories.patient())[1]
    (await caller.gql(BREAK_GLASS, {"ins": first.ins, "r": REASON})).ok()
    written = (await EmergencySession.all().count(), await AccessEvent.all().count(),
               await OutboxMessage.all().count())
    limited = await caller.gql(BREAK_GLASS, {"ins": second.ins, "r": REASON})
    assert _retry_after(limited) == HOUR_LEFT
    assert limited.errors[0]["message"] == emergency.TOO_MANY
    assert (await EmergencySession.all().count(), await AccessEvent.all().count(),
            await OutboxMessage.all().count()) == written


async def test_a_days_bound_support_resends(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13:07:12.5 UTC: 10 h 52 min 47.5 s are left of the day."""
    _stop_clock(monkeypatch, dt.timedelta(hours=13) + INTO_HOUR, day=True)
    monkeypatch.setattr(support, "RESENDS_PER_DAY", 1)
    record = await Record.create(
        ins=factories.new_ins(), first_name="Paul", last_name="Pending", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact="paul.retry@test.dmp")
    caller = Caller(client, session=await session_for(await factories.support()))
    assert (await caller.gql(RESEND, {"i": record.ins})).ok()["resendActivation"] is True
    written = (await ActivationCode.all().count(), await OutboxMessage.all().count(),
               await AccessEvent.all().count())
    limited = await caller.gql(RESEND, {"i": record.ins})
    assert _retry_after(limited) == 10 * 3600 + HOUR_LEFT
    assert limited.errors[0]["message"].endswith("try again tomorrow")
    assert (await ActivationCode.all().count(), await OutboxMessage.all().count(),
            await AccessEvent.all().count()) == written


async def test_ten_minutes_bound_of_codes_asked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stop_clock(monkeypatch, INTO_HOUR)
    monkeypatch.setattr(auth, "FRESH_CODES_PER_WINDOW", 1)
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    assert (await caller.gql(FRESH)).ok()["requestFreshFactor"]["sentTo"]
    written = (await OneTimeCode.all().count(), await OutboxMessage.all().count())
    limited = await caller.gql(FRESH)
    assert _retry_after(limited) == TEN_MINUTES_LEFT
    assert limited.errors[0]["message"] == auth.TOO_MANY_CODES
    assert (await OneTimeCode.all().count(), await OutboxMessage.all().count()) == written


async def test_the_per_address_bound(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _stop_clock(monkeypatch, INTO_HOUR)
    monkeypatch.setitem(ratelimit.PER_ADDRESS, "start-login", 1)
    caller = Caller(client)
    assert (await caller.gql(START, {"i": "first@test.dmp", "p": "wrong-password-123"})).ok()
    attempts = await LoginAttempt.all().count()
    limited = await caller.gql(START, {"i": "second@test.dmp", "p": "wrong-password-123"})
    assert _retry_after(limited) == TEN_MINUTES_LEFT
    assert await LoginAttempt.all().count() == attempts


async def test_a_refused_download_answers_429_with_retry_after(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stop_clock(monkeypatch, INTO_HOUR)
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 1)
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    assert (await download(caller, str(uuid.uuid4()))).status_code == 404
    events = await AccessEvent.all().count()
    limited = await download(caller, str(uuid.uuid4()))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == str(HOUR_LEFT)
    assert limited.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": HOUR_LEFT}
    assert await AccessEvent.all().count() == events


async def test_a_locked_code_login_has_no_retry_after(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting does not unlock it (support or a passkey does): its reason, and no seconds."""
    _stop_clock(monkeypatch, INTO_HOUR)
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    await Account.filter(id=account.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    refused = await caller.gql(FRESH)
    assert refused.errors[0]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    assert not await OneTimeCode.filter(account_id=account.id).exists()
    assert await OutboxMessage.all().count() == 0
