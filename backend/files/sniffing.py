"""Recognising an uploaded file by its content, never by its name or declared type.

Only PDF, PNG and JPEG are accepted. Each check reads the magic bytes and then parses
enough of the structure that a renamed text file, a truncated image or a page given a
forged header (and a made-up PDF trailer) is refused, and so is an image claiming more
pixels than any scan has (a decompression bomb for whoever opens it). Other bytes carried
inside a well-formed file (a PDF comment, a JPEG's trailer) cannot be told from its own:
downloads are answered as attachments of the recognised type, never rendered as a page.
The walk over PNG chunks and JPEG segments is bounded: a file made of millions of tiny ones
is refused, not walked (seconds of CPU for 20 MB). A PDF that carries active content
(JavaScript, a launch action, an attached file, rich media, an XFA form) is refused too:
pdf_active.py, where the choice of pypdf over a hand-written scan is explained.
"""

from __future__ import annotations

import re
import struct
import zlib

from backend.files.pdf_active import ActiveContent, check_pdf_active_content

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"

EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
}


# Pixels an image may have: a 1,200 dpi scan of an A4 page has 139 million. More, in a few
# bytes of compressed data, is a decompression bomb for whoever opens the file (Pillow
# refuses 179 million by default).
MAX_PIXELS = 150_000_000


class UnrecognisedContent(ValueError):
    """The bytes are not a well-formed PDF, PNG or JPEG; the message says why."""


def sniff(data: bytes) -> str:
    """The content type of `data`, or UnrecognisedContent."""
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        try:
            check_pdf_active_content(data)
        except ActiveContent as exc:
            raise UnrecognisedContent(str(exc)) from None
        return PDF
    if data.startswith(_PNG_SIGNATURE):
        _check_png(data)
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        _check_jpeg(data)
        return JPEG
    raise UnrecognisedContent("The file is not a PDF, PNG or JPEG document")


# --- PDF --------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)[\r\n \t%]")
_PDF_TAIL = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF\s*$")
_PDF_OBJ = re.compile(rb"\d{1,10}\s+\d{1,5}\s+obj\b")
_PDF_SPACE = re.compile(rb"[ \t\r\n]*")
# A cross-reference table: the keyword, then its first subsection's first object and count.
_PDF_XREF_TABLE = re.compile(rb"xref\s+\d{1,10}\s+\d{1,10}\s")
# A cross-reference stream's dictionary names its type (required: ISO 32000-1, 7.5.8.2),
# before the stream's bytes; it rarely takes more than a few hundred bytes.
_PDF_XREF_STREAM = re.compile(rb"/Type\s*/XRef\b")
_PDF_XREF_DICTIONARY = 1024 * 1024


def _check_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data):
        raise UnrecognisedContent("The PDF header is not a valid %PDF-1.x version line")
    # The trailer sits in the last kilobyte: "startxref", the offset of the last
    # cross-reference section, then the %%EOF marker.
    tail = data[-1024:]
    matches = list(_PDF_TAIL.finditer(tail))
    if not matches:
        raise UnrecognisedContent("The PDF is truncated: no startxref / %%EOF trailer")
    offset = int(matches[-1].group(1))
    if not 0 < offset < len(data):
        raise UnrecognisedContent("The PDF trailer points outside the file")
    # There: a cross-reference table, or a cross-reference stream object; not any object
    # line, which a page with a PDF header and a made-up trailer would have.
    at = _PDF_SPACE.match(data, offset).end()  # type: ignore[union-attr]  # matches always
    if _PDF_XREF_TABLE.match(data, at):
        return
    if _PDF_OBJ.match(data, at):
        dictionary = data[at : at + _PDF_XREF_DICTIONARY]
        end = dictionary.find(b"stream")
        if end > 0 and _PDF_XREF_STREAM.search(dictionary, 0, end):
            return
    raise UnrecognisedContent("The PDF trailer does not point at a cross-reference section")


# --- PNG --------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# libpng writes image data in chunks of 8 KB: 2,560 for 20 MB; anything else is a handful.
MAX_PNG_CHUNKS = 10_000
# Allowed bit depths per colour type (PNG specification, IHDR).
_PNG_DEPTHS: dict[int, frozenset[int]] = {
    0: frozenset({1, 2, 4, 8, 16}),
    2: frozenset({8, 16}),
    3: frozenset({1, 2, 4, 8}),
    4: frozenset({8, 16}),
    6: frozenset({8, 16}),
}


def _check_png(data: bytes) -> None:
    pos = len(_PNG_SIGNATURE)
    first = True
    seen_idat = False
    for _ in range(MAX_PNG_CHUNKS):
        if pos + 12 > len(data):
            raise UnrecognisedContent("The PNG is truncated")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > len(data):
            raise UnrecognisedContent("The PNG is truncated")
        body = data[pos + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise UnrecognisedContent("The PNG has a corrupted chunk (CRC mismatch)")
        if first:
            if kind != b"IHDR" or length != 13:
                raise UnrecognisedContent("The PNG does not start with an IHDR chunk")
            _check_ihdr(body)
            first = False
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat:
                raise UnrecognisedContent("The PNG has no image data")
            if end + 4 != len(data):
                raise UnrecognisedContent("The PNG has unexpected data after its end")
            return
        pos = end + 4
    raise UnrecognisedContent(f"The PNG has more than {MAX_PNG_CHUNKS:,} chunks")


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise UnrecognisedContent(
            f"The image is too large: more than {MAX_PIXELS // 1_000_000} million pixels"
        )


def _check_ihdr(body: bytes) -> None:
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
        raise UnrecognisedContent("The PNG has invalid dimensions")
    _check_pixels(width, height)
    if depth not in _PNG_DEPTHS.get(colour, frozenset()):
        raise UnrecognisedContent("The PNG has an invalid colour type or bit depth")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise UnrecognisedContent("The PNG header uses unknown methods")


# --- JPEG -------------------------------------------------------------------------

# Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT/JPG/DAC.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SOS = 0xDA
_EOI = b"\xff\xd9"
_DNL = b"\xff\xdc"
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Segments before the first scan: tables, frame header, application data (EXIF, an ICC
# profile in 64 KB pieces); a real file has a few dozen.
MAX_JPEG_SEGMENTS = 1000
_NOT_FILL = re.compile(rb"[^\xff]")


def _check_jpeg(data: bytes) -> None:
    pos = 2
    seen_frame = False
    width = height = 0
    for _ in range(MAX_JPEG_SEGMENTS):
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise UnrecognisedContent("The JPEG has a broken segment structure")
        marker_at = _NOT_FILL.search(data, pos)  # past the fill bytes (any number of 0xFF)
        if marker_at is None:
            raise UnrecognisedContent("The JPEG is truncated")
        pos = marker_at.start()
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9):
            raise UnrecognisedContent("The JPEG has a broken segment structure")
        if pos + 2 > len(data):
            raise UnrecognisedContent("The JPEG is truncated")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > len(data):
            raise UnrecognisedContent("The JPEG has a broken segment structure")
        segment = data[pos + 2 : pos + length]
        if marker in _SOF:
            width, height = _check_frame(segment)
            seen_frame = True
        elif marker == _SOS:
            if not seen_frame:
                raise UnrecognisedContent("The JPEG scan starts before its frame header")
            _check_scan(segment)
            if pos + length >= len(data):
                raise UnrecognisedContent("The JPEG has no image data")
            # The image data never holds an end-of-image marker (a 0xFF there is followed by
            # 0x00 or a restart marker): without one after it, the file was cut short. Bytes
            # after the end (a camera's trailer) are left alone.
            end = data.find(_EOI, pos + length)
            if end < 0:
                raise UnrecognisedContent("The JPEG is truncated: its image data has no end")
            if height == 0:
                _check_pixels(width, _lines_after_scan(data, pos + length, end))
            return
        pos += length
    raise UnrecognisedContent(f"The JPEG has more than {MAX_JPEG_SEGMENTS:,} segments before its image data")


def _lines_after_scan(data: bytes, start: int, end: int) -> int:
    """The height a frame header left at 0, from the DNL segment after its first scan (as
    the end-of-image marker, its marker cannot occur inside the image data)."""
    at = data.find(_DNL, start, end)
    if at < 0 or at + 6 > len(data) or data[at + 2 : at + 4] != b"\x00\x04":
        raise UnrecognisedContent("The JPEG does not give its height")
    (lines,) = struct.unpack(">H", data[at + 4 : at + 6])
    if lines == 0:
        raise UnrecognisedContent("The JPEG does not give its height")
    return int(lines)


def _check_frame(segment: bytes) -> tuple[int, int]:
    """The frame's width and height (0: given by a DNL segment after the first scan)."""
    if len(segment) < 6:
        raise UnrecognisedContent("The JPEG frame header is too short")
    precision, height, width, components = struct.unpack(">BHHB", segment[:6])
    if precision not in (8, 12, 16) or width == 0 or not 1 <= components <= 4:
        raise UnrecognisedContent("The JPEG frame header is invalid")
    if len(segment) != 6 + 3 * components:
        raise UnrecognisedContent("The JPEG frame header has the wrong length")
    # A height of 0 is allowed (given by a later DNL segment, checked then `_lines_after_scan`).
    _check_pixels(width, height)
    return int(width), int(height)


def _check_scan(segment: bytes) -> None:
    if not segment or not 1 <= segment[0] <= 4 or len(segment) != 1 + 2 * segment[0] + 3:
        raise UnrecognisedContent("The JPEG scan header is invalid")
