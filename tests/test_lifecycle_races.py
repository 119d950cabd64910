"""A record's lifecycle meeting another change of the same record: what was decided before the
record's lock is decided again under it, so the change that waited sees what the other committed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from backend import clock
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_content_races import before_the_lock

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo } }"""
CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken sentTo } }"""
RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"
RECOVER = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
STRONG = "un mot de passe long et rare 42"


def _identity(ins: str, **extra: Any) -> dict[str, Any]:
    return {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02", **extra}


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def _actions(record_id: Any) -> list[str]:
    return list(await AccessEvent.filter(record_id=record_id).order_by("seq").values_list(
        "action", flat=True))


async def _opened(client: httpx.AsyncClient, **contact: str) -> tuple[Caller, str, str]:
    doctor = await _as(client, (await factories.practitioner())[0])
    ins = factories.new_ins()
    opened = (await doctor.gql(OPEN, {"input": _identity(ins, **contact)})).ok()["openRecordForPatient"]
    return doctor, ins, opened["activationCode"]


def _activation(client: httpx.AsyncClient, ins: str, code: str, email: str) -> Any:
    async def activate() -> None:
        (await Caller(client).gql(CREATE, {"input": {
            "ins": ins, "activationCode": code, "email": email, "password": STRONG}})).ok()
    return activate


async def test_a_record_activated_while_a_practitioner_opened_it_again_gets_no_new_code(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second opening read the record PENDING; the patient activated it before that opening
    took the record's lock. A code issued then would be a live code on an owned record, which
    `createRecord` takes for a contact recovery: whoever holds it sets the account's e-mail
    address and password."""
    doctor, ins, code = await _opened(client)
    ran = before_the_lock(monkeypatch, _activation(client, ins, code, "lea@test.dmp"))
    again = await doctor.gql(OPEN, {"input": _identity(ins)})
    assert ran == [True]
    assert again.codes == ["CONFLICT"] and again.data is None
    record = await Record.get(ins=ins)
    assert record.status == "ACTIVE"
    assert not await ActivationCode.filter(record_id=record.id, used_at=None).exists()
    assert await _actions(record.id) == ["RECORD_OPENED", "RECORD_ACTIVATED"]
    owner = await Account.get(id=record.owner_id)  # type: ignore[attr-defined]
    assert owner.email == "lea@test.dmp"


async def test_support_resending_a_code_for_a_record_activated_meanwhile_sends_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support read the record PENDING, with the address given at the point of care; it was
    activated before support's change took the lock: no code goes to that address."""
    _, ins, code = await _opened(client, email="desk@test.dmp")
    support = await _as(client, await factories.support())
    record = await Record.get(ins=ins)
    mails = await OutboxMessage.filter(record_id=record.id).count()
    ran = before_the_lock(monkeypatch, _activation(client, ins, code, "lea@test.dmp"))
    resent = await support.gql(RESEND, {"i": ins})
    assert ran == [True]
    assert resent.codes == ["CONFLICT"] and resent.data is None
    assert not await ActivationCode.filter(record_id=record.id, used_at=None).exists()
    assert await OutboxMessage.filter(record_id=record.id).count() == mails
    assert await _actions(record.id) == ["RECORD_OPENED", "RECORD_ACTIVATED"]


async def test_a_recovery_to_an_address_taken_meanwhile_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address was free when the code was checked, and another account took it before the
    recovery took the record's lock: the activation's one refusal, not an internal error, and
    the code still works with another address."""
    patient, record = await factories.patient(first_name="Léa", last_name="Martin")
    await Record.filter(id=record.id).update(birth_date="1990-04-02")
    (await (await _as(client, await factories.support())).gql(RECOVER, {"i": record.ins})).ok()
    doctor = await _as(client, (await factories.practitioner())[0])
    code = (await doctor.gql(OPEN, {"input": _identity(record.ins)})).ok()[
        "openRecordForPatient"]["activationCode"]
    events = await _actions(record.id)

    async def take() -> None:
        await factories.patient(email="taken@test.dmp")

    ran = before_the_lock(monkeypatch, take)
    refused = await Caller(client).gql(CREATE, {"input": {
        "ins": record.ins, "activationCode": code, "email": "taken@test.dmp", "password": STRONG}})
    assert ran == [True]
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "ACTIVATION_REFUSED"
    owner = await Account.get(id=patient.id)
    assert (owner.email, owner.email_verified) == (patient.email, True)
    assert await ActivationCode.filter(record_id=record.id, used_at=None).count() == 1
    assert await _actions(record.id) == events
    recovered = await Caller(client).gql(CREATE, {"input": {
        "ins": record.ins, "activationCode": code, "email": "lea.new@test.dmp", "password": STRONG}})
    assert recovered.ok()["createRecord"]["attemptToken"]
    assert (await Account.get(id=patient.id)).email == "lea.new@test.dmp"


CLOSE = "mutation { closeMyRecord { status } }"
DELETE = "mutation { requestRecordDeletion { status } }"
CANCEL = "mutation { cancelRecordDeletion { status closedAt } }"


async def test_a_cancellation_that_waited_returns_the_record_to_the_status_it_had_when_it_committed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One tab cancels the deletion of an active record; meanwhile another cancelled it, closed
    the record and asked for its deletion again. The waiting cancellation undoes that last
    request: the record is closed again, not active (where an emergency access would open)."""
    patient, record = await factories.patient()
    tab, other = await _as(client, patient), await _as(client, patient)
    (await tab.gql(DELETE)).ok()

    async def meanwhile() -> None:
        (await other.gql(CANCEL)).ok()
        assert (await other.gql(CLOSE)).ok()["closeMyRecord"]["status"] == "CLOSED"
        (await other.gql(DELETE)).ok()

    ran = before_the_lock(monkeypatch, meanwhile)
    cancelled = (await tab.gql(CANCEL)).ok()["cancelRecordDeletion"]
    assert ran == [True]
    await record.refresh_from_db()
    assert cancelled["status"] == "CLOSED" and cancelled["closedAt"] is not None
    assert record.status == "CLOSED" and record.closed_at is not None
    assert record.deletion_requested_at is None
    assert await _actions(record.id) == [
        "DELETION_REQUESTED", "DELETION_CANCELLED", "RECORD_CLOSED", "DELETION_REQUESTED",
        "DELETION_CANCELLED",
    ]


async def test_a_deletion_asked_while_the_record_was_being_closed_deletes_the_closed_record(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request read the record active; another tab closed it before the request took the
    lock. A closed record may be deleted too: the request is carried out on it (it answered
    CONFLICT for a change the patient did not make), and cancelling returns it closed."""
    patient, record = await factories.patient()
    tab, other = await _as(client, patient), await _as(client, patient)

    async def close() -> None:
        assert (await other.gql(CLOSE)).ok()["closeMyRecord"]["status"] == "CLOSED"

    ran = before_the_lock(monkeypatch, close)
    deleted = await tab.gql(DELETE)
    assert ran == [True]
    assert deleted.ok()["requestRecordDeletion"]["status"] == "DELETED"
    assert await _actions(record.id) == ["RECORD_CLOSED", "DELETION_REQUESTED"]
    assert (await tab.gql(CANCEL)).ok()["cancelRecordDeletion"]["status"] == "CLOSED"


async def test_a_cancellation_that_waited_past_the_grace_period_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grace period ended while the cancellation waited for the record's lock: the deadline
    is read when the change is decided, under the lock, as the purge reads it."""
    patient, record = await factories.patient()
    (await (await _as(client, patient)).gql(DELETE)).ok()
    clock.shift(dt.timedelta(days=30) - dt.timedelta(minutes=1))
    tab = await _as(client, patient)  # a fresh session: the old one timed out

    async def wait() -> None:
        clock.shift(dt.timedelta(minutes=2))

    ran = before_the_lock(monkeypatch, wait)
    refused = await tab.gql(CANCEL)
    assert ran == [True]
    assert refused.codes == ["FORBIDDEN"] and refused.data is None
    await record.refresh_from_db()
    assert record.status == "DELETED" and record.deletion_requested_at is not None
    assert await _actions(record.id) == ["DELETION_REQUESTED"]


async def test_one_code_sent_twice_at_once_activates_the_record_once(client: httpx.AsyncClient) -> None:
    _, ins, code = await _opened(client)
    sent = [Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": f"lea{n}@test.dmp", "password": STRONG}})
        for n in range(2)]
    results = await asyncio.gather(*sent)
    assert sorted(str(r.codes) for r in results) == ["['BAD_USER_INPUT']", "[]"]
    refused = next(r for r in results if r.codes)
    assert refused.errors[0]["extensions"]["reason"] == "ACTIVATION_REFUSED"
    record = await Record.get(ins=ins)
    assert record.status == "ACTIVE"
    assert await Account.filter(email__in=["lea0@test.dmp", "lea1@test.dmp"]).count() == 1
    assert await _actions(record.id) == ["RECORD_OPENED", "RECORD_ACTIVATED"]


async def test_two_records_activated_at_once_with_one_address_make_one_account(
    client: httpx.AsyncClient,
) -> None:
    """Both checked the address free; the second account is refused by the unique address, its
    record stays pending and its code unused, to be tried again with another address."""
    (_, first, one), (_, second, two) = await _opened(client), await _opened(client)
    results = await asyncio.gather(*(Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "same@test.dmp", "password": STRONG}})
        for ins, code in ((first, one), (second, two))))
    assert sorted(str(r.codes) for r in results) == ["['BAD_USER_INPUT']", "[]"]
    assert await Account.filter(email="same@test.dmp").count() == 1
    records = {r.ins: r for r in await Record.filter(ins__in=[first, second])}
    assert sorted(r.status for r in records.values()) == ["ACTIVE", "PENDING"]
    [pending] = [r for r in records.values() if r.status == "PENDING"]
    assert await ActivationCode.filter(record_id=pending.id, used_at=None).count() == 1
    assert await _actions(pending.id) == ["RECORD_OPENED"]
    code = one if pending.ins == first else two
    (await Caller(client).gql(CREATE, {"input": {
        "ins": pending.ins, "activationCode": code, "email": "other@test.dmp", "password": STRONG}})).ok()
