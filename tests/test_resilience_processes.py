"""Two `dmp serve` processes on one PostgreSQL behave as one service (DESIGN §5, §7).

Requests alternate between the processes: sessions, code tries, break-glass windows and
the access-history chain all live in the database, so neither process may disagree.
"""

from __future__ import annotations

import asyncio

import pytest

from backend.domain.enums import Section
from backend.models import AccessEvent, Session
from backend.resolvers.login import STARTS_PER_HOUR
from tests import factories
from tests.conftest import DB_URL, db_kind
from tests.resilience import COMPLETE, START, Gql, error_code, http_client, ok, ready, servers, wait_for_mail
from tests.server import run_dmp
from tests.smtp import SmtpServer

ME = "{ me { id role } }"
LOGOUT = "mutation { logout }"
BREAK_GLASS = """mutation($ins: String!, $r: String!) {
  openBreakGlass(ins: $ins, reason: $r) { mode record { accessMode } } }"""
READ = """query($ins: String!) {
  patientRecord(ins: $ins) { accessMode allergies { totalCount } medications { totalCount } } }"""


def _require_postgres() -> None:
    assert db_kind() == "postgres", (
        "this test runs several dmp serve processes on one PostgreSQL: run it with "
        f"DMP_TEST_DATABASE_URL=postgres://… (current database: {DB_URL})"
    )


@pytest.mark.slow
async def test_two_processes_behave_as_one_service(smtp_server: SmtpServer) -> None:
    _require_postgres()
    patient, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    await factories.entry(record, Section.ALLERGIES, title="Pénicilline")
    with servers(2, **smtp_server.env) as (a, b):
        for server in (a, b):
            await ready(server)
        async with http_client() as client:
            anonymous = Gql(client)

            # A session opened on A works on B, and a logout on B ends it on A.
            start = ok(await anonymous(a, START, i=patient.email, p=factories.PASSWORD))
            await wait_for_mail(smtp_server, patient.email or "", 1)
            done = await anonymous(b, COMPLETE, t=start["startLogin"]["attemptToken"],
                                   c=smtp_server.latest_code(patient.email or ""))
            ok(done)
            owner = Gql(client, session=done["_cookie"])
            for server in (a, b, a):
                assert ok(await owner(server, ME))["me"]["id"] == str(patient.id)
            ok(await owner(b, LOGOUT))
            assert ok(await owner(a, ME))["me"] is None

            # Five wrong codes alternating A, B, A, B, A; then the right code is refused on B.
            start = ok(await anonymous(b, START, i=doctor.email, p=factories.PASSWORD))
            await wait_for_mail(smtp_server, doctor.email or "", 1)
            code = smtp_server.latest_code(doctor.email or "")
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            attempt = start["startLogin"]["attemptToken"]
            for server in (a, b, a, b, a):
                assert error_code(await anonymous(server, COMPLETE, t=attempt, c=wrong)) == "BAD_USER_INPUT"
            refused = await anonymous(b, COMPLETE, t=attempt, c=code)
            assert error_code(refused) == "RATE_LIMITED" and refused["_cookie"] is None
            assert await Session.filter(account_id=doctor.id).count() == 0

            # Sign-in starts for one identifier, 24 at once across A and B: the hourly cap
            # (20) is counted once for the service, not once per process.
            starts = await asyncio.gather(*(
                anonymous((a, b)[i % 2], START, i="nobody@test.dmp", p=factories.PASSWORD)
                for i in range(STARTS_PER_HOUR + 4)
            ))
            outcomes = [error_code(r) for r in starts]
            assert outcomes.count(None) == STARTS_PER_HOUR and outcomes.count("RATE_LIMITED") == 4

            # A break-glass opened on A is seen by B at once; before it, B refuses.
            start = ok(await anonymous(a, START, i=doctor.email, p=factories.PASSWORD))
            await wait_for_mail(smtp_server, doctor.email or "", 2)
            done = await anonymous(b, COMPLETE, t=start["startLogin"]["attemptToken"],
                                   c=smtp_server.latest_code(doctor.email or ""))
            ok(done)
            doctor_api = Gql(client, session=done["_cookie"])
            assert error_code(await doctor_api(b, READ, ins=record.ins)) == "FORBIDDEN"
            opened = ok(await doctor_api(a, BREAK_GLASS, ins=record.ins,
                                         r="Patient inconscient aux urgences, allergies à vérifier"))
            assert opened["openBreakGlass"]["mode"] == "BREAK_GLASS"
            seen = ok(await doctor_api(b, READ, ins=record.ins))["patientRecord"]
            assert seen["accessMode"] == "BREAK_GLASS" and seen["allergies"]["totalCount"] == 1

            # Reads through both processes, all at once, extend one valid chain.
            before = await AccessEvent.filter(record_id=record.id).count()
            reads = await asyncio.gather(*(
                doctor_api((a, b)[i % 2], READ, ins=record.ins) for i in range(20)
            ))
            assert all(ok(r)["patientRecord"]["accessMode"] == "BREAK_GLASS" for r in reads)
    events = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("seq", flat=True)
    assert len(events) == before + 20
    assert list(events) == list(range(1, len(events) + 1))
    verified = run_dmp("audit", "verify", "--ins", record.ins)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(events)} event(s)" in verified.stdout
