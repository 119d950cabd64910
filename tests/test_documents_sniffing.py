"""Content recognition: magic bytes and a parse of the header, never the name."""

from __future__ import annotations

import struct
import zlib

import pytest

from backend.files.sniffing import MAX_JPEG_SEGMENTS, MAX_PNG_CHUNKS, UnrecognisedContent, sniff
from tests.document_samples import _chunk, _segment, jpeg, pdf, png

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PIXELS = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
_END = _chunk(b"IEND", b"")


def _png(ihdr: bytes, *chunks: bytes) -> bytes:
    """A PNG with this IHDR body, then these chunks (by default its pixels) and its end."""
    return _SIGNATURE + _chunk(b"IHDR", ihdr) + b"".join(chunks or (_PIXELS,)) + _END


def _ihdr(width: int = 1, height: int = 1, depth: int = 8, colour: int = 2, compression: int = 0,
          filtering: int = 0, interlace: int = 0) -> bytes:
    return struct.pack(">IIBBBBB", width, height, depth, colour, compression, filtering, interlace)


_APP0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")


def _frame(precision: int = 8, width: int = 1, components: int = 1) -> bytes:
    """A start-of-frame segment, height 1, with one component's fields."""
    return _segment(0xC0, struct.pack(">BHHB", precision, 1, width, components) + b"\x01\x11\x00")


_FRAME = _frame()
_SCAN = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")


def _jpeg(*segments: bytes, data: bytes = b"\x12\x34\xff\xd9") -> bytes:
    return b"\xff\xd8" + b"".join(segments) + data


def _pdf_pointing_at(offset: int) -> bytes:
    """The sample PDF with its trailer's startxref replaced by `offset`."""
    data = pdf()
    head, _, _ = data.rpartition(b"startxref\n")
    return head + b"startxref\n%d\n%%%%EOF\n" % offset


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
        # PDF: a trailer pointing inside the file, but not at a cross-reference section.
        (_pdf_pointing_at(20), "does not point at a cross-reference section"),
        # PNG: the header chunk, its fields, and the image data.
        (_SIGNATURE + _PIXELS + _END, "does not start with an IHDR chunk"),
        (_SIGNATURE + _chunk(b"IHDR", _ihdr() + b"\x00") + _PIXELS + _END, "does not start with an IHDR"),
        (_png(_ihdr(width=0)), "invalid dimensions"),
        (_png(_ihdr(height=0x80000000)), "invalid dimensions"),
        (_png(_ihdr(depth=4, colour=2)), "invalid colour type or bit depth"),  # RGB at 4 bits
        (_png(_ihdr(colour=5)), "invalid colour type or bit depth"),  # no such colour type
        (_png(_ihdr(compression=1)), "unknown methods"),
        (_png(_ihdr(filtering=1)), "unknown methods"),
        (_png(_ihdr(interlace=2)), "unknown methods"),
        (_png(_ihdr(), _chunk(b"tEXt", b"Comment\x00no pixels")), "no image data"),
        (_SIGNATURE + _chunk(b"IHDR", _ihdr()) + struct.pack(">I", 0x80000000) + b"IDAT", "truncated"),
        # JPEG: the frame and scan headers, and the data after them.
        (_jpeg(_APP0, _segment(0xC0, b"\x08\x00\x01"), _SCAN), "frame header is too short"),
        (_jpeg(_APP0, _frame(precision=7), _SCAN), "frame header is invalid"),
        (_jpeg(_APP0, _frame(width=0), _SCAN), "frame header is invalid"),
        (_jpeg(_APP0, _frame(components=5), _SCAN), "frame header is invalid"),
        (_jpeg(_APP0, _frame(components=2), _SCAN), "wrong length"),  # one component's fields
        (_jpeg(_APP0, _FRAME, _segment(0xDA, b"\x00\x00\x3f\x00")), "scan header is invalid"),
        (_jpeg(_APP0, _FRAME, _segment(0xDA, b"\x01\x01\x00\x00\x3f")), "scan header is invalid"),
        (_jpeg(_APP0, _FRAME, _SCAN, data=b""), "no image data"),
        (_jpeg(_APP0, b"\xff\xd9"), "broken segment structure"),  # the end before any frame
        (_jpeg(_APP0, b"\xff\xff\xff", data=b""), "truncated"),  # fill bytes up to the end
        (_jpeg(_APP0, b"\xff\xe1\x00", data=b""), "truncated"),  # a length cut short
        (_jpeg(_APP0, b"\xff\xe1\x00\x01"), "broken segment structure"),  # a length under 2
    ],
)
def test_malformed_or_foreign_content_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(UnrecognisedContent, match=reason):
        sniff(content)


def test_the_builders_above_make_well_formed_files() -> None:
    """What the refusals above change is the one thing wrong with each file."""
    assert sniff(_png(_ihdr())) == "image/png"
    assert sniff(_png(_ihdr(depth=16, colour=6, interlace=1))) == "image/png"
    assert sniff(_jpeg(_APP0, _FRAME, _SCAN)) == "image/jpeg"
    assert sniff(_pdf_pointing_at(pdf().index(b"xref"))) == "application/pdf"


def test_the_name_and_declared_type_play_no_part() -> None:
    # sniff only sees bytes: a PNG is a PNG whatever it is called.
    assert sniff(png("named report.pdf")) == "image/png"


def test_a_walk_over_too_many_chunks_or_segments_is_refused() -> None:
    """Millions of empty chunks or segments (seconds of CPU for 20 MB) are refused at the cap;
    a file just under it is still walked to its end."""
    text = _chunk(b"tEXt", b"")
    # IHDR, the text chunks, IDAT and IEND: one chunk each.
    assert sniff(_png(_ihdr(), *[text] * (MAX_PNG_CHUNKS - 3), _PIXELS)) == "image/png"
    with pytest.raises(UnrecognisedContent, match="more than 10,000 chunks"):
        sniff(_png(_ihdr(), *[text] * (MAX_PNG_CHUNKS - 2), _PIXELS))
    app0 = _segment(0xE0, b"")
    # The APP0 segments, the frame header and the scan header: one segment each.
    assert sniff(_jpeg(*[app0] * (MAX_JPEG_SEGMENTS - 2), _FRAME, _SCAN)) == "image/jpeg"
    with pytest.raises(UnrecognisedContent, match="more than 1,000 segments"):
        sniff(_jpeg(*[app0] * (MAX_JPEG_SEGMENTS - 1), _FRAME, _SCAN))
    with pytest.raises(UnrecognisedContent, match="more than 1,000 segments"):
        sniff(b"\xff\xd8" + app0 * 5_000_000)  # the probe's 20 MB file


def test_fill_bytes_before_a_marker_are_skipped_whatever_their_number() -> None:
    assert sniff(_jpeg(_APP0, b"\xff" * 100_000 + _FRAME, _SCAN)) == "image/jpeg"
    with pytest.raises(UnrecognisedContent, match="truncated"):
        sniff(_jpeg(_APP0, b"\xff" * 1_000_000, data=b""))


def test_a_jpeg_cut_in_its_image_data_is_refused() -> None:
    """A photo whose upload or copy stopped part way: the scan data begins but the image never
    ends (no end-of-image marker). Data after the end (a camera's trailer) is still accepted."""
    whole = jpeg()
    assert whole.endswith(b"\xff\xd9")
    with pytest.raises(UnrecognisedContent, match="truncated"):
        sniff(whole[:-2])
    with pytest.raises(UnrecognisedContent, match="truncated"):
        sniff(_jpeg(_APP0, _FRAME, _SCAN, data=b"\x12\x34\x56\x78"))
    # A restart marker inside the scan data is not an end.
    with pytest.raises(UnrecognisedContent, match="truncated"):
        sniff(_jpeg(_APP0, _FRAME, _SCAN, data=b"\x12\xff\xd0\x34"))
    assert sniff(whole + b"\x00" * 16 + b"trailer") == "image/jpeg"
    # A progressive image: several scans, the end after the last.
    assert sniff(_jpeg(_APP0, _FRAME, _SCAN, data=b"\x12" + _SCAN + b"\x34\xff\xd9")) == "image/jpeg"


def test_an_image_of_too_many_pixels_is_refused() -> None:
    """A few hundred bytes that claim 40,000 × 40,000 pixels (a decompression bomb for whoever
    opens it: gigabytes of memory) are refused; a 1,200 dpi A4 scan is not."""
    with pytest.raises(UnrecognisedContent, match="more than 150 million pixels"):
        sniff(_png(_ihdr(width=40_000, height=40_000)))
    with pytest.raises(UnrecognisedContent, match="more than 150 million pixels"):
        sniff(_png(_ihdr(width=0x7FFFFFFF, height=1)))
    big_frame = _segment(0xC0, struct.pack(">BHHB", 8, 65_535, 65_535, 1) + b"\x01\x11\x00")
    with pytest.raises(UnrecognisedContent, match="more than 150 million pixels"):
        sniff(_jpeg(_APP0, big_frame, _SCAN))
    assert sniff(_png(_ihdr(width=9_921, height=14_032))) == "image/png"
    a4_frame = _segment(0xC0, struct.pack(">BHHB", 8, 14_032, 9_921, 1) + b"\x01\x11\x00")
    assert sniff(_jpeg(_APP0, a4_frame, _SCAN)) == "image/jpeg"
