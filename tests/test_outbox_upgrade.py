"""Migration 0009 adds `outbox_message.urgent`: a message queued before it migrates as an
ordinary one, and is still delivered (a NOT NULL column without a database default would
stop the upgrade of a database holding unsent messages)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from tests.conftest import BASE_DB_URL, TEST_DIR, _admin, db_kind

# Run in a process of its own (migrating initialises Tortoise globally): migrates the
# database at argv[1] to argv[2] (and queues a message as 0008's schema held it), or to the
# last migration (and prints the messages).
_PROBE = '''
import asyncio, datetime as dt, json, sys, uuid
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from backend import db, sql

OLD = ('INSERT INTO "outbox_message" ("id", "channel", "recipient", "subject", "body",'
       ' "created_at", "attempts", "next_attempt_at") VALUES ($1, $2, $3, $4, $5, $6, 0, $6)')

async def main(url, target):
    await migrate(config=db.tortoise_config(url), target=target)
    await Tortoise.init(config=db.tortoise_config(url))
    conn = connections.get("default")
    try:
        if target:
            sqlite = sql.is_sqlite(conn)
            await conn.execute_query(sql.text_for(conn, OLD), [
                str(uuid.uuid4()) if sqlite else uuid.uuid4(), "EMAIL", "old@test.dmp",
                "DMP : test", "Bonjour", dt.datetime.now(dt.UTC)])
        else:
            rows = await conn.execute_query_dict('SELECT "recipient", "urgent" FROM "outbox_message"')
            print(json.dumps([[r["recipient"], bool(r["urgent"])] for r in rows]))
    finally:
        await Tortoise.close_connections()

asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
'''


def _probe(url: str, *target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, url, *target],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


async def test_a_message_queued_before_0009_migrates_as_an_ordinary_one() -> None:
    name = f"dmp_upgrade_{uuid.uuid4().hex[:8]}"
    if db_kind() == "postgres":
        await _admin(f'CREATE DATABASE "{name}"')
        url = BASE_DB_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite://{TEST_DIR / (name + '.sqlite3')}"
    try:
        old = _probe(url, "models.0008_login_attempt_budget")
        assert old.returncode == 0, old.stderr
        new = _probe(url)
        assert new.returncode == 0, new.stderr
        assert json.loads(new.stdout.strip().splitlines()[-1]) == [["old@test.dmp", False]]
    finally:
        if db_kind() == "postgres":
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
