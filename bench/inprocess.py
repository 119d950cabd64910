"""CPU per request of S1 and S2, in-process and sequential, for comparing two versions.

`bench.run` measures the server under load over HTTP; its figures move by ±30 % from one
run to the next on a shared machine, too much to see a change of a few per cent. This calls
the product's ASGI application directly, one request at a time, then the baseline's
(`bench/baseline.py`) the same way, and reports the CPU time of this process per request
(`time.process_time`, the database's own work excluded), the best and the median of several
rounds, and the ratio baseline/product. Run it pinned to one core, before and after a
change:

    taskset -c 0 .venv/bin/python -m bench.inprocess --db postgres --seed
    taskset -c 0 .venv/bin/python -m bench.inprocess --db postgres      # same data again

The figures are not those of `bench.run` (no sockets, no concurrency: each statement is an
event-loop turn of its own); only the difference between two versions is meaningful. The
requests run on uvloop, the server's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.run import PG_URL, S1, S2, configure_here
from bench.seed import create_database, migrate_database, seed
from bench.urls import pool_size

STATE = Path(tempfile.gettempdir()) / "dmp-bench-inprocess"


async def call(app: Any, body: bytes, token: str, path: str = "/graphql") -> list[dict[str, Any]]:
    """One POST through the application; the messages it sent back."""
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the request is whole: wait as a server would for a disconnect
            await asyncio.Event().wait()
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [
            (b"host", b"localhost:8000"), (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(body)).encode()),
        ],
    }
    await app(scope, receive, send)
    return messages


async def _rounds(
    app: Any, bodies: list[bytes], token: str, path: str, rounds: int, requests: int
) -> list[float]:
    """CPU ms per request of each round, sorted; after a warm-up, and a check of the answer."""
    for k in range(requests // 2):  # warm-up: caches, connections
        messages = await call(app, bodies[k % len(bodies)], token, path)
    last = messages[-1]["body"]
    if messages[0].get("status") != 200 or b'"errors"' in last:
        raise SystemExit(f"{path} failed: {last[:300]!r}")
    per_request = []
    for _ in range(rounds):
        start = time.process_time()
        for k in range(requests):
            await call(app, bodies[k % len(bodies)], token, path)
        per_request.append((time.process_time() - start) / requests * 1000)
    return sorted(per_request)


async def measure(manifest: Path, url: str, rounds: int, requests: int) -> None:
    from backend import config
    from backend.app import create_app
    from bench import baseline

    state = json.loads(manifest.read_text())
    product = create_app(outbox_worker=False)
    plain = baseline.create_app(url, config.settings().audit_key, pool_size=pool_size(url))
    async with product.router.lifespan_context(product), plain.router.lifespan_context(plain):
        for name, query, path in (("S1", S1, "/s1"), ("S2", S2, "/s2")):
            bodies = [json.dumps({"query": query, "variables": {"ins": i}}).encode() for i in state["ins"]]
            ours = await _rounds(product, bodies, state["token"], "/graphql", rounds, requests)
            theirs = await _rounds(plain, bodies, state["token"], path, rounds, requests)
            print(f"{name}: CPU ms per request, best (median) of {rounds} rounds of {requests}: "
                  f"product {ours[0]:.3f} ({ours[len(ours) // 2]:.3f}), "
                  f"baseline {theirs[0]:.3f} ({theirs[len(theirs) // 2]:.3f}); "
                  f"baseline/product {theirs[0] / ours[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=PG_URL.replace("dmp_bench", "dmp_bench_inprocess"))
    parser.add_argument("--seed", action="store_true", help="create and seed the database first")
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()

    STATE.mkdir(exist_ok=True)
    url = args.pg_url if args.db == "postgres" else f"sqlite://{STATE / 'bench.sqlite3'}"
    audit_key = configure_here(url, STATE / "data", 8000)
    manifest_path = STATE / f"manifest-{args.db}.json"
    if args.seed or not manifest_path.exists():
        asyncio.run(create_database(url))
        manifest = asyncio.run(seed(url, args.patients, audit_key, big_entries=300))
        first = manifest.practitioners[0]
        # The hot record is granted to every load practitioner, however few patients.
        ins = first.patients or [manifest.hot_ins]
        manifest_path.write_text(json.dumps({"token": first.token, "ins": ins}))
    else:  # the data of an earlier run, under the migrations added since
        asyncio.run(migrate_database(url))
    # The event loop the server runs on (uvicorn picks uvloop when it is installed): the
    # standard loop's Python-level scheduling would weigh every task and callback more.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(measure(manifest_path, url, args.rounds, args.requests))


if __name__ == "__main__":
    main()
