"""requestFreshFactor on an account whose code login is locked: its code would answer LOCKED at
every try, so none is sent; the answer says so (RATE_LIMITED), and nothing is written."""

from __future__ import annotations

import httpx

from backend import clock
from backend.domain.enums import CodePurpose
from backend.models import Account, OneTimeCode, OutboxMessage
from tests import factories
from tests.auth_flows import FRESH
from tests.conftest import Caller, session_for


async def test_a_locked_account_is_sent_no_fresh_factor_code(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    await Account.filter(id=account.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    before = await OutboxMessage.all().count()
    answer = await caller.gql(FRESH)
    assert answer.codes == ["RATE_LIMITED"]
    assert "locked" in answer.errors[0]["message"]
    # The reason the page words: waiting does not help, a passkey or support does.
    assert answer.errors[0]["extensions"]["reason"] == "CODE_LOGIN_LOCKED"
    assert not await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.FRESH_FACTOR).exists()
    assert await OutboxMessage.all().count() == before
    # Unlocked (by support), a code is sent again.
    await Account.filter(id=account.id).update(locked_at=None, lock_reason=None)
    assert (await caller.gql(FRESH)).ok()
    assert await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.FRESH_FACTOR).exists()
