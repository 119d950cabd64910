"""Helpers of the resilience tests: `dmp serve` processes we can kill, GraphQL over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from backend import config
from tests.conftest import TEST_DIR
from tests.server import DMP, dmp_env, free_port
from tests.smtp import SmtpServer

# Every request of these tests is bounded: a server that hangs fails the test, never blocks it.
TIMEOUT = httpx.Timeout(10.0)
START = """mutation($i: String!, $p: String!) {
  startLogin(identifier: $i, password: $p) { attemptToken } }"""
COMPLETE = """mutation($t: String!, $c: String!) {
  completeLogin(attemptToken: $t, code: $c) { me { id role } } }"""


@dataclass
class Server:
    """One `dmp serve` process; `base` is its origin (also its DMP_PUBLIC_ORIGIN)."""

    process: subprocess.Popen[bytes]
    base: str
    log_path: str
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-4000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup — a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(*args: str, port: int | None = None, **env: str) -> Server:
    """Start `dmp serve` (not yet ready: call `ready`)."""
    port = port or free_port()
    base = f"http://localhost:{port}"
    full_env = dmp_env(DMP_PUBLIC_ORIGIN=base, **env)
    log_path = str(TEST_DIR / f"resilience-serve-{port}-{uuid.uuid4().hex[:8]}.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [DMP, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=full_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    return Server(process, base, log_path, full_env)


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) in inodes:
                return True
    return False


async def ready(server: Server, attempts: int = 300) -> None:
    """Wait until this process serves its port. Other test runs on the machine start servers
    too: a port found free may be taken by one of them before ours binds it, so a healthy
    answer counts only once our process has logged that it holds the port."""
    port = int(server.base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(attempts):
            assert server.process.poll() is None, f"dmp serve exited:\n{server.log()}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{server.base}/healthz")).status_code == 200 and (
                    _listens(server.process.pid, port)
                ):
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{server.base} did not become healthy:\n{server.log()}")


@contextlib.contextmanager
def servers(count: int, *args: str, **env: str) -> Iterator[list[Server]]:
    """`count` servers, stopped (SIGTERM, then SIGKILL) however the test ends."""
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start_server(*args, **env))
        yield started
    finally:
        for server in started:
            server.stop()


def http_client() -> httpx.AsyncClient:
    """A bounded client that keeps no cookies: each `Gql` caller sends its own session."""
    client = httpx.AsyncClient(timeout=TIMEOUT)
    client.cookies.jar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return client


class Gql:
    """GraphQL over real HTTP to any of several servers, with a session cookie or a token."""

    def __init__(self, client: httpx.AsyncClient, *, session: str | None = None,
                 token: str | None = None) -> None:
        self.client = client
        self.session = session
        self.token = token

    async def __call__(self, server: Server, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"origin": server.base}
        if self.session:
            headers["cookie"] = f"{config.settings().session_cookie}={self.session}"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        response = await self.client.post(f"{server.base}/graphql", headers=headers,
                                          json={"query": query, "variables": variables})
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(
                f"not a JSON answer ({response.status_code}): {response.text[:200]}") from None
        assert isinstance(body, dict), body
        body["_status"] = response.status_code
        body["_cookie"] = response.cookies.get(config.settings().session_cookie)
        return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return str(errors[0].get("extensions", {}).get("code")) if errors else None


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body.get("errors")
    data = body.get("data")
    assert isinstance(data, dict), body
    return data


async def wait_for_mail(smtp: SmtpServer, address: str, count: int, attempts: int = 300) -> None:
    """Wait until `address` received `count` messages (a server's outbox worker sends them)."""
    for _ in range(attempts):
        if len(smtp.to(address)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{address} received {len(smtp.to(address))} message(s), expected {count}")


async def login(client: httpx.AsyncClient, start_on: Server, finish_on: Server, smtp: SmtpServer,
                email: str, password: str) -> str:
    """Sign in with the e-mailed code (sent by the servers' outbox); returns the session token."""
    anonymous = Gql(client)
    seen = len(smtp.to(email))
    attempt = ok(await anonymous(start_on, START, i=email, p=password))["startLogin"]["attemptToken"]
    await wait_for_mail(smtp, email, seen + 1)
    code = smtp.latest_code(email)
    body = await anonymous(finish_on, COMPLETE, t=attempt, c=code)
    ok(body)
    assert body["_cookie"], "completeLogin set no session cookie"
    return str(body["_cookie"])
