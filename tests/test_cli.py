"""The `dmp` command: clear one-line failures, nothing written on bad input (DESIGN §7)."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from backend.models import AccessEvent, Account, ApiToken, Practitioner, Record
from backend.sqlite_client import ImmediateSqliteClient
from tests.audit_faults import access_event_writes_fail
from tests.factories import new_ins, new_rpps
from tests.server import DMP, dmp_env, dmp_server, run_dmp

PASSWORD = "a-long-enough-passphrase"


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmp: ")
    return lines[0]


async def test_create_patient_with_invalid_ins_fails_and_writes_nothing() -> None:
    result = run_dmp(
        "create-account", "--role", "patient", "--email", "p@test.dmp", "--password", PASSWORD,
        "--first-name", "Paul", "--last-name", "Test", "--ins", "185057512345674",
        "--birth-date", "1985-05-01",
    )
    assert result.returncode == 1
    assert "INS" in _one_line_error(result.stderr)
    assert await Account.all().count() == 0
    assert await Record.all().count() == 0


async def test_create_patient_gives_an_active_record_with_a_verified_contact() -> None:
    ins = new_ins()
    result = run_dmp(
        "create-account", "--role", "patient", "--email", "P@Test.dmp", "--password", PASSWORD,
        "--first-name", "Paul", "--last-name", "Test", "--ins", ins, "--birth-date", "1985-05-01",
    )
    assert result.returncode == 0, result.stderr
    account = await Account.get(email="p@test.dmp")
    assert account.email_verified
    record = await Record.get(ins=ins)
    assert record.status == "ACTIVE"
    assert record.owner_id == account.id  # type: ignore[attr-defined]
    again = run_dmp(
        "create-account", "--role", "patient", "--email", "p@test.dmp", "--password", PASSWORD,
        "--first-name", "Paul", "--last-name", "Test", "--ins", new_ins(), "--birth-date", "1985-05-01",
    )
    assert again.returncode == 1
    assert "already exists" in _one_line_error(again.stderr)
    assert await Account.all().count() == 1


async def test_a_provisioned_record_is_covered_by_the_anchor_from_the_start(tmp_path: Path) -> None:
    """`create-account --role patient` wrote no event: the record had no chain head, so
    `audit anchor` left it out, and its rows could be deleted without `verify --anchor` seeing it.
    Now it has its RECORD_ACTIVATED event, by the operator, as a record activated on the web has."""
    ins = new_ins()
    created = run_dmp(
        "create-account", "--role", "patient", "--email", "p@test.dmp", "--password", PASSWORD,
        "--first-name", "Paul", "--last-name", "Test", "--ins", ins, "--birth-date", "1985-05-01",
    )
    assert created.returncode == 0, created.stderr
    for role, extra in (("practitioner", ("--rpps", new_rpps(), "--profession", "medecin")), ("support", ())):
        done = run_dmp("create-account", "--role", role, "--email", f"{role}@test.dmp", "--password",
                       PASSWORD, "--first-name", "A", "--last-name", "B", *extra)
        assert done.returncode == 0, done.stderr
    record = await Record.get(ins=ins)
    (event,) = await AccessEvent.filter(record_id=record.id)
    assert (event.seq, event.action, event.actor_id, event.actor_name) == (
        1, "RECORD_ACTIVATED", None, "Exploitant du DMP")
    assert record.event_seq == 1 and await AccessEvent.all().count() == 1
    heads = tmp_path / "heads.json"
    anchor = run_dmp("audit", "anchor", "--out", str(heads))
    assert anchor.returncode == 0, anchor.stderr
    assert " records=1 " in anchor.stdout
    assert [head["record"] for head in json.loads(heads.read_text())["heads"]] == [str(record.id)]
    verified = run_dmp("audit", "verify", "--anchor", str(heads))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "access history intact: 1 record(s), 1 event(s); 1 anchored head(s) reached" in verified.stdout
    # The anchor's digest, as `audit anchor` printed it, to compare with the line kept elsewhere.
    printed = anchor.stdout.split("sha256=")[1].split()[0]
    assert verified.stdout.rstrip().endswith(f"anchor sha256={printed}")
    # The anchor now catches the record's history deleted whole.
    await AccessEvent.filter(record_id=record.id).delete()
    await Record.filter(id=record.id).update(event_seq=0)
    broken = run_dmp("audit", "verify", "--anchor", str(heads))
    assert broken.returncode == 1
    assert f"record {record.id}" in broken.stdout


async def test_a_provisioned_record_and_its_event_are_written_together_or_not_at_all() -> None:
    async with access_event_writes_fail():
        result = run_dmp(
            "create-account", "--role", "patient", "--email", "p@test.dmp", "--password", PASSWORD,
            "--first-name", "Paul", "--last-name", "Test", "--ins", new_ins(), "--birth-date", "1985-05-01",
        )
    assert result.returncode == 1
    assert "access_event writes disabled by the test" in _one_line_error(result.stderr)
    assert (await Account.all().count(), await Record.all().count()) == (0, 0)


async def test_practitioner_with_bad_rpps_and_weak_password_are_refused() -> None:
    bad_rpps = run_dmp(
        "create-account", "--role", "practitioner", "--email", "d@test.dmp", "--password", PASSWORD,
        "--first-name", "D", "--last-name", "R", "--rpps", "10000000018", "--profession", "medecin",
    )
    assert bad_rpps.returncode == 1
    assert "RPPS" in _one_line_error(bad_rpps.stderr)
    weak = run_dmp(
        "create-account", "--role", "support", "--email", "s@test.dmp", "--password", "short",
        "--first-name", "S", "--last-name", "T",
    )
    assert weak.returncode == 1
    assert "12 characters" in _one_line_error(weak.stderr)
    # Options a role does not take are refused, not dropped without a word.
    stray = run_dmp(
        "create-account", "--role", "support", "--email", "s@test.dmp", "--password", PASSWORD,
        "--first-name", "S", "--last-name", "T", "--rpps", "10000000017",
    )
    assert stray.returncode == 1
    assert _one_line_error(stray.stderr) == "dmp: not for a support account: --rpps"
    empty_org = run_dmp("create-token", "--name", "x", "--scope", "insurer:import", "--organization", " ")
    assert empty_org.returncode == 1 and "--organization" in _one_line_error(empty_org.stderr)
    assert await Account.all().count() == 0
    assert await Practitioner.all().count() == 0


async def test_tokens_are_created_listed_and_revoked() -> None:
    rpps = new_rpps()
    created = run_dmp(
        "create-account", "--role", "practitioner", "--email", "d@test.dmp", "--password", PASSWORD,
        "--first-name", "D", "--last-name", "R", "--rpps", rpps, "--profession", "pharmacien",
    )
    assert created.returncode == 0, created.stderr
    token = run_dmp("create-token", "--name", "officine", "--scope", "practitioner",
                    "--practitioner", rpps, "--expires-days", "30")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("dmp_")
    row = await ApiToken.get(name="officine")
    assert secret not in (row.token_hash, row.prefix)
    listing = run_dmp("list-tokens")
    assert "officine" in listing.stdout and "active" in listing.stdout
    assert secret not in listing.stdout
    bad_scope = run_dmp("create-token", "--name", "x", "--scope", "admin", "--organization", "CPAM")
    assert bad_scope.returncode == 1
    _one_line_error(bad_scope.stderr)
    revoked = run_dmp("revoke-token", str(row.id))
    assert revoked.returncode == 0
    assert "revoked" in run_dmp("list-tokens").stdout
    again = run_dmp("revoke-token", str(row.id))
    assert again.returncode == 1
    assert await ApiToken.all().count() == 1


async def test_migrate_twice_and_seed_demo_twice_change_nothing() -> None:
    first = run_dmp("migrate")
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout
    seed = run_dmp("seed-demo")
    assert seed.returncode == 0, seed.stderr
    counts = (await Account.all().count(), await Record.all().count(), await ApiToken.all().count())
    assert counts[0] > 5
    again = run_dmp("seed-demo")
    assert again.returncode == 0, again.stderr
    assert (await Account.all().count(), await Record.all().count(),
            await ApiToken.all().count()) == counts


async def test_seed_demo_records_start_with_their_creation_event_and_are_anchored(tmp_path: Path) -> None:
    """`seed-demo` provisioned its patients without the creation event `create-account` writes:
    their histories began with whatever the demo did next. Now each record's first event is its
    RECORD_ACTIVATED by the operator, and `audit anchor` and `verify --anchor` cover every record."""
    seed = run_dmp("seed-demo")
    assert seed.returncode == 0, seed.stderr
    records = await Record.all()
    assert len(records) == 3
    for record in records:
        first = await AccessEvent.get(record_id=record.id, seq=1)
        assert (first.action, first.actor_id, first.actor_name, first.reason) == (
            "RECORD_ACTIVATED", None, "Exploitant du DMP",
            "dossier créé et activé par l'exploitant (dmp seed-demo)")
    heads = tmp_path / "heads.json"
    anchor = run_dmp("audit", "anchor", "--out", str(heads))
    assert anchor.returncode == 0, anchor.stderr
    assert sorted(head["record"] for head in json.loads(heads.read_text())["heads"]) == sorted(
        str(record.id) for record in records)
    verified = run_dmp("audit", "verify", "--anchor", str(heads))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "access history intact: 3 record(s)" in verified.stdout
    assert "; 3 anchored head(s) reached" in verified.stdout


def test_bad_configuration_stops_with_a_line_naming_the_variable() -> None:
    result = run_dmp("migrate", DMP_SMTP_PORT="not-a-port")
    assert result.returncode == 1
    assert "DMP_SMTP_PORT" in _one_line_error(result.stderr)
    result = run_dmp("migrate", DMP_PUBLIC_ORIGIN="https://dmp.example")
    assert result.returncode == 1
    assert "DMP_PUBLIC_ORIGIN" in _one_line_error(result.stderr)
    result = run_dmp("migrate", DMP_ENV="production", DMP_PUBLIC_ORIGIN="https://dmp.example")
    assert result.returncode == 1
    assert "required" in _one_line_error(result.stderr)


@pytest.mark.parametrize(("query", "named"), [
    ("foo=bar", "unknown parameter 'foo'"),
    ("command_timeout=abc", "the parameter 'command_timeout' must be a number of seconds greater than 0"),
])
@pytest.mark.parametrize("command", [("list-tokens",), ("migrate",), ("serve", "--port", "1")])
def test_a_bad_postgres_url_parameter_stops_every_command_with_one_line(
    command: tuple[str, ...], query: str, named: str
) -> None:
    """Was a traceback from asyncpg at the first connection; `dmp serve` even ran on with every
    request and the outbox failing. Now refused before anything starts; the password is not shown."""
    url = f"postgres://dmp:s3cret-pw@127.0.0.1:5432/dmp?{query}"
    result = subprocess.run([DMP, *command], env=dmp_env(DMP_DATABASE_URL=url), capture_output=True,
                            text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert line.startswith(f"dmp: DMP_DATABASE_URL: {named}")
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_migrate_on_a_file_that_is_not_a_database_stops_with_one_line(tmp_path: Path) -> None:
    """Opening the SQLite connection fails: the command says so at once and exits 1, instead
    of waiting forever for the connection's lock, which the failed opening left taken."""
    bad = tmp_path / "not-a-database.sqlite3"
    bad.write_bytes(secrets.token_bytes(4096))
    result = run_dmp("migrate", DMP_DATABASE_URL=f"sqlite://{bad}")
    assert result.returncode == 1
    assert _one_line_error(result.stderr) == "dmp: database error: file is not a database"


def test_a_sqlite_file_that_cannot_be_opened_fails_before_any_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path that is a folder (one that does not exist is named before: test_cli_missing_database):
    aiosqlite stopped the worker thread it had started without waiting for it, and the thread
    then sometimes printed an "Event loop is closed" traceback after the command's one-line error."""
    started: list[str] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    (tmp_path / "a-folder").mkdir()
    client = ImmediateSqliteClient(file_path=str(tmp_path / "a-folder"), connection_name="t")

    async def open_it() -> None:
        with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
            await client.create_connection(with_db=True)

    asyncio.run(open_it())
    assert [name for name in started if "_connection_worker_thread" in name] == []
    for _ in range(3):
        result = run_dmp("deliver-outbox", DMP_DATABASE_URL=f"sqlite://{tmp_path}/a-folder")
        assert result.returncode == 1
        assert _one_line_error(result.stderr) == "dmp: database error: unable to open database file"


def test_serve_answers_graphql_and_health() -> None:
    with dmp_server() as origin:
        health = httpx.get(f"{origin}/healthz")
        assert health.status_code == 200
        answer = httpx.post(f"{origin}/graphql", json={"query": "{__typename}"})
        assert answer.json() == {"data": {"__typename": "Query"}}
        # The server does not name its software and version to whoever asks.
        assert "server" not in health.headers and "server" not in answer.headers


async def test_an_organization_is_named_without_its_surrounding_spaces() -> None:
    """`dmp import-file --organization` reads the name trimmed: a token made for "Mutuelle Z "
    and another for "Mutuelle Z" imported the same items twice, as two organizations'."""
    made = run_dmp("create-token", "--name", "z", "--scope", "insurer:import",
                   "--organization", "Mutuelle Z ")
    assert made.returncode == 0, made.stderr
    assert (await ApiToken.get(name="z")).organization == "Mutuelle Z"


async def test_seed_demo_is_refused_in_production() -> None:
    """Its accounts share one published password, support and a SAMU regulator among them."""
    result = run_dmp("seed-demo", DMP_ENV="production", DMP_PUBLIC_ORIGIN="https://dmp.example",
                     DMP_DATA_KEY=secrets.token_hex(32), DMP_AUDIT_KEY=secrets.token_hex(32),
                     DMP_SMTP_HOST="mail.example", DMP_MAIL_FROM="DMP <no-reply@dmp.example>")
    assert result.returncode == 1
    assert _one_line_error(result.stderr) == (
        "dmp: seed-demo is refused in production: its accounts share one known password")
    assert await Account.all().count() == 0
    assert await ApiToken.all().count() == 0


@pytest.mark.postgres
def test_a_role_the_database_refuses_is_one_line() -> None:
    result = run_dmp("list-tokens", DMP_DATABASE_URL="postgres://no_such_role@127.0.0.1:5432/test")
    assert result.returncode == 1
    assert _one_line_error(result.stderr) == 'dmp: database error: role "no_such_role" does not exist'


def test_what_the_command_writes_is_readable_by_its_user_only(tmp_path: Path) -> None:
    """The SQLite file holds medical data in clear: it was created readable by everyone."""
    database = tmp_path / "fresh.sqlite3"
    result = run_dmp("migrate", DMP_DATABASE_URL=f"sqlite://{database}")
    assert result.returncode == 0, result.stderr
    assert database.stat().st_mode & 0o777 == 0o600
