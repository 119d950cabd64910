"""A patient's documents while their record waits for its deletion (DESIGN §2, §3, §4).

During the 30 days the record is not read and not changed, its owner included (rule 2 gives
the owner ACTIVE and CLOSED records only); the export stays. The owner acting on their own
record is told it waits for its deletion, and nothing is written: no file, no entry, and no
ACCESS_DENIED in their own history (the owner is not an intruder). Others are refused as
before, and their attempt is an event.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend.domain.enums import AccessAction
from backend.files import storage
from backend.models import AccessEvent, Entry, Grant, Record, StoredFile
from backend.resolvers import documents
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import download, files_on_disk, pdf, upload


async def _actions(record: Record) -> list[str]:
    return [e.action for e in await AccessEvent.filter(record_id=record.id).order_by("seq")]


def _says_pending_deletion(message: str) -> bool:
    return "pending deletion" in message


@pytest.mark.parametrize("section", ["DOCUMENTS", "LAB_RESULTS"])
async def test_the_owners_upload_is_refused_as_pending_deletion_and_nothing_is_written(
    client: httpx.AsyncClient, section: str
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    await factories.pending_deletion(record)
    before_files, before_events = files_on_disk(), await _actions(record)

    refused = await upload(caller, pdf("pendant"), section=section)

    assert refused.codes == ["FORBIDDEN"]
    assert _says_pending_deletion(refused.errors[0]["message"])
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_PENDING_DELETION"
    assert refused.data is None or refused.data.get("uploadDocument") is None
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await StoredFile.filter(record_id=record.id).count() == 0
    assert files_on_disk() == before_files
    # Not an access denied in the patient's own history: nothing at all.
    assert await _actions(record) == before_events


async def test_a_deletion_requested_while_the_file_is_stored_refuses_it_the_same_way(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decided again under the record's lock: the deletion that committed while the file was
    read and encrypted refuses it with the same words, and the file written is removed."""
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    before_files, before_events = files_on_disk(), await _actions(record)
    write = storage.write

    async def write_then_delete(file_id: uuid.UUID, content: bytes) -> Any:
        sealed = await write(file_id, content)
        await factories.pending_deletion(record)
        return sealed

    monkeypatch.setattr(documents.storage, "write", write_then_delete)
    refused = await upload(caller, pdf("meanwhile"))

    assert refused.codes == ["FORBIDDEN"]
    assert _says_pending_deletion(refused.errors[0]["message"])
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await StoredFile.filter(record_id=record.id).count() == 0
    assert files_on_disk() == before_files
    assert await _actions(record) == before_events


async def test_the_owners_download_is_refused_as_pending_deletion_without_an_event(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    uploaded = (await upload(caller, pdf("kept"))).ok()["uploadDocument"]["entry"]["id"]
    assert (await download(caller, uploaded)).status_code == 200
    await factories.pending_deletion(record)
    before = await _actions(record)

    response = await download(caller, uploaded)

    assert response.status_code == 403
    assert pdf("kept") not in response.content
    (error,) = response.json()["errors"]
    # The reason an upload's refusal gives, for a client that words refusals by reason.
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "RECORD_PENDING_DELETION"}
    assert _says_pending_deletion(error["message"])
    assert response.headers["cache-control"] == "no-store"
    assert await _actions(record) == before


async def test_others_on_a_record_pending_deletion_are_still_denied_and_noted(
    client: httpx.AsyncClient,
) -> None:
    """Rule 3: no practitioner access to a DELETED record, whatever the grants; a denied
    attempt on an existing record is an event, answered as a record that does not exist."""
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    entry_id = (await upload(caller, pdf("theirs"))).ok()["uploadDocument"]["entry"]["id"]
    doctor, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    practitioner = Caller(client, session=await session_for(doctor))
    await factories.pending_deletion(record)
    before_files, before_events = files_on_disk(), await _actions(record)

    response = await download(practitioner, entry_id)
    assert response.status_code == 404
    assert not _says_pending_deletion(response.text)
    assert "reason" not in response.json()["errors"][0]["extensions"]

    refused = await upload(practitioner, pdf("pro"), ins=record.ins)
    assert refused.codes == ["FORBIDDEN"]
    assert not _says_pending_deletion(refused.errors[0]["message"])
    assert files_on_disk() == before_files
    assert await Entry.filter(record_id=record.id).count() == 1
    assert await _actions(record) == [
        *before_events, AccessAction.ACCESS_DENIED.value, AccessAction.ACCESS_DENIED.value
    ]


async def test_another_patients_record_pending_deletion_tells_nothing(client: httpx.AsyncClient) -> None:
    """The words are for the record's owner only: another patient whose own record waits for its
    deletion gets NOT_FOUND for a document of someone else's record, as before."""
    owner, record = await factories.patient()
    entry_id = (await upload(Caller(client, session=await session_for(owner)), pdf("a"))).ok()[
        "uploadDocument"]["entry"]["id"]
    other, other_record = await factories.patient()
    await factories.pending_deletion(other_record)
    await factories.pending_deletion(record)

    response = await download(Caller(client, session=await session_for(other)), entry_id)
    assert response.status_code == 404
    assert not _says_pending_deletion(response.text)
