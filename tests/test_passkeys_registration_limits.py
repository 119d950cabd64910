"""Registrations begun per account and hour are bounded: each stores a challenge."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend import clock
from backend.models import PasskeyChallenge
from backend.resolvers.passkeys import REGISTRATIONS_PER_HOUR
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import BEGIN_REGISTRATION, begin_registration


async def test_registrations_begun_are_bounded_per_account_whatever_the_session(
    client: httpx.AsyncClient,
) -> None:
    """A signed-in session with a fresh factor could store challenges without end."""
    account, _ = await factories.patient()
    first = Caller(client, session=await session_for(account))
    second = Caller(client, session=await session_for(account))
    for i in range(REGISTRATIONS_PER_HOUR):
        await begin_registration(first if i % 2 else second)
    for caller in (first, second):
        result = await caller.gql(BEGIN_REGISTRATION)
        assert result.codes == ["RATE_LIMITED"], result.errors
    assert await PasskeyChallenge.filter(account_id=account.id).count() == REGISTRATIONS_PER_HOUR
    # Another account is not held back; the next hour, this one begins again.
    other, _ = await factories.patient()
    await begin_registration(Caller(client, session=await session_for(other)))
    clock.shift(timedelta(hours=1))
    await begin_registration(Caller(client, session=await session_for(account)))
    assert await PasskeyChallenge.filter(account_id=account.id).count() == REGISTRATIONS_PER_HOUR + 1
