"""Sessions: cookies, logout, timeouts, CSRF rules and partner tokens (DESIGN §5)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx

from backend import clock, config
from backend.models import Account, ApiToken, Session
from tests import factories
from tests.auth_flows import ME
from tests.conftest import ORIGIN, Caller, session_for

DMP = str(Path(sys.executable).with_name("dmp"))
LOGOUT = "mutation { logout }"
EVERYWHERE = "mutation { logoutEverywhere }"
SESSIONS = "{ mySessions { id createdAt lastSeenAt userAgent current } }"
REVOKE = "mutation($id: ID!) { revokeSession(id: $id) }"


def dmp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DMP, *args], capture_output=True, text=True, env=dict(os.environ), timeout=60,
                          check=False)


async def test_logout_revokes_and_clears_the_cookie(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    result = await Caller(client, session=cookie).gql(LOGOUT)
    assert result.ok() == {"logout": True}
    set_cookie = result.response.headers["set-cookie"]
    assert config.settings().session_cookie in set_cookie and "Max-Age=0" in set_cookie
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None
    assert (await Session.get(account_id=account.id)).revoked_at is not None


async def test_sessions_listed_and_revoked_one_by_one(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    mine, other = await session_for(account), await session_for(account)
    stranger, _ = await factories.patient()
    theirs = await session_for(stranger)
    rows = (await Caller(client, session=mine).gql(SESSIONS)).ok()["mySessions"]
    assert len(rows) == 2 and sorted(r["current"] for r in rows) == [False, True]
    other_id = next(r["id"] for r in rows if not r["current"])
    # Someone else's session is not found, and stays open.
    their_id = str((await Session.get(account_id=stranger.id)).id)
    refused = await Caller(client, session=mine).gql(REVOKE, {"id": their_id})
    assert refused.codes == ["NOT_FOUND"]
    assert (await Caller(client, session=theirs).gql(ME)).ok()["me"] is not None
    assert (await Caller(client, session=mine).gql(REVOKE, {"id": other_id})).ok() == {"revokeSession": True}
    assert (await Caller(client, session=other).gql(ME)).ok()["me"] is None
    assert (await Caller(client, session=mine).gql(ME)).ok()["me"] is not None


async def test_logout_everywhere(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookies = [await session_for(account) for _ in range(3)]
    stranger, _ = await factories.patient()
    theirs = await session_for(stranger)
    assert (await Caller(client, session=cookies[0]).gql(EVERYWHERE)).ok() == {"logoutEverywhere": 3}
    for cookie in cookies:
        assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None
    assert (await Caller(client, session=theirs).gql(ME)).ok()["me"] is not None
    assert (await Caller(client).gql(EVERYWHERE)).codes == ["UNAUTHENTICATED"]


async def test_idle_timeout(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    idle = config.settings().session_idle_minutes
    clock.shift(timedelta(minutes=idle - 2))
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is not None  # activity
    clock.shift(timedelta(minutes=idle - 2))
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is not None
    clock.shift(timedelta(minutes=idle + 1))
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None


async def test_a_session_used_within_an_idle_time_of_one_minute_stays(client: httpx.AsyncClient) -> None:
    """The shortest idle time an operator may set: a session used every 40 s stays open (its
    last use was kept only once a minute, so the third use found it idle)."""
    account, _ = await factories.patient()
    cookie = await session_for(account)
    saved = config.settings()
    config.reset(dataclasses.replace(saved, session_idle_minutes=1))
    try:
        for _ in range(4):
            clock.shift(timedelta(seconds=40))
            assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is not None
        clock.shift(timedelta(seconds=61))
        assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None
    finally:
        config.reset(saved)


async def test_absolute_timeout(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    hours = config.settings().session_absolute_hours
    step = timedelta(minutes=config.settings().session_idle_minutes - 5)
    elapsed = timedelta(0)
    while elapsed + step < timedelta(hours=hours):
        clock.shift(step)
        elapsed += step
        assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is not None
    clock.shift(step)  # still active, but past the absolute limit
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None


async def test_cross_origin_cookie_post_refused_and_nothing_written(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    client.cookies.set(config.settings().session_cookie, cookie)
    for origin in ("https://evil.example", None):
        headers = {"origin": origin} if origin else {}
        response = await client.post("/graphql", json={"query": EVERYWHERE}, headers=headers)
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    client.cookies.clear()
    assert (await Session.get(account_id=account.id)).revoked_at is None
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is not None


async def test_multipart_without_client_header_refused(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    cookie = await session_for(account)
    client.cookies.set(config.settings().session_cookie, cookie)
    response = await client.post(
        "/graphql", headers={"origin": ORIGIN},
        data={"operations": '{"query": "mutation { logoutEverywhere }"}', "map": "{}"},
        files={"unused": ("a.txt", b"x", "text/plain")},
    )
    client.cookies.clear()
    assert response.status_code in (400, 403)
    assert response.json()["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT", "FORBIDDEN"}
    assert (await Session.get(account_id=account.id)).revoked_at is None


async def test_queries_over_get_refused(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    client.cookies.set(config.settings().session_cookie, await session_for(account))
    read = await client.get("/graphql", params={"query": ME}, headers={"origin": ORIGIN})
    # A mutation over GET is refused too, and changes nothing.
    write = await client.get("/graphql", params={"query": EVERYWHERE}, headers={"origin": ORIGIN})
    client.cookies.clear()
    assert read.status_code in (400, 405) and '"me"' not in read.text
    assert write.status_code in (400, 405)
    assert (await Session.get(account_id=account.id)).revoked_at is None


async def test_partner_token_from_the_command_line(client: httpx.AsyncClient) -> None:
    _, practitioner = await factories.practitioner()
    made = dmp("create-token", "--name", "cabinet", "--scope", "practitioner",
               "--practitioner", practitioner.rpps, "--expires-days", "2")
    assert made.returncode == 0, made.stderr
    token = next(w for w in made.stdout.split() if w.startswith("dmp_"))
    me = (await Caller(client, token=token).gql(ME)).ok()["me"]
    assert me["role"] == "PRACTITIONER" and me["profession"] == "medecin"
    # Expired.
    clock.shift(timedelta(days=3))
    expired = await Caller(client, token=token).gql(ME)
    assert expired.status == 401 and expired.codes == ["UNAUTHENTICATED"]
    clock.reset()
    # Revoked.
    row = await ApiToken.get(name="cabinet")
    revoked = dmp("revoke-token", str(row.id))
    assert revoked.returncode == 0, revoked.stderr
    result = await Caller(client, token=token).gql(ME)
    assert result.status == 401 and result.codes == ["UNAUTHENTICATED"] and result.data is None


async def test_unknown_or_malformed_token_is_401(client: httpx.AsyncClient) -> None:
    for header in ("Bearer dmp_not_a_token", "Basic abc", "Bearer "):
        response = await client.post("/graphql", json={"query": ME},
                                     headers={"authorization": header, "origin": ORIGIN})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_bearer_token_cannot_use_session_operations(client: httpx.AsyncClient) -> None:
    """A valid token is authenticated: the session's operations refuse it FORBIDDEN, as passkey
    management does, and end no session. Without any token or cookie: UNAUTHENTICATED."""
    from backend import accounts

    account, practitioner = await factories.practitioner()
    cookie = await session_for(account)
    (session,) = await Session.filter(account_id=account.id)
    _, token = await accounts.create_token("app", ["practitioner"], practitioner_rpps=practitioner.rpps)
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    operations = [(EVERYWHERE, {}), (SESSIONS, {}), (REVOKE, {"id": str(session.id)}),
                  ("mutation { requestFreshFactor { sentTo } }", {}),
                  ("mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }", {"e": "n@test.dmp"})]
    for bearer in (token, insurer):
        for query, variables in operations:
            result = await Caller(client, token=bearer).gql(query, variables)
            assert result.codes == ["FORBIDDEN"], query
            assert "signed-in session" in result.errors[0]["message"]
    for query, variables in operations:
        assert (await Caller(client).gql(query, variables)).codes == ["UNAUTHENTICATED"], query
    assert (await Session.get(id=session.id)).revoked_at is None
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["id"] == str(account.id)
    assert (await Account.get(id=account.id)).pending_email is None
