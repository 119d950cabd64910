"""`dmp import-file` on malformed CSV and other quirks of real extracts."""

from __future__ import annotations

import csv
import fcntl
import io
import json
from pathlib import Path
from typing import Any

import pytest

from backend import accounts, importfile
from backend.models import Entry, ImportKey
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins

FIELDS = ["ins", "firstName", "lastName", "birthDate", "externalId", "section", "code", "title",
          "date", "details"]


def csv_text(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    writer.writerows([json.dumps(i[f]) if f == "details" else i[f] for f in FIELDS] for i in items)
    return buffer.getvalue()


async def run(path: Path, **options: Any) -> importfile.Summary:
    return await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), **options)


def rejected_of(path: Path) -> list[dict[str, Any]]:
    target = path.with_name(path.name + ".rejected.ndjson")
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


async def test_a_csv_field_over_the_csv_module_limit_rejects_its_line_only(tmp_path: Path) -> None:
    await insurer_token()
    ins = new_ins()
    items = [medication_item(ins, n) for n in range(6)]
    text = csv_text(items).splitlines(keepends=True)
    # Line 3 holds a title of 200,000 characters: under the line limit (1 MB), over the csv
    # module's field limit (131,072).
    text[3] = text[3].replace(items[2]["title"], "x" * 200_000)
    path = tmp_path / "care.csv"
    path.write_text("".join(text), encoding="utf-8")

    summary = await run(path, batch_size=2)

    assert (summary.totals.created, summary.totals.rejected) == (5, 1)
    [rejected] = rejected_of(path)
    assert rejected["line"] == 4
    assert rejected["message"] == "not a CSV record: field larger than field limit (131072)"
    assert await Entry.filter(organization=INSURER).count() == 5


async def test_an_unclosed_quote_rejects_the_lines_it_swallows_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    await insurer_token()
    ins = new_ins()
    items = [medication_item(ins, n, title=f"Doliprane {'y' * 200} #{n}",
                             details=None) for n in range(1000)]
    text = csv_text(items).splitlines(keepends=True)
    text[2] = text[2].replace("Doliprane", '"Doliprane', 1)  # a quote opened, never closed
    path = tmp_path / "care.csv"
    path.write_text("".join(text), encoding="utf-8")

    summary = await run(path, batch_size=100)

    # The lines from the open quote to the csv module's field limit are one rejected record;
    # the reader starts again after them, and the items after that are imported.
    assert [(r["line"], r["message"]) for r in rejected_of(path)] == [
        (3, "not a CSV record: field larger than field limit (131072)")
    ]
    assert summary.totals.lines == 1001
    assert 500 < summary.totals.accepted < 999
    assert summary.totals.rejected == 1
    assert await Entry.filter(organization=INSURER).count() == await ImportKey.filter(
        organization=INSURER).count()


async def test_a_progress_file_with_impossible_positions_is_not_trusted(tmp_path: Path) -> None:
    """Its fingerprint that of the file, its offset beyond the file or negative (edited, or half
    written by a tool): read as unreadable, the import starts over, instead of failing with an
    OSError or stopping at once with nothing imported and the file marked done."""
    await insurer_token()
    ins = new_ins()
    path = tmp_path / "care.ndjson"
    path.write_text("".join(json.dumps(medication_item(ins, n)) + "\n" for n in range(10)))
    progress = importfile.progress_path(path)
    for offset, lines in ((-5, 3), (10**12, 3), (0, -1)):
        progress.write_text(json.dumps({
            "fingerprint": importfile.fingerprint(path), "lines": lines, "offset": offset,
            "rejectedBytes": 0, "complete": False, "totals": {},
        }))
        stream = io.StringIO()
        summary = await importfile.import_file(path, INSURER, progress_stream=stream)
        assert "care.ndjson.progress is unreadable; starting over" in stream.getvalue()
        assert (summary.resumed_after, summary.totals.accepted) == (0, 10)
        assert summary.totals.lines == 10
    assert await Entry.filter(organization=INSURER).count() == 10


async def test_a_second_run_on_a_file_being_imported_is_refused_before_writing(tmp_path: Path) -> None:
    """Run twice at once (by hand, or by a scheduler catching up), both runs wrote the progress
    and the rejected files over each other: each rejected line listed twice, a progress file
    whose rejectedBytes was not its rejected file's."""
    await insurer_token()
    ins = new_ins()
    path = tmp_path / "care.ndjson"
    path.write_text("".join((json.dumps(medication_item(ins, n)) if n % 10 else "{bad") + "\n"
                            for n in range(40)))
    with (tmp_path / "care.ndjson").open("rb") as other_run:  # as the other run holds it
        fcntl.flock(other_run.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(importfile.ImportFileError) as refused:
            await run(path, batch_size=7)
        assert str(refused.value) == (
            "care.ndjson is being imported by another run of import-file; wait for it to end")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["care.ndjson"]
        assert await Entry.filter(organization=INSURER).count() == 0
    # That run over, the file imports.
    summary = await run(path, batch_size=7)
    assert (summary.totals.accepted, summary.totals.rejected) == (36, 4)
    assert [r["line"] for r in rejected_of(path)] == [1, 11, 21, 31]


async def test_a_csv_file_separated_by_semicolons_is_said_so(tmp_path: Path) -> None:
    """What a spreadsheet set to French saves as CSV; it was refused as a file whose first line
    is not the header row."""
    await insurer_token()
    items = [medication_item(new_ins(), n) for n in range(3)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(FIELDS)
    writer.writerows([json.dumps(i[f]) if f == "details" else i[f] for f in FIELDS] for i in items)
    path = tmp_path / "care.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())

    with pytest.raises(importfile.ImportFileError) as refused:
        await run(path)

    assert str(refused.value) == "the CSV file is separated by semicolons: save it with commas as separators"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["care.csv"]
    assert await Entry.filter(organization=INSURER).count() == 0


async def test_a_json_array_is_refused_as_such_before_anything_is_written(tmp_path: Path) -> None:
    """Read line by line, an array's every line was rejected (exit status 0), and the rejected
    file held the whole extract."""
    await insurer_token()
    items = [medication_item(new_ins(), n) for n in range(3)]
    for text in (json.dumps(items, indent=2), json.dumps(items), "\ufeff [\n\n" + json.dumps(items)[1:]):
        path = tmp_path / "extract.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(importfile.ImportFileError) as refused:
            await run(path)
        assert str(refused.value) == (
            "extract.json holds a JSON array: give one item per line (NDJSON), "
            "for example with: jq -c '.[]' extract.json")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["extract.json"]
    # A line holding an array among items is one rejected line, as before.
    path = tmp_path / "care.ndjson"
    path.write_text("[1, 2]\n" + json.dumps(items[0]) + "\n")
    summary = await run(path)
    assert (summary.totals.accepted, summary.totals.rejected) == (1, 1)
    assert await Entry.filter(organization=INSURER).count() == 1


async def test_a_batch_of_long_lines_is_committed_before_its_item_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory a run holds is bounded by bytes too, not only by --batch-size lines of up
    to MAX_LINE each (1,000 lines of a megabyte: gigabytes held)."""
    await insurer_token()
    monkeypatch.setattr(importfile, "BATCH_BYTES", 20_000, raising=False)
    ins = new_ins()
    path = tmp_path / "care.ndjson"
    lines = [json.dumps(medication_item(ins, n, title="x" * (5_000 if n % 2 else 50))) for n in range(20)]
    path.write_text("\n".join(lines) + "\n")
    batches: list[int] = []
    real = importfile._import_batch

    async def counted(viewer: Any, batch: list[importfile.Row]) -> Any:
        batches.append(len(batch))
        return await real(viewer, batch)

    monkeypatch.setattr(importfile, "_import_batch", counted)
    summary = await run(path, batch_size=1000)

    assert sum(batches) == 20 and len(batches) == 3 and max(batches) <= 8
    assert (summary.totals.accepted, summary.totals.rejected) == (10, 10)  # titles over 300
    assert await Entry.filter(organization=INSURER).count() == 10


async def test_a_run_for_another_organization_than_its_progress_file_is_refused(tmp_path: Path) -> None:
    """An extract imported under a wrong --organization, run again with the right one, said
    « already imported; nothing to do »; one interrupted and resumed with another organization
    went on under that one."""
    await insurer_token()
    other = "Mutuelle Exemple"
    await accounts.create_token("mutuelle", ["insurer:import"], organization=other)
    ins = new_ins()
    path = tmp_path / "care.ndjson"
    path.write_text("".join(json.dumps(medication_item(ins, n)) + "\n" for n in range(4)))

    stopped = await run(path, batch_size=1, max_lines=2)
    assert stopped.stopped_early and stopped.totals.created == 2
    progress = (tmp_path / "care.ndjson.progress").read_bytes()
    with pytest.raises(importfile.ImportFileError) as refused:
        await importfile.import_file(path, other, progress_stream=io.StringIO())
    assert str(refused.value) == (
        f"care.ndjson.progress is an import of care.ndjson for {INSURER!r}, stopped after line 2: "
        f"give --organization '{INSURER}' to resume it, or --restart to import the file for "
        f"{other!r} from its first line")
    assert (tmp_path / "care.ndjson.progress").read_bytes() == progress
    assert await Entry.filter(organization=other).count() == 0

    done = await run(path)  # resumed for the organization it began with
    assert (done.resumed_after, done.totals.created) == (2, 4)
    with pytest.raises(importfile.ImportFileError) as refused:
        await importfile.import_file(path, other, progress_stream=io.StringIO())
    assert str(refused.value) == (
        f"care.ndjson was imported for {INSURER!r} (care.ndjson.progress), not for {other!r}: check "
        f"--organization; --restart imports it for {other!r} too")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["care.ndjson", "care.ndjson.progress"]
    assert await Entry.filter(organization=other).count() == 0

    again = await importfile.import_file(path, other, restart=True, progress_stream=io.StringIO())
    assert again.totals.created == 4
    assert await Entry.filter(organization=other).count() == 4


async def test_a_csv_file_read_as_ndjson_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Given `--format ndjson` by mistake, or named .json, a CSV extract had every line rejected
    (exit status 0), the rejected file held it whole, and FILE.progress called it imported: the
    run with the right format then said « nothing to do »."""
    await insurer_token()
    items = [medication_item(new_ins(), n) for n in range(3)]
    for name, given, said in (("care.csv", "ndjson", "pass --format csv"),
                              ("extract.json", None, "pass --format csv, or name it .csv")):
        path = tmp_path / name
        path.write_text(csv_text(items), encoding="utf-8")
        with pytest.raises(importfile.ImportFileError) as refused:
            await run(path, file_format=given)
        assert str(refused.value) == (
            f"{name} is CSV (its first line is a CSV header row), not NDJSON: {said}")
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]
        path.unlink()
    assert await Entry.filter(organization=INSURER).count() == 0
    # Read as CSV, it imports.
    path = tmp_path / "care.csv"
    path.write_text(csv_text(items), encoding="utf-8")
    assert (await run(path)).totals.created == 3


async def test_a_run_stopped_before_its_first_line_is_said_so_to_another_organization(tmp_path: Path) -> None:
    """FILE.progress is written before the first batch: a run stopped there, run again for
    another organization, was « stopped after line 0 »."""
    await insurer_token()
    other = "Mutuelle Exemple"
    await accounts.create_token("mutuelle", ["insurer:import"], organization=other)
    path = tmp_path / "care.ndjson"
    path.write_text(json.dumps(medication_item(new_ins(), 1)) + "\n")
    importfile.save_checkpoint(path, importfile.Checkpoint(fingerprint=importfile.fingerprint(path),
                                                           organization=INSURER))
    with pytest.raises(importfile.ImportFileError) as refused:
        await importfile.import_file(path, other, progress_stream=io.StringIO())
    assert str(refused.value) == (
        f"care.ndjson.progress is an import of care.ndjson for {INSURER!r}, stopped before its first "
        f"line: give --organization '{INSURER}' to resume it, or --restart to import the file for "
        f"{other!r} from its first line")
    assert await Entry.filter(organization=other).count() == 0
