"""Review of GET /files/{entryId}: what a hostile request or a stale link gets, and what is
written for it."""

from __future__ import annotations

from urllib.parse import quote, unquote

import httpx
import pytest

from backend.models import AccessEvent, Entry, Grant, Record, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import download, pdf, upload

MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id masked } }"
REVOKE = "mutation($p: ID!) { revokeAccess(practitionerId: $p) { __typename } }"


async def shared(client: httpx.AsyncClient, content: bytes) -> tuple[Caller, Caller, Record, str]:
    """A patient's document, and a doctor granted DOCUMENTS."""
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    entry_id = (await upload(owner, content, "cr.pdf")).ok()["uploadDocument"]["entry"]["id"]
    account, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    return owner, Caller(client, session=await session_for(account)), record, entry_id


async def actions(record: Record) -> list[str]:
    rows = AccessEvent.filter(record_id=record.id).order_by("seq")
    return list(await rows.values_list("action", flat=True))


async def test_a_range_request_gets_the_whole_document_as_one_download(client: httpx.AsyncClient) -> None:
    """No partial answers: each part would be a download of its own in the history, or none."""
    content = pdf("ranges")
    _, doctor, record, entry_id = await shared(client, content)
    before = len(await actions(record))
    client.headers["range"] = "bytes=0-9"
    try:
        response = await download(doctor, entry_id)
    finally:
        del client.headers["range"]
    assert response.status_code == 200
    assert response.content == content
    assert "content-range" not in response.headers and "accept-ranges" not in response.headers
    assert (await actions(record))[before:] == ["DOCUMENT_DOWNLOADED"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_are_refused_and_write_nothing(client: httpx.AsyncClient, method: str) -> None:
    _, doctor, record, entry_id = await shared(client, pdf())
    before = await actions(record)
    client.cookies.clear()
    for name, value in doctor.cookies().items():
        client.cookies.set(name, value)
    response = await client.request(method, f"/files/{entry_id}", headers=doctor.headers())
    assert response.status_code == 405
    assert b"%PDF" not in response.content
    assert await actions(record) == before


async def test_a_link_kept_after_the_grant_was_revoked_opens_nothing(client: httpx.AsyncClient) -> None:
    owner, doctor, record, entry_id = await shared(client, pdf("revoked"))
    assert (await download(doctor, entry_id)).status_code == 200
    pro = await Grant.get(record_id=record.id).values_list("practitioner_id", flat=True)
    (await owner.gql(REVOKE, {"p": str(pro)})).ok()
    before = await actions(record)
    response = await download(doctor, entry_id)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert b"revoked" not in response.content
    assert (await actions(record))[len(before):] == ["ACCESS_DENIED"]


async def test_masking_the_new_version_hides_the_old_versions_file(client: httpx.AsyncClient) -> None:
    """A corrected document's old file is downloadable while the entry is; masking the
    document masks every version, so the old file is not a way around the mask."""
    owner, doctor, record, v1 = await shared(client, pdf("old version"))
    v2 = (await upload(owner, pdf("new version"), supersedes=v1)).ok()["uploadDocument"]["entry"]["id"]
    assert (await download(doctor, v1)).content == pdf("old version")
    (await owner.gql(MASK, {"id": v2})).ok()
    before = await actions(record)
    for entry_id in (v1, v2):
        response = await download(doctor, entry_id)
        assert response.status_code == 404
        assert b"version" not in response.content
    assert (await actions(record))[len(before):] == ["ACCESS_DENIED", "ACCESS_DENIED"]
    assert (await download(owner, v1)).content == pdf("old version")


@pytest.mark.parametrize(
    "stored",
    [
        'x"; filename="evil.html',
        "x\r\nSet-Cookie: a=b.pdf",
        "x;filename*=UTF-8''evil.html",
        "..\\..\\evil.pdf",
        "%2e%2e%2fevil.pdf",
        "\u202eLMTH.pdf",
    ],
)
async def test_a_hostile_stored_name_gives_one_attachment_header(
    client: httpx.AsyncClient, stored: str
) -> None:
    """A name stored by an older version, or edited in the database, cannot add a header,
    another file name or a direction override to the answer."""
    _, doctor, _, entry_id = await shared(client, pdf())
    entry = await Entry.get(id=entry_id)
    await StoredFile.filter(id=entry.file_id).update(filename=stored)  # type: ignore[attr-defined]
    response = await download(doctor, entry_id)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback, _, exact = disposition.removeprefix('attachment; filename="').partition("\"; filename*=UTF-8''")
    assert '"' not in fallback and ";" not in fallback and "\\" not in fallback
    assert all(32 <= ord(c) < 127 for c in fallback)
    assert exact == quote(unquote(exact), safe="")
    assert "\u202e" not in unquote(exact) and "\r" not in unquote(exact)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
