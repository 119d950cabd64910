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
