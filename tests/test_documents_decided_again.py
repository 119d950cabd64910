"""uploadDocument decides again under the record's lock: a closing, a revoked grant or a
change of treating physician that commits while the file is read, checked and encrypted
refuses the upload as the first decision would, and nothing is stored."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from backend.domain.enums import AccessAction, Profession
from backend.files import crypto, storage
from backend.models import AccessEvent, Account, Grant, Record, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import files_on_disk, nothing_stored, pdf, upload


def between_decision_and_lock(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]
) -> list[bool]:
    """Run `change` once, after the first decision and before the record's lock is taken:
    as the file is encrypted and written."""
    ran: list[bool] = []
    write = storage.write

    async def write_after_the_change(file_id: uuid.UUID, plaintext: bytes) -> crypto.Sealed:
        if not ran:
            ran.append(True)
            await change()
        return await write(file_id, plaintext)

    monkeypatch.setattr(storage, "write", write_after_the_change)
    return ran


async def actions(record: Record) -> list[str]:
    return list(
        await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("action", flat=True)
    )


async def close_by(client: httpx.AsyncClient, owner: Account) -> None:
    caller = Caller(client, session=await session_for(owner))
    result = await caller.gql("mutation { closeMyRecord { status } }")
    assert result.ok()["closeMyRecord"]["status"] == "CLOSED"


async def test_treating_physician_upload_into_a_record_closed_meanwhile_is_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    doctor, physician = await factories.practitioner(Profession.MEDECIN)
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)
    doctor_session = await session_for(doctor)
    before = files_on_disk()

    ran = between_decision_and_lock(monkeypatch, lambda: close_by(client, owner))
    result = await upload(Caller(client, session=doctor_session), pdf(), ins=record.ins)

    assert ran == [True]
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "No access to this record"  # as for a closed record
    assert result.data is None
    await nothing_stored(before)
    assert await actions(record) == [AccessAction.RECORD_CLOSED.value, AccessAction.ACCESS_DENIED.value]


async def test_upload_after_the_grant_was_revoked_meanwhile_is_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    nurse, pro = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    nurse_session = await session_for(nurse)
    before = files_on_disk()

    async def revoke() -> None:
        caller = Caller(client, session=await session_for(owner))
        result = await caller.gql(
            "mutation($p: ID!) { revokeAccess(practitionerId: $p) { sharing { grants { sections } } } }",
            {"p": str(pro.id)},
        )
        assert result.ok()["revokeAccess"]["sharing"]["grants"] == []

    ran = between_decision_and_lock(monkeypatch, revoke)
    result = await upload(Caller(client, session=nurse_session), pdf(), ins=record.ins)

    assert ran == [True]
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "No access to this record"
    await nothing_stored(before)
    assert await actions(record) == [AccessAction.SHARING_CHANGED.value, AccessAction.ACCESS_DENIED.value]


async def test_upload_by_a_physician_no_longer_treating_keeps_only_the_grant(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaced as treating physician meanwhile, with a grant of LAB_RESULTS only: DOCUMENTS
    is refused in the words of a section not shared."""
    owner, record = await factories.patient()
    doctor, physician = await factories.practitioner(Profession.MEDECIN)
    await Grant.create(record=record, practitioner=physician, sections=["LAB_RESULTS"])
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)
    doctor_session = await session_for(doctor)
    _, other = await factories.practitioner(Profession.MEDECIN)
    before = files_on_disk()

    async def replace() -> None:
        caller = Caller(client, session=await session_for(owner))
        result = await caller.gql(
            "mutation($p: ID) {"
            " setTreatingPhysician(practitionerId: $p) { sharing { treatingPhysician { rpps } } } }",
            {"p": str(other.id)},
        )
        assert result.ok()["setTreatingPhysician"]["sharing"]["treatingPhysician"] == {"rpps": other.rpps}

    between_decision_and_lock(monkeypatch, replace)
    result = await upload(Caller(client, session=doctor_session), pdf(), ins=record.ins)

    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "You may not add documents to this section of this record"
    await nothing_stored(before)
    assert await actions(record) == [AccessAction.SHARING_CHANGED.value, AccessAction.ACCESS_DENIED.value]


async def test_patient_upload_into_their_record_closed_meanwhile_is_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    before = files_on_disk()

    between_decision_and_lock(monkeypatch, lambda: close_by(client, owner))
    result = await upload(Caller(client, session=await session_for(owner)), pdf())

    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "Your record is not active: documents cannot be added"
    await nothing_stored(before)
    assert await actions(record) == [AccessAction.RECORD_CLOSED.value]


async def test_an_upload_nothing_changed_under_is_stored_in_the_mode_decided(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, record = await factories.patient()
    doctor, physician = await factories.practitioner(Profession.MEDECIN)
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)

    async def nothing() -> None:
        return None

    ran = between_decision_and_lock(monkeypatch, nothing)
    result = await upload(Caller(client, session=await session_for(doctor)), pdf(), ins=record.ins)

    assert ran == [True]
    entry = result.ok()["uploadDocument"]["entry"]
    event = await AccessEvent.get(record_id=record.id, action=AccessAction.ENTRY_ADDED.value)
    assert (event.mode, event.entry_id) == ("TREATING_PHYSICIAN", entry["id"])
    assert await StoredFile.all().count() == 1
