"""`dmp import-file`: batches through the import path, rejected lines, progress, resuming."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from backend import clock
from backend.domain.enums import AccessAction
from backend.importprogress import Progress
from backend.models import AccessEvent, ApiToken, Entry, ImportKey, Record
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins
from tests.server import run_dmp

PATIENTS = 30
LINES = 3000
# line number (1-based) -> what is wrong with it, and the code it is rejected with
BAD = {
    7: ("{not json", "BAD_USER_INPUT"),
    700: ("missing", "BAD_USER_INPUT"),
    1499: ("bad ins", "BAD_USER_INPUT"),
    2222: ("future", "BAD_USER_INPUT"),
    2999: ("[1, 2]", "BAD_USER_INPUT"),
}
GOOD = LINES - len(BAD)


def care_lines(count: int = LINES, bad: dict[int, tuple[str, str]] | None = None) -> list[str]:
    bad = BAD if bad is None else bad
    patients = [new_ins() for _ in range(PATIENTS)]
    lines = []
    for number in range(1, count + 1):
        item = medication_item(patients[number % PATIENTS], number)
        kind = bad.get(number, ("", ""))[0]
        if kind == "missing":
            del item["title"]
        elif kind == "bad ins":
            item["ins"] = "123"
        elif kind == "future":
            item["date"] = "2999-01-01"
        if kind in ("{not json", "[1, 2]"):
            lines.append(kind)
        else:
            lines.append(json.dumps(item, ensure_ascii=False))
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_file(path: Path, *args: str) -> Any:
    return run_dmp("import-file", str(path), "--organization", INSURER, *args)


def rejected_of(path: Path) -> list[dict[str, Any]]:
    target = path.with_name(path.name + ".rejected.ndjson")
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


async def no_duplicates() -> int:
    entries = await Entry.filter(organization=INSURER).count()
    keys = await ImportKey.filter(organization=INSURER).count()
    assert entries == keys  # one current version per external id, no correction created
    return entries


async def test_ndjson_file_imports_with_rejections_progress_and_a_quiet_rerun(tmp_path: Path) -> None:
    await insurer_token()
    path = write(tmp_path / "care.ndjson", care_lines())

    first = import_file(path, "--batch-size", "400")

    assert first.returncode == 0, first.stderr
    assert f"{GOOD} accepted ({GOOD} created, 0 corrected, 0 unchanged), 5 rejected" in first.stdout
    assert await no_duplicates() == GOOD
    assert await Record.all().count() == PATIENTS
    rejected = rejected_of(path)
    assert [(r["line"], r["code"]) for r in rejected] == [(n, code) for n, (_, code) in BAD.items()]
    by_line = {r["line"]: r for r in rejected}
    assert by_line[7]["message"].startswith("not valid JSON")
    assert by_line[7]["item"] == "{not json"
    assert by_line[700]["message"] == "missing field(s): title"
    assert by_line[700]["externalId"] == "MED-700"
    assert "INS" in by_line[1499]["message"] and by_line[1499]["item"]["ins"] == "123"
    assert by_line[2222]["message"] == "date is in the future"
    assert by_line[2999]["message"] == "each item must be a JSON object"
    # Progress on stderr, plain lines when it is not a terminal.
    final = first.stderr.strip().splitlines()[-1]
    assert final.startswith("import-file: 100%")
    assert f"{LINES} items" in final
    assert "items/s" in final and "rejected 5" in final and "ETA 0:00:00" in final
    # The access history is the API's: one import event per record and batch.
    events = await AccessEvent.filter(action=AccessAction.ENTRIES_IMPORTED.value)
    assert PATIENTS <= len(events) <= PATIENTS * (LINES // 400 + 1)
    assert {(e.actor_name, e.actor_role, e.mode) for e in events} == {(INSURER, "INSURER", "INSURER")}
    assert await AccessEvent.all().count() == len(events)

    again = import_file(path, "--batch-size", "400")
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stdout
    assert await no_duplicates() == GOOD

    restarted = import_file(path, "--restart", "--batch-size", "1000")
    assert restarted.returncode == 0, restarted.stderr
    assert f"{GOOD} accepted (0 created, 0 corrected, {GOOD} unchanged), 5 rejected" in restarted.stdout
    assert await no_duplicates() == GOOD
    assert len(rejected_of(path)) == len(BAD)  # rewritten, not appended to


async def test_an_interrupted_import_resumes_without_duplicates(tmp_path: Path) -> None:
    await insurer_token()
    path = write(tmp_path / "care.ndjson", care_lines())

    half = import_file(path, "--max-lines", "1500", "--batch-size", "500")
    assert half.returncode == 0, half.stderr
    assert "stopped after line 1500" in half.stdout
    checkpoint = json.loads((tmp_path / "care.ndjson.progress").read_text())
    assert checkpoint["lines"] == 1500 and checkpoint["complete"] is False
    assert await no_duplicates() == 1500 - 3  # lines 7, 700, 1499 were rejected

    rest = import_file(path, "--batch-size", "500")
    assert rest.returncode == 0, rest.stderr
    assert "resumed after line 1500" in rest.stdout
    assert f"{GOOD} accepted ({GOOD} created, 0 corrected, 0 unchanged), 5 rejected" in rest.stdout
    assert await no_duplicates() == GOOD
    assert [r["line"] for r in rejected_of(path)] == list(BAD)


async def test_a_checkpoint_behind_the_database_re_imports_the_gap_as_unchanged(tmp_path: Path) -> None:
    # The process died after committing lines 1001-1500 but before its checkpoint was saved.
    await insurer_token()
    path = write(tmp_path / "care.ndjson", care_lines())
    progress = tmp_path / "care.ndjson.progress"
    assert import_file(path, "--max-lines", "1000").returncode == 0
    behind = progress.read_text()
    assert import_file(path, "--max-lines", "500").returncode == 0
    assert await no_duplicates() == 1500 - 3
    progress.write_text(behind)

    rest = import_file(path)

    assert rest.returncode == 0, rest.stderr
    assert "resumed after line 1000" in rest.stdout
    assert await no_duplicates() == GOOD
    lines = [r["line"] for r in rejected_of(path)]
    assert lines == list(BAD)  # line 1499's rejection is not listed twice


async def test_a_changed_file_invalidates_the_checkpoint(tmp_path: Path) -> None:
    await insurer_token()
    lines = care_lines(600, bad={})
    path = write(tmp_path / "care.ndjson", lines)
    assert import_file(path, "--max-lines", "300").returncode == 0
    extra = json.loads(lines[0])
    extra["externalId"] = "MED-NEW"
    write(path, [*lines, json.dumps(extra)])

    rerun = import_file(path)

    assert rerun.returncode == 0, rerun.stderr
    assert "changed since care.ndjson.progress was written; starting over" in rerun.stderr
    assert "601 accepted (301 created, 0 corrected, 300 unchanged), 0 rejected" in rerun.stdout
    assert await no_duplicates() == 601
    assert not (tmp_path / "care.ndjson.rejected.ndjson").exists()


async def test_a_csv_file_with_details_as_json(tmp_path: Path) -> None:
    await insurer_token()
    items = [json.loads(line) for line in care_lines(50, bad={})]
    buffer = io.StringIO()
    fields = ["externalId", "ins", "firstName", "lastName", "birthDate", "section", "code",
              "title", "date", "details", "contactEmail"]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for n, item in enumerate(items):
        row = [item.get(f, "") if f != "details" else json.dumps(item["details"]) for f in fields]
        if n == 0:
            row[fields.index("section")] = "ALLERGIES"  # not a care-history section
        if n == 10:
            row[fields.index("details")] = "{broken"
        if n == 20:
            row = row[:5]
        if n == 30:
            row[fields.index("title")] = "Ordonnance,\n renouvelée"  # quoted, on two lines
        writer.writerow(row)
    path = tmp_path / "care.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")

    result = import_file(path, "--batch-size", "7", "--rejected-out", str(tmp_path / "bad.ndjson"))

    assert result.returncode == 0, result.stderr
    assert "47 accepted (47 created, 0 corrected, 0 unchanged), 3 rejected" in result.stdout
    rejected = [json.loads(x) for x in (tmp_path / "bad.ndjson").read_text().splitlines()]
    assert [(r["line"], r["externalId"]) for r in rejected] == [
        (2, items[0]["externalId"]), (12, items[10]["externalId"]), (22, ""),
    ]
    assert rejected[0]["message"] == "ALLERGIES is not a care-history section"
    assert rejected[0]["item"]["section"] == "ALLERGIES"
    assert rejected[1]["message"].startswith("details is not valid JSON")
    assert rejected[2]["message"] == "expected 11 columns, found 5"
    entry = await Entry.get(external_id=items[30]["externalId"])
    assert entry.title == "Ordonnance,\n renouvelée"
    assert entry.details["atc"] == "N02BE01"
    assert await no_duplicates() == 47


async def test_a_csv_import_resumes_after_its_header(tmp_path: Path) -> None:
    await insurer_token()
    items = [json.loads(line) for line in care_lines(30, bad={})]
    fields = ["ins", "firstName", "lastName", "birthDate", "externalId", "section", "code", "title",
              "date", "details"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    writer.writerows([json.dumps(i[f]) if f == "details" else i[f] for f in fields] for i in items)
    path = tmp_path / "care.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())  # as a spreadsheet saves it

    first = import_file(path, "--max-lines", "11")
    assert first.returncode == 0, first.stderr
    assert "10 accepted (10 created" in first.stdout
    rest = import_file(path)

    assert rest.returncode == 0, rest.stderr
    assert "30 accepted (30 created, 0 corrected, 0 unchanged), 0 rejected" in rest.stdout
    assert "resumed after line 11" in rest.stdout
    assert await no_duplicates() == 30


async def test_a_changed_item_later_in_the_file_is_a_correction_whatever_the_batch_size(
    tmp_path: Path,
) -> None:
    """Sent to importCareHistory in one batch, the second line is a CONFLICT; import-file
    commits the first before it (tests/test_import_file_batch_independence.py)."""
    await insurer_token()
    ins = new_ins()
    first = medication_item(ins, 1)
    changed = {**first, "title": "Doliprane 500 mg"}
    path = write(tmp_path / "care.ndjson", [json.dumps(first), json.dumps(changed)])

    together = import_file(path, "--batch-size", "2")
    assert together.returncode == 0, together.stderr
    assert "2 accepted (1 created, 1 corrected, 0 unchanged), 0 rejected" in together.stdout
    assert not (tmp_path / "care.ndjson.rejected.ndjson").exists()
    versions = await Entry.filter(external_id="MED-1").order_by("created_at")
    assert [(v.title, v.superseded) for v in versions] == [
        ("Doliprane 1000 mg #1", True), ("Doliprane 500 mg", False),
    ]


def one_line_error(result: Any) -> str:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def test_runs_that_cannot_proceed_fail_with_one_clear_line(tmp_path: Path) -> None:
    path = write(tmp_path / "care.ndjson", care_lines(5, bad={}))
    assert "unknown organization 'Assurance Maladie'" in one_line_error(import_file(path))
    await insurer_token()
    assert "no such file" in one_line_error(import_file(tmp_path / "missing.ndjson"))
    assert "not a regular file" in one_line_error(import_file(tmp_path))
    assert "--batch-size" in one_line_error(import_file(path, "--batch-size", "0"))
    assert "--batch-size" in one_line_error(import_file(path, "--batch-size", "5001"))
    odd = tmp_path / "care.txt"
    odd.write_text("ins;title\n")
    assert "cannot tell the format" in one_line_error(import_file(odd))
    header = tmp_path / "header.csv"
    header.write_text("ins,title,colour\n")
    message = one_line_error(import_file(header))
    assert "missing: firstName" in message and "1 unknown column (at 3)" in message
    assert "colour" not in message  # a header's cells could be a patient's data
    blank = run_dmp("import-file", str(path), "--organization", " ")
    assert "--organization" in one_line_error(blank)
    # A revoked token makes the organization unknown again.
    await ApiToken.all().update(revoked_at=clock.now())
    assert "unknown organization" in one_line_error(import_file(path))
    assert await Entry.all().count() == 0
    assert not (tmp_path / "care.ndjson.progress").exists()


def test_the_progress_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(stream, total_bytes=1000)
    progress.update(250, 100, 2)
    progress.update(1000, 300, 1, final=True)
    frames = stream.getvalue().split("\r\x1b[2K")[1:]
    assert frames[0].startswith("[######..................]  25%  100 items")
    assert "rejected 2" in frames[0] and "items/s" in frames[0] and "ETA" in frames[0]
    assert frames[1].startswith("[########################] 100%  400 items")
    assert "rejected 3" in frames[1] and frames[1].endswith("ETA 0:00:00\n")


async def test_lines_with_a_nul_or_a_lone_surrogate_are_rejected_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    """Neither can be stored (PostgreSQL refuses NUL, UTF-8 has no lone surrogate): each such
    line is rejected alone, naming the field, its rejection written out, and the lines around
    it imported. (The API refuses such text for the whole request, before the import.)"""
    await insurer_token()
    items = [json.loads(line) for line in care_lines(40, bad={})]
    items[4]["title"] = "bad\u0000title"
    items[9]["details"]["dose"] = "1 cp\u0000 matin"
    items[14]["title"] = "bad\ud800title"
    items[19]["details"] = {"dose": "x", "\ud800": "y"}
    items[24]["lastName"] = "Mar\u0000tin"
    items[29]["externalId"] = "MED-\udfff"
    items[31]["firstName"] = "Al\u0000ice"
    items[33]["code"] = "3400\ud83d"
    items[35]["contactEmail"] = "alice\u0000@example.org"
    items[37]["ins"] = items[37]["ins"][:5] + "\ud800" + items[37]["ins"][6:]
    items[39]["details"] = {"dose": {"nested": ["1 cp\u0000"]}}
    # As an insurer's exporter writes them: escapes, since a lone surrogate has no UTF-8 form.
    path = write(tmp_path / "care.ndjson", [json.dumps(item) for item in items])

    result = import_file(path, "--batch-size", "7")

    assert result.returncode == 0, result.stderr
    assert "29 accepted (29 created, 0 corrected, 0 unchanged), 11 rejected" in result.stdout
    rejected = rejected_of(path)  # written whatever the lines held, and readable
    assert [(r["line"], r["code"], r["message"].split(" ")[0]) for r in rejected] == [
        (5, "BAD_USER_INPUT", "title"), (10, "BAD_USER_INPUT", "details.dose"),
        (15, "BAD_USER_INPUT", "title"), (20, "BAD_USER_INPUT", "details"),
        (25, "BAD_USER_INPUT", "lastName"), (30, "BAD_USER_INPUT", "externalId"),
        (32, "BAD_USER_INPUT", "firstName"), (34, "BAD_USER_INPUT", "code"),
        (36, "BAD_USER_INPUT", "contactEmail"), (38, "BAD_USER_INPUT", "ins"),
        (40, "BAD_USER_INPUT", "details.dose"),
    ]
    for r in rejected:
        nul = r["line"] in (5, 10, 25, 32, 36, 40)
        assert r["message"].endswith(f" must not contain a {'NUL character' if nul else 'lone surrogate'}")
    assert rejected[0]["item"] == items[4] and rejected[2]["item"] == items[14]
    assert rejected[5]["externalId"] == "MED-\udfff"
    assert await no_duplicates() == 29
    checkpoint = json.loads((tmp_path / "care.ndjson.progress").read_text())
    assert checkpoint["complete"] is True and checkpoint["lines"] == 40
    again = import_file(path)
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stdout


async def test_a_same_size_change_past_the_first_bytes_starts_over(tmp_path: Path) -> None:
    """The checkpoint is of the whole content: a corrected line anywhere in a file of the same
    size is a changed file, imported again (the correction recorded, the rest unchanged)."""
    await insurer_token()
    lines = care_lines(600, bad={})
    path = write(tmp_path / "care.ndjson", lines)
    assert path.stat().st_size > 128 * 1024
    assert import_file(path).returncode == 0
    last = json.loads(lines[-1])
    last["title"] = last["title"].replace("Doliprane", "Paracetam")
    write(path, [*lines[:-1], json.dumps(last, ensure_ascii=False)])
    assert path.stat().st_size == sum(len(line.encode()) + 1 for line in lines)

    rerun = import_file(path)

    assert rerun.returncode == 0, rerun.stderr
    assert "changed since care.ndjson.progress was written; starting over" in rerun.stderr
    assert "600 accepted (0 created, 1 corrected, 599 unchanged), 0 rejected" in rerun.stdout
    entry = await Entry.get(external_id=last["externalId"], superseded=False)
    assert entry.title == last["title"]


def outputs(tmp_path: Path, keep: Path) -> list[str]:
    """The files a run left in tmp_path besides the input."""
    return sorted(p.name for p in tmp_path.iterdir() if p != keep)


async def test_the_rejected_lines_never_overwrite_the_input_or_an_unrelated_file(
    tmp_path: Path,
) -> None:
    await insurer_token()
    lines = care_lines(20, bad={3: ("{not json", "BAD_USER_INPUT"), 15: ("missing", "BAD_USER_INPUT")})
    path = write(tmp_path / "care.ndjson", lines)
    content = path.read_bytes()
    link = tmp_path / "same-inode.ndjson"
    link.hardlink_to(path)
    notes = tmp_path / "notes.ndjson"
    notes.write_text("someone else's file\n")
    progress = tmp_path / "care.ndjson.progress"

    for target, why in [
        (path, "it is the file being imported"),
        (tmp_path / "sub" / ".." / "care.ndjson", "it is the file being imported"),
        (link, "it is the file being imported"),  # another name, the same file
        (progress, "it is the import's progress file"),
        (notes, "exists and is not this import's rejected file"),
        (tmp_path, "not a regular file"),
    ]:
        message = one_line_error(import_file(path, "--rejected-out", str(target)))
        assert why in message, message
        assert path.read_bytes() == content and link.read_bytes() == content
        assert notes.read_text() == "someone else's file\n"
        assert outputs(tmp_path, path) == ["notes.ndjson", "same-inode.ndjson"]  # nothing written
    assert await Entry.all().count() == 0

    # The rejected file of this same import is reused when it resumes, and on --restart.
    bad = tmp_path / "bad.ndjson"
    half = import_file(path, "--max-lines", "10", "--batch-size", "4", "--rejected-out", str(bad))
    assert half.returncode == 0, half.stderr
    assert json.loads(progress.read_text())["rejectedPath"] == str(bad.resolve())
    assert [json.loads(x)["line"] for x in bad.read_text().splitlines()] == [3]
    rest = import_file(path, "--batch-size", "4", "--rejected-out", str(bad))
    assert rest.returncode == 0, rest.stderr
    assert "18 accepted (18 created, 0 corrected, 0 unchanged), 2 rejected" in rest.stdout
    assert "resumed after line 10" in rest.stdout
    assert [json.loads(x)["line"] for x in bad.read_text().splitlines()] == [3, 15]
    again = import_file(path, "--restart", "--rejected-out", str(bad))
    assert again.returncode == 0, again.stderr
    assert [json.loads(x)["line"] for x in bad.read_text().splitlines()] == [3, 15]
    # Another import's rejected file is not this one's.
    other = write(tmp_path / "other.ndjson", care_lines(3, bad={}))
    message = one_line_error(import_file(other, "--rejected-out", str(bad)))
    assert "exists and is not this import's rejected file" in message
    assert [json.loads(x)["line"] for x in bad.read_text().splitlines()] == [3, 15]
    assert await no_duplicates() == 18


def headerless_csv(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for item in items:
        writer.writerow([json.dumps(v) if isinstance(v, dict) else v for v in item.values()])
    return buffer.getvalue()


def values_of(item: dict[str, Any]) -> list[str]:
    """The item's text: its strings, at any depth, and its details as the CSV column holds them."""
    found = []
    for value in item.values():
        if isinstance(value, dict):
            found += [*values_of(value), json.dumps(value)]
        elif isinstance(value, str):
            found.append(value)
    return found


async def test_a_file_without_a_csv_header_is_refused_without_quoting_its_data(
    tmp_path: Path,
) -> None:
    await insurer_token()
    items = [medication_item(new_ins(), n, contactEmail=f"m{n}@ex.org") for n in range(3)]
    path = tmp_path / "care.csv"
    path.write_text(headerless_csv(items), encoding="utf-8")

    message = one_line_error(import_file(path))

    assert "missing: ins, firstName, lastName, birthDate, externalId, section, title, date" in message
    assert "11 unknown columns" in message and "header row" in message
    for value in values_of(items[0]):
        assert value not in message, value
    assert outputs(tmp_path, path) == []

    # An NDJSON file read as CSV: its first line is no header either.
    ndjson = write(tmp_path / "care.ndjson", [json.dumps(item) for item in items])
    path.unlink()
    message = one_line_error(import_file(ndjson, "--format", "csv"))
    assert "missing: ins" in message and "unknown columns" in message
    for value in values_of(items[0]):
        assert value not in message, value
    assert outputs(tmp_path, ndjson) == []
    assert await Entry.all().count() == 0


async def test_a_run_that_fails_on_its_input_writes_no_file(tmp_path: Path) -> None:
    await insurer_token()
    cases: list[tuple[str, bytes, tuple[str, ...], str]] = [
        ("header.csv", b"ins,title,colour\n" + b"1,2,3\n", (), "missing: firstName"),
        ("empty.csv", b"", (), "no header row"),
        ("blank.csv", b"\xef\xbb\xbf\n", (), "no header row"),
        ("twice.csv", b"ins,ins,title\n", (), "duplicated: ins"),
        ("care.ndjson", "\n".join(care_lines(3, bad={})).encode(), ("--format", "csv"), "missing: ins"),
        ("quote.csv", b'"ins,title\n' * 3, (), "missing: ins"),
    ]
    for name, content, extra, expected in cases:
        path = tmp_path / name
        path.write_bytes(content)
        for args in [extra, (*extra, "--rejected-out", str(tmp_path / "bad.ndjson"))]:
            message = one_line_error(import_file(path, *args))
            assert expected in message, message
            assert outputs(tmp_path, path) == [], (name, args)
        path.unlink()


async def test_a_csv_line_that_is_not_utf8_is_rejected_not_stored_garbled(tmp_path: Path) -> None:
    """A Latin-1 export: its line is rejected as not UTF-8, as an NDJSON line is, instead of
    being stored with replacement characters in place of its accents."""
    await insurer_token()
    ins = new_ins()
    header = "ins,firstName,lastName,birthDate,externalId,section,title,date\n"
    good = f"{ins},Jerome,Dupont,1980-01-15,c1,HOSPITAL_STAYS,Sejour,2026-01-01\n"
    latin = f"{ins},J\xe9r\xf4me,Dupont,1980-01-15,c2,HOSPITAL_STAYS,S\xe9jour,2026-01-02\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(header.encode() + good.encode() + latin.encode("latin-1"))

    result = import_file(path, "--rejected-out", str(tmp_path / "bad.ndjson"))

    assert result.returncode == 0, result.stderr
    assert "1 accepted (1 created, 0 corrected, 0 unchanged), 1 rejected" in result.stdout
    rejected = [json.loads(x) for x in (tmp_path / "bad.ndjson").read_text().splitlines()]
    assert [(r["line"], r["message"]) for r in rejected] == [(3, "not UTF-8 text (save the file in UTF-8)")]
    assert [e.title for e in await Entry.filter(organization=INSURER)] == ["Sejour"]


@pytest.mark.parametrize("kind", ["ndjson", "csv"])
async def test_a_line_of_many_megabytes_is_rejected_unheld_and_the_run_goes_on(
    tmp_path: Path, kind: str
) -> None:
    """A line no care item needs (3 MB): rejected, its start kept in the rejected file, and
    the lines after it imported."""
    await insurer_token()
    ins = new_ins()
    good = [medication_item(ins, n) for n in (1, 2)]
    if kind == "ndjson":
        body = (json.dumps(good[0]) + "\n" + "x" * 3_000_000 + "\n" + json.dumps(good[1]) + "\n").encode()
    else:
        fields = ["ins", "firstName", "lastName", "birthDate", "externalId", "section", "title", "date",
                  "code"]
        rows = [",".join(str(item[f]) for f in fields) for item in good]
        body = ("\n".join([",".join(fields), rows[0], "y" * 3_000_000, rows[1]]) + "\n").encode()
    path = tmp_path / f"big.{kind}"
    path.write_bytes(body)

    result = import_file(path, "--rejected-out", str(tmp_path / "bad.ndjson"))

    assert result.returncode == 0, result.stderr
    assert "2 accepted (2 created, 0 corrected, 0 unchanged), 1 rejected" in result.stdout
    (rejected,) = [json.loads(x) for x in (tmp_path / "bad.ndjson").read_text().splitlines()]
    assert rejected["message"] == "the line is longer than 1 MB: not a care item"
    assert rejected["line"] == (2 if kind == "ndjson" else 3)
    assert len(json.dumps(rejected)) < 10_000
