"""Password-reset codes sent to one account are bounded per day (login.RESET_CODES_PER_DAY):
anyone who knows an identifier may ask for a reset, and within the hourly bounds alone about
480 e-mails a day could be sent to one patient (found by a probe: 18 in a burst). Past the
bound a reset is answered as always, with nothing sent, as for an identifier that names no
account."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.models import Account, OutboxMessage
from backend.resolvers.login import RESET_CODES_PER_DAY
from tests import factories
from tests.auth_flows import RESET
from tests.conftest import Caller


async def _ask(client: httpx.AsyncClient, identifier: str) -> dict[str, object]:
    result = await Caller(client).gql(RESET, {"i": identifier})
    assert not result.errors, result.errors
    return result.data or {}


async def _sent(account: Account) -> int:
    return await OutboxMessage.filter(account_id=account.id).count()


async def test_past_the_days_reset_codes_a_reset_sends_nothing_and_answers_alike(
    client: httpx.AsyncClient,
) -> None:
    account, record = await factories.patient()
    email = account.email or ""
    before = await _sent(account)
    for n in range(RESET_CODES_PER_DAY):
        # Through either identifier: the bound is the account's.
        asked = await _ask(client, email if n % 2 else record.ins)
        assert asked["requestPasswordReset"]
    assert await _sent(account) == before + RESET_CODES_PER_DAY

    past = [await _ask(client, identifier) for identifier in (email, record.ins, email)]
    unknown = await _ask(client, "personne@test.dmp")
    # The same answer's shape (an attempt token), and nothing more sent.
    assert all({*answer} == {*unknown} == {"requestPasswordReset"} for answer in past)
    assert all(set(answer["requestPasswordReset"]) == {"attemptToken"} for answer in past)  # type: ignore[arg-type]
    assert await _sent(account) == before + RESET_CODES_PER_DAY
    assert (await Account.get(id=account.id)).password_hash == account.password_hash

    # The next UTC day, codes are sent again.
    clock.shift(dt.timedelta(days=1))
    await _ask(client, email)
    assert await _sent(account) == before + RESET_CODES_PER_DAY + 1
