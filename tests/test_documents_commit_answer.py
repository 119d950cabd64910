"""An upload whose transaction committed though its answer never came back (the connection
lost on COMMIT, the request cancelled as the service stops): the entry is stored, so its file
must stay. A file whose commit did not land is left to `dmp purge`'s sweep, which removes a
file no stored-file row holds once it is a day old."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from backend import clock, purge
from backend.audit.collector import AccessLog
from backend.models import Entry, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import download, files_on_disk, pdf, upload


@pytest.mark.parametrize(
    "lost", [ConnectionResetError("connection lost on COMMIT"), asyncio.CancelledError()]
)
async def test_a_committed_upload_keeps_its_file_when_the_commit_answer_is_lost(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, lost: BaseException
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    changing = AccessLog.changing

    @asynccontextmanager
    async def answer_lost(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[Any]:
        async with changing(self, record_id) as conn:
            yield conn
        raise lost  # committed, but the caller hears of a failure

    monkeypatch.setattr(AccessLog, "changing", answer_lost)
    content = pdf("committed")
    try:
        result = await upload(caller, content)
    except asyncio.CancelledError:
        result = None  # a BaseException goes through the request, as a cancellation would
    monkeypatch.undo()
    if result is not None:
        assert result.codes == ["INTERNAL"]
    entry = await Entry.get(record_id=record.id)
    stored = await StoredFile.get(id=entry.file_id)  # type: ignore[attr-defined]
    assert str(stored.id) in files_on_disk()
    response = await download(caller, str(entry.id))
    assert response.status_code == 200
    assert response.content == content


async def test_a_commit_that_failed_leaves_only_ciphertext_that_the_sweep_removes(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    before = files_on_disk()
    changing = AccessLog.changing

    @asynccontextmanager
    async def commit_fails(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[Any]:
        async with changing(self, record_id) as conn:
            yield conn
            raise ConnectionResetError("connection lost on COMMIT")  # rolled back

    monkeypatch.setattr(AccessLog, "changing", commit_fails)
    result = await upload(caller, pdf("rolled back"))
    monkeypatch.undo()
    assert result.codes == ["INTERNAL"]
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await StoredFile.filter(record_id=record.id).count() == 0
    left = files_on_disk() - before
    assert len(left) == 1  # unreadable: its wrapped key was never committed
    await purge.sweep_orphan_files(clock.now())
    assert left <= files_on_disk()  # an upload may still be in flight: kept for a day
    await purge.sweep_orphan_files(clock.now() + purge.ORPHAN_AGE + dt.timedelta(minutes=1))
    assert not left & files_on_disk()
