"""Run by tests/test_migration_upgrade.py in a process of its own (migrating initialises
Tortoise globally): `python -m tests.upgrade_probe URL MIGRATION` migrates the database at URL
up to MIGRATION and writes a record as that release's schema held it; `python -m
tests.upgrade_probe URL` migrates it to the last migration and prints the record's row."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import uuid

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from backend import db, sql

# The record table's columns without a database default, as migration 0004 left them.
_OLD_RECORD = (
    'INSERT INTO "record" ("id", "ins", "first_name", "last_name", "birth_date", "status",'
    ' "allow_regulator", "allow_break_glass", "notify_new_documents", "emergency_contacts",'
    ' "advance_directives", "event_seq", "created_at")'
    " VALUES ($1, '185057500000001', 'Ada', 'Lovelace', $2, 'ACTIVE', $3, $3, $4, '[]', '', 7, $5)"
)


async def main(url: str, target: str | None) -> None:
    await migrate(config=db.tortoise_config(url), target=target)
    await Tortoise.init(config=db.tortoise_config(url))
    conn = connections.get("default")
    try:
        if target:
            sqlite = sql.is_sqlite(conn)
            await conn.execute_query(sql.text_for(conn, _OLD_RECORD), [
                str(uuid.uuid4()) if sqlite else uuid.uuid4(),
                "1980-01-01" if sqlite else dt.date(1980, 1, 1), True, False, dt.datetime.now(dt.UTC),
            ])
        else:
            rows = await conn.execute_query_dict('SELECT * FROM "record"')
            print(json.dumps(rows, default=str))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
