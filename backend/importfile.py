"""`dmp import-file`: an insurer's NDJSON or CSV file through the import path, resumably.

Each batch goes through `imports.import_care_history` — the function behind the
importCareHistory mutation — under the viewer of the organization's insurer:import token,
so validation, idempotence (the import keys) and the access history are the API's own.
After each committed batch, FILE.progress records how far the file is done; a re-run of
an interrupted import resumes there, and the import keys make any overlap harmless.

The result does not depend on --batch-size: a line whose import key an earlier line of the
batch has with other content (a correction appended later in the extract) starts a new
batch, so it is a correction of that line, as a batch boundary between them would make it,
never the API's CONFLICT of one batch sending an item twice. Lines the import's validation
rejects are compared with none (it keeps no content for their key): they end no batch.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shlex
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO, TypeAlias

from starlette.requests import Request

from backend import clock
from backend.accounts import NAME_MAX, organization_name
from backend.auth.viewer import Viewer
from backend.domain.enums import Role, Section
from backend.domain.identifiers import InvalidIdentifier, normalize_ins
from backend.errors import PublicError
from backend.importprogress import Progress
from backend.models import ApiToken
from backend.resolvers import imports
from backend.resolvers.context import build_context

# CareItemInput's fields, as in schema.graphql.
REQUIRED = ("ins", "firstName", "lastName", "birthDate", "externalId", "section", "title", "date")
OPTIONAL = ("contactEmail", "code", "details")
SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".csv": "csv"}


class ImportFileError(Exception):
    """The run cannot proceed; a one-line message for the operator."""


@dataclass
class Totals:
    lines: int = 0
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def accepted(self) -> int:
        return self.created + self.corrected + self.unchanged


@dataclass
class Checkpoint:
    fingerprint: str
    lines: int = 0
    offset: int = 0
    rejected_bytes: int = 0
    complete: bool = False
    totals: Totals = field(default_factory=Totals)
    rejected_path: str = ""  # resolved: the rejected file this import writes, and may rewrite
    organization: str = ""  # whose import it is ("" in progress files written before it was kept)


@dataclass
class Row:
    line: int
    end: int  # byte offset just past this row
    item: imports.CareItem | None
    source: Any  # the item as read, for the rejected file
    external_id: str = ""
    error: str = ""


@dataclass
class Summary:
    path: Path
    totals: Totals
    rejected_path: Path | None
    resumed_after: int = 0
    already_done: bool = False
    stopped_early: bool = False


def progress_path(path: Path) -> Path:
    return path.with_name(path.name + ".progress")


def fingerprint(path: Path) -> str:
    """What identifies the file's version: its size and a hash of its whole content, so that a
    line corrected anywhere, even to the same size, makes a changed file (read in chunks)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        digest = hashlib.file_digest(handle, "sha256")
    return f"{size}:{digest.hexdigest()}"


def load_checkpoint(path: Path, expected: str) -> tuple[Checkpoint | None, str]:
    """The checkpoint of this version of the file, or None and why it was not used."""
    where = progress_path(path)
    if not where.exists():
        return None, ""
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        checkpoint = Checkpoint(
            fingerprint=str(data["fingerprint"]), lines=int(data["lines"]), offset=int(data["offset"]),
            rejected_bytes=int(data["rejectedBytes"]), complete=bool(data["complete"]),
            totals=Totals(**{k: int(v) for k, v in data["totals"].items()}),
            rejected_path=str(data.get("rejectedPath", "")),
            organization=str(data.get("organization", "")),
        )
    except (ValueError, KeyError, TypeError):
        return None, f"{where.name} is unreadable; starting over"
    if checkpoint.fingerprint != expected:
        return None, f"{path.name} changed since {where.name} was written; starting over"
    # Positions this file cannot have (the file's size opens its fingerprint): resumed there,
    # the run would fail on a seek, or find nothing to read and mark the file done.
    size = int(expected.split(":", 1)[0])
    counts = (checkpoint.lines, checkpoint.rejected_bytes, *asdict(checkpoint.totals).values())
    if not 0 <= checkpoint.offset <= size or min(counts) < 0:
        return None, f"{where.name} is unreadable; starting over"
    return checkpoint, ""


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    where = progress_path(path)
    temporary = where.with_name(where.name + ".tmp")
    data = {
        "fingerprint": checkpoint.fingerprint, "lines": checkpoint.lines, "offset": checkpoint.offset,
        "rejectedBytes": checkpoint.rejected_bytes, "complete": checkpoint.complete,
        "totals": asdict(checkpoint.totals), "rejectedPath": checkpoint.rejected_path,
        "organization": checkpoint.organization,
    }
    # Created anew, never opened through a link left at its name (the data would go where it
    # points); a .tmp left by a crash is this import's own.
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=1) + "\n")
    os.replace(temporary, where)


def recorded_rejected_path(path: Path) -> str:
    """The rejected file FILE.progress says this import wrote, whatever its version or state."""
    try:
        data = json.loads(progress_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    value = data.get("rejectedPath") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


SYMLINK = "it is a symbolic link; remove it, or name another file with --rejected-out"


def open_rejected(rejected_path: Path) -> IO[bytes]:
    """The rejected file, opened to append, never through a symbolic link (O_NOFOLLOW: a link
    put there after check_rejected_path is refused too)."""
    try:
        # Its owner's alone: it holds the rejected items whole (names, INS, care).
        descriptor = os.open(rejected_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                             | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ImportFileError(f"the rejected lines cannot go to {rejected_path}: {SYMLINK}") from None
        raise
    return os.fdopen(descriptor, "ab")


def check_rejected_path(path: Path, rejected_path: Path, *, default: bool) -> None:
    """Refuses, before anything is written, a rejected file that would destroy another file:
    the input itself (by any name), the progress file, or an existing file that is not the
    rejected file of this import. FILE.rejected.ndjson (the default) is this import's by its
    name; a --rejected-out file that exists is this import's if FILE.progress records it."""
    where = f"the rejected lines cannot go to {rejected_path}"
    progress = progress_path(path)
    if _same_file(rejected_path, path):
        raise ImportFileError(f"{where}: it is the file being imported")
    if _same_file(rejected_path, progress) or _same_file(
        rejected_path, progress.with_name(progress.name + ".tmp")
    ):
        raise ImportFileError(f"{where}: it is the import's progress file")
    if rejected_path.is_symlink():
        # Rejected lines are patients' data: written through a link (one left at
        # FILE.rejected.ndjson by whoever can write to the folder), they went where it points.
        raise ImportFileError(f"{where}: {SYMLINK}")
    if rejected_path.exists():
        if not rejected_path.is_file():
            raise ImportFileError(f"{where}: not a regular file")
        if not default and recorded_rejected_path(path) != str(rejected_path.resolve()):
            raise ImportFileError(
                f"{where}: it exists and is not this import's rejected file "
                f"({progress.name} does not name it); name a new file, or remove it first"
            )
    elif not rejected_path.parent.is_dir():
        raise ImportFileError(f"{where}: {rejected_path.parent} is not a directory")


# --- reading ------------------------------------------------------------------------------


def _date(value: Any, name: str) -> dt.date:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD)") from None


def to_care_item(value: Any) -> imports.CareItem:
    """A CareItemInput as read from the file; raises ValueError like GraphQL coercion would."""
    if not isinstance(value, dict):
        raise ValueError("each item must be a JSON object")
    unknown = sorted(set(value) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    missing = [name for name in REQUIRED if value.get(name) is None]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    for name in ("ins", "firstName", "lastName", "externalId", "section", "title"):
        if not isinstance(value[name], str):
            raise ValueError(f"{name} must be a string")
    for name in ("code", "contactEmail"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise ValueError(f"{name} must be a string")
    try:
        section = Section(value["section"])
    except ValueError:
        raise ValueError(f"section {value['section']!r} is not a Section") from None
    return imports.CareItem(
        ins=value["ins"], first_name=value["firstName"], last_name=value["lastName"],
        birth_date=_date(value["birthDate"], "birthDate"), external_id=value["externalId"],
        section=section, code=value.get("code") or "", title=value["title"],
        date=_date(value["date"], "date"), details=value.get("details"),
        contact_email=value.get("contactEmail"),
    )


def _row(line: int, end: int, value: Any) -> Row:
    external_id = value.get("externalId") if isinstance(value, dict) else None
    row = Row(line, end, None, value, external_id if isinstance(external_id, str) else "")
    try:
        row.item = to_care_item(value)
    except ValueError as exc:
        row.error = str(exc)
    return row


# A care item takes a few hundred bytes: a line of more is no item (a file cut wrong, a binary
# file), and is read past, not held, however long (a 200 MB line took 640 MB).
MAX_LINE = 1 << 20
TOO_LONG = f"the line is longer than {MAX_LINE // (1 << 20)} MB: not a care item"
# A batch is also committed once its lines make this many bytes: lines of near MAX_LINE each (a
# title of a megabyte, rejected only by the import) held 1,000 at a time took gigabytes.
BATCH_BYTES = 32 << 20


def ends_lines_with_cr(path: Path) -> bool:
    """Whether the file's lines end with CR alone, as files of Mac OS before OS X do (Excel for
    Mac still saves « CSV (Macintosh) » so). Read as one line, such a file was a bad CSV header,
    or one NDJSON line rejected whole."""
    with path.open("rb") as handle:
        start = handle.read(1 << 16)
    return b"\r" in start and b"\n" not in start


class CrLines:
    """A file whose lines end with CR alone, read a line at a time as a binary file's
    `readline` reads lines ending with LF (the same byte offsets, so FILE.progress is alike)."""

    newline = b"\r"

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.buffer = b""
        self.at = 0  # where the next line starts in buffer

    def seek(self, offset: int) -> int:
        self.buffer, self.at = b"", 0
        return self.handle.seek(offset)

    def readline(self, limit: int) -> bytes:
        while True:
            end = self.buffer.find(b"\r", self.at, self.at + limit)
            if end >= 0 or len(self.buffer) - self.at >= limit:
                stop = end + 1 if end >= 0 else self.at + limit
                line, self.at = self.buffer[self.at:stop], stop
                return line
            more = self.handle.read(1 << 16)
            if not more:
                line, self.buffer, self.at = self.buffer[self.at:], b"", 0
                return line
            self.buffer, self.at = self.buffer[self.at:] + more, 0


Lines: TypeAlias = IO[bytes] | CrLines


def lines_of(handle: IO[bytes], cr: bool) -> Lines:
    return CrLines(handle) if cr else handle


def read_line(handle: Lines) -> tuple[bytes, int]:
    """The next physical line (b"" at the end) and its length in bytes; of a line longer than
    MAX_LINE, only its first MAX_LINE bytes (the rest is read past)."""
    newline = handle.newline if isinstance(handle, CrLines) else b"\n"
    raw = handle.readline(MAX_LINE + 1)
    length = len(raw)
    if length > MAX_LINE and not raw.endswith(newline):
        while (more := handle.readline(1 << 16)):
            length += len(more)
            if more.endswith(newline):
                break
    return raw, length


def ndjson_rows(handle: Lines, offset: int, line: int) -> Iterator[Row]:
    handle.seek(offset)
    while True:
        raw, length = read_line(handle)
        if not raw:
            break
        offset += length
        line += 1
        if length > MAX_LINE:
            yield Row(line, offset, None, raw[:2000].decode("utf-8", "replace"), error=TOO_LONG)
            continue
        if line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            yield Row(line, offset, None, text[:2000], error=f"not valid JSON: {exc}")
            continue
        yield _row(line, offset, value)


class _DecodedLines:
    """The file's lines as text for csv.reader, counting bytes and physical lines."""

    def __init__(self, handle: Lines) -> None:
        self.handle = handle
        self.offset = 0
        self.line = 0
        # Whether a line read since the last `undecodable()` was not UTF-8: read as text with
        # replacement characters so that the record around it can be rejected whole.
        self.not_utf8 = False
        self.too_long = False

    def overlong(self) -> bool:
        """Whether a line of the record just read was longer than MAX_LINE (and forget it)."""
        found, self.too_long = self.too_long, False
        return found

    def undecodable(self) -> bool:
        """Whether a line of the record just read was not UTF-8 (and forget it)."""
        found, self.not_utf8 = self.not_utf8, False
        return found

    def seek(self, offset: int, line: int) -> None:
        self.handle.seek(offset)
        self.offset, self.line = offset, line

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw, length = read_line(self.handle)
        if not raw:
            raise StopIteration
        self.offset += length
        self.line += 1
        if length > MAX_LINE:  # rejected with the record it belongs to, as a line not UTF-8 is
            self.too_long = True
            raw = raw[:2000] + b"\n"
        if self.line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.not_utf8 = True
            return raw.decode("utf-8", "replace")


@dataclass
class CsvHeader:
    names: list[str]
    end: int  # byte offset just past the header row
    lines: int  # physical lines it takes


def csv_header(path: Path, cr: bool = False) -> CsvHeader:
    """The header row, checked before anything is written. A file without one has patient data
    on its first line: the message names the missing fields, never the columns it found."""
    with path.open("rb") as handle:
        source = _DecodedLines(lines_of(handle, cr))
        try:
            header = [name.strip() for name in next(csv.reader(source), [])]
        except csv.Error:
            raise ImportFileError("the CSV header row cannot be read (is the file CSV?)") from None
    if not any(header):
        raise ImportFileError("the CSV file has no header row")
    known = set(REQUIRED) | set(OPTIONAL)
    if len(header) == 1 and {name.strip().strip('"') for name in header[0].split(";")} <= known:
        # As a spreadsheet set to French saves "CSV": said as such, not as a file without header.
        raise ImportFileError("the CSV file is separated by semicolons: save it with commas "
                              "as separators")
    unknown = [n for n, name in enumerate(header, 1) if name not in known]
    missing = [name for name in REQUIRED if name not in header]
    twice = [name for name in dict.fromkeys(header) if name in known and header.count(name) > 1]
    if unknown or missing or twice:
        where = ", ".join(map(str, unknown[:10])) + (", ..." if len(unknown) > 10 else "")
        raise ImportFileError(
            "the CSV header must name CareItemInput fields once each"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; duplicated: {', '.join(twice)}" if twice else "")
            + (f"; {len(unknown)} unknown column{'s' if len(unknown) > 1 else ''}" if unknown else "")
            + (f" (at {where})" if unknown and len(unknown) < len(header)
               else "; is the first line the header row?" if unknown else "")
        )
    return CsvHeader(header, source.offset, source.line)


def csv_rows(handle: Lines, offset: int, line: int, header_row: CsvHeader) -> Iterator[Row]:
    source = _DecodedLines(handle)
    # Strict: a record that ends inside its quotes (a file cut short, a quote left open that
    # took the next lines, another patient's, into its last field) is an error, not an item;
    # and so is text after a closing quote.
    reader = csv.reader(source, strict=True)
    header = header_row.names
    if offset > header_row.end:
        source.seek(offset, line)
    else:
        source.seek(header_row.end, header_row.lines)
    line = source.line
    source.undecodable()
    source.overlong()
    while True:
        first_line = line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A field over the csv module's limit (128 KiB; a quote left open swallows the lines
            # after it until then): no care item. The reader starts afresh on the next line.
            line = source.line
            source.undecodable()
            source.overlong()
            yield Row(first_line, source.offset, None, None, error=f"not a CSV record: {exc}")
            continue
        line = source.line
        if source.overlong():
            source.undecodable()
            yield Row(first_line, source.offset, None, [v[:2000] for v in values][:50], error=TOO_LONG)
            continue
        if source.undecodable():  # a Latin-1 export, say: stored as read, its accents would be lost
            yield Row(first_line, source.offset, None, values,
                      error="not UTF-8 text (save the file in UTF-8)")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Row(first_line, source.offset, None, values,
                      error=f"expected {len(header)} columns, found {len(values)}")
            continue
        item: dict[str, Any] = {}
        for name, text in zip(header, values, strict=True):
            if name in OPTIONAL and text == "":
                continue
            item[name] = text
        if "details" in item:
            try:
                item["details"] = json.loads(item["details"])
            except ValueError as exc:
                yield Row(first_line, source.offset, None, item,
                          external_id=item.get("externalId", ""),
                          error=f"details is not valid JSON: {exc}")
                continue
        yield _row(first_line, source.offset, item)


def detect_format(path: Path, given: str | None) -> str:
    if given:
        return given
    by_suffix = SUFFIXES.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    with path.open("rb") as handle:
        start = handle.read(512).removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"{"):
        return "ndjson"
    raise ImportFileError(
        f"cannot tell the format of {path.name}: name it .ndjson or .csv, or pass --format"
    )


# Byte-order marks of wide encodings (UTF-32 first: its little-endian mark begins with UTF-16's).
_WIDE_MARKS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def wide_encoding(start: bytes) -> str | None:
    """The UTF-16 or UTF-32 that a file starting with these bytes is written in (the name iconv
    knows it by), or None: by its byte-order mark, or by the NUL bytes beside each character
    of the text it begins with (a JSON object, a CSV header: no NUL of their own)."""
    for mark, name in _WIDE_MARKS:
        if start.startswith(mark):
            return name
    if len(start) < 8 or b"\x00" not in start:
        return None
    if start[1:4] == b"\x00\x00\x00" and start[5:8] == b"\x00\x00\x00":
        return "UTF-32LE"
    if start[0:3] == b"\x00\x00\x00" and start[4:7] == b"\x00\x00\x00":
        return "UTF-32BE"
    if not any(start[1::2]):
        return "UTF-16LE"
    if not any(start[0::2]):
        return "UTF-16BE"
    return None


def check_utf8(path: Path) -> None:
    """A file in UTF-16 (PowerShell 5's `>` and Out-File write it, Excel's « Texte Unicode ») or
    UTF-32 is refused whole: read as UTF-8, every line of it was rejected, and the rejected
    file held the whole extract."""
    with path.open("rb") as handle:
        encoding = wide_encoding(handle.read(8))
    if encoding is not None:
        converted = path.with_name(f"{path.stem}.utf8{path.suffix}").name
        raise ImportFileError(
            f"{path.name} is not UTF-8 text but {encoding}: save it in UTF-8 (for example with: "
            f"iconv -f {encoding} -t UTF-8 {shlex.quote(path.name)} > {shlex.quote(converted)})"
        )


def check_not_json_array(path: Path) -> None:
    """A JSON array of items (an export named .json, often indented) is no NDJSON: read line by
    line, every line of it was rejected, and the rejected file held the whole extract."""
    with path.open("rb") as handle:
        start = handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"[") and start[1:].lstrip()[:1] in (b"{", b""):
        raise ImportFileError(
            f"{path.name} holds a JSON array: give one item per line (NDJSON), "
            f"for example with: jq -c '.[]' {shlex.quote(path.name)}"
        )


def check_not_csv(path: Path) -> None:
    """A CSV file read as NDJSON (`--format ndjson` given by mistake, or a CSV extract named
    .json): every line of it was rejected, exit status 0, the rejected file held the whole
    extract, and FILE.progress called it imported, so the run with the right format did nothing.
    Told by its first line: a CSV header row (CareItemInput's field names, commas or semicolons)."""
    with path.open("rb") as handle:
        start = handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    first = start.splitlines()[0] if start else b""
    if first.startswith(b"{"):
        return
    known = set(REQUIRED) | set(OPTIONAL)
    for separator in (b",", b";"):
        names = {name.strip().strip(b'"').decode("utf-8", "replace") for name in first.split(separator)}
        if len(names) > 1 and names <= known:
            rename = "" if path.suffix.lower() == ".csv" else ", or name it .csv"
            raise ImportFileError(
                f"{path.name} is CSV (its first line is a CSV header row), not NDJSON: pass --format "
                f"csv{rename}"
            )


# --- importing ----------------------------------------------------------------------------


class BatchKeys:
    """The import keys of the current batch's items, to keep each key to one content a batch.

    The import rejects with CONFLICT an item whose key came earlier in its batch with other
    content, and takes it as a correction in a later batch: the same file gave one or the
    other by where --batch-size put the boundary. A line that `corrects` an earlier one of the
    batch is committed in the next batch instead. Keys and content are the import's own: the
    INS normalised and the externalId trimmed (the organization is the run's), and the content
    hash its validation computes, only for the lines whose key came earlier in the batch.
    """

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], imports.CareItem] = {}  # the batch's first of each key
        self.contents: dict[tuple[str, str], str | None] = {}  # its content, once compared
        self.known_ins: dict[str, str] = {}

    def key(self, item: imports.CareItem) -> tuple[str, str] | None:
        """The item's import key; None for an INS the import rejects (and the item with it)."""
        ins = self.known_ins.get(item.ins)
        if ins is None:
            try:
                ins = normalize_ins(item.ins)
            except InvalidIdentifier:
                return None
            self.known_ins[item.ins] = ins
        return ins, item.external_id.strip()

    @staticmethod
    def content(item: imports.CareItem) -> str | None:
        """The content hash by which the import compares the items of one key; None for an
        item it rejects. Validated as of tomorrow: a line dated the day after today, read just
        before midnight, may be valid when its batch is written; taken for one here, it is
        at worst committed apart, never sent in one batch with another content of its key."""
        return imports.content_hash(item, clock.latest_today() + dt.timedelta(days=1))

    def corrects(self, row: Row) -> bool:
        """Whether the row's item has the key of an earlier valid item of the batch and other
        content. An item the import's validation rejects is never compared with another of its
        key (the import rejects it, and keeps no content for its key): it neither ends a batch
        nor is ended by one. Committing at every such line gave a file whose lines are
        rejected alike (a blank externalId on each line of a patient) a batch, a transaction
        and an fsync a line."""
        key = self.key(row.item) if row.item is not None else None
        first = self.first.get(key) if key is not None else None
        if key is None or first is None or row.item is None:
            return False
        if key not in self.contents:
            self.contents[key] = self.content(first)
        earlier, content = self.contents[key], self.content(row.item)
        if earlier is None:
            # The key's first item so far is rejected: this one is the first the import compares.
            self.first[key], self.contents[key] = row.item, content
            return False
        return content is not None and content != earlier

    def add(self, row: Row) -> None:
        key = self.key(row.item) if row.item is not None else None
        if key is not None and row.item is not None:
            self.first.setdefault(key, row.item)

    def clear(self) -> None:
        self.first.clear()
        self.contents.clear()
        self.known_ins.clear()


def check_organization(name: str) -> str:
    """The organization as `dmp create-token --organization` stores it (accounts.organization_name)."""
    found = organization_name(name)
    if found is None:
        raise ImportFileError(f"--organization must be 1 to {NAME_MAX} printable characters")
    return found


async def insurer_viewer(organization: str) -> Viewer:
    """The viewer importCareHistory would see for this organization's import token."""
    # Both sides compared composed: a token created before names were stored composed may hold
    # its organization decomposed. Its name is kept as stored (that of its imports on the web).
    tokens = await ApiToken.filter(
        organization__not_isnull=True, practitioner_id=None, revoked_at=None, expires_at__gt=clock.now()
    ).order_by("created_at")
    token = next((t for t in tokens if imports.IMPORT_SCOPE in t.scopes
                  and unicodedata.normalize("NFC", t.organization or "") == organization), None)
    if token is None:
        raise ImportFileError(
            f"unknown organization {organization!r}: it has no active insurer:import token "
            f"(create one with: dmp create-token --name import --scope insurer:import "
            f"--organization {shlex.quote(organization)})"
        )
    stored = token.organization or organization
    return Viewer(role=Role.INSURER, display_name=stored, token_id=token.id,
                  scopes=frozenset(token.scopes), organization=stored)


async def token_active(viewer: Viewer) -> bool:
    return await ApiToken.filter(
        id=viewer.token_id, revoked_at=None, expires_at__gt=clock.now()
    ).exists()


def stopped(lines: int) -> str:
    """How far a run that stopped got, by FILE.progress (written before its first batch)."""
    return f"stopped after line {lines}" if lines else "stopped before its first line"


def token_gone(viewer: Viewer, lines: int, path: Path) -> str:
    return (f"the insurer:import token of {viewer.organization!r} was revoked or expired during "
            f"the run: {stopped(lines)} ({progress_path(path).name} keeps how far it got); run the same "
            f"command again with an active token to resume")


def _context(viewer: Viewer) -> Any:
    request = Request({"type": "http", "method": "POST", "path": "/cli/import-file", "headers": []})
    return build_context(request, None, viewer)


async def _import_batch(viewer: Viewer, batch: list[Row]) -> tuple[Totals, list[dict[str, Any]]]:
    """One batch through the import function; its access events written before returning."""
    rows = [row for row in batch if row.item is not None]
    items = [row.item for row in rows if row.item is not None]
    result = imports.ImportResult()
    if items:
        ctx = _context(viewer)
        try:
            result = await imports.import_care_history(ctx, items)
        except PublicError as exc:
            raise ImportFileError(f"line {batch[0].line} onwards: {exc.message}") from None
        await ctx.access_log.flush()
    rejected = [
        {"line": row.line, "externalId": row.external_id, "code": "BAD_USER_INPUT",
         "message": row.error, "item": row.source}
        for row in batch if row.item is None
    ] + [
        {"line": rows[r.index].line, "externalId": r.external_id, "code": r.code,
         "message": r.message, "item": rows[r.index].source}
        for r in result.rejected
    ]
    rejected.sort(key=lambda r: int(r["line"]))
    totals = Totals(created=result.created, corrected=result.corrected,
                    unchanged=result.unchanged, rejected=len(rejected))
    return totals, rejected


async def import_file(
    path: Path,
    organization: str,
    *,
    batch_size: int = 1000,
    rejected_out: Path | None = None,
    file_format: str | None = None,
    restart: bool = False,
    max_lines: int | None = None,
    progress_stream: TextIO,
) -> Summary:
    organization = check_organization(organization)
    if not 1 <= batch_size <= imports.MAX_ITEMS:
        raise ImportFileError(f"--batch-size must be between 1 and {imports.MAX_ITEMS}")
    if max_lines is not None and max_lines < 1:
        raise ImportFileError("--max-lines must be at least 1")
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if not path.is_file():
        raise ImportFileError(f"{path}: not a regular file")
    check_utf8(path)
    file_format = detect_format(path, file_format)
    default_rejected = path.with_name(path.name + ".rejected.ndjson")
    rejected_path = rejected_out or default_rejected
    check_rejected_path(path, rejected_path,
                        default=rejected_path.resolve() == default_rejected.resolve())
    if file_format == "ndjson":
        check_not_json_array(path)
        check_not_csv(path)
    cr = ends_lines_with_cr(path)
    header = csv_header(path, cr) if file_format == "csv" else None
    viewer = await insurer_viewer(organization)
    with lock_input(path):
        return await _import_locked(path, viewer, header, rejected_path, batch_size=batch_size,
                                    restart=restart, max_lines=max_lines,
                                    progress_stream=progress_stream, cr=cr)


def check_same_organization(path: Path, checkpoint: Checkpoint, viewer: Viewer) -> None:
    """Refuses, before anything is written, a run for another organization than the one
    FILE.progress was written for: an extract imported under a wrong --organization, run again
    with the right one, said « already imported; nothing to do », and an interrupted one
    resumed with another went on under it."""
    recorded, given = checkpoint.organization, viewer.organization or ""
    if not recorded or unicodedata.normalize("NFC", recorded) == unicodedata.normalize("NFC", given):
        return
    progress = progress_path(path).name
    if checkpoint.complete:
        raise ImportFileError(
            f"{path.name} was imported for {recorded!r} ({progress}), not for {given!r}: check "
            f"--organization; --restart imports it for {given!r} too"
        )
    raise ImportFileError(
        f"{progress} is an import of {path.name} for {recorded!r}, {stopped(checkpoint.lines)}: "
        f"give --organization {shlex.quote(recorded)} to resume it, or --restart "
        f"to import the file for {given!r} from its first line"
    )


def lock_input(path: Path) -> IO[bytes]:
    """The input, opened and locked for this run. Two runs on one file (a command started
    twice, a scheduled run catching up with the last) would write its progress and rejected
    files over each other: the second is refused, before it writes anything."""
    handle = path.open("rb")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ImportFileError(
            f"{path.name} is being imported by another run of import-file; wait for it to end"
        ) from None
    return handle


async def _import_locked(
    path: Path,
    viewer: Viewer,
    header: CsvHeader | None,
    rejected_path: Path,
    *,
    batch_size: int,
    restart: bool,
    max_lines: int | None,
    progress_stream: TextIO,
    cr: bool = False,
) -> Summary:
    version = fingerprint(path)
    checkpoint, notice = (None, "") if restart else load_checkpoint(path, version)
    if checkpoint is not None:
        check_same_organization(path, checkpoint, viewer)
    if notice:
        progress_stream.write(f"import-file: {notice}\n")
    if checkpoint is not None and checkpoint.complete:
        written = Path(checkpoint.rejected_path) if checkpoint.rejected_path else rejected_path
        return Summary(path, checkpoint.totals, written if checkpoint.totals.rejected else None,
                       resumed_after=checkpoint.lines, already_done=True)
    resumed_after = checkpoint.lines if checkpoint else 0
    checkpoint = checkpoint or Checkpoint(fingerprint=version)
    checkpoint.organization = viewer.organization or ""
    size = path.stat().st_size
    progress = Progress(progress_stream, size, checkpoint.offset)

    # FILE.progress names the rejected file before it is created: a re-run, even after a crash
    # before the first batch, knows that file as its own.
    checkpoint.rejected_path = str(rejected_path.resolve())
    save_checkpoint(path, checkpoint)
    # Rejections past the checkpoint may have been written by the interrupted run: drop them.
    with open_rejected(rejected_path) as rejected_file:
        rejected_file.truncate(min(checkpoint.rejected_bytes, rejected_file.tell()))
    try:
        summary = await _import_rows(path, viewer, header, checkpoint, rejected_path, progress,
                                     batch_size=batch_size, max_lines=max_lines, cr=cr,
                                     resumed_after=resumed_after, size=size)
    finally:
        # However the run ends (a token revoked, an interruption): a terminal's bar line ended,
        # and no empty rejected file left.
        progress.close()
        with contextlib.suppress(OSError):
            if rejected_path.lstat().st_size == 0:
                rejected_path.unlink()
    if not rejected_path.exists():
        summary.rejected_path = None
    return summary


async def _import_rows(
    path: Path,
    viewer: Viewer,
    header: CsvHeader | None,
    checkpoint: Checkpoint,
    rejected_path: Path,
    progress: Progress,
    *,
    batch_size: int,
    max_lines: int | None,
    cr: bool,
    resumed_after: int,
    size: int,
) -> Summary:
    totals = checkpoint.totals
    stopped_early = False
    with path.open("rb") as handle, open_rejected(rejected_path) as rejected_file:
        lines = lines_of(handle, cr)
        rows = (
            csv_rows(lines, checkpoint.offset, checkpoint.lines, header) if header is not None
            else ndjson_rows(lines, checkpoint.offset, checkpoint.lines)
        )
        batch: list[Row] = []
        keys = BatchKeys()

        async def commit(last_line: int, end: int) -> None:
            # The token checked again before each batch: one revoked (or expired) during a long
            # run stopped nothing, and the rest of the file was imported under it.
            if not await token_active(viewer):
                raise ImportFileError(token_gone(viewer, checkpoint.lines, path))
            done, rejected = await _import_batch(viewer, batch)
            for rejection in rejected:
                # A lone surrogate (in a string, where else) has no UTF-8 form: written as its
                # JSON escape, the line reads back as it was sent.
                rejected_file.write(json.dumps(rejection, ensure_ascii=False, default=str).encode(
                    "utf-8", "backslashreplace") + b"\n")
            rejected_file.flush()
            os.fsync(rejected_file.fileno())
            totals.created += done.created
            totals.corrected += done.corrected
            totals.unchanged += done.unchanged
            totals.rejected += done.rejected
            totals.lines = last_line
            checkpoint.lines, checkpoint.offset = last_line, end
            checkpoint.rejected_bytes = rejected_file.tell()
            save_checkpoint(path, checkpoint)
            progress.update(end, len(batch), done.rejected)
            batch.clear()
            keys.clear()

        read_to, batch_bytes = checkpoint.offset, 0
        for row in rows:
            if max_lines is not None and row.line > resumed_after + max_lines:
                stopped_early = True
                break
            if keys.corrects(row):
                # The batch so far first: this line is then a correction of the earlier one,
                # whatever --batch-size, never a CONFLICT for sending one key twice in a batch.
                await commit(batch[-1].line, batch[-1].end)
                batch_bytes = 0
            keys.add(row)
            batch.append(row)
            batch_bytes, read_to = batch_bytes + row.end - read_to, row.end
            if len(batch) >= batch_size or batch_bytes >= BATCH_BYTES:
                await commit(row.line, row.end)
                batch_bytes = 0
        if batch:
            await commit(batch[-1].line, batch[-1].end)
        if not stopped_early:
            checkpoint.complete = True
            checkpoint.offset = size
            save_checkpoint(path, checkpoint)
        progress.update(checkpoint.offset, 0, 0, final=True)
    return Summary(path, totals, rejected_path, resumed_after=resumed_after,
                   stopped_early=stopped_early)


def describe(summary: Summary) -> str:
    t = summary.totals
    if summary.already_done:
        return (f"{summary.path.name} was already imported ({progress_path(summary.path).name}): "
                f"{t.accepted} accepted, {t.rejected} rejected; nothing to do "
                f"(--restart imports it again, without duplicates)")
    text = (f"{summary.path.name}: {t.accepted} accepted ({t.created} created, {t.corrected} "
            f"corrected, {t.unchanged} unchanged), {t.rejected} rejected")
    if summary.rejected_path is not None:
        text += f", listed in {summary.rejected_path}"
    if summary.resumed_after:
        text += f"; resumed after line {summary.resumed_after}"
    if summary.stopped_early:
        text += f"; stopped after line {t.lines} (re-run to continue)"
    return text
