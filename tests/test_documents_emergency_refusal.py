"""A masked document refused to a practitioner in an emergency access is written with that
access's mode: the patient's history shows the refusal among the emergency's events."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import AccessAction, EmergencyKind
from backend.models import AccessEvent, EmergencySession, Entry
from tests.document_samples import download, pdf
from tests.test_documents_download import practitioner_with, uploaded


async def test_a_masked_document_refused_in_break_glass_is_written_in_its_mode(
    client: httpx.AsyncClient,
) -> None:
    _, record, _, entry_id = await uploaded(client, pdf("masqué"))
    await Entry.filter(id=entry_id).update(masked=True)
    caller, pro = await practitioner_with(client, record, [])
    now = clock.now()
    await EmergencySession.create(
        record=record, practitioner=pro, kind=EmergencyKind.BREAK_GLASS, reason="inconscient",
        opened_at=now, expires_at=now + dt.timedelta(minutes=60),
    )
    before = await AccessEvent.filter(record_id=record.id).count()
    refused = await download(caller, entry_id)
    assert refused.status_code == 404
    events = await AccessEvent.filter(record_id=record.id).order_by("seq")
    assert len(events) == before + 1
    last = events[-1]
    assert last.action == AccessAction.ACCESS_DENIED
    assert last.mode == "BREAK_GLASS"  # it had none: shown apart from the emergency
    assert last.entry_id is None  # a refusal names no document


async def test_a_masked_document_refused_to_a_granted_practitioner_keeps_no_mode(
    client: httpx.AsyncClient,
) -> None:
    _, record, _, entry_id = await uploaded(client, pdf("masqué"))
    await Entry.filter(id=entry_id).update(masked=True)
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    assert (await download(caller, entry_id)).status_code == 404
    last = (await AccessEvent.filter(record_id=record.id).order_by("-seq").first())
    assert last is not None and last.action == AccessAction.ACCESS_DENIED and last.mode is None
