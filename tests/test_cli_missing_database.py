"""A `dmp` command given a DMP_DATABASE_URL whose database is not there says so in one line,
naming it (never the password) and what to do. A SQLite path with a typo made an empty database
there, then said to run `dmp migrate`; only `dmp migrate` (and `dmp serve --migrate`) creates
one now. A PostgreSQL database that does not exist on its server was « cannot be reached », and
`dmp serve` ran on, answering 503 and logging the outbox's failure every second."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from tortoise.exceptions import DBConnectionError

from backend import db
from tests.conftest import DB_URL
from tests.server import DMP, dmp_env, free_port, run_dmp

COMMANDS = [["list-tokens"], ["seed-demo"], ["purge"], ["audit", "verify"], ["deliver-outbox"],
            ["revoke-token", "8d4f1f0e-4a51-4f57-9a57-3c1f0d1e2a3b"],
            ["create-token", "--name", "n", "--scope", "insurer:import", "--organization", "Z"]]


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def _serve(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([DMP, "serve", "--port", str(free_port()), *args],
                              env=dmp_env(DMP_DATABASE_URL=url), capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError("dmp serve started on a database that is not there") from None


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_on_a_sqlite_path_with_no_database_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "typo.sqlite3"
    done = run_dmp(*command, DMP_DATABASE_URL=f"sqlite://{path}")
    assert _one_line_error(done) == (
        f"dmp: there is no SQLite database at {path}: correct the path in DMP_DATABASE_URL, "
        "or run dmp migrate to create a new database there")
    assert list(tmp_path.iterdir()) == []  # no file, no -wal, no -shm


@pytest.mark.parametrize("command", [["list-tokens"], ["migrate"]])
def test_a_sqlite_path_whose_folder_does_not_exist_is_named(tmp_path: Path, command: list[str]) -> None:
    """It was « database error: unable to open database file »."""
    path = tmp_path / "no-such-folder" / "dmp.sqlite3"
    done = run_dmp(*command, DMP_DATABASE_URL=f"sqlite://{path}")
    start = ("cannot create the SQLite database" if command == ["migrate"]
             else "there is no SQLite database at")
    line = _one_line_error(done)
    assert line.startswith(f"dmp: {start} {path}: the folder {path.parent} does not exist (")
    assert "DMP_DATABASE_URL" in line
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_path_under_a_file_says_it_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "dmp").write_bytes(b"")
    path = tmp_path / "dmp" / "dmp.sqlite3"
    line = _one_line_error(run_dmp("list-tokens", DMP_DATABASE_URL=f"sqlite://{path}"))
    assert line.startswith(f"dmp: there is no SQLite database at {path}: the folder {path.parent} "
                           "is not a folder (")


def test_serve_stops_on_a_sqlite_path_with_no_database(tmp_path: Path) -> None:
    """It made an empty file there, then said that every migration was missing."""
    path = tmp_path / "typo.sqlite3"
    done = _serve(f"sqlite://{path}")
    assert _one_line_error(done).startswith(f"dmp: there is no SQLite database at {path}: ")
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_migrate_creates_the_sqlite_database_the_others_then_use(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'new.sqlite3'}"
    migrated = run_dmp("migrate", DMP_DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines()[-1] == "database is up to date"
    listed = run_dmp("list-tokens", DMP_DATABASE_URL=url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("id ")


def _missing_postgres() -> tuple[str, str, str]:
    """The test server's URL naming a database it does not have (none is created), with a
    password in it; the database's name, and what the message names the server by."""
    base = urlsplit(DB_URL.replace("asyncpg://", "postgres://"))
    password = base.password or "s3cret-pw"  # the server may not ask for one (trust)
    host, port = base.hostname or "localhost", base.port or 5432
    name = "dmp_no_such_database"
    url = f"postgres://{base.username}:{password}@{host}:{port}/{name}"
    return url, name, f"{host}:{port}"


def _says_missing(line: str, name: str, server: str) -> None:
    assert line.startswith(f'dmp: the database "{name}" does not exist on the PostgreSQL server at '
                           f"{server}: create it (createdb -h ")
    assert line.endswith(f" {name}, as a role allowed to create databases), then run dmp migrate; "
                         "or correct the database's name in DMP_DATABASE_URL")


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["migrate"], *COMMANDS])
def test_a_postgres_database_that_does_not_exist_is_named(command: list[str]) -> None:
    url, name, server = _missing_postgres()
    done = run_dmp(*command, DMP_DATABASE_URL=url)
    _says_missing(_one_line_error(done), name, server)
    assert "cannot be reached" not in done.stderr
    assert str(urlsplit(url).password) not in done.stderr + done.stdout


@pytest.mark.postgres
@pytest.mark.parametrize("migrate", [[], ["--migrate"]])
def test_serve_stops_on_a_postgres_database_that_does_not_exist(migrate: list[str]) -> None:
    """As on a role the server refuses: waiting does not create it."""
    url, name, server = _missing_postgres()
    done = _serve(url, *migrate)
    _says_missing(_one_line_error(done), name, server)
    assert done.stdout == ""


def test_a_missing_postgres_database_stays_an_outage_for_the_service() -> None:
    """The service's 503 while PostgreSQL restarts (`db.unavailable`) is unchanged; the
    commands tell the missing database apart (`db.missing`), naming it and not the password."""
    url = "postgres://dmp:s3cret-pw@db.internal:5433/dmp_prod"
    try:
        try:
            raise asyncpg.InvalidCatalogNameError('database "dmp_prod" does not exist')
        except asyncpg.InvalidCatalogNameError as cause:
            raise DBConnectionError("Can't establish connection to database dmp_prod") from cause
    except DBConnectionError as exc:
        error = exc
    assert db.unavailable(error)
    absent = db.missing(error, url)
    assert isinstance(absent, db.MissingDatabase)
    assert str(absent) == (
        'the database "dmp_prod" does not exist on the PostgreSQL server at db.internal:5433: create it '
        "(createdb -h db.internal -p 5433 -O dmp dmp_prod, as a role allowed to create databases), then "
        "run dmp migrate; or correct the database's name in DMP_DATABASE_URL")
    assert db.missing(DBConnectionError("Connect call failed"), url) is None
    assert db.missing(ConnectionRefusedError(), url) is None
