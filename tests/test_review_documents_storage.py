"""Review of stored documents: what a cancelled, failed or concurrent upload leaves on disk,
and what a file missing or sealed under another key answers."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import uuid

import httpx
import pytest

from backend import config
from backend.files import storage
from backend.files.crypto import Sealed
from backend.models import AccessEvent, Entry, Grant, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import download, files_on_disk, nothing_stored, pdf, upload
from tests.test_content_races import in_line


async def _until(condition: object, seconds: float = 5.0) -> bool:
    """Whether `condition()` became true within `seconds`, the loop running meanwhile."""
    for _ in range(int(seconds / 0.01)):
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.01)
    return bool(condition())  # type: ignore[operator]


async def test_an_upload_cancelled_while_its_file_is_written_leaves_no_file(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request ends (the service stops, the task is cancelled) while the encrypted file
    is written in its thread: the thread cannot be stopped, and the file it then finishes is
    removed, not left for the purge's sweep a day later."""
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    before = files_on_disk()
    writing, go_on, written = threading.Event(), threading.Event(), threading.Event()
    seal_and_write = storage._seal_and_write

    def slow(file_id: uuid.UUID, plaintext: bytes) -> Sealed:
        writing.set()
        go_on.wait(timeout=10)
        try:
            return seal_and_write(file_id, plaintext)
        finally:
            written.set()

    monkeypatch.setattr(storage, "_seal_and_write", slow)
    request = asyncio.create_task(upload(caller, pdf("cancelled")))
    assert await _until(writing.is_set)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    go_on.set()
    assert await _until(written.is_set)
    assert await _until(lambda: files_on_disk() == before), files_on_disk() - before
    await nothing_stored(before)


async def test_a_file_missing_on_disk_answers_an_error_writes_no_download_and_logs_no_name(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The row is there, its file is not (a lost disk, a restore without the files): the
    granted practitioner is told the document could not be read, nothing is noted as
    downloaded, and the log names the stored file by its id only."""
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    result = await upload(owner, pdf("lost content"), "Bilan Dupont.pdf", title="Bilan sanguin")
    entry_id = result.ok()["uploadDocument"]["entry"]["id"]
    stored = await StoredFile.get()
    storage.path_of(stored.id).unlink()
    doctor, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    events = await AccessEvent.filter(record_id=record.id).count()
    response = await download(Caller(client, session=await session_for(doctor)), entry_id)
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "content-disposition" not in response.headers
    assert await AccessEvent.filter(record_id=record.id).count() == events
    assert str(stored.id) in caplog.text
    for secret in ("Bilan", "Dupont", "lost content", record.ins):
        assert secret not in caplog.text


async def test_uploads_sent_at_once_cannot_both_take_the_last_room(
    client: httpx.AsyncClient, one_mb_per_record: None
) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    before = files_on_disk()
    results = await asyncio.gather(*(upload(caller, pdf(str(i) * 600_000)) for i in range(3)))
    refused = [r for r in results if r.codes]
    assert len(refused) == 2
    for result in refused:
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    stored = await StoredFile.filter(record_id=record.id)
    assert len(stored) == 1 and await Entry.filter(record_id=record.id).count() == 1
    assert files_on_disk() - before == {str(stored[0].id)}
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert actions == ["ENTRY_ADDED"]


@pytest.mark.postgres
async def test_two_uploads_queued_on_the_record_lock_share_the_room_as_they_commit(
    client: httpx.AsyncClient, one_mb_per_record: None
) -> None:
    """Both have read, checked and encrypted their file before either takes the record's
    lock: the second finds the first's file counted and is refused, its file removed."""
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    before = files_on_disk()
    one, two = await in_line(
        record, lambda: upload(caller, pdf("a" * 600_000)), lambda: upload(caller, pdf("b" * 600_000))
    )
    assert one.codes == []
    assert two.codes == ["BAD_USER_INPUT"]
    assert two.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    stored = await StoredFile.get(record_id=record.id)
    assert files_on_disk() - before == {str(stored.id)}


async def test_an_upload_beyond_the_room_is_refused_before_its_file_is_written(
    client: httpx.AsyncClient, one_mb_per_record: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record already full: the refusal comes before 20 MB are encrypted, written and
    removed again (the check under the lock stays, for uploads sent at once)."""
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    (await upload(caller, pdf("a" * 600_000))).ok()
    before = files_on_disk()
    events = await AccessEvent.filter(record_id=record.id).count()
    written: list[uuid.UUID] = []
    write = storage.write

    async def noted(file_id: uuid.UUID, plaintext: bytes) -> Sealed:
        written.append(file_id)
        return await write(file_id, plaintext)

    monkeypatch.setattr(storage, "write", noted)
    refused = await upload(caller, pdf("b" * 600_000))
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    assert written == []
    assert files_on_disk() == before
    assert await StoredFile.filter(record_id=record.id).count() == 1
    assert await AccessEvent.filter(record_id=record.id).count() == events


async def test_a_refusal_under_the_lock_keeps_its_reason_when_its_file_cannot_be_removed(
    client: httpx.AsyncClient, one_mb_per_record: None, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The room taken meanwhile (found under the lock), and the file then not removable (a
    disk error): the caller is told the record is full, not an internal error; the file is
    left to the purge's sweep, and the log says so by its id."""
    from tests.test_content_races import before_the_lock

    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))

    async def fill() -> None:
        (await upload(caller, pdf("a" * 600_000))).ok()

    def broken(file_id: uuid.UUID) -> bool:
        raise PermissionError(13, "Permission denied")

    ran = before_the_lock(monkeypatch, fill)
    monkeypatch.setattr(storage, "remove", broken)
    refused = await upload(caller, pdf("b" * 600_000))
    assert ran == [True]
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    assert await StoredFile.filter(record_id=record.id).count() == 1
    left = files_on_disk() - {str((await StoredFile.get(record_id=record.id)).id)}
    assert len(left) == 1 and next(iter(left)) in caplog.text


async def test_a_data_key_replaced_without_the_old_one_is_an_error_that_names_the_key(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """DMP_DATA_KEY changed and the old key not kept in DMP_PREVIOUS_DATA_KEYS: old files
    answer an error without content, and the log says which key is missing (its public id)
    with no data; new uploads are sealed, and open, under the new key."""
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    old_entry = (await upload(caller, pdf("sealed before"))).ok()["uploadDocument"]["entry"]["id"]
    old_kid = (await StoredFile.get()).key_id
    saved = config.settings()
    config.reset(dataclasses.replace(saved, data_key=os.urandom(32), previous_data_keys=()))
    try:
        response = await download(caller, old_entry)
        assert response.status_code == 500
        assert response.json()["errors"][0] == {
            "message": "The document could not be read; nothing was returned",
            "extensions": {"code": "INTERNAL"},
        }
        assert b"sealed before" not in response.content
        assert f"data key {old_kid} is not configured" in caplog.text
        assert "sealed before" not in caplog.text
        new_entry = (await upload(caller, pdf("sealed after"))).ok()["uploadDocument"]["entry"]["id"]
        assert (await download(caller, new_entry)).content == pdf("sealed after")
    finally:
        config.reset(saved)


async def test_an_upload_the_disk_refuses_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder full or read-only: an internal error, no row, no event, and no
    half-written temporary file left."""
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    before = files_on_disk()

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = await upload(caller, pdf("no room on disk"))
    monkeypatch.undo()
    assert result.codes == ["INTERNAL"]
    assert "no room" not in result.response.text and "space" not in result.response.text
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0
