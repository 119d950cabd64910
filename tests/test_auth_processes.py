"""Two `dmp serve` processes on one database: code tries are still capped (DESIGN §5, §7)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account, OneTimeCode, Session
from tests import factories
from tests.auth_flows import COMPLETE, START, wrong
from tests.conftest import DB_URL, ORIGIN, TEST_DIR
from tests.smtp import SmtpServer, free_port

DMP = str(Path(sys.executable).with_name("dmp"))


def _serve(port: int, smtp: SmtpServer) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DMP_DATABASE_URL": DB_URL, "DMP_DATA_DIR": str(TEST_DIR / "data"),
           "DMP_PUBLIC_ORIGIN": ORIGIN, "DMP_ENV": "development", **smtp.env}
    return subprocess.Popen([DMP, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


async def _ready(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            assert process.poll() is None, "dmp serve exited"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


@pytest.fixture
async def servers(smtp_server: SmtpServer) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two `dmp serve` processes on the test database, mailing the test SMTP server."""
    ports = [free_port(), free_port()]
    processes = [_serve(port, smtp_server) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes, strict=True):
            await _ready(base, process)
        async with httpx.AsyncClient(base_url=bases[0], timeout=30) as first, \
                httpx.AsyncClient(base_url=bases[1], timeout=30) as second:
            yield [first, second]
    finally:
        for process in processes:
            _stop(process)


async def _gql(client: httpx.AsyncClient, query: str, variables: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"origin": ORIGIN})
    body = response.json()
    assert isinstance(body, dict)
    return body


async def _next_code(smtp: SmtpServer, email: str, seen: int) -> str:
    """Wait for a new code at the SMTP server (a server's outbox worker or ours sends it)."""
    for _ in range(300):
        await smtp.deliver()
        if len(smtp.to(email)) > seen:
            return smtp.latest_code(email)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no code reached {email}")


def _error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return str(errors[0]["extensions"]["code"]) if errors else None


async def _start(client: httpx.AsyncClient, email: str) -> str:
    body = await _gql(client, START, {"i": email, "p": factories.PASSWORD})
    return str(body["data"]["startLogin"]["attemptToken"])


@pytest.mark.slow
async def test_tries_alternating_between_two_processes_stay_capped(
    servers: list[httpx.AsyncClient], smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""

    # One code, twenty tries alternating between the processes, all at once: five are compared.
    token = await _start(servers[0], email)
    code = await _next_code(smtp_server, email, 0)
    results = await asyncio.gather(*(
        _gql(servers[i % 2], COMPLETE, {"t": token, "c": wrong(code)}) for i in range(20)
    ))
    codes = [_error_code(r) for r in results]
    assert codes.count("BAD_USER_INPUT") == 5 and codes.count("RATE_LIMITED") == 15
    late = await _gql(servers[1], COMPLETE, {"t": token, "c": code})
    assert _error_code(late) == "RATE_LIMITED"
    assert [c.tries for c in await OneTimeCode.filter(account_id=account.id)] == [5]

    # Two more codes, one started on each process, tried across both: the daily cap holds.
    tokens, sent = [], []
    for client in servers:
        tokens.append(await _start(client, email))
        sent.append(await _next_code(smtp_server, email, len(smtp_server.to(email))))
    bad = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in sent)
    results = await asyncio.gather(*(
        _gql(servers[i % 2], COMPLETE, {"t": tokens[(i // 2) % 2], "c": bad}) for i in range(20)
    ))
    codes = [_error_code(r) for r in results]
    # Five failures were left today: the fifth, which locks, answers the lock at once (it used
    # to answer WRONG_CODE), so four « wrong code ».
    assert codes.count("BAD_USER_INPUT") == DAILY_CODE_FAILURES - 5 - 1
    assert set(codes) == {"BAD_USER_INPUT", "RATE_LIMITED"}
    reasons = [r["errors"][0]["extensions"].get("reason") for r in results]
    assert "CODE_LOGIN_LOCKED" in reasons
    locked = await Account.get(id=account.id)
    assert locked.failure_count == DAILY_CODE_FAILURES and locked.locked_at is not None
    for token, code in zip(tokens, sent, strict=True):
        assert _error_code(await _gql(servers[0], COMPLETE, {"t": token, "c": code})) == "RATE_LIMITED"
    assert await Session.filter(account_id=account.id).count() == 0
