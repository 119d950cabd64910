"""A fault made in the database itself: inserts into access_event are rejected.

Any path that returns medical data uses it to prove the response is withheld when its
access event cannot be written:

    async with access_event_writes_fail():
        result = await caller.gql(...)
    assert result.codes == ["INTERNAL"] and result.data is None
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tortoise import Tortoise

from tests.conftest import db_kind

PG_INSTALL = """
CREATE OR REPLACE FUNCTION dmp_test_reject_event() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_event writes disabled by the test';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dmp_test_reject_event BEFORE INSERT ON access_event
    FOR EACH ROW EXECUTE FUNCTION dmp_test_reject_event();
"""
PG_REMOVE = """
DROP TRIGGER IF EXISTS dmp_test_reject_event ON access_event;
DROP FUNCTION IF EXISTS dmp_test_reject_event();
"""
SQLITE_INSTALL = """
CREATE TRIGGER dmp_test_reject_event BEFORE INSERT ON access_event
BEGIN SELECT RAISE(ABORT, 'access_event writes disabled by the test'); END;
"""
SQLITE_REMOVE = "DROP TRIGGER IF EXISTS dmp_test_reject_event;"


@contextlib.asynccontextmanager
async def access_event_writes_fail() -> AsyncIterator[None]:
    conn = Tortoise.get_connection("default")
    postgres = db_kind() == "postgres"
    await conn.execute_script(PG_INSTALL if postgres else SQLITE_INSTALL)
    try:
        yield
    finally:
        await conn.execute_script(PG_REMOVE if postgres else SQLITE_REMOVE)
