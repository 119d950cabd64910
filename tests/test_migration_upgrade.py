"""A database of an earlier release takes the new migrations with its rows in place."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from tests.conftest import BASE_DB_URL, TEST_DIR, _admin, db_kind


def _probe(url: str, *target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.upgrade_probe", url, *target],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


async def test_a_record_written_before_the_audit_epoch_migrates_with_epoch_zero() -> None:
    """Migration 0005 adds `record.audit_epoch` (moved by a rekey) to existing records."""
    name = f"dmp_upgrade_{uuid.uuid4().hex[:8]}"
    if db_kind() == "postgres":
        await _admin(f'CREATE DATABASE "{name}"')
        url = BASE_DB_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite://{TEST_DIR / (name + '.sqlite3')}"
    try:
        old = _probe(url, "models.0004_purged_record")
        assert old.returncode == 0, old.stderr
        new = _probe(url)
        assert new.returncode == 0, new.stderr
        rows = json.loads(new.stdout.strip().splitlines()[-1])
        assert [(r["ins"], r["event_seq"], r["audit_epoch"]) for r in rows] == [("185057500000001", 7, 0)]
    finally:
        if db_kind() == "postgres":
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
