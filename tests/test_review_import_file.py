"""`dmp import-file`: a file in UTF-16 or UTF-32 is refused whole before anything is written,
and the rejected lines (patients' data) go to a file only its owner may read."""

from __future__ import annotations

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
