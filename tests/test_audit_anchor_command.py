"""`dmp audit anchor --out` writes through `verify.write_anchor`: the file is replaced whole
(the last good anchor stays if the run fails) and readable by its owner only."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests import factories
from tests.server import run_dmp


async def test_the_anchor_file_is_replaced_whole_and_kept_private(tmp_path: Path) -> None:
    await factories.patient()
    latest = tmp_path / "anchor-latest.json"
    latest.write_text("an older anchor\n")
    latest.chmod(0o644)
    done = run_dmp("audit", "anchor", "--out", str(latest))
    assert done.returncode == 0, done.stderr
    data = json.loads(latest.read_text())
    assert data["digest"] in done.stdout
    assert stat.S_IMODE(latest.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["anchor-latest.json"]  # no temporary left
