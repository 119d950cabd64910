"""`dmp purge` past a record whose purge fails: that record is rolled back whole and logged by
its id, the others go, and the command says so and exits 1. A database that cannot be
reached still stops the run with the one-line refusal."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend import clock
from backend import purge as purge_module
from backend.audit.chain import purged_ins_mac
from backend.config import settings
from backend.domain.enums import RecordStatus
from backend.models import Account, PurgedIdentity, PurgedRecord, Record
from backend.purge import purge
from tests.lifecycle_rows import set_state
from tests.server import dmp_env, run_dmp
from tests.test_purge_records import all_gone, populated, remains

ROOT = Path(__file__).resolve().parent.parent

# `dmp purge`, with the deletion of one owner's account (the last statement of their record's
# purge, after its entries, files, history and the record itself) made to fail.
_FAILING_RUN = """
import os, sys
from backend import cli, purge
from backend.models import Account

class FailingAccount:
    @staticmethod
    def filter(*args, **kwargs):
        if str(kwargs.get("id")) == os.environ["FAIL_OWNER"]:
            if os.environ["FAIL_WITH"] == "unreachable":
                raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
            raise RuntimeError("value " + os.environ["FAIL_QUOTES"] + " violates something")
        return Account.filter(*args, **kwargs)

purge.Account = FailingAccount
sys.exit(cli.main(["purge"]))
"""


def _run_failing(owner_id: uuid.UUID, quotes: str, fail_with: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _FAILING_RUN], cwd=ROOT, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
        env=dmp_env(FAIL_OWNER=str(owner_id), FAIL_QUOTES=quotes, FAIL_WITH=fail_with),
    )


async def _three_due(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Three records due for purge, in the order the run takes them (by id)."""
    items = [await populated(client) for _ in range(3)]
    for item in items:
        await set_state(item["record"].id, RecordStatus.DELETED, clock.now() - timedelta(days=31))
    return sorted(items, key=lambda item: item["record"].id)


async def _whole(item: dict[str, Any], before: dict[str, int]) -> None:
    assert await remains(item) == before
    rid = item["record"].id
    assert await Record.filter(id=rid, status=RecordStatus.DELETED).exists()
    assert not await PurgedRecord.filter(record_id=rid).exists()
    ins_mac = purged_ins_mac(settings().audit_key, item["record"].ins)
    assert not await PurgedIdentity.filter(ins_mac=ins_mac).exists()


async def test_the_command_purges_past_a_record_that_fails(client: httpx.AsyncClient) -> None:
    first, second, third = await _three_due(client)
    before = await remains(second)
    ins = second["record"].ins

    done = _run_failing(second["owner"].id, ins, "record")

    assert done.returncode == 1, done.stderr
    assert "purged 2 record(s)" in done.stdout and "2 after a deletion request" in done.stdout
    assert "; 1 failed;" in done.stdout and "2 file(s) removed" in done.stdout
    # The failure by the record's id and the exception's type; never its message.
    assert f"record {second['record'].id} not purged: RuntimeError" in done.stderr
    assert "dmp: 1 record(s) could not be purged" in done.stderr.splitlines()[-1]
    assert ins not in done.stdout + done.stderr
    assert all_gone(await remains(first)) and all_gone(await remains(third))
    await _whole(second, before)
    # Its history was not cut: every chain still verifies.
    verified = run_dmp("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Once it no longer fails, the next run purges it.
    again = run_dmp("purge")
    assert again.returncode == 0, again.stderr
    assert "purged 1 record(s)" in again.stdout and "; 0 failed;" in again.stdout
    assert all_gone(await remains(second))


async def test_a_database_that_cannot_be_reached_still_stops_the_run(client: httpx.AsyncClient) -> None:
    first, second, third = await _three_due(client)
    before = {id(item): await remains(item) for item in (second, third)}

    done = _run_failing(second["owner"].id, second["record"].ins, "unreachable")

    assert done.returncode == 1
    assert done.stdout == ""  # no summary: the run stopped
    lines = done.stderr.strip().splitlines()
    assert lines == [lines[-1]], done.stderr
    assert lines[-1].startswith("dmp: the database in DMP_DATABASE_URL cannot be reached: "), lines
    assert all_gone(await remains(first))
    for item in (second, third):
        await _whole(item, before[id(item)])


async def test_purge_logs_a_failed_record_by_id_and_type_and_goes_on(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The function the command calls: the report holds the failed record's id, and the log
    line its id and the exception's type, with no traceback and no message."""
    first, second, third = await _three_due(client)
    before = await remains(second)
    failing_owner = second["owner"].id

    class FailingAccount:
        @staticmethod
        def filter(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("id") == failing_owner:
                raise RuntimeError(f"value {second['record'].ins}")
            return Account.filter(*args, **kwargs)

    monkeypatch.setattr(purge_module, "Account", FailingAccount)
    with caplog.at_level(logging.ERROR, logger="dmp.purge"):
        report = await purge()

    assert report.failed_ids == [second["record"].id]
    assert report.record_ids == [first["record"].id, third["record"].id]
    assert (report.deleted, report.files, report.files_kept) == (2, 2, 0)
    (logged,) = [r for r in caplog.records if r.name == "dmp.purge"]
    assert logged.getMessage() == f"record {second['record'].id} not purged: RuntimeError"
    assert logged.exc_info is None and logged.__dict__["error"] == "RuntimeError"
    await _whole(second, before)


async def test_a_file_that_cannot_be_removed_is_counted_and_left_to_the_sweep(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files go after the rows are committed: one that cannot be unlinked does not stop the run;
    the record is purged, the file counted as not removed."""
    first, second, third = await _three_due(client)
    kept_file = Path(second["file"])
    original = purge_module.storage.remove

    def remove(file_id: uuid.UUID) -> bool:
        if str(file_id) == kept_file.name:
            raise PermissionError(13, "Permission denied", str(kept_file))
        return original(file_id)

    monkeypatch.setattr(purge_module.storage, "remove", remove)
    report = await purge()
    assert report.failed_ids == []
    assert (report.deleted, report.files, report.files_kept) == (3, 2, 1)
    assert kept_file.exists()
    assert all_gone(await remains(first)) and all_gone(await remains(third))
    assert await remains(second) == dict.fromkeys(await remains(first), 0) | {"file on disk": 1}
