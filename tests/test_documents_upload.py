"""uploadDocument: who may upload where, recognition by content, nothing stored on refusal."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import json
import threading
import warnings
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from backend import config
from backend.domain.enums import AccessAction, Profession, RecordStatus
from backend.files import sniffing
from backend.models import AccessEvent, Entry, Grant, OutboxMessage, Record, StoredFile
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import _chunk, download, files_on_disk, jpeg, nothing_stored, pdf, png, upload


async def patient_caller(client: httpx.AsyncClient) -> tuple[Caller, Record]:
    account, record = await factories.patient()
    return Caller(client, session=await session_for(account)), record


async def test_patient_uploads_a_pdf_into_documents(client: httpx.AsyncClient) -> None:
    caller, record = await patient_caller(client)
    result = await upload(
        caller, pdf(), "Compte rendu opératoire.pdf", title="Compte rendu", documentType="Compte rendu",
        description="Opération du genou", date="2024-03-02",
    )
    entry = result.ok()["uploadDocument"]["entry"]
    assert entry["section"] == "DOCUMENTS"
    assert entry["title"] == "Compte rendu"
    assert entry["date"] == "2024-03-02"
    assert entry["source"] == "PATIENT"
    assert entry["masked"] is False
    assert entry["contentType"] == "application/pdf"
    assert entry["size"] == len(pdf())
    assert entry["fileName"] == "Compte rendu opératoire.pdf"
    assert entry["documentType"] == "Compte rendu"
    assert entry["description"] == "Opération du genou"
    assert entry["downloadUrl"] == f"/files/{entry['id']}"
    stored = await StoredFile.get(record_id=record.id)
    assert (config.settings().files_dir / str(stored.id)).exists()
    event = await AccessEvent.get(record_id=record.id)
    assert event.action == AccessAction.ENTRY_ADDED.value
    assert event.mode == "OWNER"
    assert event.entry_id == entry["id"]
    assert event.sections == ["DOCUMENTS"]


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        (png(), "application/pdf", "image/png"),
        (jpeg(), "text/plain", "image/jpeg"),
        (pdf(), "image/png", "application/pdf"),
    ],
)
async def test_type_comes_from_the_content_and_the_name_follows_it(
    client: httpx.AsyncClient, content: bytes, declared: str, expected: str
) -> None:
    caller, _ = await patient_caller(client)
    result = await upload(caller, content, "../../etc/résultat.txt", declared, section="LAB_RESULTS")
    entry = result.ok()["uploadDocument"]["entry"]
    assert entry["section"] == "LAB_RESULTS"
    assert entry["contentType"] == expected
    assert entry["downloadUrl"] == f"/files/{entry['id']}"
    stored = await StoredFile.get()
    assert stored.content_type == expected
    # No path survives, and the extension matches what the bytes are.
    assert "/" not in stored.filename
    assert stored.filename.startswith("résultat.txt.")
    assert stored.filename.endswith({"image/png": ".png", "image/jpeg": ".jpg",
                                     "application/pdf": ".pdf"}[expected])


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("rapport\u202egnp.pdf", "rapportgnp.pdf"),  # shown as "rapportfdp.png" with the override
        ("a\u2066b\u2069\u200bc\u200d\ufeff.pdf", "abc.pdf"),  # isolates, zero-width characters
        ("c1\x85\x9bcontrols.pdf", "c1 controls.pdf"),  # NEL is a line break, CSI goes
        ("line\u2028one\u2029two.pdf", "line one two.pdf"),
        ("\u202e\u200b", "document.pdf"),
    ],
)
async def test_the_stored_name_keeps_no_invisible_or_direction_character(
    client: httpx.AsyncClient, name: str, kept: str
) -> None:
    caller, _ = await patient_caller(client)
    entry = (await upload(caller, pdf(), name)).ok()["uploadDocument"]["entry"]
    assert entry["fileName"] == kept
    assert (await StoredFile.get()).filename == kept
    response = await download(caller, entry["id"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.endswith("filename*=UTF-8''" + quote(kept, safe=""))


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4 just kidding, plain text", "fake.pdf"),
        (b"<html><body>hi</body></html>", "page.png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "broken.jpg"),
        (b"", "empty.pdf"),
    ],
)
async def test_unrecognised_content_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, content: bytes, name: str
) -> None:
    caller, record = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, content, name, "application/pdf")
    assert result.codes == ["BAD_USER_INPUT"]
    assert "PDF, JPEG or PNG" in result.errors[0]["message"] or "empty" in result.errors[0]["message"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


@pytest.mark.parametrize(
    ("content", "name"),
    [
        # The probe's files: 4-byte APP0 segments, and empty tEXt chunks (20 MB took seconds).
        (b"\xff\xd8" + b"\xff\xe0\x00\x02" * 5_000_000, "segments.jpg"),
        (png()[:33] + _chunk(b"tEXt", b"") * 1_700_000 + png()[33:], "chunks.png"),
    ],
)
async def test_a_file_of_millions_of_segments_is_refused_unwalked(
    client: httpx.AsyncClient, content: bytes, name: str
) -> None:
    caller, record = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, content, name, "image/jpeg")
    assert result.codes == ["BAD_USER_INPUT"]
    assert "more than" in result.errors[0]["message"]
    assert "PDF, JPEG or PNG" in result.errors[0]["message"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_the_type_is_checked_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the check runs, the loop still answers other requests' coroutines."""
    caller, _ = await patient_caller(client)
    checking, answered = threading.Event(), threading.Event()
    answered_while_checking: list[bool] = []

    def slow_sniff(data: bytes) -> str:
        checking.set()
        # On the loop, nothing could answer: 5 s, then the failure.
        answered_while_checking.append(answered.wait(timeout=5))
        return sniffing.sniff(data)

    async def another_request() -> None:
        while not checking.is_set():
            await asyncio.sleep(0.01)
        answered.set()

    monkeypatch.setattr("backend.resolvers.documents.sniff", slow_sniff)
    result, _ = await asyncio.gather(upload(caller, pdf()), another_request())
    assert answered_while_checking == [True]
    assert result.ok()["uploadDocument"]["entry"]["contentType"] == "application/pdf"


async def test_a_file_over_20_mb_is_refused(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    # A valid PDF made one byte too large by padding inside a comment.
    body = pdf()
    big = body[:9] + b"%" + b"x" * (20 * 1024 * 1024 - len(body)) + b"\n" + body[9:]
    assert len(big) > 20 * 1024 * 1024
    result = await upload(caller, big, "big.pdf")
    assert result.codes == ["BAD_USER_INPUT"]
    assert "20 MB" in result.errors[0]["message"]
    await nothing_stored(before)


async def test_multipart_without_the_client_header_is_refused(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, pdf(), client_header=False)
    assert result.status == 400
    assert result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)


@pytest.mark.parametrize("section", ["VACCINATIONS", "MEDICATIONS", "EMERGENCY"])
async def test_patient_may_upload_only_to_documents_and_lab_results(
    client: httpx.AsyncClient, section: str
) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, pdf(), section=section)
    assert result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)


async def test_closed_record_refuses_uploads(client: httpx.AsyncClient) -> None:
    caller, record = await patient_caller(client)
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    before = files_on_disk()
    result = await upload(caller, pdf())
    assert result.codes == ["FORBIDDEN"]
    await nothing_stored(before)


async def test_patient_cannot_upload_into_another_record(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    _, other = await factories.patient()
    before = files_on_disk()
    result = await upload(caller, pdf(), ins=other.ins)
    assert result.codes == ["FORBIDDEN"]
    await nothing_stored(before)


@pytest.mark.parametrize(
    ("title", "extra"),
    [("   ", {}), ("x" * 301, {}), ("ok", {"date": (dt.date.today() + dt.timedelta(days=2)).isoformat()}),
     ("ok", {"description": "d" * 2001})],
)
async def test_invalid_fields_are_refused(
    client: httpx.AsyncClient, title: str, extra: dict[str, str]
) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, pdf(), title=title, **extra)
    assert result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)


async def test_anonymous_upload_is_unauthenticated(client: httpx.AsyncClient) -> None:
    before = files_on_disk()
    result = await upload(Caller(client), pdf())
    assert result.codes == ["UNAUTHENTICATED"]
    await nothing_stored(before)


async def test_granted_practitioner_uploads_and_the_patient_is_emailed(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    await Record.filter(id=record.id).update(notify_new_documents=True)
    account, pro = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    caller = Caller(client, session=await session_for(account))
    result = await upload(caller, pdf(), ins=record.ins, title="Compte rendu de soins infirmiers")
    entry = result.ok()["uploadDocument"]["entry"]
    assert entry["source"] == "PRACTITIONER"
    assert entry["masked"] is None  # only the owner is told
    assert entry["author"] == {"displayName": account.display_name, "profession": "infirmier"}
    event = await AccessEvent.get(record_id=record.id, action=AccessAction.ENTRY_ADDED.value)
    assert event.mode == "GRANTED"
    assert event.entry_id == entry["id"]
    mails = await OutboxMessage.filter(record_id=record.id, subject__contains="nouveau document")
    assert len(mails) == 1
    assert mails[0].recipient == owner.email
    # No medical content in the notice.
    assert "infirmier" not in mails[0].body and "Compte rendu" not in mails[0].body


async def test_no_email_when_the_patient_did_not_opt_in_or_uploads_themselves(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    account, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    pro_caller = Caller(client, session=await session_for(account))
    upload_result = await upload(pro_caller, pdf(), ins=record.ins)
    upload_result.ok()
    await Record.filter(id=record.id).update(notify_new_documents=True)
    own = await upload(Caller(client, session=await session_for(owner)), pdf())
    own.ok()
    assert await OutboxMessage.filter(subject__contains="nouveau document").count() == 0


async def test_practitioner_needs_the_ins(client: httpx.AsyncClient) -> None:
    account, _ = await factories.practitioner()
    before = files_on_disk()
    result = await upload(Caller(client, session=await session_for(account)), pdf())
    assert result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)


@pytest.mark.parametrize("sections", [[], ["LAB_RESULTS"]])
async def test_practitioner_without_a_grant_for_the_section_is_forbidden(
    client: httpx.AsyncClient, sections: list[str]
) -> None:
    _, record = await factories.patient()
    account, pro = await factories.practitioner()
    if sections:
        await Grant.create(record=record, practitioner=pro, sections=sections)
    before = files_on_disk()
    result = await upload(Caller(client, session=await session_for(account)), pdf(), ins=record.ins)
    assert result.codes == ["FORBIDDEN"]
    # Without any access, the words of an unknown INS: nothing tells that the record exists.
    assert result.errors[0]["message"] == (
        "You may not add documents to this section of this record" if sections else "No access to this record"
    )
    await nothing_stored(before)
    denied = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert denied == [AccessAction.ACCESS_DENIED.value]


async def test_unknown_ins_is_forbidden_like_a_refusal(client: httpx.AsyncClient) -> None:
    account, _ = await factories.practitioner()
    before = files_on_disk()
    result = await upload(
        Caller(client, session=await session_for(account)), pdf(), ins=factories.new_ins()
    )
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "No access to this record"
    await nothing_stored(before)


async def test_a_database_failure_leaves_no_file_behind(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Entry, "create", broken)
    result = await upload(caller, pdf())
    assert result.codes == ["INTERNAL"]
    monkeypatch.undo()
    await nothing_stored(before)


async def test_an_oversized_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, pdf() + b"\n%" + b"x" * (22 * 1024 * 1024), "huge.pdf")
    assert result.status == 413
    assert result.codes == ["BAD_USER_INPUT"]
    assert "20 MB" in result.errors[0]["message"]
    await nothing_stored(before)


async def test_a_multipart_body_of_unknown_length_is_refused(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()

    async def body() -> AsyncIterator[bytes]:
        yield b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"

    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    response = await client.post(
        "/graphql", content=body(),
        headers={**caller.headers(), "x-dmp-client": "dmp-web",
                 "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 411
    await nothing_stored(before)


async def test_no_upload_without_its_event(client: httpx.AsyncClient) -> None:
    caller, record = await patient_caller(client)
    before = files_on_disk()
    async with access_event_writes_fail():
        result = await upload(caller, pdf())
    assert result.codes == ["INTERNAL"]
    assert result.data is None
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_a_failure_after_the_event_rolls_the_event_back_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, record = await factories.patient()
    account, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    before = files_on_disk()

    async def outbox_down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.resolvers.documents.notify_new_document", outbox_down)
    result = await upload(Caller(client, session=await session_for(account)), pdf(), ins=record.ins)
    assert result.codes == ["INTERNAL"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0
    assert (await Record.get(id=record.id)).event_seq == 0


async def test_the_nul_character_in_an_upload_is_refused(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    for text in ({"title": "Compte\x00rendu"}, {"description": "genou\x00"}):
        result = await upload(caller, pdf(), **text)  # type: ignore[arg-type]
        assert result.status == 400 and result.codes == ["BAD_USER_INPUT"], text
        assert "NUL" in result.errors[0]["message"]
    await nothing_stored(before)


async def test_a_lone_surrogate_in_an_upload_is_refused(client: httpx.AsyncClient) -> None:
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    for text in ({"title": "Compte\ud800rendu"}, {"description": "genou\udc00"}):
        result = await upload(caller, pdf(), **text)  # type: ignore[arg-type]
        assert result.status == 400 and result.codes == ["BAD_USER_INPUT"], text
        assert "surrogate" in result.errors[0]["message"]
    await nothing_stored(before)


async def test_an_upload_no_resolver_takes_is_closed(client: httpx.AsyncClient) -> None:
    """A request refused before the upload's resolver runs leaves no spooled file open."""
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    query = 'mutation($file: Upload!) { uploadDocument(file: $file, title: "x") { entry { nope } } }'
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps({"query": query, "variables": {"file": None}}),
                  "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("cr.pdf", pdf(), "application/pdf")},
            headers={**caller.headers(), "x-dmp-client": "dmp-web"},
        )
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert GraphQLResult(response).codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)


async def test_a_malformed_upload_is_answered_in_json(client: httpx.AsyncClient) -> None:
    """What Starlette's form parser refuses (here a form field over its 1 MB) is a GraphQL
    error in JSON, as every other refusal, not a line of text."""
    caller, _ = await patient_caller(client)
    before = files_on_disk()
    result = await upload(caller, pdf(), title="x" * (2 * 1024 * 1024))
    assert result.status == 400 and result.codes == ["BAD_USER_INPUT"]
    assert result.response.headers["content-type"].startswith("application/json")
    await nothing_stored(before)


async def test_a_record_holds_documents_up_to_a_total(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record is exported whole, in memory: its documents together are bounded. A deleted
    entry's document no longer counts."""
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.settings(), record_storage_mb=1))
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    first = (await upload(caller, pdf("x" * 600_000))).ok()["uploadDocument"]["entry"]["id"]
    refused = await upload(caller, pdf("y" * 600_000))
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    assert refused.errors[0]["extensions"]["maxMb"] == 1
    assert await StoredFile.filter(record_id=record.id).count() == 1
    assert await Entry.filter(record_id=record.id).count() == 1
    (await caller.gql("mutation($id: ID!) { deleteEntry(id: $id) }", {"id": first})).ok()
    (await upload(caller, pdf("y" * 600_000))).ok()


@pytest.mark.parametrize("value", ["string", {"filename": "cr.pdf"}, 42])
async def test_a_value_sent_in_place_of_the_file_is_refused(client: httpx.AsyncClient, value: object) -> None:
    """The Upload scalar takes any JSON value: a plain JSON request naming no file part is
    refused as bad input (it was an internal error), and nothing is stored or written."""
    caller, record = await patient_caller(client)
    before = files_on_disk()
    result = await caller.gql(
        "mutation($f: Upload!) { uploadDocument(file: $f, title: \"CR\") { entry { id } } }", {"f": value}
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "FILE_NOT_ACCEPTED"
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_the_text_of_a_document_keeps_no_invisible_or_direction_character(
    client: httpx.AsyncClient,
) -> None:
    """As addEntry keeps its text: the title and type on one line without direction
    overrides or zero-width characters; the description keeps its line breaks."""
    caller, _ = await patient_caller(client)
    entry = (await upload(
        caller, pdf(), title="\u202eCompte  rendu\u200b", documentType="Radio\u2066graphie",
        description="Ligne\u200f une\nLigne deux",
    )).ok()["uploadDocument"]["entry"]
    assert (entry["title"], entry["documentType"]) == ("Compte rendu", "Radiographie")
    assert entry["description"] == "Ligne une\nLigne deux"
    refused = await upload(caller, pdf(), title="\u202e\u200b")
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "FIELD_REQUIRED"


async def test_a_refused_upload_to_a_pending_record_is_an_event_as_a_read_is(
    client: httpx.AsyncClient,
) -> None:
    """DESIGN §4: a denied attempt on an existing record is in its history, pending records
    included (as patientRecord writes it); the answer is an unknown INS's."""
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    pending = await Record.create(ins=factories.new_ins(), first_name="Léa", last_name="Martin",
                                  birth_date=dt.date(1990, 4, 2), status=RecordStatus.PENDING)
    before = files_on_disk()
    refused = await upload(caller, pdf(), ins=pending.ins)
    unknown = await upload(caller, pdf(), ins=factories.new_ins())
    assert refused.codes == unknown.codes == ["FORBIDDEN"]
    assert refused.errors[0]["message"] == unknown.errors[0]["message"] == "No access to this record"
    await nothing_stored(before)
    events = await AccessEvent.filter(record_id=pending.id).values_list("action", flat=True)
    assert list(events) == [AccessAction.ACCESS_DENIED.value]


async def test_one_file_part_mapped_to_two_uploads_is_stored_by_each(client: httpx.AsyncClient) -> None:
    """The multipart spec lets a map give one file part to several variables: the second
    upload read a file the first had closed, answered INTERNAL, and the request's data was
    null though the first document was stored."""
    caller, record = await patient_caller(client)
    query = """mutation ($a: Upload!, $b: Upload!) {
      x: uploadDocument(file: $a, title: "Original") { entry { id } }
      y: uploadDocument(file: $b, title: "Copie") { entry { id } } }"""
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    content = pdf("twice")
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": query, "variables": {"a": None, "b": None}}),
              "map": json.dumps({"0": ["variables.a", "variables.b"]})},
        files={"0": ("cr.pdf", content, "application/pdf")},
        headers={**caller.headers(), "x-dmp-client": "dmp-web"},
    )
    data = GraphQLResult(response).ok()
    ids = [data["x"]["entry"]["id"], data["y"]["entry"]["id"]]
    assert await Entry.filter(record_id=record.id).count() == 2
    for entry_id in ids:
        assert (await download(caller, entry_id)).content == content
