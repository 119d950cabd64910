"""Refusing a PDF that carries active content: JavaScript, a launch action, an attached file,
rich media (Flash, video) or an XFA form. A practitioner who downloads the document opens it in
a desktop PDF reader, which may run or open any of these.

How (the choice, also in docs/security.md): pypdf, the maintained pure-Python PDF library,
reads the file's cross-reference (tables, streams, hybrid files, encryption with an empty
password to open, and its own repair of a broken one). Every object it names is parsed, those
packed in compressed object streams (`/Type /ObjStm`) included, and so is every other object
header found in the file (what a reader repairing a damaged file, or pypdf dropping an entry
that points at the wrong place, would go by), each once, in the file's order; a header inside
an object already parsed (a stream's data) is that object's bytes. Names come unescaped
(`/J#61vaScript` is `/JavaScript`). Then only dictionaries' keys and the names that give an
action's, a stream's or an annotation's type are looked at, never the data of a stream: the
bytes of an image or of a page's drawing that happen to spell `/JavaScript` are not read at
all (content and image streams are never decompressed). A hand-written scan of the bytes was
the other choice: cheaper, but it would have to find object boundaries, skip stream data by a
length that may be an indirect reference, inflate object streams with their predictors and
parse names, strings and nested dictionaries; a mistake there is a missed script or a refused
report, where pypdf's parser is the one the field keeps up (and fixes when a file fools it).

Bounded, whatever the file: object headers are counted before anything is parsed, and the
cross-reference's entries once it is read (more than MAX_OBJECTS: refused); object and
cross-reference streams inflate to MAX_STREAM_OUTPUT each and MAX_TOTAL_OUTPUT together (zip
bombs); arrays' and dictionaries' elements count against MAX_ELEMENTS for the whole file; long
hex strings against MAX_LONG_HEX before parsing. CPU time of the whole check on this machine
(docs/security.md has the figures): 0.02 s for a 20 MB PDF of scanned pages, 6 to 7 s for
100,000 small objects, at most about 7 s for 20 MB written to be slow to parse.

What this does not see: an object inside the span of another (a reader does not either), an
object stream that no cross-reference names in an encrypted file, and anything of a PDF that
needs a password to open (refused for that reason).
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from io import BytesIO

import pypdf._reader
import pypdf.filters
from pypdf import PdfReader, apply_configuration
from pypdf._protocols import PdfReaderProtocol
from pypdf._utils import StreamType
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    StreamParsingBudget,
    read_object,
)

# pypdf logs what it repaired in a malformed file (object numbers, offsets): nothing the
# service needs, and nothing of a document's content belongs in the logs.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)

# A 300-page report has a few tens of thousands; 100,000 small ones take 6 to 7 s to check.
MAX_OBJECTS = 100_000
# One object or cross-reference stream: they rarely hold more than a few hundred kilobytes.
MAX_STREAM_OUTPUT = 16 * 1024 * 1024
# All of them together: a few kilobytes of zlib inflate to 16 MB each (a decompression bomb).
MAX_TOTAL_OUTPUT = 64 * 1024 * 1024
# Elements of arrays and entries of dictionaries parsed, all objects together (pypdf's own cap on
# a page's drawing): 20 MB of nothing but small numbers in arrays is 10 million, half a minute of
# CPU; 100,000 link annotations (16 each: keys, values, a rectangle, an action) are 1.6 million.
MAX_ELEMENTS = 2_000_000
# Hex strings (<0a1b...>), which pypdf reads a digit at a time (a string of 19 MB took 15 s):
# those of 4 KB and more may have this many bytes together. A signature's is tens of kilobytes.
MAX_LONG_HEX = 2 * 1024 * 1024


class ActiveContent(ValueError):
    """The PDF carries active content, cannot be read, or is too large to check; the message
    says which in plain words."""


# What a finding is called in the refusal's message.
JAVASCRIPT = "JavaScript"
LAUNCH = "an action that starts a program or opens a file"
ATTACHMENT = "an attached file"
RICH_MEDIA = "rich media (Flash or video)"
XFA = "an XFA form"

# Dictionary keys, whatever their value.
_KEYS: dict[str, str] = {
    "/JS": JAVASCRIPT,  # an action's script (JavaScript, Rendition actions)
    "/JavaScript": JAVASCRIPT,  # the document's name tree of scripts
    "/EmbeddedFiles": ATTACHMENT,  # the document's name tree of attached files
    "/EmbeddedFile": ATTACHMENT,  # in a file specification's /EF
    "/RichMediaContent": RICH_MEDIA,
    "/RichMediaSettings": RICH_MEDIA,
    "/XFA": XFA,  # in the interactive form dictionary
}
# Action types (/S), stream and object types (/Type) and annotation types (/Subtype). An action
# is refused wherever it is: on a link, a page's or a field's additional actions (/AA) or the
# document's /OpenAction; a go-to action or a destination there is not active.
_TYPES: dict[str, str] = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    # Another file opened (or data read from one), which may lie on a network share: a reader
    # following it can hand the share the user's credentials.
    "/GoToR": LAUNCH,
    "/ImportData": LAUNCH,
    "/GoToE": ATTACHMENT,  # go to an embedded document
    "/EmbeddedFile": ATTACHMENT,
    "/FileAttachment": ATTACHMENT,
    "/RichMedia": RICH_MEDIA,
    "/RichMediaExecute": RICH_MEDIA,
}
_TYPE_KEYS = ("/S", "/Type", "/Subtype")

# An object's header ("12 0 obj"), its keyword's end: what comes before the keyword.
_BEFORE = re.compile(rb"(?<![0-9])[0-9]{1,10}[\0\t\n\f\r ]+[0-9]{1,5}[\0\t\n\f\r ]*$")
_AFTER = frozenset(b"\0\t\n\f\r /<[(%")
_LONG_HEX = re.compile(rb"<[\0\t\n\f\r ]*[0-9A-Fa-f][0-9A-Fa-f\0\t\n\f\r ]{4095,}>")
_BEFORE_KEYWORD = frozenset(b"\0\t\n\f\r 0123456789")
# The longest header looked for: numbers of 10 and 5 digits, up to 240 blanks between them.
_HEADER_SPAN = 256


def _headers(data: bytes) -> set[int]:
    """Where each object header of the file starts; refused past MAX_OBJECTS. The keyword is
    looked for first (a regular expression started at every digit of 20 MB of image data
    takes half a second)."""
    found: set[int] = set()
    candidates = 0
    at = data.find(b"obj")
    while at >= 0:
        # Not "endobj": a digit or a blank before the keyword, a delimiter after it.
        if at > 0 and data[at - 1] in _BEFORE_KEYWORD and (at + 3 == len(data) or data[at + 3] in _AFTER):
            # Each is looked at in a window of its own: a file of nothing but "1obj " (no
            # header at all) took 20 s for 19 MB. A real file has about one per object.
            candidates += 1
            if candidates > 2 * MAX_OBJECTS:
                raise ActiveContent(_TOO_MANY)
            header = _BEFORE.search(data, max(0, at - _HEADER_SPAN), at)
            if header is not None:
                found.add(header.start())
                if len(found) > MAX_OBJECTS:
                    raise ActiveContent(_TOO_MANY)
        at = data.find(b"obj", at + 3)
    return found


def check_pdf_active_content(data: bytes) -> None:
    """Raise ActiveContent if the PDF carries active content (or cannot be checked)."""
    # Every object header in the file, counted before any is parsed: pypdf's repair of a broken
    # cross-reference parses each one.
    headers = _headers(data)
    if sum(len(m[0]) for m in _LONG_HEX.finditer(data)) > MAX_LONG_HEX:
        raise ActiveContent(_TOO_LARGE)
    token = _budget.set([MAX_TOTAL_OUTPUT])
    elements = _elements.set(StreamParsingBudget(remaining_budget=MAX_ELEMENTS))
    try:
        with apply_configuration(
            zlib_maximum_output_length=MAX_STREAM_OUTPUT,
            lzw_maximum_output_length=MAX_STREAM_OUTPUT,
            run_length_maximum_output_length=MAX_STREAM_OUTPUT,
            brotli_maximum_output_length=MAX_STREAM_OUTPUT,
            jbig2_maximum_output_length=MAX_STREAM_OUTPUT,
            array_based_stream_maximum_output_length=MAX_STREAM_OUTPUT,
            stream_decoding_work_maximum_length=4 * MAX_STREAM_OUTPUT,
            jbig2dec_binary=None,
        ):
            found = _findings(data, headers)
    except ActiveContent:
        raise
    except LimitReachedError:  # pypdf's own limits, tightened above
        raise ActiveContent(_TOO_LARGE) from None
    except Exception:  # a parser's error on a malformed file, whatever its kind
        raise ActiveContent(_UNREADABLE) from None
    finally:
        _budget.reset(token)
        _elements.reset(elements)
    if found:
        raise ActiveContent(
            f"The PDF carries {_listed(found)}, which is not accepted: print it to a new PDF "
            "(or scan it) and send that"
        )


_TOO_MANY = f"The PDF has more than {MAX_OBJECTS:,} objects, too many to check for scripts"
_TOO_LARGE = "The PDF has parts too large to check for scripts and attached files"
_UNREADABLE = "The PDF could not be read to check it for scripts and attached files"
_TAIL = re.compile(rb"startxref\s+\d{1,12}\s+%%EOF\s*$")

# The bytes left to decompress in the check under way (a list, to be spent in place): pypdf
# caps each stream, this caps them all. Streams decoded by other uses of pypdf (none today)
# are not counted.
_budget: ContextVar[list[int] | None] = ContextVar("pdf_decompression_budget", default=None)
_decode = pypdf.filters.decode_stream_data


def _counted_decode(stream: StreamObject) -> bytes:
    decoded = _decode(stream)
    budget = _budget.get()
    if budget is not None:
        budget[0] -= len(decoded)
        if budget[0] < 0:
            raise ActiveContent(_TOO_LARGE)
    return decoded


# pypdf's streams call the module's function at each decoding (EncodedStreamObject.get_data).
pypdf.filters.decode_stream_data = _counted_decode

# The elements parsed in the check under way, against MAX_ELEMENTS: the reader's own parsing
# (its cross-reference, its repair of a broken one, which parses every object) counts too.
_elements: ContextVar[StreamParsingBudget | None] = ContextVar("pdf_parsing_budget", default=None)
_read_object = read_object


def _budgeted_read_object(
    stream: StreamType,
    pdf: PdfReaderProtocol | None,
    forced_encoding: str | list[str] | dict[int, str] | None = None,
    *,
    parsing_budget: StreamParsingBudget | None = None,
) -> PdfObject:
    if parsing_budget is None:
        parsing_budget = _elements.get()
    return _read_object(stream, pdf, forced_encoding, parsing_budget=parsing_budget)


# The reader parses with the name it imported from pypdf.generic.
setattr(pypdf._reader, "read_object", _budgeted_read_object)  # noqa: B010


def _listed(found: list[str]) -> str:
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def _reader(data: bytes) -> PdfReader:
    """The file's reader; if its cross-reference cannot be read, one whose cross-reference is
    rebuilt from the objects found in the file (as a desktop reader repairs a damaged file):
    pypdf does so when the trailer's pointer is 0."""
    try:
        return PdfReader(BytesIO(data), strict=False, xref_stream_maximum_entries=MAX_OBJECTS + 1)
    except ActiveContent:
        raise
    except Exception:
        tail = _TAIL.search(data, max(0, len(data) - 1024))
        if tail is None:
            raise
        repaired = data[: tail.start()] + b"startxref\n0\n%%EOF\n"
        return PdfReader(BytesIO(repaired), strict=False, xref_stream_maximum_entries=MAX_OBJECTS + 1)


def _findings(data: bytes, headers: set[int]) -> list[str]:
    reader = _reader(data)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ActiveContent(
            "The PDF is protected by a password, so it cannot be checked for scripts and attached "
            "files: send it without the password"
        )
    in_tables = {
        offset for gen, entries in reader.xref.items() if gen != 65535 for offset in entries.values()
    }
    if len(in_tables) + len(reader.xref_objStm) > MAX_OBJECTS:
        raise ActiveContent(_TOO_MANY)
    # Shared by every object parsed: past it, the file is refused (pypdf counts each element of
    # an array and each entry of a dictionary).
    budget = _elements.get()
    assert budget is not None  # noqa: S101  # set by check_pdf_active_content
    found: set[str] = set()
    _walk(reader.trailer, found)
    # The objects in the file itself: where the cross-reference points, and every other object
    # header, which a reader repairing a damaged file (or pypdf, dropping an entry that points at
    # the wrong place) would go by. In the file's order, each parsed once; a header inside an
    # object already parsed (a stream's data) is that object's bytes, not an object.
    source = reader.stream
    named = {stream for stream, _ in reader.xref_objStm.values()}
    end = 0
    for at in sorted(in_tables | headers):
        # A header found by scanning inside an object already parsed is that object's bytes;
        # an offset the cross-reference names is an object a reader goes to, wherever it lies
        # (a script's dictionary inside another object's stream data, named by the catalog).
        if (at < end and at not in in_tables) or not 0 <= at < len(data):
            continue
        try:
            source.seek(at)
            number, _ = reader.read_object_header(source)
            item = read_object(source, reader, parsing_budget=budget)
        except (ActiveContent, LimitReachedError):
            raise
        except Exception:
            if at in in_tables:
                raise
            continue  # what only looked like a header: a reader finds no object there either
        end = max(end, source.tell())
        _walk(item, found)
        if (
            number not in named
            and not reader.is_encrypted
            and isinstance(item, StreamObject)
            and item.get("/Type") == "/ObjStm"
        ):
            _walk_packed(item, reader, budget, found, named=False)
    # The object streams the cross-reference names objects in (decrypted by pypdf if need be),
    # each object they hold.
    for number in sorted(named):
        packed = reader.get_object(IndirectObject(number, 0, reader))
        if not isinstance(packed, StreamObject):
            raise ActiveContent(_UNREADABLE)
        _walk_packed(packed, reader, budget, found, named=True)
    return [kind for kind in (JAVASCRIPT, LAUNCH, ATTACHMENT, RICH_MEDIA, XFA) if kind in found]


def _walk_packed(
    packed: StreamObject, reader: PdfReader, budget: StreamParsingBudget, found: set[str], *, named: bool
) -> None:
    """The objects of a compressed object stream. In one that no cross-reference `named` (a
    repair would find it), what cannot be parsed is passed over, as such a repair would."""
    try:
        content = packed.get_data()
        first = int(packed["/First"])  # type: ignore[call-overload]  # a NumberObject, or raises
        numbers = content[:first].split()
        offsets = [int(offset) for offset in numbers[1::2]][:MAX_OBJECTS]
    except (ActiveContent, LimitReachedError):
        raise
    except Exception:
        if named:
            raise
        return
    source = BytesIO(content)
    for offset in offsets:
        try:
            source.seek(first + offset)
            item = read_object(source, reader, parsing_budget=budget)
        except (ActiveContent, LimitReachedError):
            raise
        except Exception:
            if named:
                raise
            continue
        _walk(item, found)


def _walk(root: PdfObject | None, found: set[str]) -> None:
    """Look at the keys and type names of every dictionary inside `root` (references to other
    objects are not followed: each is walked as it comes in the cross-reference)."""
    pending: list[PdfObject | None] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, DictionaryObject):  # a stream's dictionary too, never its data
            for key, value in item.items():
                kind = _KEYS.get(key)
                if kind:
                    found.add(kind)
                if key in _TYPE_KEYS and isinstance(value, NameObject):
                    kind = _TYPES.get(value)
                    if kind:
                        found.add(kind)
                if isinstance(value, (DictionaryObject, ArrayObject)):
                    pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(v for v in item if isinstance(v, (DictionaryObject, ArrayObject)))
