"""A practitioner refused a write (addEntry, uploadDocument, updateEmergencyProfile) or a
document's download runs the same statements before the history write begins, where the
30 ms floor of the answer starts (errors.NoAccess), whether the INS or the document names
something that exists or not: an existing record's sharing facts are read in the statement
that reads the record (as patientRecord reads them), not by a statement of their own, which
made the refusal of an existing record one statement longer, and its answer later.
A granted write or download is no slower: the sharing facts come with the record there too."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from backend import clock
from backend.audit.collector import AccessLog
from backend.domain.enums import Section
from backend.models import AccessEvent, Entry, Grant, Record
from tests import factories
from tests.care_items import ADD_ENTRY
from tests.conftest import Caller, session_for
from tests.document_samples import download, pdf, upload
from tests.test_authz_reading import count_queries
from tests.test_content_add_entry import medication

PROFILE = ("mutation($input: EmergencyProfileInput!) {"
           " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")
READ = "query($ins: String!) { patientRecord(ins: $ins) { firstName } }"
HISTORY_WRITE = "-- the history write begins --"
# The statement of the per-request loader of sharing facts (authz/loaders.load_sharing).
SHARING_LOOKUP = ' WHERE r."id" IN ('


@pytest.fixture(autouse=True)
def _no_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor itself is tested elsewhere (test_authz_reading): not waited here; and the
    whole test in one hour, the window of the refusals' counter."""
    from backend import downloads
    from backend.schema import extensions

    async def no_wait(since: float) -> None:
        return None

    monkeypatch.setattr(extensions, "answer_no_sooner", no_wait)
    monkeypatch.setattr(downloads, "answer_no_sooner", no_wait)
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


async def _before_history(monkeypatch: pytest.MonkeyPatch, request: Callable[[], Awaitable[Any]]
                          ) -> tuple[Any, list[str]]:
    """The answer, and the statements the request ran before its history write began."""
    flush = AccessLog.flush

    with count_queries() as statements:
        async def marked(log: AccessLog) -> None:
            statements.append(HISTORY_WRITE)
            await flush(log)

        monkeypatch.setattr(AccessLog, "flush", marked)
        try:
            answer = await request()
        finally:
            monkeypatch.setattr(AccessLog, "flush", flush)
    assert HISTORY_WRITE in statements
    return answer, statements[: statements.index(HISTORY_WRITE)]


async def _stranger(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    # The session's first use (touched) and the caller's first refusal this hour (which makes
    # its counter's row) behind it.
    (await caller.gql("{ me { id } }")).ok()
    assert (await caller.gql(READ, {"ins": factories.new_ins()})).codes == ["FORBIDDEN"]
    return caller


async def _denied() -> int:
    return await AccessEvent.filter(action="ACCESS_DENIED").count()


@pytest.mark.parametrize("write", ["addEntry", "uploadDocument", "updateEmergencyProfile"])
async def test_a_refused_write_runs_the_same_statements_for_a_record_and_an_unknown_ins(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    _, record = await factories.patient()
    caller = await _stranger(client)

    async def attempt(ins: str) -> list[str]:
        if write == "addEntry":
            answer = await caller.gql(ADD_ENTRY, {"input": medication(ins)})
        elif write == "uploadDocument":
            answer = await upload(caller, pdf("x"), "cr.pdf", ins=ins)
        else:
            answer = await caller.gql(PROFILE, {"input": {"ins": ins, "bloodGroup": "AB-"}})
        return answer.codes  # type: ignore[no-any-return]

    existing, on_record = await _before_history(monkeypatch, lambda: attempt(record.ins))
    assert existing == ["FORBIDDEN"] and await _denied() == 1
    unknown, on_nothing = await _before_history(monkeypatch, lambda: attempt(factories.new_ins()))
    assert unknown == ["FORBIDDEN"] and await _denied() == 1
    assert on_record == on_nothing
    assert any("rate_counter" in s for s in on_record)
    assert not any(SHARING_LOOKUP in s for s in on_record)
    # Nothing written to the record.
    assert not await Entry.filter(record_id=record.id).exists()
    assert not await Record.filter(id=record.id, blood_group="AB-").exists()


async def test_a_refused_download_runs_the_same_statements_for_a_document_and_none(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    entry_id = (await upload(Caller(client, session=await session_for(owner)), pdf("secret"), "cr.pdf")
                ).ok()["uploadDocument"]["entry"]["id"]
    caller = await _stranger(client)

    refused, on_document = await _before_history(monkeypatch, lambda: download(caller, entry_id))
    assert refused.status_code == 404 and await _denied() == 1
    missing, on_nothing = await _before_history(monkeypatch, lambda: download(caller, str(uuid.uuid4())))
    assert missing.status_code == 404 and await _denied() == 1
    assert refused.json() == missing.json()
    assert on_document == on_nothing
    assert any("rate_counter" in s for s in on_document)
    assert not any(SHARING_LOOKUP in s for s in on_document)


async def test_granted_writes_and_downloads_read_the_sharing_facts_with_the_record(
    client: httpx.AsyncClient,
) -> None:
    """No statement of their own for the sharing facts on the granted paths either: a granted
    addEntry or download runs one statement fewer than it did."""
    owner, record = await factories.patient()
    entry_id = (await upload(Caller(client, session=await session_for(owner)), pdf("secret"), "cr.pdf")
                ).ok()["uploadDocument"]["entry"]["id"]
    account, practitioner = await factories.practitioner()
    await Grant.create(record=record, practitioner=practitioner,
                       sections=[Section.MEDICATIONS.value, Section.DOCUMENTS.value])
    caller = Caller(client, session=await session_for(account))
    (await caller.gql("{ me { id } }")).ok()

    with count_queries() as added:
        (await caller.gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()
    with count_queries() as uploaded:
        (await upload(caller, pdf("new"), "cr2.pdf", ins=record.ins)).ok()
    with count_queries() as downloaded:
        answer = await download(caller, entry_id)
    assert answer.status_code == 200 and answer.content == pdf("secret")
    for statements in (added, uploaded, downloaded):
        assert statements and not any(SHARING_LOOKUP in s for s in statements)
    assert await AccessEvent.filter(record_id=record.id, action="DOCUMENT_DOWNLOADED").count() == 1
