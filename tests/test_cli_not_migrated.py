"""A `dmp` command on a database the migrations have not all been applied to (a new one, a typo
in DMP_DATABASE_URL's path, an upgrade without `dmp migrate`) refuses in one line, saying what to
do, before it reads or writes anything: `dmp serve` (it served, /healthz answering 200, every
request failing) and every command that uses the database (they ran on a database lacking the
last migration, as far as a statement touched what it lacks, or all the way)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from backend.cli import _database_error
from tests.factories import new_ins
from tests.server import DMP, dmp_env, free_port, run_dmp

NOT_UP_TO_DATE = "the database in DMP_DATABASE_URL is not up to date"
MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).parents[1] / "backend" / "models" / "migrations").glob("0*.py")
)
EMAIL = "support@test.dmp"
PASSWORD = "a-long-enough-passphrase"
INS = new_ins()
COMMANDS = [
    ["list-tokens"], ["seed-demo"], ["audit", "verify"], ["audit", "anchor"], ["purge"],
    ["deliver-outbox"], ["rewrap-files"], ["disable-account", EMAIL], ["enable-account", EMAIL],
    ["unlock-account", EMAIL], ["revoke-token", "8d4f1f0e-4a51-4f57-9a57-3c1f0d1e2a3b"],
    ["create-token", "--name", "n", "--scope", "insurer:import", "--organization", "Z"],
    ["release-pending-record", INS],
    ["create-account", "--role", "support", "--email", "new@test.dmp", "--password", PASSWORD,
     "--first-name", "Sam", "--last-name", "Port"],
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_on_a_database_never_migrated_says_run_migrate(tmp_path: Path, command: list[str]) -> None:
    # An empty database (none at all is test_cli_missing_database's).
    sqlite3.connect(tmp_path / "new.sqlite3").close()
    url = f"sqlite://{tmp_path / 'new.sqlite3'}"
    done = run_dmp(*command, DMP_DATABASE_URL=url, DMP_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr == (f"dmp: {NOT_UP_TO_DATE}: {len(MIGRATIONS)} migration(s) not applied "
                           "(models.0001_initial, ...): run dmp migrate first\n")
    assert done.stdout == ""
    # Nothing written: no table was made.
    with sqlite3.connect(tmp_path / "new.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.fixture(scope="module")
def lacking_the_last(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database every migration but the last was applied to, as the code before it left it,
    with an account in it: the code upgraded, `dmp migrate` not run."""
    path = tmp_path_factory.mktemp("lacking") / "dmp.sqlite3"
    url = f"sqlite://{path}"
    assert run_dmp("migrate", DMP_DATABASE_URL=url).returncode == 0
    made = run_dmp("create-account", "--role", "support", "--email", EMAIL, "--password", PASSWORD,
                   "--first-name", "Sam", "--last-name", "Port",
                   DMP_DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    python = str(Path(DMP).with_name("python"))
    back = subprocess.run([python, "-c", _MIGRATE_TO, url, f"models.{MIGRATIONS[-2]}"],
                          env=dmp_env(DMP_DATABASE_URL=url), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert back.returncode == 0, back.stderr
    assert _applied(path)[-1] == MIGRATIONS[-2]
    return path


# The migrations applied up to the one named, those after it unapplied.
_MIGRATE_TO = """
import asyncio, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from backend import db

async def main():
    try:
        await migrate(config=db.tortoise_config(sys.argv[1]), target=sys.argv[2])
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""


def _applied(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [row[0] for row in db.execute("SELECT name FROM tortoise_migrations ORDER BY id")]


def _dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_on_a_database_lacking_a_migration_refuses_and_writes_nothing(
    tmp_path: Path, lacking_the_last: Path, command: list[str],
) -> None:
    path = tmp_path / "dmp.sqlite3"
    shutil.copy(lacking_the_last, path)
    before = _dump(path)
    done = run_dmp(*command, DMP_DATABASE_URL=f"sqlite://{path}", DMP_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr == (f"dmp: {NOT_UP_TO_DATE}: 1 migration(s) not applied (models.{MIGRATIONS[-1]}): "
                           "run dmp migrate first\n")
    assert done.stdout == ""
    assert _dump(path) == before


def test_once_migrated_the_command_runs(tmp_path: Path, lacking_the_last: Path) -> None:
    path = tmp_path / "dmp.sqlite3"
    shutil.copy(lacking_the_last, path)
    url = f"sqlite://{path}"
    migrated = run_dmp("migrate", DMP_DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stderr
    done = run_dmp("disable-account", EMAIL, DMP_DATABASE_URL=url, DMP_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", [["docs-matrix"], ["print-schema"]])
def test_a_command_that_uses_no_database_runs_on_one_lacking_a_migration(
    tmp_path: Path, lacking_the_last: Path, command: list[str],
) -> None:
    done = run_dmp(*command, DMP_DATABASE_URL=f"sqlite://{lacking_the_last}")
    assert done.returncode == 0, done.stderr
    assert done.stdout


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


def test_serve_refuses_a_database_that_lacks_migrations(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "new.sqlite3").close()
    url = f"sqlite://{tmp_path / 'new.sqlite3'}"
    port = str(free_port())
    with subprocess.Popen([DMP, "serve", "--port", port], env=dmp_env(DMP_DATABASE_URL=url),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as serve:
        try:
            out, err = serve.communicate(timeout=60)  # it served on, before
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.communicate()
            raise AssertionError("dmp serve started on a database without its migrations") from None
    assert serve.returncode == 1
    committed = len(list((Path(__file__).parents[1] / "backend" / "models" / "migrations").glob("0*.py")))
    assert err == (f"dmp: the database in DMP_DATABASE_URL is not up to date: {committed} migration(s) not "
                   "applied (models.0001_initial, ...): run dmp migrate first, or dmp serve --migrate\n")
    assert out == ""
    with sqlite3.connect(tmp_path / "new.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


# `dmp serve`'s check, run in a process of its own (it opens and closes Tortoise's connections),
# the migrations table's read made to time out (a database that answers `SELECT 1`, then hangs
# on the next statement past command_timeout), or answered by the test database, up to date, or
# with a migration the code does not have (the code rolled back after a `dmp migrate`).
_CHECK = """
import asyncio, sys
import tortoise.connection
from backend import cli

opened = tortoise.connection.get_connection

def slow(name):
    connection = opened(name)
    execute = connection.execute_query
    async def execute_query(query, values=None):
        if "tortoise_migrations" in query and sys.argv[1] == "timeout":
            raise TimeoutError()
        return await execute(query, values)
    connection.execute_query = execute_query
    return connection

tortoise.connection.get_connection = slow
LATER = ("INSERT INTO tortoise_migrations (app, name, applied_at) "
         "VALUES ('models', '9999_later', '2026-12-07')")

async def later(sql):
    from tortoise import Tortoise
    from backend import db
    await db.connect()
    await Tortoise.get_connection("default").execute_script(sql)
    await db.disconnect()

if sys.argv[1] == "later":
    asyncio.run(later(LATER))
try:
    print(asyncio.run(cli._unapplied_migrations()))
finally:
    if sys.argv[1] == "later":
        asyncio.run(later("DELETE FROM tortoise_migrations WHERE name = '9999_later'"))
"""


@pytest.mark.parametrize(("read", "answer"), [("timeout", "None"), ("answered", "[]"), ("later", "[]")])
def test_serve_starts_when_the_migrations_read_times_out(read: str, answer: str) -> None:
    """The read timed out was taken for an empty migrations table: `dmp serve` stopped, saying
    every migration was missing, on an up-to-date database that was slow for a moment."""
    done = subprocess.run([str(Path(DMP).with_name("python")), "-c", _CHECK, read], env=dmp_env(),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == answer
