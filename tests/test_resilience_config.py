"""Database settings that keep a hung PostgreSQL from hanging requests, and what counts as an outage."""

from __future__ import annotations

from pathlib import Path

from tortoise.backends.base.config_generator import expand_db_url

from backend import db


def _credentials(url: str) -> dict[str, object]:
    connection = db.tortoise_config(url)["connections"]["default"]
    if isinstance(connection, str):
        connection = expand_db_url(connection)
    return dict(connection["credentials"])


def test_postgres_connections_get_bounded_connect_and_statement_timeouts() -> None:
    credentials = _credentials("postgres://dmp@db.internal:5432/dmp")
    assert credentials["timeout"] == 5 and float(str(credentials["command_timeout"])) == 15
    assert (credentials["host"], credentials["database"]) == ("db.internal", "dmp")


def test_the_url_may_set_its_own_timeouts() -> None:
    credentials = _credentials("postgres://dmp@db/dmp?command_timeout=600&timeout=20")
    assert credentials["timeout"] == 20 and float(str(credentials["command_timeout"])) == 600


def test_the_pool_holds_twenty_connections_unless_the_url_says() -> None:
    assert int(str(_credentials("postgres://dmp@db/dmp")["maxsize"])) == 20
    assert int(str(_credentials("postgres://dmp@db/dmp?maxsize=4")["maxsize"])) == 4


def test_ssl_and_direct_tls_reach_asyncpg_as_written() -> None:
    """Tortoise read `ssl` as the truth of its text: `ssl=disable` asked for TLS with full
    verification, and `direct_tls=false` reached asyncpg as a true string."""
    assert _credentials("postgres://dmp@db/dmp?ssl=disable")["ssl"] == "disable"
    assert _credentials("postgres://dmp@db/dmp?ssl=require")["ssl"] == "require"
    assert _credentials("postgres://dmp@db/dmp?ssl=false")["ssl"] is False
    assert _credentials("postgres://dmp@db/dmp?ssl=true")["ssl"] is True
    assert _credentials("postgres://dmp@db/dmp?direct_tls=false&ssl=require")["direct_tls"] is False
    assert "ssl" not in _credentials("postgres://dmp@db/dmp")


def test_sqlite_waits_for_the_write_lock_instead_of_failing() -> None:
    credentials = _credentials("sqlite:///srv/dmp/dmp.sqlite3")
    assert credentials["busy_timeout"] == "10000" and "command_timeout" not in credentials
    assert credentials["file_path"] == "/srv/dmp/dmp.sqlite3"
    assert db.tortoise_config("sqlite:///srv/dmp/dmp.sqlite3")["connections"]["default"]["engine"] == (
        "backend.sqlite_client")


async def _busy_timeout_of(url: str) -> int:
    """The busy timeout of a connection opened as the service opens one for `url`."""
    from backend.sqlite_client import client_class

    connection = db.tortoise_config(url, create=True)["connections"]["default"]
    assert isinstance(connection, dict)
    client = client_class(connection_name="busy", **connection["credentials"])
    try:
        await client.create_connection(with_db=True)
        _, rows = await client.execute_query("PRAGMA busy_timeout")
        return int(rows[0][0])
    finally:
        await client.close()


async def test_a_sqlite_url_may_set_its_own_busy_timeout(tmp_path: Path) -> None:
    """The URL's `busy_timeout` used to be overridden by the service's 10 s: an operator whose
    processes hold the lock longer (a nightly batch) could not wait longer."""
    assert await _busy_timeout_of(f"sqlite://{tmp_path / 'a.sqlite3'}") == 10000
    assert await _busy_timeout_of(f"sqlite://{tmp_path / 'b.sqlite3'}?busy_timeout=30000") == 30000
    no_wait = f"sqlite://{tmp_path / 'c.sqlite3'}?journal_size_limit=1&busy_timeout=0"
    assert await _busy_timeout_of(no_wait) == 0


def test_what_counts_as_the_database_being_unavailable() -> None:
    import sqlite3

    import asyncpg
    from tortoise.exceptions import OperationalError

    def wrapped(cause: BaseException) -> OperationalError:
        try:
            raise OperationalError("query failed") from cause
        except OperationalError as exc:
            return exc

    assert db.unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert db.unavailable(TimeoutError())
    assert db.unavailable(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert db.unavailable(wrapped(sqlite3.OperationalError("database is locked")))
    # The driver's state broken by a connection lost mid-statement (PostgreSQL restarting).
    assert db.unavailable(asyncpg.exceptions.InternalClientError("cannot switch to state 15"))
    # A bug is not an outage: it stays a 500 and is logged as such.
    assert not db.unavailable(wrapped(sqlite3.OperationalError("no such column: x")))
    assert not db.unavailable(ValueError("bad"))
