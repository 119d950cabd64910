"""`dmp import-file`: a file in UTF-16 or UTF-32 is refused whole before anything is written,
and the rejected lines (patients' data) go to a file only its owner may read."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest

from backend import importfile
from backend.models import Entry, Record
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins
from tests.server import run_dmp


def ndjson(count: int, end: str = "\n") -> str:
    ins = new_ins()
    return "".join(json.dumps(medication_item(ins, n, title=f"Doliprane 1000 mg #{n}"),
                              ensure_ascii=False) + end for n in range(1, count + 1))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
async def test_a_file_in_utf16_or_utf32_is_refused_before_anything_is_written(
    tmp_path: Path, encoding: str
) -> None:
    """PowerShell 5's `>` writes UTF-16: read as UTF-8, every line was rejected (the run ended
    with status 0), and the rejected file held the whole extract, a NUL byte in every other
    character."""
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_bytes(ndjson(5, end="\r\n").encode(encoding))
    with pytest.raises(importfile.ImportFileError, match="not UTF-8") as refused:
        await importfile.import_file(path, INSURER, progress_stream=io.StringIO())
    assert "UTF-16" in str(refused.value) or "UTF-32" in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["care.ndjson"]
    assert await Entry.all().count() == 0 and await Record.all().count() == 0


async def test_the_command_refuses_a_utf16_csv_with_one_line_and_status_1(tmp_path: Path) -> None:
    await insurer_token()
    path = tmp_path / "care.csv"
    path.write_bytes("ins,firstName,lastName,birthDate,externalId,section,title,date\r\n"
                     .encode("utf-16"))
    result = run_dmp("import-file", str(path), "--organization", INSURER)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "dmp: care.csv is not UTF-8 text but UTF-16: save it in UTF-8 "
        "(for example with: iconv -f UTF-16 -t UTF-8 care.csv > care.utf8.csv)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["care.csv"]


async def test_a_utf8_file_with_its_byte_order_mark_is_still_read(tmp_path: Path) -> None:
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + ndjson(3).encode())
    summary = await importfile.import_file(path, INSURER, progress_stream=io.StringIO())
    assert (summary.totals.created, summary.totals.rejected) == (3, 0)


async def test_the_rejected_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds the rejected items whole: names, INS, birth dates, care. Created 0644 under the
    usual umask, any account on the server could read it."""
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(3) + "{not json\n")
    old = os.umask(0o022)
    try:
        summary = await importfile.import_file(path, INSURER, progress_stream=io.StringIO())
        out = tmp_path / "elsewhere.ndjson"
        path.write_text(ndjson(2) + "{not json either\n")
        await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), rejected_out=out)
    finally:
        os.umask(old)
    assert summary.totals.rejected == 1 and summary.rejected_path is not None
    for rejected in (summary.rejected_path, out):
        assert stat.S_IMODE(rejected.stat().st_mode) == 0o600, oct(rejected.stat().st_mode)


TITLE_LAST = ["ins", "firstName", "lastName", "birthDate", "externalId", "section", "code", "date",
              "title"]


def csv_title_last(items: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TITLE_LAST)
    writer.writerows([i[f] for f in TITLE_LAST] for i in items)
    return buffer.getvalue()


async def test_a_csv_file_cut_inside_a_quoted_field_rejects_the_cut_record(tmp_path: Path) -> None:
    """Cut short (a transfer stopped, a disk full), the last record ends inside its quoted
    title: the csv module read it as complete, and the item was imported with half a title."""
    await insurer_token()
    ins = new_ins()
    items = [medication_item(ins, n, title=f"Doliprane, 1000 mg #{n}") for n in range(1, 5)]
    text = csv_title_last(items)
    path = tmp_path / "care.csv"
    path.write_text(text[:text.rindex("1000 mg #4")], encoding="utf-8")  # ends: ,"Doliprane,
    summary = await importfile.import_file(path, INSURER, progress_stream=io.StringIO())
    assert (summary.totals.created, summary.totals.rejected) == (3, 1)
    rejected = [json.loads(line) for line in (tmp_path / "care.csv.rejected.ndjson").read_text(
        encoding="utf-8").splitlines()]
    assert [(r["line"], r["message"]) for r in rejected] == [
        (5, "not a CSV record: unexpected end of data")]
    titles = await Entry.filter(organization=INSURER).order_by("title").values_list("title", flat=True)
    assert titles == [f"Doliprane, 1000 mg #{n}" for n in range(1, 4)]


async def test_a_quote_left_open_does_not_put_the_next_patients_line_in_a_title(
    tmp_path: Path,
) -> None:
    """A quote opened in the last column and never closed took the lines after it, another
    patient's, into that field up to the end of the file: under 300 characters, they were
    imported as the title of the first patient's item, the other's INS and name with them."""
    await insurer_token()
    first, second = new_ins(), new_ins()
    items = [medication_item(first, 1, title="Doliprane 1000 mg"),
             medication_item(second, 2, firstName="Bruno", lastName="Lefebvre", title="Efferalgan")]
    lines = csv_title_last(items).splitlines(keepends=True)
    lines[1] = lines[1].replace("Doliprane", '"Doliprane', 1)  # a quote opened, never closed
    path = tmp_path / "care.csv"
    path.write_text("".join(lines), encoding="utf-8")
    summary = await importfile.import_file(path, INSURER, progress_stream=io.StringIO())
    assert (summary.totals.accepted, summary.totals.rejected) == (0, 1)
    assert await Entry.all().count() == 0
    assert await Record.filter(ins__in=[first, second]).count() == 0
