"""A `dmp` command on a database the migrations have not been applied to (a new one, a typo in
DMP_DATABASE_URL's path, an upgrade without `dmp migrate`) says so in one line, and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backend.cli import _database_error
from tests.server import run_dmp

NOT_UP_TO_DATE = "the database in DMP_DATABASE_URL is not up to date"


@pytest.mark.parametrize("command", [["list-tokens"], ["seed-demo"], ["audit", "verify"], ["purge"]])
def test_a_command_on_a_database_never_migrated_says_run_migrate(tmp_path: Path, command: list[str]) -> None:
    url = f"sqlite://{tmp_path / 'new.sqlite3'}"
    done = run_dmp(*command, DMP_DATABASE_URL=url)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"dmp: {NOT_UP_TO_DATE} (it lacks ")
    assert "run dmp migrate" in last
    # Nothing written: no table was made.
    with sqlite3.connect(tmp_path / "new.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.mark.parametrize(("message", "lacks"), [
    ('relation "api_token" does not exist', "api_token"),
    ('column "passkey_id" does not exist', "passkey_id"),
    ("column s.passkey_id does not exist", "s.passkey_id"),
    ('column "urgent" of relation "outbox_message" does not exist', "urgent"),
    ("no such column: session.passkey_id", "session.passkey_id"),
    ("table outbox_message has no column named urgent", "outbox_message"),
])
def test_the_words_of_both_databases_for_a_missing_table_or_column(message: str, lacks: str) -> None:
    assert _database_error(Exception(message)).startswith(f"{NOT_UP_TO_DATE} (it lacks {lacks})")


def test_another_database_error_is_said_as_it_was() -> None:
    assert _database_error(Exception("file is not a database")) == "database error: file is not a database"
