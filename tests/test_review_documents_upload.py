"""Review of uploadDocument against disguised files, hostile names and oversized requests:
each refusal with its reason, and nothing written."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from backend.models import AccessEvent, Record
from tests import factories
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import UPLOAD, download, files_on_disk, jpeg, nothing_stored, pdf, png, upload

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


async def patient(client: httpx.AsyncClient) -> tuple[Caller, Record]:
    account, record = await factories.patient()
    return Caller(client, session=await session_for(account)), record


def _fake_pdf_trailer(body: bytes) -> bytes:
    """`body` with a trailer whose startxref points at its end: no cross-reference there."""
    return body + b"\nstartxref\n%d\n%%%%EOF\n" % len(body)


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (HTML, "application/pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
         "image/png"),
        (b"alert(document.cookie);\n", "image/jpeg"),
        (b"%PDF-1.4\n" + HTML, "application/pdf"),  # a PDF header on a page
        (_fake_pdf_trailer(b"%PDF-1.4\n" + HTML), "application/pdf"),  # and a trailer
        (b"\xef\xbb\xbf" + pdf(), "application/pdf"),  # a byte order mark before the header
        (b"\x89PNG\r\n\x1a\n" + HTML, "image/png"),
        (b"\xff\xd8\xff\xe0" + HTML, "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00" + HTML, "image/gif"),
        (b"PK\x03\x04" + HTML, "application/pdf"),  # an archive
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "application/pdf"),
        (png()[:-12], "image/png"),  # cut before its end
        (pdf()[: len(pdf()) // 2], "application/pdf"),
    ],
)
async def test_disguised_or_active_content_is_refused_with_its_reason_and_nothing_is_written(
    client: httpx.AsyncClient, content: bytes, declared: str
) -> None:
    caller, record = await patient(client)
    before = files_on_disk()
    result = await upload(caller, content, "document.pdf", declared)
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "FILE_NOT_ACCEPTED"
    assert result.data is None
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_an_empty_file_is_refused_as_empty(client: httpx.AsyncClient) -> None:
    caller, record = await patient(client)
    before = files_on_disk()
    result = await upload(caller, b"", "vide.pdf")
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "FILE_EMPTY"
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_a_file_one_byte_over_20_mb_is_refused_as_too_large(client: httpx.AsyncClient) -> None:
    """Under the request's limit (the file and its framing), over the file's own."""
    caller, record = await patient(client)
    before = files_on_disk()
    body = pdf()
    big = body[:9] + b"%" + b"x" * (20 * 1024 * 1024 - len(body) - 1) + b"\n" + body[9:]
    assert len(big) == 20 * 1024 * 1024 + 1
    result = await upload(caller, big, "gros.pdf")
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "FILE_TOO_LARGE"
    assert result.errors[0]["extensions"]["maxMb"] == 20
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_a_pdf_carrying_a_page_is_served_as_a_pdf_attachment_never_as_a_page(
    client: httpx.AsyncClient,
) -> None:
    """Bytes of HTML inside a well-formed PDF (a comment, a stream) cannot be told from a
    report's text: the file is accepted as the PDF it is, and never answered as a page."""
    caller, _ = await patient(client)
    content = pdf("x").replace(b"%\xe2\xe3\xcf\xd3\n", b"%" + HTML.replace(b"\n", b" ") + b"\n")
    shift = len(content) - len(pdf("x"))
    offsets = [int(m) + shift for m in re.findall(rb"(\d{10}) 00000 n", content)]
    for old, new in zip(re.findall(rb"\d{10} 00000 n", content), offsets, strict=True):
        content = content.replace(old, b"%010d 00000 n" % new, 1)
    xref = content.index(b"xref\n")
    content = re.sub(rb"startxref\n\d+", b"startxref\n%d" % xref, content)
    result = await upload(caller, content, "page.html", "text/html")
    entry = result.ok()["uploadDocument"]["entry"]
    assert (entry["contentType"], entry["fileName"]) == ("application/pdf", "page.html.pdf")
    response = await download(caller, entry["id"])
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("C:\\Users\\alice\\Documents\\bilan.pdf", "bilan.pdf"),
        ("..\\..\\..\\windows\\system32\\x.pdf", "x.pdf"),
        ("/etc/passwd", "passwd.pdf"),
        ("....", "document.pdf"),
        ("  .bilan.pdf. ", "bilan.pdf"),
        ("a" * 300 + ".pdf", "a" * 100 + ".pdf"),
        ("é" * 300, "é" * 100 + ".pdf"),
        ("rapport.pdf.html", "rapport.pdf.html.pdf"),
        ('a<b>c|d?e*f:g"h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ],
)
async def test_a_hostile_name_is_stored_as_a_plain_name_with_the_contents_extension(
    client: httpx.AsyncClient, name: str, kept: str
) -> None:
    caller, _ = await patient(client)
    entry = (await upload(caller, pdf(), name)).ok()["uploadDocument"]["entry"]
    assert entry["fileName"] == kept


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ('Compte rendu "final".pdf', "Compte rendu _final_.pdf"),
        ("Compte rendu\r\nfinal.pdf", "Compte rendu final.pdf"),
        ("bilan\tjuin.pdf", "bilan juin.pdf"),
    ],
)
async def test_a_name_escaped_by_the_client_is_stored_as_it_was_meant(
    client: httpx.AsyncClient, name: str, kept: str
) -> None:
    """Browsers send a file name's `"`, CR and LF as %22, %0D and %0A (the HTML form
    encoding; some clients every control character so): not shown as such to the reader."""
    caller, _ = await patient(client)
    entry = (await upload(caller, pdf(), name)).ok()["uploadDocument"]["entry"]
    assert entry["fileName"] == kept


async def test_a_request_of_many_parts_is_refused_and_writes_nothing(client: httpx.AsyncClient) -> None:
    caller, record = await patient(client)
    before = files_on_disk()
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    operations = {"query": UPLOAD, "variables": {"file": None, "title": "t", "section": "DOCUMENTS"}}
    files = {str(i): (f"{i}.png", png(), "image/png") for i in range(1001)}
    files["0"] = ("cr.pdf", pdf(), "application/pdf")
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files=files, headers={**caller.headers(), "x-dmp-client": "dmp-web"},
    )
    result = GraphQLResult(response)
    assert result.status == 400 and result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0


# The part cut short is left unclosed by Starlette's form parser (it closes its files on a
# parse error only, and a body without its closing boundary is none): freed by the collector,
# with a ResourceWarning. Reported for the request handling (graphql_view.py).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_multipart_body_cut_short_is_refused_and_writes_nothing(client: httpx.AsyncClient) -> None:
    caller, record = await patient(client)
    before = files_on_disk()
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    operations = {"query": UPLOAD, "variables": {"file": None, "title": "t", "section": "DOCUMENTS"}}
    body = (
        b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        + json.dumps(operations).encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0": ["variables.file"]}'
        + b'\r\n--b\r\nContent-Disposition: form-data; name="0"; filename="cr.jpg"\r\n'
        + b"Content-Type: image/jpeg\r\n\r\n" + jpeg()  # no closing boundary
    )
    response = await client.post(
        "/graphql", content=body,
        headers={**caller.headers(), "x-dmp-client": "dmp-web",
                 "content-type": "multipart/form-data; boundary=b"},
    )
    result = GraphQLResult(response)
    assert result.status == 400 and result.codes == ["BAD_USER_INPUT"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0
