"""Support lifts the code-login lock of patients' and practitioners' accounts only: a support
account's lock — a colleague's or the agent's own — is lifted by an operator, or the lock on
support accounts would be void. The refusal writes nothing."""

from __future__ import annotations

import httpx

from backend import clock
from backend.models import AccessEvent, Account, OutboxMessage
from tests import factories
from tests.conftest import Caller, session_for

UNLOCK = "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }"


async def _lock(account: Account) -> None:
    await Account.filter(id=account.id).update(
        locked_at=clock.now(), lock_reason="too many wrong codes", failure_count=10,
        failure_day=clock.now().date())


async def _unchanged(account: Account) -> None:
    row = await Account.get(id=account.id)
    assert row.locked_at is not None and row.lock_reason == "too many wrong codes"
    assert row.failure_count == 10 and row.failure_day == clock.now().date()


async def test_support_may_not_unlock_a_colleagues_support_account(client: httpx.AsyncClient) -> None:
    agent = await factories.support(email="agent.scope@test.dmp")
    colleague = await factories.support(email="colleague.scope@test.dmp")
    await _lock(colleague)
    support = Caller(client, session=await session_for(agent))
    result = await support.gql(UNLOCK, {"i": "colleague.scope@test.dmp"})
    assert result.codes == ["FORBIDDEN"], result.errors
    assert "reason" not in result.errors[0]["extensions"]
    assert result.data is None or result.data.get("unlockAccount") is None
    await _unchanged(colleague)
    assert await OutboxMessage.all().count() == 0
    assert await AccessEvent.all().count() == 0


async def test_a_locked_support_agent_may_not_unlock_their_own_account(client: httpx.AsyncClient) -> None:
    """A session opened before the lock (or by passkey, which the code lock does not stop)
    still runs: it must not lift the lock it is under."""
    agent = await factories.support(email="self.scope@test.dmp")
    await _lock(agent)
    support = Caller(client, session=await session_for(agent))
    result = await support.gql(UNLOCK, {"i": " SELF.scope@test.dmp "})
    assert result.codes == ["FORBIDDEN"], result.errors
    await _unchanged(agent)
    assert await OutboxMessage.all().count() == 0
    assert await AccessEvent.all().count() == 0


async def test_the_refusal_is_the_same_whether_the_support_account_is_locked_or_not(
    client: httpx.AsyncClient,
) -> None:
    agent = await factories.support()
    colleague = await factories.support(email="unlocked.scope@test.dmp")
    support = Caller(client, session=await session_for(agent))
    result = await support.gql(UNLOCK, {"i": "unlocked.scope@test.dmp"})
    assert result.codes == ["FORBIDDEN"], result.errors  # not ACCOUNT_NOT_LOCKED: the state is not told
    row = await Account.get(id=colleague.id)
    assert row.locked_at is None and row.failure_count == 0
    assert await OutboxMessage.all().count() == 0


async def test_support_still_unlocks_patients_and_practitioners(client: httpx.AsyncClient) -> None:
    patient, _ = await factories.patient(email="lea.scope@test.dmp")
    doctor, pro = await factories.practitioner()
    for account in (patient, doctor):
        await _lock(account)
    support = Caller(client, session=await session_for(await factories.support()))
    for identifier in ("lea.scope@test.dmp", pro.rpps):
        assert (await support.gql(UNLOCK, {"i": identifier})).ok()["unlockAccount"]["locked"] is False
    for account in (patient, doctor):
        assert (await Account.get(id=account.id)).locked_at is None
        assert await OutboxMessage.filter(account_id=account.id).count() == 1
