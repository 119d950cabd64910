"""The orphan sweep does not empty the files folder when the database holds none of them (a
restore not yet pointed at, an empty database): more than ten orphans that are also more than
half of the stored files are left, the run says so and exits 1; `--sweep-all-orphans` removes
them when they truly are orphans."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import httpx

from backend import clock
from backend.config import settings
from backend.purge import purge
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import pdf, upload
from tests.server import run_dmp


def _old_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for _ in range(count):
        path = folder / str(uuid.uuid4())
        path.write_bytes(b"ciphertext")
        old = (clock.now() - dt.timedelta(days=3)).timestamp()
        os.utime(path, (old, old))
        paths.append(path)
    return paths


async def test_most_files_held_by_no_row_are_left_and_said() -> None:
    files = _old_files(settings().files_dir, 12)
    report = await purge()
    assert report.orphans_left == 12 and report.orphan_files == 0
    assert all(path.exists() for path in files)
    report = await purge(sweep_all=True)
    assert report.orphan_files == 12 and report.orphans_left == 0
    assert not any(path.exists() for path in files)


async def test_a_few_orphans_beside_held_files_are_swept(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    for n in range(3):
        (await upload(caller, pdf(f"garde {n}"))).ok()
    files = _old_files(settings().files_dir, 3)  # 3 orphans beside 3 held: the usual sweep
    report = await purge()
    assert report.orphan_files == 3 and report.orphans_left == 0
    assert not any(path.exists() for path in files)


def test_the_command_exits_1_and_names_the_option() -> None:
    files = _old_files(settings().files_dir, 11)
    done = run_dmp("purge")
    assert done.returncode == 1
    assert "11 orphan file(s) not swept" in done.stderr and "--sweep-all-orphans" in done.stderr
    assert all(path.exists() for path in files)
    assert run_dmp("purge", "--sweep-all-orphans").returncode == 0
    assert not any(path.exists() for path in files)


def test_the_log_line_gives_the_counts() -> None:
    _old_files(settings().files_dir, 11)
    done = run_dmp("purge")
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line["msg"].startswith("orphan files not swept")]
    assert len(refused) == 1
    assert (refused[0]["orphans"], refused[0]["stored_files"]) == (11, 11)
