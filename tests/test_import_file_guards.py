"""`dmp import-file`: a token revoked during the run, files with CR-only line endings, and
symbolic links where it writes (DESIGN §7: one line, non-zero, nothing lost or written)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from backend import clock, importfile
from backend.importprogress import Progress
from backend.models import ApiToken, Entry, ImportKey
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins
from tests.server import run_dmp

FIELDS = ["ins", "firstName", "lastName", "birthDate", "externalId", "section", "code", "title",
          "date", "details"]


def items(count: int) -> list[dict[str, Any]]:
    patients = [new_ins() for _ in range(3)]
    return [medication_item(patients[n % 3], n, title=f"Doliprane, 1000 mg #{n}")
            for n in range(1, count + 1)]


def ndjson(count: int, bad: set[int], end: str = "\n") -> str:
    return "".join(("{not json" if n in bad else json.dumps(item)) + end
                   for n, item in enumerate(items(count), 1))


async def run(path: Path, **options: Any) -> importfile.Summary:
    return await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), **options)


def rejected_lines(path: Path) -> list[int]:
    target = path.with_name(path.name + ".rejected.ndjson")
    return [json.loads(line)["line"] for line in target.read_text(encoding="utf-8").splitlines()]


async def imported() -> int:
    entries = await Entry.filter(organization=INSURER).count()
    assert entries == await ImportKey.filter(organization=INSURER).count()  # no duplicates
    return entries


# --- a token revoked during the run ---------------------------------------------------------


@pytest.mark.parametrize("ended", ["revoked", "expired"])
async def test_a_token_revoked_during_the_run_stops_it_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ended: str
) -> None:
    """The token was looked up once: revoked after the first batch, the rest of the file was
    imported under it all the same."""
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(10, bad={2, 7}))
    real = importfile._import_batch
    batches = 0

    async def then_end_the_token(viewer: Any, batch: list[importfile.Row]) -> Any:
        nonlocal batches
        done = await real(viewer, batch)
        batches += 1
        if batches == 1:
            if ended == "revoked":
                await ApiToken.all().update(revoked_at=clock.now())
            else:
                await ApiToken.all().update(expires_at=clock.now() - dt.timedelta(seconds=1))
        return done

    monkeypatch.setattr(importfile, "_import_batch", then_end_the_token)
    with pytest.raises(importfile.ImportFileError) as stopped:
        await run(path, batch_size=4)
    assert str(stopped.value) == (
        "the insurer:import token of 'Assurance Maladie' was revoked or expired during the run: "
        "stopped after line 4 (care.ndjson.progress keeps how far it got); run the same command "
        "again with an active token to resume")
    assert batches == 1
    assert await imported() == 3  # lines 1, 3, 4; line 2 rejected
    assert rejected_lines(path) == [2]
    progress = json.loads((tmp_path / "care.ndjson.progress").read_text())
    assert (progress["lines"], progress["complete"], progress["totals"]["created"]) == (4, False, 3)

    monkeypatch.undo()
    await insurer_token()  # a new one
    summary = await run(path, batch_size=4)
    assert summary.resumed_after == 4
    assert (summary.totals.created, summary.totals.rejected) == (8, 2)
    assert await imported() == 8
    assert rejected_lines(path) == [2, 7]


async def test_a_token_gone_before_the_first_batch_imports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(3, bad={2}))
    real = importfile.insurer_viewer

    async def found_then_revoked(organization: str) -> Any:
        viewer = await real(organization)
        await ApiToken.all().update(revoked_at=clock.now())
        return viewer

    monkeypatch.setattr(importfile, "insurer_viewer", found_then_revoked)
    with pytest.raises(importfile.ImportFileError, match="stopped before its first line"):
        await run(path)
    assert await Entry.all().count() == 0
    assert not (tmp_path / "care.ndjson.rejected.ndjson").exists()  # no empty file left
    assert json.loads((tmp_path / "care.ndjson.progress").read_text())["lines"] == 0


def test_a_message_after_the_bar_starts_its_own_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(stream, 100)
    progress.update(40, 4, 0)
    assert not stream.getvalue().endswith("\n")
    progress.close()
    assert stream.getvalue().endswith("\n")
    progress.update(100, 6, 0, final=True)
    ended = stream.getvalue()
    progress.close()
    assert stream.getvalue() == ended  # no blank line after a finished bar


# --- CR-only line endings -------------------------------------------------------------------


async def test_a_csv_file_with_cr_only_line_endings_is_read_and_resumed(tmp_path: Path) -> None:
    """Excel for Mac's « CSV (Macintosh) »: read as one line, it was a header that « cannot be
    read (is the file CSV?) »."""
    await insurer_token()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r")
    writer.writerow(FIELDS)
    writer.writerows([json.dumps(i[f]) if f == "details" else i[f] for f in FIELDS] for i in items(7))
    path = tmp_path / "care.csv"
    path.write_bytes(buffer.getvalue().encode())
    assert b"\n" not in path.read_bytes()

    half = await run(path, batch_size=2, max_lines=3)  # the header and two rows
    assert (half.totals.created, half.totals.rejected, half.stopped_early) == (2, 0, True)
    rest = await run(path, batch_size=2)
    assert (rest.resumed_after, rest.totals.created, rest.totals.rejected) == (3, 7, 0)
    assert await imported() == 7
    titles = {e.title async for e in Entry.filter(organization=INSURER)}
    assert titles == {f"Doliprane, 1000 mg #{n}" for n in range(1, 8)}


async def test_an_ndjson_file_with_cr_only_line_endings_is_read_line_by_line(tmp_path: Path) -> None:
    """It was one line, rejected whole as « not valid JSON: Extra data »."""
    await insurer_token()
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(6, bad={4}, end="\r"), newline="")
    summary = await run(path, batch_size=4)
    assert (summary.totals.created, summary.totals.rejected) == (5, 1)
    assert await imported() == 5
    rejected = json.loads((tmp_path / "care.ndjson.rejected.ndjson").read_text())
    assert (rejected["line"], rejected["item"]) == (4, "{not json")


def test_cr_lines_are_read_as_readline_reads_lf_lines() -> None:
    text = b"one\rtwo\r\rthree is longer\rlast"
    reader = importfile.CrLines(io.BytesIO(text))
    assert [reader.readline(100) for _ in range(6)] == [
        b"one\r", b"two\r", b"\r", b"three is longer\r", b"last", b""]
    reader.seek(4)
    assert reader.readline(2) == b"tw"  # cut at the limit, as readline(limit) is
    assert reader.readline(100) == b"o\r"
    # A line past MAX_LINE is read past whole, its length counted.
    long = importfile.CrLines(io.BytesIO(b"x" * (importfile.MAX_LINE + 10) + b"\rnext\r"))
    raw, length = importfile.read_line(long)
    assert (len(raw), length) == (importfile.MAX_LINE + 1, importfile.MAX_LINE + 11)
    assert importfile.read_line(long) == (b"next\r", 5)


# --- symbolic links where the run writes ----------------------------------------------------


def victim(tmp_path: Path) -> Path:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "notes.txt"
    target.write_text("someone else's file\n")
    return target


async def test_a_symbolic_link_at_the_rejected_file_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """FILE.rejected.ndjson, a link left by anyone who can write to the folder: the rejected
    lines (patients' data) were appended to the file it points to."""
    await insurer_token()
    target = victim(tmp_path)
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(4, bad={2}))
    link = tmp_path / "care.ndjson.rejected.ndjson"
    link.symlink_to(target)

    result = run_dmp("import-file", str(path), "--organization", INSURER)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"dmp: the rejected lines cannot go to {link}: it is a symbolic link; remove it, or name "
        "another file with --rejected-out"]
    assert target.read_text() == "someone else's file\n"
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "care.ndjson", "care.ndjson.rejected.ndjson", "elsewhere"]  # no progress file
    assert await Entry.all().count() == 0

    # Named with --rejected-out, dangling or not, the same.
    dangling = tmp_path / "out.ndjson"
    dangling.symlink_to(tmp_path / "elsewhere" / "new.ndjson")
    for named in (link, dangling):
        with pytest.raises(importfile.ImportFileError, match="it is a symbolic link"):
            await run(path, rejected_out=named)
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["notes.txt"]
    assert await Entry.all().count() == 0


async def test_a_link_put_there_after_the_check_is_not_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insurer_token()
    target = victim(tmp_path)
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(4, bad={2}))
    (tmp_path / "care.ndjson.rejected.ndjson").symlink_to(target)
    monkeypatch.setattr(importfile, "check_rejected_path", lambda *args, **kwargs: None)
    with pytest.raises(importfile.ImportFileError, match="it is a symbolic link"):
        await run(path)
    assert target.read_text() == "someone else's file\n"
    assert await Entry.all().count() == 0


async def test_a_link_at_the_progress_files_temporary_name_is_not_written_through(
    tmp_path: Path,
) -> None:
    await insurer_token()
    target = victim(tmp_path)
    path = tmp_path / "care.ndjson"
    path.write_text(ndjson(4, bad=set()))
    (tmp_path / "care.ndjson.progress.tmp").symlink_to(target)
    summary = await run(path)
    assert summary.totals.created == 4
    assert target.read_text() == "someone else's file\n"
    progress = tmp_path / "care.ndjson.progress"
    assert not progress.is_symlink() and json.loads(progress.read_text())["complete"] is True
    assert not (tmp_path / "care.ndjson.progress.tmp").exists()
