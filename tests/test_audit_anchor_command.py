"""`dmp audit anchor --out` writes through `verify.write_anchor`: the file is replaced whole
(the last good anchor stays if the run fails) and readable by its owner only. It replaces an
earlier anchor only: another file named by mistake is refused before anything is read."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests import factories
from tests.server import run_dmp


async def test_the_anchor_file_is_replaced_whole_and_kept_private(tmp_path: Path) -> None:
    await factories.patient()
    latest = tmp_path / "anchor-latest.json"
    assert run_dmp("audit", "anchor", "--out", str(latest)).returncode == 0  # an older anchor
    await factories.patient()
    latest.chmod(0o644)
    done = run_dmp("audit", "anchor", "--out", str(latest))
    assert done.returncode == 0, done.stderr
    data = json.loads(latest.read_text())
    assert data["digest"] in done.stdout
    assert stat.S_IMODE(latest.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["anchor-latest.json"]  # no temporary left


@pytest.mark.parametrize("content", [
    b"PGDMP\x01\x0e\x00 a database dump",
    b'{"ins":"185067512345689","firstName":"Jean","externalId":"a1"}\n',
    b"",
])
async def test_a_file_that_is_not_an_anchor_is_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    await factories.patient()
    other = tmp_path / "dmp-2026-12-07.dump"
    other.write_bytes(content)
    done = run_dmp("audit", "anchor", "--out", str(other))
    assert done.returncode == 1
    assert done.stderr == (f"dmp: --out {other} exists and is not an anchor file written by dmp audit "
                           "anchor --out: name a new file, or remove it first\n")
    assert done.stdout == ""
    assert other.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == [other.name]


def test_a_folder_or_a_missing_folder_is_one_line_naming_out(tmp_path: Path) -> None:
    done = run_dmp("audit", "anchor", "--out", str(tmp_path))
    assert (done.returncode, done.stderr) == (
        1, f"dmp: --out {tmp_path} is a directory: name the anchor file\n"
    )
    missing = tmp_path / "nowhere" / "anchor.json"
    done = run_dmp("audit", "anchor", "--out", str(missing))
    assert (done.returncode, done.stderr) == (
        1, f"dmp: --out {missing}: {tmp_path / 'nowhere'} is not a directory\n"
    )
    assert list(tmp_path.iterdir()) == []
