"""closeMyRecord, reopenMyRecord, requestRecordDeletion, cancelRecordDeletion."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import EmergencyKind, Profession, RecordStatus
from backend.models import AccessEvent, Account, EmergencySession, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

CLOSE = "mutation { closeMyRecord { status accessMode } }"
REOPEN = "mutation { reopenMyRecord { status accessMode } }"
DELETE = "mutation { requestRecordDeletion { status deletionRequestedAt cancelDeletionUntil } }"
CANCEL = "mutation { cancelRecordDeletion { status deletionRequestedAt } }"
STATUS = "{ myRecordStatus { status closedAt reopenUntil } myRecord { status } }"
READ = "query ($ins: String!) { patientRecord(ins: $ins) { medications { totalCount } } }"


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def _actions(record: Record) -> list[str]:
    return list(await AccessEvent.filter(record_id=record.id).order_by("seq")
                .values_list("action", flat=True))


async def test_close_removes_practitioner_access_and_grants(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    pharmacist, pharma = await factories.practitioner(Profession.PHARMACIEN)
    _, doctor = await factories.practitioner()
    await Grant.create(record=record, practitioner=pharma, sections=["MEDICATIONS"])
    await Record.filter(id=record.id).update(treating_physician_id=doctor.id)
    owner = await _as(client, patient)
    assert (await owner.gql(CLOSE)).ok() == {"closeMyRecord": {"status": "CLOSED",
                                                               "accessMode": "OWNER"}}
    assert (await (await _as(client, pharmacist)).gql(READ, {"ins": record.ins})).codes == [
        "FORBIDDEN"]
    status = (await owner.gql(STATUS)).ok()
    assert status["myRecord"] == {"status": "CLOSED"}
    assert status["myRecordStatus"]["status"] == "CLOSED"
    assert await Grant.filter(record_id=record.id).count() == 0
    await record.refresh_from_db()
    assert record.closed_at is not None and record.treating_physician_id is None  # type: ignore[attr-defined]

    assert (await owner.gql(REOPEN)).ok()["reopenMyRecord"]["status"] == "ACTIVE"
    # Grants do not come back by themselves.
    assert (await (await _as(client, pharmacist)).gql(READ, {"ins": record.ins})).codes == [
        "FORBIDDEN"]
    changes = [a for a in await _actions(record) if a != "ACCESS_DENIED"]
    assert changes == ["RECORD_CLOSED", "RECORD_REOPENED"]


async def test_wrong_state_and_wrong_caller_change_nothing(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    owner = await _as(client, patient)
    assert (await owner.gql(REOPEN)).codes == ["CONFLICT"]
    assert (await owner.gql(CANCEL)).codes == ["CONFLICT"]
    for query in (CLOSE, REOPEN, DELETE, CANCEL):
        assert (await (await _as(client, doctor)).gql(query)).codes == ["FORBIDDEN"]
        assert (await Caller(client).gql(query)).codes == ["UNAUTHENTICATED"]
    await record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_reopen_only_within_ten_years(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    (await owner.gql(CLOSE)).ok()
    clock.shift(dt.timedelta(days=3654))
    owner = await _as(client, patient)  # a fresh session: the old one timed out
    assert (await owner.gql(REOPEN)).codes == ["FORBIDDEN"]
    await record.refresh_from_db()
    assert record.status == RecordStatus.CLOSED


async def test_deletion_and_its_cancellation(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    deleted = (await owner.gql(DELETE)).ok()["requestRecordDeletion"]
    assert deleted["status"] == "DELETED" and deleted["cancelDeletionUntil"]
    # The record is no longer readable, yet the owner still sees where it stands.
    status = (await owner.gql(STATUS)).ok()
    assert status["myRecord"] is None and status["myRecordStatus"]["status"] == "DELETED"
    assert (await owner.gql(DELETE)).codes == ["CONFLICT"]
    clock.shift(dt.timedelta(days=29))
    owner = await _as(client, patient)  # a fresh session: the old one timed out
    cancelled = (await owner.gql(CANCEL)).ok()["cancelRecordDeletion"]
    assert cancelled == {"status": "ACTIVE", "deletionRequestedAt": None}
    assert await _actions(record) == ["DELETION_REQUESTED", "DELETION_CANCELLED"]


async def test_cancelled_deletion_of_a_closed_record_returns_to_closed(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    (await owner.gql(CLOSE)).ok()
    (await owner.gql(DELETE)).ok()
    assert (await owner.gql(CANCEL)).ok()["cancelRecordDeletion"]["status"] == "CLOSED"


async def test_no_cancellation_after_the_grace_period(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    (await owner.gql(DELETE)).ok()
    clock.shift(dt.timedelta(days=31))
    owner = await _as(client, patient)  # a fresh session: the old one timed out
    assert (await owner.gql(CANCEL)).codes == ["FORBIDDEN"]
    await record.refresh_from_db()
    assert record.status == RecordStatus.DELETED


async def test_deletion_needs_a_fresh_second_factor(client: httpx.AsyncClient) -> None:
    from backend.models import Session

    patient, record = await factories.patient()
    owner = await _as(client, patient)
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11)
    )
    refused = await owner.gql(DELETE)
    assert refused.codes == ["FORBIDDEN"]
    assert (await Record.get(id=record.id)).status == RecordStatus.ACTIVE
    assert await _actions(record) == []
    await Session.filter(account_id=patient.id).update(fresh_factor_at=clock.now())
    assert (await owner.gql(DELETE)).ok()["requestRecordDeletion"]["status"] == "DELETED"
    assert await _actions(record) == ["DELETION_REQUESTED"]


async def test_a_deletion_request_ends_emergency_accesses_and_cancelling_does_not_bring_them_back(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    account, practitioner = await factories.practitioner(Profession.MEDECIN)
    doctor = await _as(client, account)
    now = clock.now()
    await EmergencySession.create(
        record=record, practitioner=practitioner, kind=EmergencyKind.BREAK_GLASS,
        reason="patient inconscient aux urgences", opened_at=now,
        expires_at=now + dt.timedelta(minutes=60),
    )
    assert (await doctor.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["medications"]
    (await owner.gql(DELETE)).ok()
    assert not await EmergencySession.filter(record_id=record.id, expires_at__gt=clock.now()).exists()
    (await owner.gql(CANCEL)).ok()
    assert (await doctor.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
