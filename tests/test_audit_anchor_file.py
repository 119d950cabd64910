"""An anchor file is written whole or not at all (backend/audit/verify.write_anchor)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from backend.audit import verify as verifying


def anchor_data(n: int) -> dict[str, object]:
    heads = [{"record": str(uuid.uuid4()), "seq": i + 1, "mac": f"{i:064x}"} for i in range(n)]
    return {"at": "2026-12-07T00:00:00+00:00", "records": n, "digest": verifying.digest_of(heads),
            "heads": heads}


class Unwritable:
    """A value json cannot write: the write fails after part of the file is out."""


def test_a_write_that_fails_midway_leaves_the_last_anchor_whole(tmp_path: Path) -> None:
    directory = tmp_path
    latest = directory / "anchor-latest.json"
    good = anchor_data(300)
    verifying.write_anchor(str(latest), good)
    before = latest.read_text()
    assert verifying.load_anchor(before) == good["heads"]

    broken = anchor_data(300)
    broken["heads"].append({"record": str(uuid.uuid4()), "seq": 1, "mac": Unwritable()})  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        verifying.write_anchor(str(latest), broken)
    assert latest.read_text() == before  # written in place, it was cut after the first heads
    assert sorted(p.name for p in directory.iterdir()) == ["anchor-latest.json"]  # nothing left over

    newer = anchor_data(2)
    verifying.write_anchor(str(latest), newer)
    assert verifying.load_anchor(latest.read_text()) == newer["heads"]
    assert sorted(p.name for p in directory.iterdir()) == ["anchor-latest.json"]
