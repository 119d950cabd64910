"""uploadDocument(supersedes: …): a document is corrected by uploading its new version, with the
rules of addEntry's corrections; the old version keeps its file. addEntry does not correct an
entry that holds a file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest

from backend.domain.enums import Profession
from backend.models import AccessEvent, Account, Entry, Grant, OutboxMessage, Practitioner, Record, StoredFile
from tests import factories
from tests.care_items import ADD_ENTRY
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import download, files_on_disk, pdf
from tests.test_content_races import before_the_lock, in_line

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()

UPLOAD = """
mutation Upload($file: Upload!, $title: String!, $section: Section!, $ins: String, $supersedes: ID) {
  uploadDocument(file: $file, title: $title, section: $section, ins: $ins, supersedes: $supersedes) {
    entry {
      id section title masked supersedes superseded
      ... on DocumentEntry { fileName contentType size downloadUrl }
      ... on LabResultEntry { fileName contentType downloadUrl }
    }
  }
}
"""

DOCUMENTS = """query ($ins: String!, $all: Boolean!) {
  patientRecord(ins: $ins) { documents(includeSuperseded: $all) { totalCount edges { node {
    id title supersedes superseded ... on DocumentEntry { fileName downloadUrl } } } } } }"""

MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id masked } }"


async def send(
    caller: Caller, content: bytes, *, title: str = "Compte rendu", section: str = "DOCUMENTS",
    name: str = "cr.pdf", **variables: Any,
) -> GraphQLResult:
    """A GraphQL multipart upload whose operation takes `supersedes`."""
    caller.client.cookies.clear()
    for key, value in caller.cookies().items():
        caller.client.cookies.set(key, value)
    operations = {"query": UPLOAD, "variables": {"file": None, "title": title, "section": section,
                                                 **variables}}
    response = await caller.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content, "application/pdf")},
        headers={**caller.headers(), "x-dmp-client": "dmp-web"},
    )
    return GraphQLResult(response)


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def treated(client: httpx.AsyncClient) -> tuple[Caller, Caller, Record]:
    """A record, its owner, and its treating physician."""
    patient, record = await factories.patient()
    doctor, physician = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=physician.id)
    return await _as(client, patient), await _as(client, doctor), record


async def physician_of(record: Record) -> Account:
    physician = await Practitioner.get(
        id=(await Record.get(id=record.id)).treating_physician_id)  # type: ignore[attr-defined]
    return await Account.get(id=physician.account_id)  # type: ignore[attr-defined]


def _id(result: GraphQLResult) -> str:
    return str(result.ok()["uploadDocument"]["entry"]["id"])


async def _events(record: Record) -> list[tuple[str, str | None, list[str], str | None]]:
    return [(e.action, e.mode, e.sections, e.entry_id)
            for e in await AccessEvent.filter(record_id=record.id).order_by("seq")]


async def _written(record: Record) -> tuple[Any, ...]:
    """Everything a refused replacement must leave as it was."""
    entries = sorted((str(e.id), e.superseded, e.masked, str(e.file_id))  # type: ignore[attr-defined]
                     for e in await Entry.filter(record_id=record.id))
    return (entries, await StoredFile.filter(record_id=record.id).count(), files_on_disk(),
            await _events(record), await OutboxMessage.all().count())


async def test_a_document_replaced_by_upload_keeps_its_old_version_and_file(
    client: httpx.AsyncClient,
) -> None:
    _, doctor, record = await treated(client)
    await Record.filter(id=record.id).update(notify_new_documents=True)
    v1 = _id(await send(doctor, pdf("first"), title="Compte rendu opératiore", ins=record.ins))

    result = await send(doctor, pdf("second, fixed"), title="Compte rendu opératoire", ins=record.ins,
                        supersedes=v1, name="cr-v2.pdf")
    entry = result.ok()["uploadDocument"]["entry"]
    v2 = entry["id"]
    assert entry["supersedes"] == v1 and entry["superseded"] is False
    assert entry["title"] == "Compte rendu opératoire"
    assert entry["fileName"] == "cr-v2.pdf" and entry["downloadUrl"] == f"/files/{v2}"
    assert entry["size"] == len(pdf("second, fixed"))
    # The events and notices of an upload, for each version.
    assert await _events(record) == [
        ("ENTRY_ADDED", "TREATING_PHYSICIAN", ["DOCUMENTS"], v1),
        ("ENTRY_ADDED", "TREATING_PHYSICIAN", ["DOCUMENTS"], v2),
    ]
    assert await OutboxMessage.filter(subject__contains="nouveau document").count() == 2

    # The current list shows the new version, with its file.
    current = (await doctor.gql(DOCUMENTS, {"ins": record.ins, "all": False})).ok()
    nodes = [e["node"] for e in current["patientRecord"]["documents"]["edges"]]
    assert [(n["id"], n["fileName"], n["downloadUrl"]) for n in nodes] == [
        (v2, "cr-v2.pdf", f"/files/{v2}")]
    # The old one is in the history, superseded, still with its own file.
    history = (await doctor.gql(DOCUMENTS, {"ins": record.ins, "all": True})).ok()
    nodes = [e["node"] for e in history["patientRecord"]["documents"]["edges"]]
    old = next(n for n in nodes if n["id"] == v1)
    assert len(nodes) == 2 and old["superseded"] is True
    assert (old["fileName"], old["downloadUrl"]) == ("cr.pdf", f"/files/{v1}")
    rows = {str(e.id): e for e in await Entry.filter(record_id=record.id)}
    assert rows[v1].file_id != rows[v2].file_id  # type: ignore[attr-defined]

    # Both files are held, and counted against the record's room.
    assert await StoredFile.filter(record_id=record.id).count() == 2
    assert {str(rows[v].file_id) for v in (v1, v2)} <= files_on_disk()  # type: ignore[attr-defined]
    first, second = await download(doctor, v1), await download(doctor, v2)
    assert (first.status_code, first.content) == (200, pdf("first"))
    assert (second.status_code, second.content) == (200, pdf("second, fixed"))


@pytest.mark.usefixtures("one_mb_per_record")
async def test_the_old_version_still_counts_against_the_room(client: httpx.AsyncClient) -> None:
    owner, _, record = await treated(client)
    v1 = _id(await send(owner, pdf("a" * 400_000)))
    v2 = _id(await send(owner, pdf("b" * 400_000), supersedes=v1))
    before = await _written(record)
    refused = await send(owner, pdf("c" * 400_000), supersedes=v2)
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    assert await _written(record) == before
    assert (await Entry.get(id=v2)).superseded is False


async def test_a_masked_version_makes_its_replacement_masked(client: httpx.AsyncClient) -> None:
    owner, _, record = await treated(client)
    v1 = _id(await send(owner, pdf("first")))
    (await owner.gql(MASK, {"id": v1})).ok()
    entry = (await send(owner, pdf("second"), supersedes=v1)).ok()["uploadDocument"]["entry"]
    assert entry["masked"] is True
    assert (await Entry.get(id=entry["id"])).masked is True


async def test_a_masking_committed_before_the_lock_masks_the_replacement(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, doctor, record = await treated(client)
    v1 = _id(await send(doctor, pdf("first"), ins=record.ins))

    async def mask() -> None:
        (await owner.gql(MASK, {"id": v1})).ok()

    ran = before_the_lock(monkeypatch, mask)
    v2 = _id(await send(doctor, pdf("second"), ins=record.ins, supersedes=v1))
    assert ran == [True]
    assert [e.masked for e in await Entry.filter(id__in=[v1, v2])] == [True, True]


async def test_refused_replacements_write_nothing(client: httpx.AsyncClient) -> None:
    owner, doctor, record = await treated(client)
    nurse_account, nurse = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=nurse, sections=["DOCUMENTS"])
    nurse_caller = await _as(client, nurse_account)
    document = _id(await send(doctor, pdf("doc"), ins=record.ins))
    lab = _id(await send(doctor, pdf("lab"), ins=record.ins, section="LAB_RESULTS"))
    masked = _id(await send(doctor, pdf("masked"), ins=record.ins))
    (await owner.gql(MASK, {"id": masked})).ok()
    own = _id(await send(owner, pdf("own")))
    replaced = _id(await send(owner, pdf("old")))
    _id(await send(owner, pdf("new"), supersedes=replaced))
    _, other_record = await factories.patient()
    foreign = await factories.entry(other_record, "DOCUMENTS", author=await physician_of(record))

    cases: list[tuple[Caller, dict[str, Any], str, str | None]] = [
        (doctor, {"supersedes": str(uuid.uuid4())}, "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        (doctor, {"supersedes": "not-an-id"}, "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        (doctor, {"supersedes": str(foreign.id)}, "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        # Entries the nurse may not see: answered as unknown ones, not as someone else's.
        (nurse_caller, {"supersedes": masked}, "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        (nurse_caller, {"supersedes": lab}, "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        (nurse_caller, {"supersedes": document}, "FORBIDDEN", None),
        (owner, {"supersedes": document}, "FORBIDDEN", None),
        (doctor, {"supersedes": own}, "FORBIDDEN", None),
        (doctor, {"supersedes": document, "section": "LAB_RESULTS"}, "BAD_USER_INPUT",
         "CORRECTION_OTHER_SECTION"),
        (owner, {"supersedes": replaced}, "CONFLICT", None),
    ]
    before = await _written(record)
    for caller, variables, code, reason in cases:
        if caller is not owner:
            variables = {"ins": record.ins, **variables}
        result = await send(caller, pdf("refused"), **variables)
        assert result.codes == [code], (variables, result.errors)
        assert result.errors[0]["extensions"].get("reason") == reason, variables
        assert await _written(record) == before, variables


async def test_of_two_replacements_sent_at_once_one_wins(client: httpx.AsyncClient) -> None:
    owner, _, record = await treated(client)
    before = files_on_disk()
    v1 = _id(await send(owner, pdf("first")))
    results = await asyncio.gather(*(
        send(owner, pdf(marker), title=marker, supersedes=v1) for marker in ("A", "B")))
    assert sorted(str(r.codes) for r in results) == ["['CONFLICT']", "[]"]
    winner = next(_id(r) for r in results if not r.errors)
    rows = {str(e.id): e for e in await Entry.filter(record_id=record.id)}
    assert set(rows) == {v1, winner}
    files = {str(e.file_id) for e in rows.values()}  # type: ignore[attr-defined]
    assert files_on_disk() - before == files  # the loser's file is not left behind
    assert await StoredFile.filter(record_id=record.id).count() == 2
    assert [e[3] for e in await _events(record)] == [v1, winner]


async def test_a_replacement_committed_before_the_lock_refuses_the_other(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pass the first check; the one that takes the lock second finds the entry
    already replaced, and writes nothing."""
    owner, _, record = await treated(client)
    before = files_on_disk()
    v1 = _id(await send(owner, pdf("first")))
    won: list[str] = []

    async def replace() -> None:
        won.append(_id(await send(owner, pdf("meanwhile"), supersedes=v1)))

    ran = before_the_lock(monkeypatch, replace)
    late = await send(owner, pdf("late"), supersedes=v1)
    assert ran == [True]
    assert late.codes == ["CONFLICT"]
    rows = {str(e.id): e for e in await Entry.filter(record_id=record.id)}
    assert set(rows) == {v1, *won}
    assert files_on_disk() - before == {str(e.file_id) for e in rows.values()}  # type: ignore[attr-defined]
    assert [e[3] for e in await _events(record)] == [v1, *won]


@pytest.mark.postgres
async def test_two_replacements_queued_on_the_record_lock_one_wins(client: httpx.AsyncClient) -> None:
    owner, _, record = await treated(client)
    before = files_on_disk()
    v1 = _id(await send(owner, pdf("first")))
    one, two = await in_line(
        record, lambda: send(owner, pdf("A"), supersedes=v1), lambda: send(owner, pdf("B"), supersedes=v1))
    assert (one.codes, two.codes) == ([], ["CONFLICT"])
    rows = {str(e.id): e for e in await Entry.filter(record_id=record.id)}
    assert set(rows) == {v1, _id(one)}
    assert files_on_disk() - before == {str(e.file_id) for e in rows.values()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("section", ["DOCUMENTS", "LAB_RESULTS"])
async def test_add_entry_does_not_correct_an_entry_holding_a_file(
    client: httpx.AsyncClient, section: str
) -> None:
    _, doctor, record = await treated(client)
    document = _id(await send(doctor, pdf("doc"), ins=record.ins, section=section))
    before = await _written(record)
    result = await doctor.gql(ADD_ENTRY, {"input": {
        "ins": record.ins, "section": section, "title": "Titre corrigé", "date": YESTERDAY,
        "supersedes": document}})
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"] == {"code": "BAD_USER_INPUT",
                                              "reason": "DOCUMENT_REPLACED_BY_UPLOAD"}
    assert "uploadDocument(supersedes" in result.errors[0]["message"]
    assert await _written(record) == before
    # The document still shows, with its file.
    current = (await doctor.gql(DOCUMENTS, {"ins": record.ins, "all": False})).ok()
    if section == "DOCUMENTS":
        [node] = [e["node"] for e in current["patientRecord"]["documents"]["edges"]]
        assert (node["id"], node["downloadUrl"]) == (document, f"/files/{document}")


async def test_an_entry_without_a_file_is_corrected_either_way(client: httpx.AsyncClient) -> None:
    """A DOCUMENTS entry written with addEntry holds no file: addEntry corrects it, and an
    upload may give its next version a file."""
    _, doctor, record = await treated(client)

    def entry(**over: Any) -> dict[str, Any]:
        return {"input": {"ins": record.ins, "section": "DOCUMENTS", "title": "Courrier",
                          "date": YESTERDAY, **over}}

    v1 = (await doctor.gql(ADD_ENTRY, entry())).ok()["addEntry"]["entry"]["id"]
    v2 = (await doctor.gql(ADD_ENTRY, entry(supersedes=v1))).ok()["addEntry"]["entry"]["id"]
    v3 = (await send(doctor, pdf("letter"), ins=record.ins, supersedes=v2)).ok()["uploadDocument"]["entry"]
    assert v3["supersedes"] == v2 and v3["downloadUrl"] == f"/files/{v3['id']}"
    assert [e.superseded for e in await Entry.filter(id__in=[v1, v2])] == [True, True]
