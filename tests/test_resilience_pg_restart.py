"""PostgreSQL restarted, or frozen, under a running `dmp serve` (DESIGN §7).

While the database is down every request fails cleanly and within a bound (INTERNAL, or
503 when the caller cannot even be resolved; /healthz 503), nothing is half written, and
once it is back the same process serves again — no restart. A frozen database (it keeps
its sockets but answers nothing, like a network cut) is bounded by the connect and
statement timeouts of backend/db.py, set short here through the URL.
The test runs its own PostgreSQL cluster (tests/pgcluster.py), so other tests are untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories
from tests.pgcluster import PgCluster, pg_cluster
from tests.resilience import Gql, Server, error_code, http_client, login, ok, ready, servers
from tests.server import run_dmp
from tests.smtp import SmtpServer

READ = "{ myRecord { ins status } }"
SHARING = "{ mySharing { grants { practitioner { id } sections } } }"
GRANT = """mutation($p: ID!, $s: [Section!]!) {
  grantAccess(practitionerId: $p, sections: $s) { sharing { grants { sections } } } }"""
REVOKE = """mutation($p: ID!) { revokeAccess(practitionerId: $p) { sharing { grants { sections } } } }"""
START = """mutation($i: String!, $p: String!) {
  startLogin(identifier: $i, password: $p) { attemptToken } }"""
EMAIL = "ana@test.dmp"


def _account(url: str, *args: str) -> None:
    done = run_dmp("create-account", "--password", factories.PASSWORD, *args, DMP_DATABASE_URL=url)
    assert done.returncode == 0, done.stdout + done.stderr


async def _counts(url: str) -> tuple[int, int]:
    """(access events, grants) as the database holds them."""
    conn = await asyncpg.connect(url.split("?")[0])
    try:
        events = await conn.fetchval("SELECT count(*) FROM access_event")
        grants = await conn.fetchval('SELECT count(*) FROM "grant"')
        return int(events), int(grants)
    finally:
        await conn.close()


async def _fails_cleanly(client: httpx.AsyncClient, server: Server, owner: Gql,
                         practitioner_id: str) -> None:
    """/healthz says 503 and every kind of request fails with INTERNAL, none hangs (TIMEOUT);
    /livez, which does not ask the database, says the process lives."""
    assert (await client.get(f"{server.base}/healthz")).status_code == 503
    live = await client.get(f"{server.base}/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    bodies: list[dict[str, Any]] = await asyncio.gather(
        owner(server, READ),
        owner(server, GRANT, p=practitioner_id, s=["ALLERGIES"]),
        Gql(client)(server, START, i=EMAIL, p=factories.PASSWORD),
    )
    for body in bodies:
        assert body["_status"] in (200, 503), body
        assert error_code(body) == "INTERNAL", body
        assert not body.get("data"), body
        assert "asyncpg" not in str(body) and "Connect" not in str(body)


async def _serves_again(client: httpx.AsyncClient, server: Server, owner: Gql, ins: str) -> None:
    for _ in range(100):
        if (await client.get(f"{server.base}/healthz")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("/healthz did not come back")
    assert ok(await owner(server, READ))["myRecord"]["ins"] == ins


async def _setup(cluster: PgCluster) -> tuple[str, str, str]:
    url = cluster.create_database("dmp") + "?timeout=2&command_timeout=3"
    migrated = run_dmp("migrate", DMP_DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    ins = factories.new_ins()
    _account(url, "--role", "patient", "--email", EMAIL, "--first-name", "Ana",
             "--last-name", "Durand", "--ins", ins, "--birth-date", "1980-02-03")
    _account(url, "--role", "practitioner", "--email", "doc@test.dmp", "--first-name", "Paul",
             "--last-name", "Martin", "--rpps", factories.new_rpps(), "--profession", "medecin")
    conn = await asyncpg.connect(url.split("?")[0])
    practitioner_id = str(await conn.fetchval("SELECT id FROM practitioner"))
    await conn.close()
    return url, ins, practitioner_id


@pytest.mark.slow
async def test_database_restart_and_freeze_fail_cleanly_then_recover_without_restarting_dmp(
    smtp_server: SmtpServer,
) -> None:
    with pg_cluster() as cluster:
        url, ins, practitioner_id = await _setup(cluster)
        with servers(1, DMP_DATABASE_URL=url, **smtp_server.env) as (server,):
            await ready(server)
            async with http_client() as client:
                owner = Gql(client, session=await login(client, server, server, smtp_server,
                                                        EMAIL, factories.PASSWORD))
                ok(await owner(server, GRANT, p=practitioner_id, s=["MEDICATIONS"]))
                before = await _counts(url)
                assert before[1] == 1

                # Stopped: connections refused.
                cluster.stop()
                await _fails_cleanly(client, server, owner, practitioner_id)
                cluster.start()
                await _serves_again(client, server, owner, ins)
                # Nothing the failed requests tried was half written.
                assert await _counts(url) == before

                # Frozen: connections accepted, nothing answered.
                frozen = cluster.freeze()
                try:
                    await _fails_cleanly(client, server, owner, practitioner_id)
                finally:
                    cluster.thaw(frozen)
                await _serves_again(client, server, owner, ins)
                assert await _counts(url) == before

                grants = ok(await owner(server, SHARING))["mySharing"]["grants"]
                assert grants == [{"practitioner": {"id": practitioner_id}, "sections": ["MEDICATIONS"]}]
                ok(await owner(server, REVOKE, p=practitioner_id))
                assert await _counts(url) == (before[0] + 1, 0)
                # The background outbox worker lived through both outages: a new code arrives.
                again = Gql(client, session=await login(client, server, server, smtp_server,
                                                        EMAIL, factories.PASSWORD))
                assert ok(await again(server, READ))["myRecord"]["ins"] == ins
            assert server.process.poll() is None, "dmp serve exited during the outage"

        verified = run_dmp("audit", "verify", DMP_DATABASE_URL=url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
