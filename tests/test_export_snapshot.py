"""exportMyRecord is one moment of the record: an entry deleted while the export is built is in
it with its file, or said deleted, never left without a word (DESIGN §2).

The rows are read in one transaction (PostgreSQL: REPEATABLE READ, READ ONLY; SQLite: its one
transaction holds the database until it ends), then the files. A deletion that commits between
two of the rows' reads does not show in the export; the file it removes from the disk after
the moment the export shows is said deleted during the export, not unreadable.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import uuid
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from backend import sql
from backend.domain.enums import AccessAction
from backend.files import storage
from backend.models import AccessEvent, Entry, StoredFile
from backend.resolvers import export as export_module
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import pdf, png, upload

EXPORT = """
mutation ($format: ExportFormat!) {
  exportMyRecord(format: $format) { content }
}"""
DELETE = "mutation ($id: ID!) { deleteEntry(id: $id) }"


async def _export(caller: Caller, fmt: str) -> Any:
    return json.loads((await caller.gql(EXPORT, {"format": fmt})).ok()["exportMyRecord"]["content"])


def _delete_between_reads(
    monkeypatch: pytest.MonkeyPatch, caller: Caller, entry_id: str
) -> list[asyncio.Task[Any]]:
    """Delete `entry_id` (deleteEntry, as the patient would in another tab) once the export has
    read the entries and before it reads the stored files' rows.

    On PostgreSQL the deletion commits there, inside the export's transaction. On SQLite it
    cannot: the transaction holds the process's one connection, so the deletion waits for it,
    and the export's first file read waits for the deletion. Either way the file is gone from
    the disk by the time the export reads it."""
    deletions: list[asyncio.Task[Any]] = []
    real_stored, real_read = export_module.StoredFile, export_module.storage.read
    # Another request's: not the export's transaction, which a task started inside it would use.
    elsewhere = contextvars.copy_context()

    async def delete() -> None:
        assert (await caller.gql(DELETE, {"id": entry_id})).ok()["deleteEntry"] is True

    class StoredFileAfterADeletion:
        @staticmethod
        def filter(*args: Any, **kwargs: Any) -> Any:
            return _Deferred(real_stored, args, kwargs)

        @staticmethod
        async def exists(*args: Any, **kwargs: Any) -> bool:
            return await real_stored.exists(*args, **kwargs)

    class _Deferred:
        """`StoredFile.filter(...)`, which runs the deletion before its query when awaited."""

        def __init__(self, model: Any, args: Any, kwargs: Any) -> None:
            self.model, self.args, self.kwargs = model, args, kwargs
            self.used: Any = None

        def using_db(self, conn: Any) -> _Deferred:
            self.used = conn
            return self

        def __await__(self) -> Any:
            return self._run().__await__()

        async def _run(self) -> Any:
            if not deletions:
                task = asyncio.create_task(delete(), context=elsewhere.copy())
                deletions.append(task)
                if not sql.is_sqlite():
                    await task
            query = self.model.filter(*self.args, **self.kwargs)
            return await (query.using_db(self.used) if self.used is not None else query)

    async def read_after_the_deletion(*args: Any, **kwargs: Any) -> bytes:
        await asyncio.gather(*deletions)
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(export_module, "StoredFile", StoredFileAfterADeletion)
    monkeypatch.setattr(export_module.storage, "read", read_after_the_deletion)
    return deletions


async def _record_with_two_documents(
    client: httpx.AsyncClient,
) -> tuple[Any, Caller, str, str]:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    kept = (await upload(caller, pdf("gardé"), "garde.pdf", title="Gardé")).ok()[
        "uploadDocument"]["entry"]["id"]
    gone = (await upload(caller, png("supprimé"), "parti.png", "image/png", title="Supprimé")).ok()[
        "uploadDocument"]["entry"]["id"]
    return record, caller, kept, gone


async def test_json_export_keeps_an_entry_deleted_meanwhile_with_its_file_said_deleted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, caller, kept, gone = await _record_with_two_documents(client)
    deletions = _delete_between_reads(monkeypatch, caller, gone)

    data = await _export(caller, "JSON")

    assert deletions and deletions[0].done()
    assert await Entry.filter(id=gone).count() == 0  # the deletion did happen
    documents = {e["id"]: e for e in data["sections"]["DOCUMENTS"]}
    # The moment the export shows: both entries, each with its file.
    assert set(documents) == {kept, gone}
    assert documents[gone]["file"] == {
        "fileName": "parti.png", "contentType": "image/png", "size": len(png("supprimé")),
        "data": None, "unreadable": False, "deletedDuringExport": True,
    }
    assert base64.b64decode(documents[kept]["file"]["data"]) == pdf("gardé")
    assert documents[kept]["file"]["deletedDuringExport"] is False
    actions = [e.action for e in await AccessEvent.filter(record_id=record.id).order_by("seq")]
    assert actions[-2:] == [AccessAction.ENTRY_DELETED.value, AccessAction.RECORD_EXPORTED.value]


async def test_fhir_export_keeps_an_entry_deleted_meanwhile_with_its_file_said_deleted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, caller, kept, gone = await _record_with_two_documents(client)
    _delete_between_reads(monkeypatch, caller, gone)

    bundle = Bundle.model_validate(await _export(caller, "FHIR"))

    by_id = {item.resource.id: item.resource for item in bundle.entry}
    deleted = by_id[gone].content[0].attachment
    assert deleted.data is None and deleted.title == "parti.png"
    assert [(x.url, x.valueBoolean) for x in deleted.extension] == [
        ("urn:dmp:deleted-during-export", True)]
    present = by_id[kept].content[0].attachment
    assert present.data == pdf("gardé") and present.extension is None


async def test_a_file_missing_while_its_entry_stays_is_unreadable_not_deleted(
    client: httpx.AsyncClient,
) -> None:
    """Only a deletion explains a file gone with its row: a file missing under a row that is
    still there is a fault, said unreadable as before."""
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    entry_id = (await upload(caller, pdf("perdu"))).ok()["uploadDocument"]["entry"]["id"]
    entry = await Entry.get(id=entry_id)
    assert storage.remove(uuid.UUID(str(entry.file_id)))  # type: ignore[attr-defined]

    data = await _export(caller, "JSON")

    (document,) = data["sections"]["DOCUMENTS"]
    assert document["file"]["data"] is None
    assert document["file"]["unreadable"] is True
    assert document["file"]["deletedDuringExport"] is False
    assert await StoredFile.filter(record_id=record.id).count() == 1
