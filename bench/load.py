"""The load generator: closed-loop (or paced) clients over raw keep-alive HTTP/1.1, in its own process.

A hand-rolled client keeps the generator's own cost per request far below the server's,
so one core of load is enough to saturate one core of server. Run by `bench.run`:

    taskset -c 1 python -m bench.load SPEC.json   # prints one JSON result line
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.urls import asyncpg_url


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class Connection:
    """One keep-alive connection; reconnects after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        writer.write(raw)
        status_line = await reader.readline()
        if not status_line:
            self.writer = self.reader = None
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = close = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value)
            elif lname == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lname == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length >= 0:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            writer.close()
            self.writer = self.reader = None
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str = ""
    items: int = 0
    # Every completed request, warm-up included: the server's CPU time is divided by it.
    completed: int = 0


def _ok(status: int, body: bytes) -> bool:
    return status == 200 and b'"errors"' not in body


async def client(
    host: str, port: int, pool: list[bytes], start: float, measure_from: float, stop: float,
    stats: Stats, items_per_request: int, rng: random.Random, sequential: bool = False,
    interval: float = 0.0,
) -> None:
    """Closed loop: the next request as soon as the last one is answered. With `interval`,
    paced: one request every `interval` seconds (from a random phase), its latency counted
    from when it was due, so a server that falls behind shows its queue."""
    conn = Connection(host, port)
    n = 0
    due = start + rng.random() * interval
    try:
        while True:
            now = time.perf_counter()
            if now >= stop or (sequential and n >= len(pool)):
                return
            if interval:
                if due > now:
                    await asyncio.sleep(due - now)
                    if due >= stop:
                        return
            raw = pool[n] if sequential else rng.choice(pool)
            n += 1
            t0 = due if interval else time.perf_counter()
            due += interval
            try:
                status, body = await conn.send(raw)
                ok = _ok(status, body)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, body, ok = 0, repr(exc).encode(), False
                conn.close()
                conn = Connection(host, port)
            t1 = time.perf_counter()
            stats.completed += 1
            if t0 < measure_from or t1 > stop:
                continue
            stats.latencies.append(t1 - t0)
            if ok:
                stats.items += items_per_request
            else:
                stats.errors += 1
                if not stats.error_sample:
                    stats.error_sample = f"{status} {body[:300].decode(errors='replace')}"
    finally:
        conn.close()


class Outbox:
    """Reads the latest one-time code mailed to an address, straight from the outbox table."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None
        self.lock = asyncio.Lock()  # one connection, shared by the login clients

    async def code_for(self, recipient: str) -> str:
        async with self.lock:
            return await self._code_for(recipient)

    async def _code_for(self, recipient: str) -> str:
        sql = ("SELECT body FROM outbox_message WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1")
        if self.url.startswith("sqlite://"):
            import sqlite3

            if self.conn is None:
                self.conn = sqlite3.connect(self.url.removeprefix("sqlite://"), timeout=10)
            row = self.conn.execute(sql.replace("$1", "?"), (recipient,)).fetchone()
            body = row[0] if row else ""
        else:
            import asyncpg  # type: ignore[import-untyped]

            if self.conn is None:
                self.conn = await asyncpg.connect(asyncpg_url(self.url))
            body = await self.conn.fetchval(sql, recipient) or ""
        found = re.search(r"\b(\d{6})\b", body)
        return found.group(1) if found else ""


START_LOGIN = ("mutation ($identifier: String!, $password: String!) { startLogin(identifier: $identifier, "
               "password: $password) { attemptToken codeSentTo } }")
COMPLETE_LOGIN = ("mutation ($attemptToken: String!, $code: String!) { completeLogin(attemptToken: "
                  "$attemptToken, code: $code) { me { id role } } }")


async def login_client(
    host: str, port: int, accounts: list[str], password: str, outbox: Outbox, measure_from: float,
    stop: float, stats: Stats,
) -> None:
    """S5: startLogin, read the code from the outbox, completeLogin; the outbox read is not timed."""
    conn = Connection(host, port)
    # Round the accounts again if the run outlasts them (the product allows 20 sign-in starts
    # per identifier and hour).
    for n, email in enumerate(itertools.cycle(accounts)):
        if time.perf_counter() >= stop:
            break
        # Each login from its own address, as behind a load balancer: the product limits
        # sign-in steps per address, and the benchmark's server trusts X-Forwarded-For.
        headers = {"Content-Type": "application/json",
                   "X-Forwarded-For": f"10.{n // 250 % 250}.{n % 250}.{hash(email) % 250}"}
        body = json.dumps({"query": START_LOGIN, "variables": {"identifier": email, "password": password}})
        t0 = time.perf_counter()
        elapsed = 0.0
        try:
            status, raw = await conn.send(Request("POST", "/graphql", headers, body.encode()).encode(host))
            elapsed = time.perf_counter() - t0
            ok = _ok(status, raw)
            if ok:
                token = json.loads(raw)["data"]["startLogin"]["attemptToken"]
                code = await outbox.code_for(email)
                body = json.dumps({"query": COMPLETE_LOGIN,
                                   "variables": {"attemptToken": token, "code": code}})
                t1 = time.perf_counter()
                status, raw = await conn.send(
                    Request("POST", "/graphql", headers, body.encode()).encode(host)
                )
                elapsed += time.perf_counter() - t1
                ok = _ok(status, raw)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
            status, raw, ok = 0, repr(exc).encode(), False
            conn.close()
            conn = Connection(host, port)
        stats.completed += 1
        if t0 < measure_from or time.perf_counter() > stop:
            continue
        stats.latencies.append(elapsed)
        if not ok:
            stats.errors += 1
            stats.error_sample = stats.error_sample or f"{status} {raw[:300].decode(errors='replace')}"
    conn.close()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    rng = random.Random(spec.get("seed", 1))
    pools: list[list[bytes]] = []
    for client_spec in spec["clients"]:
        pool = [
            Request("POST", spec["path"], {**spec.get("headers", {}), **client_spec.get("headers", {}),
                                          "Content-Type": "application/json"},
                    body.encode()).encode(f"{host}:{port}")
            for body in client_spec["bodies"]
        ]
        pools.append(pool)
    start = time.perf_counter()
    measure_from = start + spec.get("warmup", 2.0)
    stop = measure_from + spec["duration"]
    stats = Stats()
    if spec.get("login"):
        login = spec["login"]
        outbox = Outbox(login["db_url"])
        groups = [login["accounts"][i :: len(pools)] for i in range(len(pools))]
        await asyncio.gather(*(
            login_client(host, port, group, login["password"], outbox, measure_from, stop, stats)
            for group in groups
        ))
    else:
        # "rate": requests per second over all the clients, paced (see `client`).
        interval = len(pools) / spec["rate"] if spec.get("rate") else 0.0
        await asyncio.gather(*(
            client(host, port, pool, start, measure_from, stop, stats, spec.get("items_per_request", 1),
                   random.Random(rng.random()), spec.get("sequential", False), interval)
            for pool in pools
        ))
    if spec.get("sequential"):
        stop = time.perf_counter()
    lat = sorted(stats.latencies)
    seconds = min(spec["duration"], stop - measure_from)
    return {
        "requests": len(lat),
        "rps": len(lat) / seconds,
        "items_per_s": stats.items / seconds,
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p95_ms": percentile(lat, 0.95) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "errors": stats.errors,
        "completed": stats.completed,
        "error_sample": stats.error_sample,
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    result = asyncio.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
