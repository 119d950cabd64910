"""Multipart bodies at the edges: one that ends before its closing boundary, and a multipart
media type named in capitals (media type names are case-insensitive, RFC 9110, 8.3.1).

A body cut off before `--boundary--` was read as far as it went (python-multipart does not
check the end): the cut-off file part was spooled, in no form, left open for the collector,
and the request answered "File(s) missing in form data". `Multipart/Form-Data` was refused as
"Unsupported content type", and the checks that look for a multipart type (X-DMP-Client, the
upload limit) compared it case-sensitively.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
import starlette.formparsers
from starlette.requests import Request

from backend.graphql_view import UNFINISHED_MULTIPART, csrf_refusal
from backend.middleware import HttpEdge
from backend.models import StoredFile
from tests import factories
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import UPLOAD, files_on_disk, nothing_stored, pdf
from tests.test_http_edge import answering, run, scope

BOUNDARY = "dmp-edge-7f3a"
SPOOL_MAX = 1024 * 1024  # Starlette's: a file part over it is spooled to a file on disk


def multipart(content: bytes, end: str = "closed") -> bytes:
    """A GraphQL multipart request (operations, map, one file), ending as `end` says: closed
    (its closing boundary), or cut off in the file's bytes, after them, or at the boundary
    that follows them without its final `--`."""
    operations = json.dumps({"query": UPLOAD, "variables": {
        "file": None, "title": "Compte rendu", "section": "DOCUMENTS"}})
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.file"]}}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="cr.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    if end == "in the file":
        return body + content[: len(content) // 2]
    body += content + b"\r\n"
    if end == "after the file":
        return body
    if end == "at the last boundary":
        return body + f"--{BOUNDARY}".encode()
    return body + f"--{BOUNDARY}--\r\n".encode()


async def patient(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    return caller


async def post(caller: Caller, body: bytes, content_type: str, client_header: bool = True) -> httpx.Response:
    headers = {**caller.headers(), "content-type": content_type}
    if client_header:
        headers["x-dmp-client"] = "dmp-web"
    return await caller.client.post("/graphql", content=body, headers=headers)


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Every file Starlette's form parser spools, kept here (so the collector cannot close
    them for the code), and spooled to disk under tmp_path."""
    made: list[Any] = []

    class Recorded(starlette.formparsers.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", Recorded)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return made


def open_under(folder: Path) -> list[str]:
    """The files this process holds open under `folder` (a spooled file on disk has no name
    there, Linux's O_TMPFILE or unlinked at once, but its descriptor points into it)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.parametrize(("size", "end"), [
    (0, "in the file"),
    (2 * SPOOL_MAX, "in the file"),  # rolled over to a temporary file on disk
    (0, "after the file"),
    (2 * SPOOL_MAX, "at the last boundary"),
])
async def test_a_body_without_its_closing_boundary_is_refused_and_its_files_closed(
    client: httpx.AsyncClient, spooled: list[Any], tmp_path: Path, size: int, end: str
) -> None:
    caller = await patient(client)
    before = files_on_disk()
    content = pdf("x" * size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        response = await post(caller, multipart(content, end), f"multipart/form-data; boundary={BOUNDARY}")
        # Closed by the request, not by the collector: checked before it runs.
        assert spooled and all(file.closed for file in spooled)
        assert open_under(tmp_path) == []
        if size:
            assert any(file._rolled for file in spooled)  # the case of a file on disk is tested
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    result = GraphQLResult(response)
    assert result.status == 400 and result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] == UNFINISHED_MULTIPART
    await nothing_stored(before)


async def test_a_whole_body_is_still_read_and_its_file_closed(
    client: httpx.AsyncClient, spooled: list[Any], tmp_path: Path
) -> None:
    caller = await patient(client)
    content = pdf("x" * 2 * SPOOL_MAX)
    response = await post(caller, multipart(content), f"multipart/form-data; boundary={BOUNDARY}")
    entry = GraphQLResult(response).ok()["uploadDocument"]["entry"]
    assert entry["size"] == len(content)
    assert any(file._rolled for file in spooled)
    assert all(file.closed for file in spooled) and open_under(tmp_path) == []
    assert await StoredFile.all().count() == 1


@pytest.mark.parametrize("media_type", ["Multipart/Form-Data", "MULTIPART/FORM-DATA"])
async def test_a_multipart_type_in_capitals_is_an_upload(client: httpx.AsyncClient, media_type: str) -> None:
    caller = await patient(client)
    response = await post(caller, multipart(pdf()), f"{media_type}; boundary={BOUNDARY}")
    entry = GraphQLResult(response).ok()["uploadDocument"]["entry"]
    assert entry["contentType"] == "application/pdf" and entry["size"] == len(pdf())
    assert await StoredFile.all().count() == 1


@pytest.mark.parametrize("media_type", ["Multipart/Form-Data", "MULTIPART/FORM-DATA"])
async def test_a_multipart_type_in_capitals_needs_the_client_header(
    client: httpx.AsyncClient, media_type: str
) -> None:
    caller = await patient(client)
    before = files_on_disk()
    response = await post(caller, multipart(pdf()), f"{media_type}; boundary={BOUNDARY}", client_header=False)
    result = GraphQLResult(response)
    assert result.status == 400 and result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] == "Uploads must carry the X-DMP-Client header"
    await nothing_stored(before)


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=x", "Multipart/Form-Data; boundary=x", "MULTIPART/mixed",
    " multipart/form-data; boundary=x", "\tMultipart/Form-Data ;boundary=x",
])
def test_the_client_header_rule_reads_the_type_as_the_parsers_do(content_type: str) -> None:
    def request(*extra: tuple[bytes, bytes]) -> Request:
        return Request({"type": "http", "method": "POST", "path": "/graphql", "query_string": b"",
                        "headers": [(b"content-type", content_type.encode()), *extra]})

    refusal = csrf_refusal(request())
    assert refusal is not None and refusal.status_code == 400
    assert b"X-DMP-Client" in refusal.body
    assert csrf_refusal(request((b"x-dmp-client", b"dmp-web"))) is None


@pytest.mark.parametrize("content_type", [
    b"Multipart/Form-Data; boundary=x", b"MULTIPART/FORM-DATA; boundary=x",
    b" multipart/form-data; boundary=x",
])
@pytest.mark.parametrize(("length", "status"), [(None, 411), (b"1001", 413)])
async def test_the_upload_limit_reads_the_type_in_any_case(
    content_type: bytes, length: bytes | None, status: int
) -> None:
    app, calls = answering()
    headers = [(b"content-type", content_type)] + ([(b"content-length", length)] if length else [])
    sent = await run(HttpEdge(app, upload_limit=1000), scope(headers=headers))
    assert calls == []  # refused before the body is read
    assert sent[0]["status"] == status
    errors = json.loads(sent[1]["body"])["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
