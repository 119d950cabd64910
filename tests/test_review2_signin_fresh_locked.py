"""Review: a locked account's requestFreshFactor is refused with nothing written, its count of
codes asked included: refusals while locked used to spend the ten minutes' five codes, and the
first code asked once support had unlocked it was refused « wait a few minutes »."""

from __future__ import annotations

import httpx

from backend import clock
from backend.domain.enums import CodePurpose
from backend.models import Account, OneTimeCode, RateCounter
from backend.resolvers.auth import FRESH_CODES_PER_WINDOW
from tests import factories
from tests.auth_flows import FRESH
from tests.conftest import Caller, session_for


async def test_a_locked_accounts_refused_codes_are_not_counted(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    await Account.filter(id=account.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    for _ in range(FRESH_CODES_PER_WINDOW + 1):
        refused = await caller.gql(FRESH)
        assert refused.codes == ["RATE_LIMITED"]
        assert refused.errors[0]["extensions"]["reason"] == "CODE_LOGIN_LOCKED"
    assert not await RateCounter.filter(key__startswith="fresh:").exists()
    assert not await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.FRESH_FACTOR).exists()
    # Unlocked, the first code asked is sent.
    await Account.filter(id=account.id).update(locked_at=None, lock_reason=None)
    assert (await caller.gql(FRESH)).ok()["requestFreshFactor"]["sentTo"]
    assert await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.FRESH_FACTOR).exists()
