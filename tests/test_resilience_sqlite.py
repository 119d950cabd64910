"""Several `dmp serve` processes on one SQLite file under concurrent writes (DESIGN §7).

No "database is locked" may reach a user: every response of the load is free of errors,
and the access-history chains stay valid. The test builds its own SQLite file, so it runs
the same in the SQLite and the PostgreSQL pass.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tests import factories
from tests.care_items import IMPORT, INSURER, medication_item
from tests.conftest import TEST_DIR
from tests.resilience import Gql, http_client, login, ok, ready, servers
from tests.server import run_dmp
from tests.smtp import SmtpServer

GRANT = """mutation($p: ID!) {
  grantAccess(practitionerId: $p, sections: [MEDICATIONS, ALLERGIES]) { sharing { grants { sections } } } }"""
REVOKE = """mutation($p: ID!) { revokeAccess(practitionerId: $p) { sharing { grants { sections } } } }"""
BREAK_GLASS = """mutation($ins: String!, $r: String!) {
  openBreakGlass(ins: $ins, reason: $r) { mode } }"""
READ = """query($ins: String!) {
  patientRecord(ins: $ins) { accessMode medications { totalCount } allergies { totalCount } } }"""
REQUESTS = 25


def _events(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM access_event").fetchone()[0])


async def test_two_workers_on_one_sqlite_file_never_answer_database_is_locked(
    smtp_server: SmtpServer,
) -> None:
    path = str(TEST_DIR / "workers.sqlite3")
    env = {"DMP_DATABASE_URL": f"sqlite://{path}", "DMP_DATA_DIR": str(TEST_DIR / "workers-data")}
    migrated = run_dmp("migrate", **env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    people: list[tuple[str, str]] = []
    for n in range(2):
        ins = factories.new_ins()
        email = f"patient{n}@workers.dmp"
        done = run_dmp("create-account", "--role", "patient", "--email", email, "--password",
                       factories.PASSWORD, "--first-name", "Ana", "--last-name", f"Worker{n}",
                       "--ins", ins, "--birth-date", "1980-02-03", **env)
        assert done.returncode == 0, done.stderr
        people.append((email, ins))
    for n in range(2):
        done = run_dmp("create-account", "--role", "practitioner", "--email", f"doc{n}@workers.dmp",
                       "--password", factories.PASSWORD, "--first-name", "Paul",
                       "--last-name", f"Worker{n}", "--rpps", factories.new_rpps(),
                       "--profession", "medecin", **env)
        assert done.returncode == 0, done.stderr
    created = run_dmp("create-token", "--name", "insurer", "--scope", "insurer:import",
                      "--organization", INSURER, **env)
    assert created.returncode == 0, created.stderr
    insurer_token = created.stdout.strip().splitlines()[-1]
    with sqlite3.connect(path) as conn:
        doctor_ids = dict(conn.execute(
            "SELECT a.email, p.id FROM practitioner p JOIN account a ON a.id = p.account_id"
        ).fetchall())

    # A: `dmp serve --workers 2`; B: one more process. Requests alternate between A and B.
    with servers(1, "--workers", "2", **env, **smtp_server.env) as (a,), \
            servers(1, **env, **smtp_server.env) as (b,):
        for server in (a, b):
            await ready(server)
        async with http_client() as client:
            async def session(email: str) -> Gql:
                return Gql(client, session=await login(client, a, b, smtp_server, email,
                                                       factories.PASSWORD))

            patients = [await session(email) for email, _ in people]
            doctors = [await session(f"doc{n}@workers.dmp") for n in range(2)]
            before = _events(path)

            async def owner_toggles(n: int) -> list[dict[str, Any]]:
                doctor_id = str(doctor_ids[f"doc{n}@workers.dmp"])
                return [await patients[n]((a, b)[(i // 2) % 2], (GRANT, REVOKE)[i % 2], p=doctor_id)
                        for i in range(REQUESTS)]

            async def doctor_reads(n: int) -> list[dict[str, Any]]:
                answers = []
                for i in range(REQUESTS):
                    ins, at = people[(i // 2) % 2][1], (b, a)[i % 2]
                    if i < 4 or i % 6 == 0:
                        answers.append(await doctors[n](at, BREAK_GLASS, ins=ins,
                                                        r="Patient inconscient, allergies à vérifier"))
                    else:
                        answers.append(await doctors[n](at, READ, ins=ins))
                return answers

            async def insurer_imports() -> list[dict[str, Any]]:
                insurer = Gql(client, token=insurer_token)
                return [await insurer((a, b)[i % 2], IMPORT, items=[
                    medication_item(ins, 100 * i + k, birthDate="1980-02-03")
                    for k in range(2) for _, ins in people
                ]) for i in range(REQUESTS)]

            results = await asyncio.gather(owner_toggles(0), owner_toggles(1),
                                           doctor_reads(0), doctor_reads(1), insurer_imports())
    answers = [answer for client_answers in results for answer in client_answers]
    assert len(answers) == 5 * REQUESTS
    failures = [a for a in answers if a.get("errors") or a["_status"] != 200]
    assert not failures, failures[:3]
    assert all(ok(a) for a in answers)
    imported = [a["data"]["importCareHistory"] for a in results[4]]
    assert all(r["created"] == 4 and r["rejected"] == [] for r in imported), imported[:2]
    # One event per request and record: every grant, revoke, opening, read and import left its
    # trace; an opening asked again while its session is open is written as a read of the
    # record's identity (each doctor opens one session on each of the two records).
    assert _events(path) == before + 4 * REQUESTS + 2 * REQUESTS
    verified = run_dmp("audit", "verify", **env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
