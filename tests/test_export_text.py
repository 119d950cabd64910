"""exportMyRecord's text is the same, byte for byte, as the whole tree serialised at once, and
the export no longer holds its documents several times over.

The files' base64 is put into the text once the rest is written (backend/resolvers/spliced.py),
instead of going through json.dumps, fhir.resources' validation and orjson with the rest.
`whole_json` and `whole_fhir` are the serialisation as it was before: the tree with every
file's base64 in it, written in one go."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tracemalloc
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle

from backend import clock
from backend.domain.enums import EntrySource, Section
from backend.files import storage
from backend.models import Entry, Record, StoredFile
from backend.resolvers import export as export_module
from backend.resolvers import fhir
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import jpeg, pdf, upload
from tests.test_export_record import EXPORT, full_record

MOMENT = dt.datetime(2026, 12, 8, 1, 30, 15, 123456, tzinfo=dt.UTC)
BUNDLE_ID = uuid.UUID("0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b")


def whole_json(snapshot: export_module.Snapshot) -> str:
    """The JSON export as it was written before: the tree, base64 and all, by json.dumps."""
    return json.dumps(export_module.as_json(snapshot), ensure_ascii=False, indent=2)


def whole_fhir(snapshot: export_module.Snapshot) -> str:
    """The FHIR export as it was written before: the Bundle, base64 and all, validated and
    written by fhir.resources, its decimals put back, the history added, written by orjson."""
    data = fhir._bundle_data(snapshot)
    written = fhir._decimals_as_given(orjson.loads(Bundle.model_validate(data).model_dump_json()), data)
    history = fhir.history_entries(snapshot)
    if history is not None:
        written["entry"].append(history)
    return orjson.dumps(written).decode()


@pytest.fixture
def one_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export's time and the Bundle's id fixed, so that two exports of the same record
    give the same text."""
    fixed = SimpleNamespace(now=lambda: MOMENT, service_today=clock.service_today)
    monkeypatch.setattr(export_module, "clock", fixed)
    monkeypatch.setattr(fhir, "clock", fixed)
    monkeypatch.setattr(fhir, "uuid", SimpleNamespace(uuid4=lambda: BUNDLE_ID, uuid5=uuid.uuid5))


async def _snapshot(record: Record) -> export_module.Snapshot:
    snapshot = await export_module.load_snapshot(record)
    assert snapshot is not None
    snapshot.history = await export_module.access_history(snapshot.record.id, snapshot.record.event_seq)
    return snapshot


async def _exported(caller: Caller, fmt: str) -> str:
    return str((await caller.gql(EXPORT, {"format": fmt})).ok()["exportMyRecord"]["content"])


async def test_the_texts_are_those_of_the_whole_tree_written_at_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, one_moment: None
) -> None:
    owner, record, caller, files = await full_record(client)
    # Texts JSON writes in more than one way: quotes, a backslash, a line separator (U+2028),
    # characters beyond Latin-1 and beyond the BMP, a control character; a decimal's trailing
    # zero; a correction; an imported entry; a document replaced by a new version; a file that
    # cannot be opened.
    await factories.entry(
        record, Section.MEDICAL_HISTORY, title='Asthme "sévère" \\ suivi\u2028— l’équipe 💊\t\x01',
        condition="Asthme", icd10="J45", notes="Ligne 1\nLigne 2",
    )
    await factories.entry(record, Section.LAB_RESULTS, title="Hémoglobine", value="13.50", unit="g/dL")
    old = await factories.entry(record, Section.ALLERGIES, title="Latex")
    new = await factories.entry(record, Section.ALLERGIES, title="Latex (corrigé)")
    await Entry.filter(id=old.id).update(superseded=True)
    await Entry.filter(id=new.id).update(supersedes_id=old.id)
    await Entry.filter(record_id=record.id, section=Section.VACCINATIONS).update(
        external_id="VAC-42", organization="Centre de vaccination",
    )
    first = (await upload(caller, pdf("version 1"), "cr.pdf", description="Bilan — résumé 🩺")).ok()
    supersedes = first["uploadDocument"]["entry"]["id"]
    (await upload(caller, pdf("version 2"), "cr.pdf", supersedes=supersedes)).ok()
    lost = (await upload(caller, jpeg("illisible"), "photo.jpg", "image/jpeg")).ok()
    lost_file = (await Entry.get(id=lost["uploadDocument"]["entry"]["id"])).file_id  # type: ignore[attr-defined]
    read = storage.read

    async def unreadable(file_id: uuid.UUID, *args: Any) -> bytes:
        if file_id == lost_file:
            raise OSError("the stored file cannot be read")
        return await read(file_id, *args)

    monkeypatch.setattr(export_module.storage, "read", unreadable)
    # A file on an entry of a section without attachments in FHIR (no upload makes one): in the
    # JSON export, not in the Bundle.
    imaging = await factories.entry(record, Section.IMAGING, title="Scanner", modality="CT")
    await _documents(record, 1, 3000)
    stray = await Entry.filter(record_id=record.id, title="Compte rendu 0").first()
    assert stray is not None
    await stray.delete()
    await Entry.filter(id=imaging.id).update(file_id=stray.file_id)  # type: ignore[attr-defined]

    expected = whole_json(await _snapshot(record))
    got = await _exported(caller, "JSON")
    assert got == expected
    data = json.loads(got)
    assert [e["file"]["fileName"] for e in data["sections"]["IMAGING"] if e["file"]] == ["cr-0.pdf"]
    attached = [e["file"] for e in data["sections"]["DOCUMENTS"] if e["file"]]
    assert sorted((f["fileName"], f["unreadable"], f["data"] is None) for f in attached) == [
        ("DOCUMENTS.bin.pdf", False, False), ("cr.pdf", False, False), ("cr.pdf", False, False),
        ("photo.jpg", True, True),
    ]
    assert data["accessHistory"]  # the uploads, at least
    assert "\u2028" in got and "💊" in got

    # The JSON export wrote its event: the Bundle's history holds it.
    expected = whole_fhir(await _snapshot(record))
    got = await _exported(caller, "FHIR")
    assert got == expected
    assert '"value":13.50' in got and "Bilan — résumé 🩺" in got and "urn:dmp:unreadable" in got
    assert sum(1 for item in json.loads(got)["entry"] if item["resource"]["resourceType"] == "AuditEvent") > 1
    for content in [*files.values(), pdf("version 1"), pdf("version 2")]:
        assert got.count(base64.b64encode(content).decode()) == 1


async def _documents(record: Record, count: int, size: int) -> None:
    """`count` documents of `size` random bytes, stored as uploadDocument stores them."""
    for n in range(count):
        file_id = uuid.uuid4()
        content = os.urandom(size)
        sealed = await storage.write(file_id, content)
        stored = await StoredFile.create(
            id=file_id, record=record, content_type="application/pdf", size=size, filename=f"cr-{n}.pdf",
            key_id=sealed.key_id, wrapped_key=sealed.wrapped_key, nonce=sealed.nonce,
        )
        await Entry.create(
            record=record, section=Section.DOCUMENTS, title=f"Compte rendu {n}", code="",
            care_date=dt.date(2026, 1, 1), author_name="Alice", source=EntrySource.PATIENT,
            details={}, file=stored,
        )


@pytest.mark.parametrize("fmt", ["JSON", "FHIR"])
async def test_an_export_holds_its_documents_less_than_three_and_a_half_times_over(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The peak of the memory Python allocates while the export is built (files read, text
    written), against the documents' size: their base64 (4/3) and the export's text (4/3
    again), with a file's bytes or so as it is read: 2.7 to 3.1 here. It was 5.0 for JSON
    (the files' bytes kept beside their base64 in the tree, json.dumps' chunks, the text)
    and 21 for FHIR (validation decoding each file and writing it again, the texts of
    fhir.resources and of orjson)."""
    owner, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="Latex")
    count, size = 8, 512 * 1024
    await _documents(record, count, size)
    caller = Caller(client, session=await session_for(owner))
    peaks: list[int] = []
    build = export_module.export_my_record

    async def measured(*args: Any) -> export_module.ExportFile:
        tracemalloc.start()
        try:
            return await build(*args)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    monkeypatch.setattr(export_module, "export_my_record", measured)
    content = await _exported(caller, fmt)
    assert len(content) > count * size * 4 // 3
    (peak,) = peaks
    assert peak < 3.5 * count * size, peak / (count * size)
