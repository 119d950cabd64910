"""A PDF that carries active content (JavaScript, a launch action, an attached file, rich
media, an XFA form) is refused at upload, wherever the content hides: in a compressed object
stream, behind names written with #xx escapes. Bytes that merely spell `/JavaScript` inside an
image or a page's drawing are not looked at (backend/files/pdf_active.py)."""

from __future__ import annotations

import zlib
from io import BytesIO

import httpx
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript

from backend.files import pdf_active
from backend.files.pdf_active import MAX_OBJECTS, ActiveContent, check_pdf_active_content
from backend.files.sniffing import UnrecognisedContent, sniff
from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import files_on_disk, nothing_stored, pdf, pdf_of, upload

CATALOG = b"<< /Type /Catalog /Pages 2 0 R%s >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R%s >>"
DRAWING = b"BT /F1 12 Tf 20 50 Td (compte rendu) Tj ET"


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def build(*, catalog: bytes = b"", page: bytes = b"", drawing: bytes = DRAWING,
          extra: tuple[bytes, ...] = (), packed: bool = False) -> bytes:
    """A one-page PDF: catalog (1), pages (2), page (3), its drawing (4), then `extra` objects
    (5, 6, ...). With `packed`, every object but the drawing sits in one compressed object
    stream and the cross-reference is a stream (PDF 1.5), as most writers do today."""
    objects = [CATALOG % catalog, PAGES, PAGE % page, stream(b"", drawing), *extra]
    if not packed:
        return pdf_of(objects, b"1.7")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    # Objects that are streams cannot be packed: they stay in the file.
    inside = [n for n, body in enumerate(objects, start=1) if b"stream\n" not in body]
    header, bodies = b"", b""
    for number in inside:
        header += b"%d %d " % (number, len(bodies))
        bodies += objects[number - 1] + b"\n"
    packed_number = len(objects) + 1
    xref_number = packed_number + 1
    rows: dict[int, bytes] = {0: b"\x00" * 5 + b"\x00\x00\xff\xff"}
    for index, number in enumerate(inside):
        rows[number] = b"\x02" + packed_number.to_bytes(4, "big") + index.to_bytes(4, "big")
    for number, body in enumerate(objects, start=1):
        if number not in inside:
            rows[number] = b"\x01" + len(out).to_bytes(4, "big") + b"\x00" * 4
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    rows[packed_number] = b"\x01" + len(out).to_bytes(4, "big") + b"\x00" * 4
    content = zlib.compress(header + bodies)
    out += b"%d 0 obj\n" % packed_number + stream(
        b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(inside), len(header)), content
    ) + b"\nendobj\n"
    xref = len(out)
    rows[xref_number] = b"\x01" + xref.to_bytes(4, "big") + b"\x00" * 4
    table = zlib.compress(b"".join(rows[n] for n in range(xref_number + 1)))
    out += b"%d 0 obj\n" % xref_number + stream(
        b"/Type /XRef /Size %d /W [1 4 4] /Root 1 0 R /Filter /FlateDecode" % (xref_number + 1), table
    ) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


SCRIPT = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
# Each kind of active content, as a writer puts it.
ACTIVE: dict[str, tuple[dict[str, object], str]] = {
    "script run on opening": ({"catalog": b" /OpenAction " + SCRIPT}, "JavaScript"),
    "script in a page's additional actions": ({"page": b" /AA << /O " + SCRIPT + b" >>"}, "JavaScript"),
    "document scripts (name tree)": (
        {"catalog": b" /Names << /JavaScript 5 0 R >>", "extra": (b"<< /Names [(init) 6 0 R] >>", SCRIPT)},
        "JavaScript",
    ),
    "script as a stream": (
        {"catalog": b" /OpenAction 5 0 R",
         "extra": (b"<< /S /JavaScript /JS 6 0 R >>", stream(b"", b"app.alert(1)"))},
        "JavaScript",
    ),
    "launch action on a link": (
        {"page": b" /Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
                 b" /A << /S /Launch /F (calc.exe) >> >>]"},
        "starts a program",
    ),
    "remote go-to on a link (a network share)": (
        {"page": b" /Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
                 b" /A << /S /GoToR /F (\\\\partage\\doc.pdf) /D [0 /Fit] >> >>]"},
        "starts a program",
    ),
    "data imported from a file on opening": (
        {"catalog": b" /OpenAction << /S /ImportData /F (donnees.fdf) >>"}, "starts a program",
    ),
    "attached file (name tree)": (
        {"catalog": b" /Names << /EmbeddedFiles << /Names [(a.txt) 5 0 R] >> >>",
         "extra": (b"<< /Type /Filespec /F (a.txt) /EF << /F 6 0 R >> >>",
                   stream(b"/Type /EmbeddedFile", b"attached"))},
        "attached file",
    ),
    "file attachment annotation": (
        {"page": b" /Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 5 0 R >>]",
         "extra": (b"<< /Type /Filespec /F (a.txt) >>",)},
        "attached file",
    ),
    "rich media annotation": (
        {"page": b" /Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>]"},
        "rich media",
    ),
    "XFA form": (
        {"catalog": b" /AcroForm << /Fields [] /XFA 5 0 R >>",
         "extra": (stream(b"", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>"),)},
        "XFA form",
    ),
    # Names spelt with #xx escapes: /S /JavaScript /JS, and /Launch.
    "escaped script names": (
        {"catalog": b" /OpenAction << /S /J#61va#53cript /J#53 (app.alert\\(1\\)) >>"}, "JavaScript",
    ),
    "escaped launch": ({"catalog": b" /OpenAction << /#53 /#4c#61unch /F (calc.exe) >>"}, "starts a program"),
}


async def patient(client: httpx.AsyncClient) -> tuple[Caller, object]:
    account, record = await factories.patient()
    return Caller(client, session=await session_for(account)), record


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "in-object-stream"])
@pytest.mark.parametrize("kind", list(ACTIVE))
async def test_active_content_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, kind: str, packed: bool
) -> None:
    fields, named = ACTIVE[kind]
    content = build(packed=packed, **fields)  # type: ignore[arg-type]
    if packed:
        # Hidden: the active content is nowhere in the file's bytes as written.
        assert b"/JS" not in content and b"/S" not in content.replace(b"/Size", b"")
    caller, record = await patient(client)
    before = files_on_disk()
    result = await upload(caller, content, "compte-rendu.pdf")
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["reason"] == "FILE_NOT_ACCEPTED"
    message = result.errors[0]["message"]
    assert named in message and "which is not accepted: print it to a new PDF" in message
    assert "app.alert" not in message and "calc.exe" not in message  # never the file's content
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0  # type: ignore[attr-defined]


PLAIN = {
    "drawing that spells the names": {"drawing": DRAWING + b" % /JavaScript /JS /Launch /EmbeddedFile /XFA"},
    "image whose bytes spell them": {
        "page": b" /Resources << /XObject << /Im1 5 0 R >> >>",
        "extra": (stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray"
                         b" /BitsPerComponent 8",
                         b"<< /S /JavaScript /JS (x) >> /OpenAction /Launch /AA /XFA /RichMedia /J#61vaScript"
                         + b"\x00" * 14),),
    },
    "compressed image whose bytes spell them": {
        "page": b" /Resources << /XObject << /Im1 5 0 R >> >>",
        "extra": (stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray"
                         b" /BitsPerComponent 8 /Filter /FlateDecode",
                         zlib.compress(b"/JavaScript /JS ".ljust(64, b"\x00"))),),
    },
    # What reports do carry: a view to open on, links to a page or a web address.
    "opening view and links": {
        "catalog": b" /OpenAction [3 0 R /Fit]",
        "page": b" /Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI"
                b" /URI (https://example.test/) >> >> << /Type /Annot /Subtype /Link /Rect [9 9 20 20]"
                b" /A << /S /GoTo /D [3 0 R /Fit] >> >>]",
    },
    "a script's name only in a string": {"catalog": b" /Lang (/JavaScript /Launch)"},
}


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "in-object-stream"])
@pytest.mark.parametrize("kind", list(PLAIN))
async def test_a_pdf_whose_streams_merely_spell_the_names_is_accepted(
    client: httpx.AsyncClient, kind: str, packed: bool
) -> None:
    content = build(packed=packed, **PLAIN[kind])  # type: ignore[arg-type]
    if "bytes spell" in kind and "compressed" not in kind:
        assert b"/JavaScript" in content
    caller, _ = await patient(client)
    entry = (await upload(caller, content, "compte-rendu.pdf")).ok()["uploadDocument"]["entry"]
    assert entry["contentType"] == "application/pdf"
    assert entry["size"] == len(content)


# --- the check itself -------------------------------------------------------------------


def test_each_kind_is_named_and_several_are_listed() -> None:
    for fields, named in ACTIVE.values():
        for packed in (False, True):
            with pytest.raises(ActiveContent, match=named):
                check_pdf_active_content(build(packed=packed, **fields))  # type: ignore[arg-type]
    both = build(catalog=b" /OpenAction " + SCRIPT + b" /AcroForm << /XFA 5 0 R >>",
                 extra=(stream(b"", b"<xdp/>"),))
    with pytest.raises(ActiveContent, match="carries JavaScript and an XFA form, which is not accepted"):
        check_pdf_active_content(both)
    # The sniffer gives the same message as an unrecognised file's.
    with pytest.raises(UnrecognisedContent, match="carries JavaScript"):
        sniff(build(catalog=b" /OpenAction " + SCRIPT))


def test_the_samples_the_other_tests_upload_are_accepted() -> None:
    from tests.test_authz_exhaustive import UPLOADED_PDF

    for content in (pdf(), pdf("compte rendu"), build(), build(packed=True), UPLOADED_PDF):
        check_pdf_active_content(content)
        assert sniff(content) == "application/pdf"


def _written_by_pypdf(*, script: bool, password: str | None = None, attachment: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 100)
    if script:
        writer.add_open_action(JavaScript("app.alert(1);"))
    if attachment:
        writer.add_attachment("a.txt", b"attached")
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_library_written_pdf_and_an_encrypted_one() -> None:
    """A script added by another writer's own API; a file encrypted with an empty password to
    open it (only its permissions locked) is read and checked; one that needs a password to
    open cannot be checked and is refused for that."""
    check_pdf_active_content(_written_by_pypdf(script=False))
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(_written_by_pypdf(script=True))
    with pytest.raises(ActiveContent, match="attached file"):
        check_pdf_active_content(_written_by_pypdf(script=False, attachment=True))
    check_pdf_active_content(_written_by_pypdf(script=False, password=""))
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(_written_by_pypdf(script=True, password=""))
    locked = _written_by_pypdf(script=False, password="secret")
    assert PdfReader(BytesIO(locked)).is_encrypted
    with pytest.raises(ActiveContent, match="protected by a password"):
        check_pdf_active_content(locked)


def _many_objects(count: int) -> bytes:
    """The sample page and `count` - 4 small dictionaries, each its own object."""
    return build(extra=tuple(b"<< /N %d >>" % n for n in range(5, count + 1)))


def test_more_objects_than_the_cap_are_refused_unwalked(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[object] = []
    walk = pdf_active._walk
    monkeypatch.setattr(pdf_active, "_walk", lambda root, found: (walked.append(root), walk(root, found)))
    with pytest.raises(ActiveContent, match=f"more than {MAX_OBJECTS:,} objects"):
        check_pdf_active_content(_many_objects(MAX_OBJECTS + 1))
    assert walked == []
    check_pdf_active_content(_many_objects(MAX_OBJECTS))
    assert len(walked) == MAX_OBJECTS + 1  # the trailer and each object


def _object_streams(sizes: list[int]) -> bytes:
    """The sample page (unpacked), then one compressed object stream per size, each holding a
    small dictionary after that many bytes of blanks once inflated (a few kilobytes each in the
    file); the cross-reference, a stream, names each dictionary as packed in its stream."""
    out = bytearray(b"%PDF-1.7\n")
    rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
    for number, body in enumerate((CATALOG % b"", PAGES, PAGE % b"", stream(b"", DRAWING)), start=1):
        rows.append(b"\x01" + len(out).to_bytes(4, "big") + b"\x00\x00")
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    first = 5 + len(sizes)  # the dictionaries' numbers; the streams' are 5, 6, ...
    for index, size in enumerate(sizes):
        rows.append(b"\x01" + len(out).to_bytes(4, "big") + b"\x00\x00")
        header = b"%d %d " % (first + index, size)
        packed = zlib.compress(header + b" " * size + b"<< /N %d >>" % index, 9)
        out += b"%d 0 obj\n" % (5 + index) + stream(
            b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header), packed
        ) + b"\nendobj\n"
    for index in range(len(sizes)):
        rows.append(b"\x02" + (5 + index).to_bytes(4, "big") + b"\x00\x00")
    xref_number = first + len(sizes)
    rows.append(b"\x01" + len(out).to_bytes(4, "big") + b"\x00\x00")
    xref = len(out)
    out += b"%d 0 obj\n" % xref_number + stream(
        b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode" % (xref_number + 1),
        zlib.compress(b"".join(rows)),
    ) + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    assert len(out) < 300_000
    return bytes(out)


def test_compressed_objects_are_inflated_within_bounds() -> None:
    """An object stream that inflates past 16 MB, or several that together pass 64 MB (a
    decompression bomb), are refused; under both, the same streams are read."""
    check_pdf_active_content(_object_streams([pdf_active.MAX_STREAM_OUTPUT - 1024] * 3))
    with pytest.raises(ActiveContent, match="too large to check"):
        check_pdf_active_content(_object_streams([pdf_active.MAX_STREAM_OUTPUT + 1024]))
    with pytest.raises(ActiveContent, match="too large to check"):
        check_pdf_active_content(_object_streams([pdf_active.MAX_STREAM_OUTPUT - 1024] * 5))


@pytest.mark.parametrize("catalog", [b"\x00\x01\x02", b"[" * 100_000, b"<< /Length 5 >>\nstream\nab"])
def test_an_unreadable_pdf_is_refused_as_such(catalog: bytes) -> None:
    """Its header, trailer and pointer look right, but its one object cannot be parsed (bytes
    that are no object, nesting too deep to follow, a stream cut short)."""
    body = b"%PDF-1.7\n1 0 obj\n" + catalog + b"\nendobj\n"
    broken = body + b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Root 1 0 R /Size 2 >>"
    broken += b"\nstartxref\n%d\n%%%%EOF\n" % len(body)
    with pytest.raises(ActiveContent, match="could not be read to check it"):
        check_pdf_active_content(broken)
    with pytest.raises(UnrecognisedContent, match="could not be read"):
        sniff(broken)


def test_entries_pointing_at_the_wrong_place_do_not_hide_an_object() -> None:
    """A cross-reference whose every entry points a few bytes off (a file edited by hand):
    pypdf drops those entries, but each object header in the file is parsed: the script is
    seen."""
    content = build(catalog=b" /OpenAction 5 0 R", extra=(SCRIPT,))
    head, _, tail = content.partition(b"xref\n")
    shifted = head.replace(b"%PDF-1.7\n", b"%PDF-1.7\n%%%%%%%%%%%%\n", 1)
    shift = len(shifted) - len(head)
    tail = tail.replace(b"startxref\n%d" % len(head), b"startxref\n%d" % len(shifted))
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(shifted + b"xref\n" + tail)
    assert shift > 0


def test_parsing_is_bounded_whatever_the_syntax(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrays and dictionaries count their elements against one budget for the whole file (20 MB
    of small numbers in arrays took half a minute to parse); hex strings, which pypdf reads a
    digit at a time, are counted before any parsing. A signature's tens of kilobytes pass."""
    arrays = build(extra=tuple(b"[" + b"1 " * 400 + b"]" for _ in range(10)))
    check_pdf_active_content(arrays)
    monkeypatch.setattr(pdf_active, "MAX_ELEMENTS", 3_000)
    with pytest.raises(ActiveContent, match="parts too large to check"):
        check_pdf_active_content(arrays)
    monkeypatch.undo()
    signed = build(extra=(b"<< /Type /Sig /Contents <" + b"30" * 32_768 + b"> >>",))
    check_pdf_active_content(signed)
    with pytest.raises(ActiveContent, match="parts too large to check"):
        check_pdf_active_content(build(extra=(b"<" + b"ab" * (pdf_active.MAX_LONG_HEX // 2 + 1) + b">",)))
    # A dictionary padded with blanks is not a hex string.
    check_pdf_active_content(build(extra=(b"<<" + b" " * 100_000 + b">>",)))


def _broken_table(*bodies: bytes) -> bytes:
    """Objects after a cross-reference table that announces one entry and gives none (as the
    authorisation tests' sample): pypdf cannot read it and rebuilds it from the objects found."""
    body = b"%PDF-1.4\n" + b"".join(b"%d 0 obj\n" % n + o + b"\nendobj\n" for n, o in enumerate(bodies, 1))
    return body + b"xref\n0 1\ntrailer\n<< /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % len(body)


def test_a_rebuilt_cross_reference_is_checked_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The repair parses every object: within the same budget, and what it finds is checked."""
    check_pdf_active_content(_broken_table(b"<< /Type /Catalog >>"))
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(_broken_table(b"<< /Type /Catalog /OpenAction 2 0 R >>", SCRIPT))
    arrays = _broken_table(b"<< /Type /Catalog >>", *[b"[" + b"1 " * 400 + b"]"] * 10)
    check_pdf_active_content(arrays)
    # 4,000 elements: parsed by the repair, then by the check; each alone is under the budget.
    monkeypatch.setattr(pdf_active, "MAX_ELEMENTS", 6_000)
    with pytest.raises(ActiveContent, match="parts too large to check"):
        check_pdf_active_content(arrays)


def test_an_object_stream_no_cross_reference_names_is_checked() -> None:
    """Left in the file (by an earlier version of it, or on purpose): a reader repairing the
    file would find the objects it holds."""
    header = b"9 0 "
    packed = zlib.compress(header + SCRIPT)
    orphan = stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header), packed)
    assert b"JavaScript" not in orphan
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(build(extra=(orphan,)))
    with pytest.raises(ActiveContent, match="JavaScript"):
        check_pdf_active_content(build(extra=(orphan,), packed=True))


async def test_an_accounts_refused_files_are_bounded_before_they_are_checked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PDF built to be slow takes seconds to check (100,000 objects: 6 s): an account's
    refused files are bounded per hour, and past the bound no file is checked at all."""
    from backend.resolvers import documents

    checked: list[int] = []

    def counted_sniff(data: bytes) -> str:
        checked.append(len(data))
        return sniff(data)

    monkeypatch.setattr(documents, "sniff", counted_sniff)
    caller, record = await patient(client)
    before = files_on_disk()
    for _ in range(documents.FILES_REFUSED_PER_HOUR):
        refused = await upload(caller, b"%PDF-1.4 not really a pdf", "compte-rendu.pdf")
        assert refused.errors[0]["extensions"]["reason"] == "FILE_NOT_ACCEPTED"
    assert len(checked) == documents.FILES_REFUSED_PER_HOUR
    for content in (b"%PDF-1.4 not really a pdf", pdf()):  # past the bound, even a good one
        limited = await upload(caller, content, "compte-rendu.pdf")
        assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    assert len(checked) == documents.FILES_REFUSED_PER_HOUR  # not checked
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0  # type: ignore[attr-defined]
    # Another account's files are checked as before.
    other, _ = await patient(client)
    assert not (await upload(other, pdf(), "compte-rendu.pdf")).errors


def _script_inside_a_stream() -> bytes:
    """Object 6, a script the catalog opens with, written inside object 5's stream data, where
    the cross-reference names it (found by a second reading: it was skipped as that stream's
    bytes, and a reader goes there all the same)."""
    script = b"6 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\n"
    objects = [CATALOG % b" /OpenAction 6 0 R", PAGES, PAGE % b"", stream(b"", DRAWING),
               stream(b"", b"pad\n" + script + b"pad")]
    out = bytearray(pdf_of(objects, b"1.7"))
    # pdf_of's table names objects 1 to 5; a table of 7 entries naming the script inside 5.
    body = bytes(out[: out.rindex(b"xref\n")])
    inside = body.index(script)
    offsets = [body.index(b"\n%d 0 obj\n" % n) + 1 for n in range(1, 6)] + [inside]
    table = b"xref\n0 7\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + table + b"trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % len(body)


async def test_a_script_named_inside_another_objects_stream_is_refused(client: httpx.AsyncClient) -> None:
    content = _script_inside_a_stream()
    assert PdfReader(BytesIO(content)).trailer["/Root"]["/OpenAction"].get_object()["/S"] == "/JavaScript"
    caller, record = await patient(client)
    before = files_on_disk()
    result = await upload(caller, content, "compte-rendu.pdf")
    assert result.errors[0]["extensions"]["reason"] == "FILE_NOT_ACCEPTED"
    assert "The PDF carries JavaScript" in result.errors[0]["message"]
    await nothing_stored(before)
    assert await AccessEvent.filter(record_id=record.id).count() == 0  # type: ignore[attr-defined]


def test_a_file_of_keywords_that_head_no_object_is_refused_unwalked() -> None:
    """19 MB of "1obj " (a valid one-page PDF around them) was accepted after 20 s of looking
    at each keyword: past twice the objects' cap, the file is refused as too many objects."""
    filler = b"1obj " * (2 * MAX_OBJECTS + 1)
    content = pdf_of([CATALOG % b"", PAGES, PAGE % b"", stream(b"", DRAWING + b" % " + filler)])
    with pytest.raises(ActiveContent, match="more than"):
        check_pdf_active_content(content)


async def test_refused_files_sent_at_once_do_not_pass_the_bound_and_accepted_ones_do_not_count(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a second reading: the bound was read before the check and counted after it, so
    40 uploads sent at once were all checked. Each check now counts first, and an accepted file
    gives its count back."""
    import asyncio
    import time

    from backend.resolvers import documents

    checked: list[int] = []

    def slow_sniff(data: bytes) -> str:
        checked.append(len(data))
        time.sleep(0.05)  # a slow file's check, holding its thread
        return sniff(data)

    monkeypatch.setattr(documents, "sniff", slow_sniff)
    caller, _ = await patient(client)
    bound = documents.FILES_REFUSED_PER_HOUR
    for _ in range(bound + 2):  # accepted files do not count
        assert not (await upload(caller, pdf(), "compte-rendu.pdf")).errors
    checked.clear()
    answers = await asyncio.gather(*(upload(caller, b"%PDF-1.4 not really a pdf", "cr.pdf")
                                     for _ in range(2 * bound)))
    reasons = sorted(a.errors[0]["extensions"].get("reason") or a.codes[0] for a in answers)
    assert reasons == ["FILE_NOT_ACCEPTED"] * bound + ["RATE_LIMITED"] * bound
    assert len(checked) == bound
