"""GET /files/{entryId}: the entry's access decision, the event before the bytes, safe headers."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from urllib.parse import quote

import httpx
import pytest

from backend import accounts, clock, config
from backend.app import create_app
from backend.domain.enums import AccessAction, EmergencyKind, Profession, RecordStatus
from backend.files import storage
from backend.models import (
    AccessEvent,
    Account,
    EmergencySession,
    Entry,
    Grant,
    Practitioner,
    RateCounter,
    Record,
    StoredFile,
)
from backend.resolvers import documents
from backend.resolvers.context import Context
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.conftest import ORIGIN, Caller, session_for
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
    assert response.headers["cross-origin-resource-policy"] == "same-origin"
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


async def fetched_from(caller: Caller, entry_id: str, site: str | None) -> httpx.Response:
    """A download as a browser sends it: `Sec-Fetch-Site` says whose page asked for it."""
    caller.client.cookies.clear()
    for name, value in caller.cookies().items():
        caller.client.cookies.set(name, value)
    headers = {k: v for k, v in caller.headers().items() if k != "origin"}
    if site is not None:
        headers["sec-fetch-site"] = site
    return await caller.client.get(f"/files/{entry_id}", headers=headers)


async def counters() -> list[tuple[str, int]]:
    return sorted(await RateCounter.all().values_list("key", "count"))


@pytest.mark.parametrize("site", ["same-site", "cross-site"])
async def test_a_cookie_download_another_origins_page_asked_for_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, site: str,
) -> None:
    """SameSite=Strict sends the cookie from a page of the same site on another origin (another
    port, a sibling subdomain): its `<img src="/files/…">` loaded the document and wrote a
    download under the practitioner's name. Refused before anything is decided: no download,
    no denied attempt, no refusal counted."""
    content = pdf("embedded")
    _, record, owner, entry_id = await uploaded(client, content)
    granted, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    refused_anyway, _ = await practitioner_with(client, record, ["MEDICATIONS"])
    before = len(await events(record))
    counted = await counters()
    for caller in (granted, refused_anyway, owner):
        response = await fetched_from(caller, entry_id, site)
        assert response.status_code == 403
        [error] = response.json()["errors"]
        assert error == {"message": "Cross-origin request refused", "extensions": {"code": "FORBIDDEN"}}
        assert b"embedded" not in response.content
        assert "content-disposition" not in response.headers
        assert response.headers["cache-control"] == "no-store"
    assert len(await events(record)) == before
    assert await counters() == counted


@pytest.mark.parametrize("site", ["same-origin", "none", None])
async def test_the_services_own_pages_and_a_typed_address_download_as_before(
    client: httpx.AsyncClient, site: str | None,
) -> None:
    """The page's own links (`same-origin`), an address typed or a bookmark (`none`), and a
    client that does not say (no header)."""
    content = pdf("own page")
    _, record, owner, entry_id = await uploaded(client, content)
    granted, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    before = len(await events(record))
    response = await fetched_from(granted, entry_id, site)
    assert response.status_code == 200 and response.content == content
    assert len(await events(record)) == before + 1
    assert (await events(record))[-1].action == AccessAction.DOCUMENT_DOWNLOADED.value
    assert (await fetched_from(owner, entry_id, site)).content == content


async def test_a_bearer_token_is_not_asked_whose_page_sent_it(client: httpx.AsyncClient) -> None:
    """A partner application's token is sent by the application, not by a page the cookie
    follows: whatever it says of the site, as before (a cookie beside it is not read)."""
    content = pdf("partner")
    _, record, owner, entry_id = await uploaded(client, content)
    _, pro = await practitioner_with(client, record, ["DOCUMENTS"])
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=pro.rpps)
    partner = Caller(client, token=token, session=owner.session)
    response = await fetched_from(partner, entry_id, "cross-site")
    assert response.status_code == 200 and response.content == content
    assert (await events(record))[-1].action == AccessAction.DOCUMENT_DOWNLOADED.value


DELETE = "mutation($id: ID!) { deleteEntry(id: $id) }"


async def test_a_document_deleted_after_the_decision_is_404_and_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """The owner deletes the document between a practitioner's access decision and the file's
    read: an unknown document now (404, as one), no download written, and no error logged
    (it was a 500 with an ERROR and its traceback)."""
    _, record, owner, entry_id = await uploaded(client, pdf("deleted"))
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    decide = documents.open_download
    other = httpx.ASGITransport(app=create_app(config.settings(), outbox_worker=False))

    async def decided_then_deleted(ctx: Context, asked: str) -> documents.Download:
        decided = await decide(ctx, asked)
        async with httpx.AsyncClient(transport=other, base_url=ORIGIN) as elsewhere:
            assert (await Caller(elsewhere, session=owner.session).gql(DELETE, {"id": asked})).ok()
        return decided

    monkeypatch.setattr(documents, "open_download", decided_then_deleted)
    before = [(e.seq, e.action) for e in await events(record)]
    with caplog.at_level(logging.INFO, logger="dmp"):
        response = await download(caller, entry_id)
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert error == {"message": "No such document", "extensions": {"code": "NOT_FOUND"}}
    assert b"deleted" not in response.content
    # Only the owner's deletion was written: no download.
    assert [(e.seq, e.action) for e in await events(record)] == [
        *before, (before[-1][0] + 1, AccessAction.ENTRY_DELETED.value)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert [r.levelname for r in caplog.records if r.name == "dmp.downloads"] == ["WARNING"]


async def test_a_missing_file_of_a_document_still_held_stays_an_error(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture,
) -> None:
    """Its row is there and its file is not: the data folder lost it, which an operator must
    hear of (500, an ERROR), not an unknown document."""
    _, record, _, entry_id = await uploaded(client, pdf("lost"))
    caller, _ = await practitioner_with(client, record, ["DOCUMENTS"])
    entry = await Entry.get(id=entry_id)
    storage.path_of(entry.file_id).unlink()  # type: ignore[attr-defined]
    before = len(await events(record))
    with caplog.at_level(logging.INFO, logger="dmp"):
        response = await download(caller, entry_id)
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert len(await events(record)) == before
    [logged] = [r for r in caplog.records if r.name == "dmp.downloads"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
