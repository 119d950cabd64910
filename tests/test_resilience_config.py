"""The database settings that keep a hung PostgreSQL from hanging requests (backend/db.py)."""

from __future__ import annotations

from tortoise.backends.base.config_generator import expand_db_url

from backend import db


def _credentials(url: str) -> dict[str, object]:
    connection = db.tortoise_config(url)["connections"]["default"]
    return dict(expand_db_url(connection)["credentials"])


def test_postgres_connections_get_bounded_connect_and_statement_timeouts() -> None:
    credentials = _credentials("postgres://dmp@db.internal:5432/dmp")
    assert credentials["timeout"] == 5 and float(str(credentials["command_timeout"])) == 15
    assert (credentials["host"], credentials["database"]) == ("db.internal", "dmp")


def test_the_url_may_set_its_own_timeouts() -> None:
    credentials = _credentials("postgres://dmp@db/dmp?command_timeout=600&timeout=20")
    assert credentials["timeout"] == 20 and float(str(credentials["command_timeout"])) == 600


def test_sqlite_waits_for_the_write_lock_instead_of_failing() -> None:
    credentials = _credentials("sqlite:///srv/dmp/dmp.sqlite3")
    assert credentials["busy_timeout"] == "10000" and "command_timeout" not in credentials
