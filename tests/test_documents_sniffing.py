"""Content recognition: magic bytes and a parse of the header, never the name."""

from __future__ import annotations

import struct
import zlib

import pytest

from backend.files.sniffing import UnrecognisedContent, sniff
from tests.document_samples import jpeg, pdf, png


def test_well_formed_files_are_recognised() -> None:
    assert sniff(pdf()) == "application/pdf"
    assert sniff(png()) == "image/png"
    assert sniff(jpeg()) == "image/jpeg"


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"hello, this is text", "not a PDF, PNG or JPEG"),
        (b"<html><script>alert(1)</script></html>", "not a PDF, PNG or JPEG"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "truncated"),  # no trailer
        (b"%PDF-9.9\n" + pdf()[9:], "version"),
        (pdf().replace(b"startxref\n", b"startxref\n9"), "outside the file|cross-reference"),
        (pdf()[:-20], "truncated"),
        (b"\x89PNG\r\n\x1a\n", "truncated"),
        (_flip(png(), 20), "CRC"),  # inside IHDR
        (png() + b"<script>", "after its end"),
        (png().replace(b"IDAT", b"IDAX").replace(
            struct.pack(">I", zlib.crc32(b"IDAT" + zlib.compress(b"\x00\xff\x00\x00"))), b"\0\0\0\0"
        ), "CRC"),
        (b"\xff\xd8\xff\xe0garbage", "segment structure|truncated"),
        (b"\xff\xd8\xff" + b"A" * 100, "segment structure"),
        (jpeg().replace(b"\xff\xc0", b"\xff\xfe"), "before its frame"),  # no SOF before SOS
    ],
)
def test_malformed_or_foreign_content_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(UnrecognisedContent, match=reason):
        sniff(content)


def test_the_name_and_declared_type_play_no_part() -> None:
    # sniff only sees bytes: a PNG is a PNG whatever it is called.
    assert sniff(png("named report.pdf")) == "image/png"
