"""`dmp import-file`: the result does not depend on --batch-size.

An insurer's extract may append a corrected line for an item later in the file. The import
rejects, within one batch, an item whose key came earlier in the batch with other content
(CONFLICT), and takes it as a correction in a later batch: the same file gave one or the
other by where the batch boundary fell. import-file now commits the batch before such a line,
so the lines are applied in file order, each correction a new version, whatever the size.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from backend import importfile
from backend.models import Entry, ImportKey, Record
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins

MED = "MEDICATIONS"


def extract() -> tuple[list[str], dict[str, list[str]]]:
    """The lines of a file that corrects itself, and the titles each externalId must end with,
    oldest version first (the last one current)."""
    p1, p2 = new_ins(), new_ins()
    a = medication_item(p1, 1)
    b = medication_item(p1, 2)
    c = medication_item(p2, 3)
    d = medication_item(p2, 4)
    spaced = f"{p2[:1]} {p2[1:3]} {p2[3:5]} {p2[5:]}"  # the same INS, as the import reads it
    lines = [
        a,                                                      # 1 created
        b,                                                      # 2 created
        {**a, "title": "Doliprane 500 mg"},                     # 3 corrected
        b,                                                      # 4 unchanged (an exact copy)
        "{not json",                                            # 5 rejected
        c,                                                      # 6 created
        {**c, "ins": spaced, "externalId": " MED-3 ", "title": "Soin corrigé"},  # 7 corrected
        c,                                                      # 8 corrected (back to line 6)
        {**a, "date": "2999-01-01"},                            # 9 rejected (in the future)
        {**a, "title": "Doliprane 250 mg"},                     # 10 corrected
        d,                                                      # 11 created
        {**d, "section": "HOSPITAL_STAYS", "code": "", "details": None},  # 12 rejected (section)
        {**a, "title": "Doliprane 250 mg"},                     # 13 unchanged
    ]
    titles = {
        "MED-1": ["Doliprane 1000 mg #1", "Doliprane 500 mg", "Doliprane 250 mg"],
        "MED-2": ["Doliprane 1000 mg #2"],
        "MED-3": ["Doliprane 1000 mg #3", "Soin corrigé", "Doliprane 1000 mg #3"],
        "MED-4": ["Doliprane 1000 mg #4"],
    }
    return [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines], titles


TOTALS = importfile.Totals(lines=13, created=4, corrected=4, unchanged=2, rejected=3)
REJECTED = [
    (5, "", "BAD_USER_INPUT", "not valid JSON"),
    (9, "MED-1", "BAD_USER_INPUT", "date is in the future"),
    (12, "MED-4", "BAD_USER_INPUT", "this externalId was imported in MEDICATIONS: a correction "
                                    "stays in the section of the entry it corrects"),
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def run(path: Path, **options: Any) -> importfile.Summary:
    return await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), **options)


def rejected_of(path: Path) -> list[tuple[int, str, str, str]]:
    target = path.with_name(path.name + ".rejected.ndjson")
    found = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return [(r["line"], r["externalId"], r["code"], r["message"][:len(expected[3])])
            for r, expected in zip(found, REJECTED, strict=True)]


async def versions() -> dict[str, list[tuple[str, str, bool]]]:
    """Each externalId's versions, followed from the first to the one its import key names,
    as (title, section, superseded)."""
    entries = await Entry.filter(organization=INSURER).values(
        "id", "external_id", "title", "section", "superseded", "supersedes_id")
    by_id = {e["id"]: e for e in entries}
    chains: dict[str, list[tuple[str, str, bool]]] = {}
    for key in await ImportKey.filter(organization=INSURER).values("entry_id", "external_id"):
        chain, entry = [], by_id[key["entry_id"]]
        assert entry["superseded"] is False and entry["external_id"] == key["external_id"]
        while True:
            chain.append((entry["title"], entry["section"], entry["superseded"]))
            if entry["supersedes_id"] is None:
                break
            entry = by_id[entry["supersedes_id"]]
        chains[key["external_id"]] = chain[::-1]
    assert sum(map(len, chains.values())) == len(entries)  # no version outside a chain
    return chains


def expected_versions(titles: dict[str, list[str]]) -> dict[str, list[tuple[str, str, bool]]]:
    return {key: [(title, MED, n < len(chain) - 1) for n, title in enumerate(chain)]
            for key, chain in titles.items()}


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
async def test_a_file_that_corrects_itself_gives_the_same_result_whatever_the_batch_size(
    tmp_path: Path, batch_size: int
) -> None:
    """With the batch boundary between them or not, a later line with the same INS and
    externalId and other content is a correction, in file order; exact copies are unchanged."""
    await insurer_token()
    lines, titles = extract()
    path = write(tmp_path / "care.ndjson", lines)

    summary = await run(path, batch_size=batch_size)

    assert summary.totals == TOTALS
    assert importfile.describe(summary) == (
        f"care.ndjson: 10 accepted (4 created, 4 corrected, 2 unchanged), 3 rejected, "
        f"listed in {path}.rejected.ndjson")
    assert rejected_of(path) == REJECTED
    assert await versions() == expected_versions(titles)
    assert await Record.all().count() == 2
    progress = json.loads((tmp_path / "care.ndjson.progress").read_text())
    assert (progress["lines"], progress["complete"]) == (13, True)
    assert progress["totals"] == {"lines": 13, "created": 4, "corrected": 4, "unchanged": 2,
                                  "rejected": 3}


async def test_a_csv_file_that_corrects_itself_is_read_alike(tmp_path: Path) -> None:
    await insurer_token()
    ins = new_ins()
    header = "ins,firstName,lastName,birthDate,externalId,section,title,date\n"
    row = f"{ins},Alice,Martin,1985-06-12,{{id}},HOSPITAL_STAYS,{{title}},2026-01-0{{day}}\n"
    path = tmp_path / "care.csv"
    path.write_text(header + "".join(row.format(id=i, title=t, day=d) for i, t, d in [
        ("S1", "Séjour", 1), ("S2", "Séjour", 2), ("S1", "Séjour corrigé", 1), ("S2", "Séjour", 2),
    ]), encoding="utf-8")

    summary = await run(path)

    assert summary.totals == importfile.Totals(lines=5, created=2, corrected=1, unchanged=1)
    titles = {e.title for e in await Entry.filter(external_id="S1", superseded=False)}
    assert titles == {"Séjour corrigé"}


async def test_a_run_stopped_by_max_lines_resumes_to_the_same_result(tmp_path: Path) -> None:
    await insurer_token()
    lines, titles = extract()
    path = write(tmp_path / "care.ndjson", lines)

    first = await run(path, max_lines=7)
    assert first.stopped_early and first.totals.lines == 7
    assert (await versions())["MED-3"][-1][0] == "Soin corrigé"  # line 7, committed
    rest = await run(path)

    assert rest.resumed_after == 7
    assert rest.totals == TOTALS
    assert rejected_of(path) == REJECTED
    assert await versions() == expected_versions(titles)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("when", ["before", "after"])
async def test_an_interrupted_run_resumes_to_the_same_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The third batch (line 7 alone: the lines around it hold its key with other content) is
    interrupted before it is written, or after it is committed but before FILE.progress
    records it; the rerun resumes after line 6 and leaves the same versions."""
    await insurer_token()
    lines, titles = extract()
    path = write(tmp_path / "care.ndjson", lines)
    real = importfile._import_batch
    batches: list[list[int]] = []

    async def interrupted(viewer: Any, batch: list[importfile.Row]) -> Any:
        batches.append([row.line for row in batch])
        if len(batches) == 3 and when == "before":
            raise Interrupted
        done = await real(viewer, batch)
        if len(batches) == 3:
            raise Interrupted
        return done

    monkeypatch.setattr(importfile, "_import_batch", interrupted)
    with pytest.raises(Interrupted):
        await run(path)
    assert batches == [[1, 2], [3, 4, 5, 6], [7]]
    progress = json.loads((tmp_path / "care.ndjson.progress").read_text())
    assert (progress["lines"], progress["complete"]) == (6, False)
    monkeypatch.undo()

    rest = await run(path)

    assert rest.resumed_after == 6
    if when == "before":
        assert rest.totals == TOTALS
    else:  # line 7 again: unchanged, as the import keys make any overlap
        assert rest.totals == importfile.Totals(lines=13, created=4, corrected=3, unchanged=3,
                                                rejected=3)
    assert rejected_of(path) == REJECTED  # none listed twice
    assert await versions() == expected_versions(titles)
