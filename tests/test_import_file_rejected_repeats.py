"""`dmp import-file`: lines the import's validation rejects do not end batches.

A batch is committed early before a line whose INS and externalId came earlier in it with
other content (tests/test_import_file_batch_independence.py). A rejected line is compared with
no other of its key by the import (it keeps no content for the key): committing at each such
line gave a file of lines rejected alike (a blank externalId on every line of a patient) one
batch, one transaction and one fsync per line. The result is the same whatever the batch size.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from backend import clock, importfile
from backend.models import Entry
from tests.care_items import INSURER, insurer_token, medication_item
from tests.factories import new_ins


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


async def run(path: Path, **options: Any) -> importfile.Summary:
    return await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), **options)


def counting(monkeypatch: pytest.MonkeyPatch, before: Any = None) -> list[list[int]]:
    """The lines of each batch import-file sends to the import."""
    real = importfile._import_batch
    batches: list[list[int]] = []

    async def counted(viewer: Any, batch: list[importfile.Row]) -> Any:
        batches.append([row.line for row in batch])
        if before is not None:
            before(len(batches))
        return await real(viewer, batch)

    monkeypatch.setattr(importfile, "_import_batch", counted)
    return batches


def extract() -> list[dict[str, Any]]:
    ins = new_ins()
    a = medication_item(ins, 1)
    return [
        *({**a, "externalId": "", "title": f"Doliprane #{n}"} for n in range(5)),  # 1-5 rejected
        {**a, "date": "2999-01-01"},                            # 6 rejected (in the future)
        a,                                                      # 7 created
        {**a, "date": "2999-01-01", "title": "Autre"},          # 8 rejected
        {**a, "title": "Doliprane 500 mg"},                     # 9 corrected
    ]


TOTALS = importfile.Totals(lines=9, created=1, corrected=1, unchanged=0, rejected=7)


async def test_lines_rejected_alike_share_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await insurer_token()
    path = write(tmp_path / "care.ndjson", extract())
    batches = counting(monkeypatch)

    summary = await run(path)

    # Only the correction (line 9 of the key line 7 created) starts a batch of its own.
    assert batches == [[1, 2, 3, 4, 5, 6, 7, 8], [9]]
    assert summary.totals == TOTALS
    rejected = [json.loads(line) for line in
                (tmp_path / "care.ndjson.rejected.ndjson").read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in rejected] == [
        (n, "BAD_USER_INPUT") for n in (1, 2, 3, 4, 5, 6, 8)]
    titles = [(e.title, e.superseded) for e in await Entry.filter(external_id="MED-1").order_by("created_at")]
    assert titles == [("Doliprane 1000 mg #1", True), ("Doliprane 500 mg", False)]


@pytest.mark.parametrize("batch_size", [1, 2, 4])
async def test_the_same_file_gives_the_same_result_in_smaller_batches(
    tmp_path: Path, batch_size: int
) -> None:
    await insurer_token()
    path = write(tmp_path / "care.ndjson", extract())

    summary = await run(path, batch_size=batch_size)

    assert summary.totals == TOTALS
    titles = [(e.title, e.superseded) for e in await Entry.filter(external_id="MED-1").order_by("created_at")]
    assert titles == [("Doliprane 1000 mg #1", True), ("Doliprane 500 mg", False)]


async def test_a_line_of_tomorrow_read_before_midnight_is_not_sent_with_another_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line 1 is dated the day after today (as late as any zone's today) when it is read, and
    valid by the time its batch is written (midnight passed meanwhile): line 2, its key with
    other content, is still committed after it, a correction rather than a CONFLICT."""
    await insurer_token()
    tomorrow = (clock.latest_today() + dt.timedelta(days=1)).isoformat()
    a = medication_item(new_ins(), 1, date=tomorrow)
    path = write(tmp_path / "care.ndjson", [a, {**a, "title": "Doliprane 500 mg"}])

    def midnight(batch: int) -> None:
        if batch == 1:
            clock.shift(dt.timedelta(days=1))

    batches = counting(monkeypatch, before=midnight)
    summary = await run(path)

    assert batches == [[1], [2]]
    assert summary.totals == importfile.Totals(lines=2, created=1, corrected=1)
    assert not (tmp_path / "care.ndjson.rejected.ndjson").exists()
