"""Small, well-formed PDF, PNG and JPEG files, a GraphQL multipart upload helper, and what
the upload tests check was left behind."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from backend import config
from backend.models import Entry, StoredFile
from tests.conftest import Caller, GraphQLResult


def pdf(marker: str = "hello") -> bytes:
    """A one-page PDF whose cross-reference offsets are right."""
    stream = f"BT /F1 12 Tf 20 50 Td ({marker}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return pdf_of(objects)


def pdf_of(objects: list[bytes], version: bytes = b"1.4") -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog), with a cross-reference
    table whose offsets are right."""
    out = bytearray(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % version)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(marker: str = "hello") -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"tEXt", b"Comment\x00" + marker.encode())
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg(marker: str = "hello") -> bytes:
    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _segment(0xFE, marker.encode())
        + _segment(0xDB, b"\x00" + bytes(range(1, 65)))
        + _segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
        + _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
        + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x12\x34\x56"
        + b"\xff\xd9"
    )


UPLOAD = """
mutation Upload($file: Upload!, $title: String!, $section: Section!, $ins: String,
                $documentType: String, $description: String, $date: Date, $supersedes: ID) {
  uploadDocument(file: $file, title: $title, section: $section, ins: $ins,
                 documentType: $documentType, description: $description, date: $date,
                 supersedes: $supersedes) {
    entry {
      id section title date masked source author { displayName profession } supersedes
      ... on DocumentEntry { documentType description fileName contentType size downloadUrl }
      ... on LabResultEntry { fileName contentType downloadUrl }
    }
  }
}
"""


async def upload(
    caller: Caller,
    content: bytes,
    filename: str = "report.pdf",
    declared_type: str = "application/pdf",
    *,
    title: str = "Compte rendu",
    section: str = "DOCUMENTS",
    client_header: bool = True,
    **variables: Any,
) -> GraphQLResult:
    """A GraphQL multipart request (the spec's operations/map/file parts). A variable the
    operation does not declare would be ignored by the service: refused here instead."""
    undeclared = [name for name in variables if f"${name}:" not in UPLOAD]
    if undeclared:
        raise TypeError(f"UPLOAD declares no variable {', '.join(undeclared)}")
    caller.client.cookies.clear()
    for name, value in caller.cookies().items():
        caller.client.cookies.set(name, value)
    operations = {
        "query": UPLOAD,
        "variables": {"file": None, "title": title, "section": section, **variables},
    }
    headers = caller.headers()
    if client_header:
        headers["x-dmp-client"] = "dmp-web"
    response = await caller.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, declared_type)},
        headers=headers,
    )
    return GraphQLResult(response)


async def download(caller: Caller, entry_id: str) -> Any:
    caller.client.cookies.clear()
    for name, value in caller.cookies().items():
        caller.client.cookies.set(name, value)
    headers = {k: v for k, v in caller.headers().items() if k != "origin"}
    return await caller.client.get(f"/files/{entry_id}", headers=headers)


def files_on_disk() -> set[str]:
    """The names of the encrypted files in the data folder."""
    folder: Path = config.settings().files_dir
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def nothing_stored(before: set[str]) -> None:
    """No document row, no entry, and no file beside those there `before`."""
    assert await StoredFile.all().count() == 0
    assert await Entry.all().count() == 0
    assert files_on_disk() == before
