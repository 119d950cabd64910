"""Review of content recognition: what a JPEG that gives its height only after its first
scan (a DNL segment) may claim."""

from __future__ import annotations

import struct

import pytest

from backend.files.sniffing import UnrecognisedContent, sniff
from tests.document_samples import _segment

_APP0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
_SCAN = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")


def _frame(height: int, width: int) -> bytes:
    return _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")


def _lines(count: int) -> bytes:
    """A DNL segment: the number of lines of a frame whose header said 0."""
    return _segment(0xDC, struct.pack(">H", count))


def _jpeg(frame: bytes, after_scan: bytes) -> bytes:
    return b"\xff\xd8" + _APP0 + frame + _SCAN + b"\x12\x34" + after_scan + b"\xff\xd9"


def test_a_height_given_after_the_scan_is_held_to_the_pixel_limit() -> None:
    """A header of 0 lines and 65,535 columns, then 65,535 lines: four billion pixels, a
    decompression bomb for a reader that follows the DNL segment."""
    with pytest.raises(UnrecognisedContent, match="more than 150 million pixels"):
        sniff(_jpeg(_frame(0, 65_535), _lines(65_535)))
    assert sniff(_jpeg(_frame(0, 9_921), _lines(14_032))) == "image/jpeg"


@pytest.mark.parametrize("after_scan", [b"", _lines(0)])
def test_a_frame_of_no_height_that_never_gives_one_is_refused(after_scan: bytes) -> None:
    with pytest.raises(UnrecognisedContent, match="height"):
        sniff(_jpeg(_frame(0, 100), after_scan))


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def _trailer_at(body: bytes, target: int) -> bytes:
    return body + b"\nstartxref\n%d\n%%%%EOF\n" % target


def _xref_stream_pdf(dictionary: bytes) -> bytes:
    """A PDF 1.5 whose cross-reference is a stream object (the trailer points at it)."""
    body = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    body += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    at = len(body)
    rows = b"\x00\x00\x00\xff\x01\x00\x0f\x00\x01\x00\x3c\x00\x01" + at.to_bytes(2, "big") + b"\x00"
    body += b"3 0 obj\n<< " + dictionary + b" /Length %d >>\nstream\n" % len(rows) + rows
    body += b"\nendstream\nendobj\n"
    return _trailer_at(body, at)


@pytest.mark.parametrize(
    "content",
    [
        # A page with a PDF header, an object line and a trailer pointing at it.
        _trailer_at(b"%PDF-1.4\n" + HTML + b"1 0 obj\n", len(b"%PDF-1.4\n" + HTML)),
        _trailer_at(b"%PDF-1.4\n" + HTML + b"1 0 obj\n<< >>\nendobj\n", len(b"%PDF-1.4\n" + HTML)),
        # Or at the word "xref" and nothing of a cross-reference table after it.
        _trailer_at(b"%PDF-1.4\n" + HTML + b"xref\n" + HTML, len(b"%PDF-1.4\n" + HTML)),
        # An object that is not a cross-reference stream.
        _xref_stream_pdf(b"/Type /Metadata /Size 4 /W [1 2 1]"),
    ],
)
def test_a_trailer_pointing_at_no_cross_reference_is_refused(content: bytes) -> None:
    with pytest.raises(UnrecognisedContent, match="cross-reference"):
        sniff(content)


@pytest.mark.parametrize(
    "dictionary",
    [
        b"/Type /XRef /Size 4 /W [1 2 1] /Root 1 0 R",
        b"/Size 4 /Root 1 0 R /W [1 2 1] /Type/XRef",  # its keys in any order, names unspaced
        b"/Size 4 /Root 1 0 R /ID [<" + b"ab" * 16 + b"> <" + b"cd" * 16 + b">] /Index ["
        + b" ".join(b"%d 1" % i for i in range(200)) + b"] /W [1 2 1] /Type /XRef",
    ],
)
def test_a_cross_reference_stream_is_recognised(dictionary: bytes) -> None:
    assert sniff(_xref_stream_pdf(dictionary)) == "application/pdf"
