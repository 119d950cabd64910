"""A `dmp serve` killed (SIGKILL) in the middle of an insurer import loses or keeps the whole batch.

The test makes the crash land mid-import on purpose: it holds an exclusive lock on the
import keys, so the import has written its new records inside its transaction and waits;
PostgreSQL shows it waiting; then the server is killed and the lock released.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import httpx
import pytest

from backend.models import Entry, ImportKey, Record
from tests import factories
from tests.care_items import IMPORT, INSURER, insurer_token, medication_item
from tests.conftest import DB_URL, db_kind
from tests.resilience import Gql, http_client, ok, ready, start_server
from tests.server import run_dmp


def _pg_url() -> str:
    return DB_URL.replace("asyncpg://", "postgres://")


async def _wait_for_lock_wait(watch: asyncpg.Connection, database: str) -> int:
    """The backend pid of the import, once it waits on the lock we hold."""
    for _ in range(200):
        pid = await watch.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' "
            "AND query ILIKE '%import_key%'", database,
        )
        if pid:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the import never reached the locked import_key table")


async def _wait_gone(watch: asyncpg.Connection, pid: int) -> None:
    for _ in range(200):
        if not await watch.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the killed server's backend {pid} is still there")


@pytest.mark.slow
async def test_import_killed_midway_is_all_or_nothing_and_resending_completes_it() -> None:
    assert db_kind() == "postgres", (
        "this test holds a PostgreSQL table lock to stop an import midway: run it with "
        f"DMP_TEST_DATABASE_URL=postgres://… (current database: {DB_URL})"
    )
    token = await insurer_token()
    patients = [factories.new_ins() for _ in range(3)]
    items = [medication_item(ins, n) for n, ins in enumerate(patients * 4)]
    database = DB_URL.rsplit("/", 1)[1]

    holder = await asyncpg.connect(_pg_url())
    watch = await asyncpg.connect(_pg_url())
    server = start_server()
    try:
        await ready(server)
        async with http_client() as client:
            insurer = Gql(client, token=token)
            lock = holder.transaction()
            await lock.start()
            await holder.execute("LOCK TABLE import_key IN ACCESS EXCLUSIVE MODE")
            sending = asyncio.create_task(insurer(server, IMPORT, items=items))
            pid = await _wait_for_lock_wait(watch, database)
            # The import's own transaction has already inserted the new records (uncommitted).
            assert await watch.fetchval(
                "SELECT count(*) FROM pg_locks WHERE pid = $1 AND relation = 'record'::regclass "
                "AND mode = 'RowExclusiveLock'", pid) == 1
            server.kill()
            with pytest.raises(httpx.TransportError):
                await sending
            await lock.rollback()
            await _wait_gone(watch, pid)

        # Wholly absent: no record, no entry, no key of the batch survived the crash.
        assert await Record.filter(ins__in=patients).count() == 0
        assert await Entry.filter(organization=INSURER).count() == 0
        assert await ImportKey.all().count() == 0

        server = start_server()
        await ready(server)
        async with http_client() as client:
            insurer = Gql(client, token=token)
            done = ok(await insurer(server, IMPORT, items=items))["importCareHistory"]
            assert (done["created"], done["unchanged"], done["rejected"]) == (len(items), 0, [])
            again = ok(await insurer(server, IMPORT, items=items))["importCareHistory"]
            assert (again["created"], again["unchanged"]) == (0, len(items))
    finally:
        server.stop()
        with contextlib.suppress(Exception):
            await holder.close()
        await watch.close()

    assert await Record.filter(ins__in=patients).count() == len(patients)
    assert await Entry.filter(organization=INSURER).count() == len(items)
    assert await ImportKey.filter(organization=INSURER).count() == len(items)
    verified = run_dmp("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
