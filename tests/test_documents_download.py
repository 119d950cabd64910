"""GET /files/{entryId}: the entry's access decision, the event before the bytes, safe headers."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import quote

import httpx
import pytest

from backend import accounts, clock
from backend.domain.enums import AccessAction, EmergencyKind, Profession, RecordStatus
from backend.models import (
    AccessEvent,
    Account,
    EmergencySession,
    Entry,
    Grant,
    Practitioner,
    Record,
    StoredFile,
)
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.conftest import Caller, session_for
from tests.document_samples import download, pdf, png, upload


async def uploaded(client: httpx.AsyncClient, content: bytes, name: str = "Résumé été.pdf",
                   section: str = "DOCUMENTS") -> tuple[Account, Record, Caller, str]:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    result = await upload(caller, content, name, section=section)
    entry_id = result.ok()["uploadDocument"]["entry"]["id"]
    return owner, record, caller, entry_id


async def practitioner_with(
    client: httpx.AsyncClient, record: Record, sections: list[str],
    profession: Profession = Profession.MEDECIN,
) -> tuple[Caller, Practitioner]:
    account, pro = await factories.practitioner(profession)
    if sections:
        await Grant.create(record=record, practitioner=pro, sections=sections)
    return Caller(client, session=await session_for(account)), pro


async def events(record: Record) -> list[AccessEvent]:
    return await AccessEvent.filter(record_id=record.id).order_by("seq")


async def test_owner_downloads_with_safe_headers_and_no_event(client: httpx.AsyncClient) -> None:
    content = pdf("owner copy")
    _, record, caller, entry_id = await uploaded(client, content)
    before = len(await events(record))
    response = await download(caller, entry_id)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"R_sum_ _t_.pdf\"; filename*=UTF-8''" + quote("Résumé été.pdf", safe="")
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
    )
    assert response.headers["cache-control"] == "no-store"
    assert len(await events(record)) == before  # the owner's own reads are not events


async def test_a_name_stored_with_invisible_characters_is_sent_without_them(
    client: httpx.AsyncClient,
) -> None:
    """Names stored before uploads cleaned them may hold a direction override: the header
    drops it (`rapport\u202egnp.pdf` would read "rapportfdp.png")."""
    _, record, caller, entry_id = await uploaded(client, pdf("old"))
    entry = await Entry.get(id=entry_id)
    await StoredFile.filter(id=entry.file_id).update(filename="rapport\u202egnp\u200b.pdf")  # type: ignore[attr-defined]
    response = await download(caller, entry_id)
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"rapportgnp.pdf\"; filename*=UTF-8''rapportgnp.pdf"
    )


async def test_granted_practitioner_download_is_an_event(client: httpx.AsyncClient) -> None:
    content = png("granted")
    _, record, _, entry_id = await uploaded(client, content, "scan.png")
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"], Profession.INFIRMIER)
    response = await download(caller, entry_id)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "image/png"
    last = (await events(record))[-1]
    assert last.action == AccessAction.DOCUMENT_DOWNLOADED.value
    assert last.mode == "GRANTED"
    assert last.sections == ["DOCUMENTS"]
    assert last.entry_id == entry_id


async def test_bearer_token_works_like_the_session(client: httpx.AsyncClient) -> None:
    content = pdf("token")
    _, record, _, entry_id = await uploaded(client, content)
    _, pro = await practitioner_with(client, record, ["DOCUMENTS"])
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=pro.rpps)
    response = await download(Caller(client, token=token), entry_id)
    assert response.status_code == 200
    assert response.content == content
    assert (await events(record))[-1].action == AccessAction.DOCUMENT_DOWNLOADED.value


async def test_head_is_refused_and_writes_nothing(client: httpx.AsyncClient) -> None:
    """HEAD sent the document's name and size and wrote a download event, though no content
    left: it is refused before anything is read or written, as no reader needs it."""
    _, record, _, entry_id = await uploaded(client, pdf("head"))
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    before = len(await events(record))
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    response = await client.head(f"/files/{entry_id}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert "content-disposition" not in response.headers
    assert len(await events(record)) == before
    assert (await download(caller, entry_id)).status_code == 200
    assert len(await events(record)) == before + 1


async def test_break_glass_download_is_logged_with_its_mode(client: httpx.AsyncClient) -> None:
    _, record, _, entry_id = await uploaded(client, pdf())
    caller, pro = await practitioner_with(client, record, [])
    now = clock.now()
    await EmergencySession.create(
        record=record, practitioner=pro, kind=EmergencyKind.BREAK_GLASS, reason="inconscient",
        opened_at=now, expires_at=now + dt.timedelta(minutes=60),
    )
    response = await download(caller, entry_id)
    assert response.status_code == 200
    assert (await events(record))[-1].mode == "BREAK_GLASS"


async def test_section_not_shared_is_404_like_a_missing_id(client: httpx.AsyncClient) -> None:
    _, record, _, entry_id = await uploaded(client, pdf("secret"))
    caller, _ = await practitioner_with(client, record, ["MEDICATIONS"], Profession.PHARMACIEN)
    refused = await download(caller, entry_id)
    missing = await download(caller, str(uuid.uuid4()))
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    assert b"secret" not in refused.content
    last = (await events(record))[-1]
    assert last.action == AccessAction.ACCESS_DENIED.value
    assert last.entry_id is None


async def test_lab_document_follows_the_lab_results_section(client: httpx.AsyncClient) -> None:
    _, record, _, entry_id = await uploaded(client, pdf(), section="LAB_RESULTS")
    docs_only, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    lab, _ = await practitioner_with(client, record, ["LAB_RESULTS"], Profession.BIOLOGISTE)
    assert (await download(docs_only, entry_id)).status_code == 404
    assert (await download(lab, entry_id)).status_code == 200


async def test_masked_entry_is_404_except_for_owner_and_treating_physician(
    client: httpx.AsyncClient,
) -> None:
    content = pdf("masked")
    owner, record, owner_caller, entry_id = await uploaded(client, content)
    await Entry.filter(id=entry_id).update(masked=True)
    granted, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    physician, physician_pro = await practitioner_with(client, record, [])
    await Record.filter(id=record.id).update(treating_physician_id=physician_pro.id)
    refused = await download(granted, entry_id)
    missing = await download(granted, str(uuid.uuid4()))
    assert refused.status_code == 404
    assert refused.json() == missing.json()
    assert (await download(owner_caller, entry_id)).content == content
    response = await download(physician, entry_id)
    assert response.status_code == 200 and response.content == content
    assert (await events(record))[-1].mode == "TREATING_PHYSICIAN"


async def test_masked_entry_stays_visible_to_its_author_while_they_may_read(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    author, pro = await practitioner_with(client, record, ["DOCUMENTS"])
    result = await upload(author, pdf("mine"), ins=record.ins)
    entry_id = result.ok()["uploadDocument"]["entry"]["id"]
    await Entry.filter(id=entry_id).update(masked=True)
    assert (await download(author, entry_id)).status_code == 200
    await Grant.filter(practitioner_id=pro.id).update(sections=["MEDICATIONS"])
    assert (await download(author, entry_id)).status_code == 404


async def test_closed_record_is_404_for_practitioners_but_not_the_owner(
    client: httpx.AsyncClient,
) -> None:
    content = pdf()
    _, record, owner_caller, entry_id = await uploaded(client, content)
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    assert (await download(caller, entry_id)).status_code == 404
    assert (await download(owner_caller, entry_id)).content == content


async def test_other_patient_gets_404(client: httpx.AsyncClient) -> None:
    _, _, _, entry_id = await uploaded(client, pdf())
    stranger, _ = await factories.patient()
    response = await download(Caller(client, session=await session_for(stranger)), entry_id)
    assert response.status_code == 404


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_unknown_ids_are_404(client: httpx.AsyncClient, bad_id: str) -> None:
    owner, _ = await factories.patient()
    response = await download(Caller(client, session=await session_for(owner)), bad_id)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_anonymous_and_bad_tokens_are_401(client: httpx.AsyncClient) -> None:
    _, record, _, entry_id = await uploaded(client, pdf())
    before = len(await events(record))
    anonymous = await download(Caller(client), entry_id)
    bad = await download(Caller(client, token="dmp_not-a-real-token"), entry_id)
    assert anonymous.status_code == bad.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(await events(record)) == before


async def test_no_bytes_when_the_event_cannot_be_written(client: httpx.AsyncClient) -> None:
    content = pdf("withheld")
    _, record, _, entry_id = await uploaded(client, content)
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    before = len(await events(record))
    async with access_event_writes_fail():
        response = await download(caller, entry_id)
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert b"withheld" not in response.content
    assert "content-disposition" not in response.headers
    assert len(await events(record)) == before
