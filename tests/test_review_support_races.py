"""Support's changes decided again under the record's lock, and told to the patient with the
change: what another request committed meanwhile is what support's change acts on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from backend import clock
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_content_races import before_the_lock

UNLOCK = "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }"
RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"
RECOVER = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { activationCode sentTo } }"""


def _identity(ins: str, **extra: Any) -> dict[str, Any]:
    return {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02", **extra}


async def _support(client: httpx.AsyncClient) -> Caller:
    return Caller(client, session=await session_for(await factories.support()))


async def _support_events(record: Record) -> list[str]:
    return list(await AccessEvent.filter(record_id=record.id, action="SUPPORT_ACTION").order_by("seq")
                .values_list("reason", flat=True))


async def test_an_account_unlocked_meanwhile_is_not_unlocked_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support read the account locked; another agent unlocked it, and the patient has since
    typed two wrong codes, before this unlock took the record's lock. A second unlock would
    write a second event, e-mail the patient again, and give back the day's two failures."""
    patient, record = await factories.patient(email="lea.locked@test.dmp")
    await Account.filter(id=patient.id).update(
        locked_at=clock.now(), lock_reason="too many wrong codes", failure_count=10,
        failure_day=clock.now().date())
    support = await _support(client)

    async def meanwhile() -> None:
        await Account.filter(id=patient.id).update(
            locked_at=None, lock_reason=None, failure_count=2, failure_day=clock.now().date())

    ran = before_the_lock(monkeypatch, meanwhile)
    result = await support.gql(UNLOCK, {"i": "lea.locked@test.dmp"})
    assert ran == [True]
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["reason"] == "ACCOUNT_NOT_LOCKED"
    account = await Account.get(id=patient.id)
    assert (account.locked_at, account.failure_count) == (None, 2)
    assert await _support_events(record) == []
    assert await OutboxMessage.filter(account_id=patient.id).count() == 0


async def test_an_unlock_whose_notice_cannot_be_queued_changes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notice is queued in the unlock's transaction: an unlock the patient is not told of
    does not happen (and support, told of the failure, may try again)."""
    patient, record = await factories.patient(email="lea.notice@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    support = await _support(client)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.accounts.notify_security", broken)
    result = await support.gql(UNLOCK, {"i": "lea.notice@test.dmp"})
    assert result.codes == ["INTERNAL"]
    assert (await Account.get(id=patient.id)).locked_at is not None
    assert await _support_events(record) == []
    monkeypatch.undo()
    again = await support.gql(UNLOCK, {"i": "lea.notice@test.dmp"})
    assert again.ok()["unlockAccount"]["locked"] is False
    assert await OutboxMessage.filter(account_id=patient.id).count() == 1


async def test_a_recovery_whose_notice_cannot_be_queued_opens_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient, record = await factories.patient(email="lea.recovery@test.dmp")
    support = await _support(client)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.resolvers.support.notify_security", broken)
    result = await support.gql(RECOVER, {"i": record.ins})
    assert result.codes == ["INTERNAL"]
    assert not await ActivationCode.filter(record_id=record.id).exists()
    assert await _support_events(record) == []


async def test_a_resend_racing_a_new_opening_goes_to_the_contact_given_at_the_point_of_care(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support read the record with the address first given; a practitioner, checking the
    patient's identity, opened it again with another address (the first was mistyped) before
    support's resend took the record's lock. The new code goes to the address now on file, never
    to the one the practitioner replaced."""
    doctor = Caller(client, session=await session_for((await factories.practitioner())[0]))
    ins = factories.new_ins()
    (await doctor.gql(OPEN, {"input": _identity(ins, email="typo@test.dmp")})).ok()
    record = await Record.get(ins=ins)
    support = await _support(client)

    async def reopened() -> None:
        (await doctor.gql(OPEN, {"input": _identity(ins, email="lea.right@test.dmp")})).ok()

    ran = before_the_lock(monkeypatch, reopened)
    resent = await support.gql(RESEND, {"i": ins})
    assert ran == [True]
    assert resent.ok()["resendActivation"] is True
    to_typo = await OutboxMessage.filter(record_id=record.id, recipient="typo@test.dmp").count()
    assert to_typo == 1  # the first opening's, before support's resend
    last = await OutboxMessage.filter(record_id=record.id).order_by("-created_at").first()
    assert last is not None and last.recipient == "lea.right@test.dmp"
    assert await ActivationCode.filter(record_id=record.id, used_at=None).count() == 1
    assert await _support_events(record) == ["renvoi du code d'activation au contact connu"]


async def test_two_agents_unlocking_a_practitioner_at_once_unlock_it_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both agents read the account locked before either unlocked it. Without a record there is
    no record's lock to queue on: the account's row decides, and only one unlock happens."""
    doctor, pro = await factories.practitioner()
    await Account.filter(id=doctor.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    first, second = await _support(client), await _support(client)
    from backend.resolvers import support

    find, read, both_read = support._find, [], asyncio.Event()

    async def find_together(identifier: str) -> Any:
        found = await find(identifier)
        read.append(True)
        if len(read) == 2:
            both_read.set()
        await asyncio.wait_for(both_read.wait(), 5)
        return found

    monkeypatch.setattr(support, "_find", find_together)
    results = await asyncio.gather(first.gql(UNLOCK, {"i": pro.rpps}), second.gql(UNLOCK, {"i": pro.rpps}))
    monkeypatch.undo()
    assert sorted(str(r.codes) for r in results) == ["['BAD_USER_INPUT']", "[]"], [r.errors for r in results]
    assert (await Account.get(id=doctor.id)).locked_at is None
    assert await OutboxMessage.filter(account_id=doctor.id).count() == 1


async def test_a_recovery_racing_the_patients_deletion_request_opens_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support read the record active; the patient asked for its deletion before the recovery
    took the record's lock: no recovery is opened on a record waiting for its deletion."""
    patient, record = await factories.patient(email="lea.deleting@test.dmp")
    owner = Caller(client, session=await session_for(patient))
    support = await _support(client)

    async def deleting() -> None:
        (await owner.gql("mutation { requestRecordDeletion { __typename } }")).ok()

    ran = before_the_lock(monkeypatch, deleting)
    result = await support.gql(RECOVER, {"i": record.ins})
    assert ran == [True]
    assert result.codes == ["CONFLICT"] and result.data is None
    assert (await Record.get(id=record.id)).status == "DELETED"
    assert not await ActivationCode.filter(record_id=record.id).exists()
    assert await _support_events(record) == []
    notices = await OutboxMessage.filter(account_id=patient.id).values_list("subject", flat=True)
    assert all("sécurité" not in str(s) for s in notices), notices
