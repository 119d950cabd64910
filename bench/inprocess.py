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
    taskset -c 0 .venv/bin/python -m bench.inprocess --only S3,S5       # the product alone

S3 (the patient's access history) and S5 (a login: `startLogin`, the code read from the
outbox, `completeLogin`) have no baseline: they print the product's figures only. For S5 the
figure is the CPU of the event loop's thread per login (`time.thread_time`), what a login
takes from the requests beside it; argon2 runs in other threads and is printed apart.

The figures are not those of `bench.run` (no sockets, no concurrency: each statement is an
event-loop turn of its own); only the difference between two versions is meaningful. The
requests run on uvloop, the server's event loop.

`--calls` counts, after the rounds, the Python functions S1's and S2's requests run, in the
product and in the baseline (distinct functions, and entries per request, a coroutine's
resumptions included), the product's by package: how much code a request goes through,
a figure that repeats from run to run and machine to machine, unlike times.

`--time MODULE:NAME` (repeatable) times a function or method of the product in place during
S1's and S2's rounds, and prints the median of its calls in µs and its calls per request:

    taskset -c 0 .venv/bin/python -m bench.inprocess --only S1 \
        --time backend.schema.direct:execute --time backend.graphql_view:GraphQLView.create_response

A part run once per request runs with the caches the rest of the request left cold, often at
several times what it costs in a loop (docs/benchmarks.md, step 37): this says what it costs
where it runs. NAME is looked up where its callers find it (a function imported with
`from module import name` is timed under the importing module's name; a default argument
bound at import time cannot be). A coroutine function's time includes its waits, here the
database's; with `--cpu` the parts are timed by this thread's CPU time instead, which
leaves the waits out (the requests run one at a time: what runs meanwhile is the request's
own, the driver's reading of the answer included). The wrappers add their own CPU to the
figures printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import inspect
import json
import os
import statistics
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import uvloop

from bench.load import COMPLETE_LOGIN, START_LOGIN, Outbox
from bench.run import IMPORT_ITEMS, PG_URL, S1, S2, S3, S4, configure_here, import_items
from bench.seed import PASSWORD, create_database, migrate_database, seed
from bench.urls import pool_size

STATE = Path(tempfile.gettempdir()) / "dmp-bench-inprocess"


async def call(
    app: Any, body: bytes, token: str | None, path: str = "/graphql",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[dict[str, Any]]:
    """One POST through the application (with a bearer token, or `headers`); the messages
    it sent back."""
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
            (b"content-length", str(len(body)).encode()),
            *([(b"authorization", f"Bearer {token}".encode())] if token else []),
            *(headers or []),
        ],
    }
    await app(scope, receive, send)
    return messages


async def _rounds(
    app: Any, bodies: list[bytes], token: str | None, path: str, rounds: int, requests: int,
    headers: list[tuple[bytes, bytes]] | None = None, in_place: InPlace | None = None,
) -> list[float]:
    """CPU ms per request of each round, sorted; after a warm-up, and a check of the answer.
    `in_place` keeps the calls of the last round."""
    for k in range(requests // 2):  # warm-up: caches, connections
        messages = await call(app, bodies[k % len(bodies)], token, path, headers)
    _data(messages, path)
    per_request = []
    for _ in range(rounds):
        if in_place is not None:
            in_place.clear()
        start = time.process_time()
        for k in range(requests):
            await call(app, bodies[k % len(bodies)], token, path, headers)
        per_request.append((time.process_time() - start) / requests * 1000)
    return sorted(per_request)


class InPlace:
    """Functions of the product (or the baseline) wrapped to record each call's wall or CPU
    time (`--time`); each server's parts are reported from its own last round."""

    def __init__(self, parts: list[str], *, cpu: bool = False) -> None:
        self.samples: dict[str, list[int]] = {part: [] for part in parts}
        self.clock = time.thread_time_ns if cpu else time.perf_counter_ns
        self.unit = "CPU" if cpu else "wall"
        for part in parts:
            owner, name = owner_of(part)
            setattr(owner, name, self._wrap(part, getattr(owner, name)))

    def _wrap(self, part: str, original: Callable[..., Any]) -> Callable[..., Any]:
        samples = self.samples[part]
        clock = self.clock
        if inspect.iscoroutinefunction(original):
            @functools.wraps(original)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    return await original(*args, **kwargs)
                finally:
                    samples.append(clock() - start)
            return timed_coroutine

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return original(*args, **kwargs)
            finally:
                samples.append(clock() - start)
        return timed

    def clear(self) -> None:
        for samples in self.samples.values():
            samples.clear()

    def figures(self, requests: int) -> dict[str, str]:
        """Each part called since the last `clear`: its median µs per call and its calls
        per request."""
        return {
            part: f"{part} {statistics.median(samples) / 1000:.1f} µs x {len(samples) / requests:.2f}"
            for part, samples in self.samples.items() if samples
        }

    def lines(self, name: str, product: dict[str, str], baseline: dict[str, str]) -> list[str]:
        """The product's parts (and those neither server called), then the baseline's if any."""
        head = f"({self.unit}, median per call, calls per request): "
        ours = [
            product.get(part, f"{part} not called")
            for part in self.samples if part in product or part not in baseline
        ]
        lines = [f"{name} in place {head}" + "; ".join(ours)] if ours else []
        if baseline:
            lines.append(f"{name} in place, baseline {head}" + "; ".join(baseline.values()))
        return lines


async def _functions_run(
    app: Any, bodies: list[bytes], token: str | None, path: str, requests: int
) -> Counter[CodeType]:
    """How many times each Python function was entered during `requests` requests (a
    coroutine's resumptions included), through the interpreter's profiling hook on this
    thread, the event loop's."""
    entered: Counter[CodeType] = Counter()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            entered[frame.f_code] += 1

    sys.setprofile(profile)
    try:
        for k in range(requests):
            await call(app, bodies[k % len(bodies)], token, path)
    finally:
        sys.setprofile(None)
    for code in [code for code in entered if code.co_filename == __file__]:
        del entered[code]  # this harness's own (the request's receive and send)
    return entered


_ROOT = Path(__file__).resolve().parent.parent
_STDLIB = sysconfig.get_paths()["stdlib"]


def package_of(filename: str) -> str:
    """Where a function's code lives, for `--calls`: an installed package's name, the
    project's path to two levels (`backend/schema`, `backend/sql.py`, `bench/baseline.py`),
    "stdlib", or "generated" for code made at run time (dataclasses' `__init__`, the plain
    completers)."""
    if filename.startswith("<"):
        return "generated"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith(_STDLIB):
        return "stdlib"
    try:
        parts = Path(filename).resolve().relative_to(_ROOT).parts
    except ValueError:
        return "other"
    return "/".join(parts[:2])


def _breadth_line(name: str, product: Counter[CodeType], baseline: Counter[CodeType], requests: int) -> str:
    by_package = Counter(package_of(code.co_filename) for code in product)
    packages = ", ".join(f"{package} {n}" for package, n in by_package.most_common(10))
    return (
        f"{name} Python functions run in {requests} requests: product {len(product)} "
        f"({sum(product.values()) / requests:.0f} entries a request), "
        f"baseline {len(baseline)} ({sum(baseline.values()) / requests:.0f}); "
        f"the product's by package: {packages}"
    )


def owner_of(part: str) -> tuple[Any, str]:
    """The object holding `MODULE:NAME` (a module, or a class for `Class.method`) and the
    attribute's name; SystemExit when there is no such function."""
    module_name, _, path = part.partition(":")
    if not module_name or not path:
        raise SystemExit(f"--time {part}: expected MODULE:NAME, e.g. backend.schema.direct:execute")
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"--time {part}: {exc}") from exc
    *outer, name = path.split(".")
    for attribute in outer:
        owner = getattr(owner, attribute, None)
    static = inspect.getattr_static(owner, name, None) if owner is not None else None
    if not inspect.isfunction(static):
        raise SystemExit(f"--time {part}: not a function or method of the product")
    return owner, name


def _data(messages: list[dict[str, Any]], what: str = "request") -> Any:
    """The data of a GraphQL answer; the run stops on a refused request or an error."""
    answer = json.loads(messages[-1]["body"])
    if answer.get("errors") or messages[0].get("status") != 200:
        raise SystemExit(f"{what} failed: {messages[-1]['body'][:300]!r}")
    return answer["data"]


def _best_and_median(sorted_values: list[float], digits: int) -> str:
    """The best and the median of sorted figures, as "best (median)"."""
    best, median = sorted_values[0], sorted_values[len(sorted_values) // 2]
    return f"{best:.{digits}f} ({median:.{digits}f})"


async def _history_reader() -> str:
    """A session of the patient whose record has the longest access history (made now: the
    seeded sessions time out)."""
    from backend import sql
    from backend.auth.sessions import create_session
    from backend.models import Account

    rows = await sql.fetch(
        'SELECT r."owner_id" FROM "record" r JOIN "access_event" e ON e."record_id" = r."id"'
        ' WHERE r."owner_id" IS NOT NULL GROUP BY r."owner_id" ORDER BY COUNT(*) DESC LIMIT 1', []
    )
    _, token = await create_session(await Account.get(id=rows[0][0]))
    return token


async def _login(app: Any, outbox: Outbox, email: str, n: int) -> None:
    """S5 once: `startLogin`, the code read from the outbox (as `bench.run`'s load does; a
    statement of this harness), `completeLogin`, from an address of its own (the per-address
    limit)."""
    address = [(b"x-forwarded-for", f"10.{n // 250 % 250}.{n % 250}.9".encode())]
    started = _data(await call(app, json.dumps({
        "query": START_LOGIN, "variables": {"identifier": email, "password": PASSWORD}
    }).encode(), None, headers=address))
    _data(await call(app, json.dumps({"query": COMPLETE_LOGIN, "variables": {
        "attemptToken": started["startLogin"]["attemptToken"], "code": await outbox.code_for(email),
    }}).encode(), None, headers=address))


async def _logins(app: Any, url: str, rounds: int, logins: int) -> tuple[list[float], list[float]]:
    """CPU ms per login of each round, sorted: of the event loop's thread, and of the process."""
    from backend import sql

    rows = await sql.fetch(
        'SELECT "email" FROM "account" WHERE "role" = $1 AND "email" LIKE $2 ORDER BY "email"',
        ["PATIENT", "patient%@bench.test"],
    )
    emails = [row[0] for row in rows]
    outbox = Outbox(url)
    # Another address space each run: the per-address counters of earlier runs stay apart.
    first = int(time.time()) % 1000 * (rounds + 1) * logins
    for k in range(10):  # warm-up
        await _login(app, outbox, emails[k % len(emails)], first + k)
    loop_thread, process = [], []
    for r in range(rounds):
        start, start_all = time.thread_time(), time.process_time()
        for k in range(logins):
            n = first + (r + 1) * logins + k
            await _login(app, outbox, emails[n % len(emails)], n)
        loop_thread.append((time.thread_time() - start) / logins * 1000)
        process.append((time.process_time() - start_all) / logins * 1000)
    return sorted(loop_thread), sorted(process)


async def _imports(app: Any, state: dict[str, Any], rounds: int, imports: int) -> list[float]:
    """CPU ms per S4 request (1,000 new items) of each round, sorted; the bodies are built
    before the clock starts, and every batch's items are new, as in `bench.run`."""
    first = int(time.time() * 10) % 10_000_000 * 1_000  # batch numbers no earlier run used
    batches = iter(range(first, first + (rounds + 1) * imports))

    def bodies() -> list[bytes]:
        patients = state["import_patients"]
        return [json.dumps({"query": S4, "variables": {"items": import_items(patients, next(batches))}})
                .encode() for _ in range(imports)]

    async def run(body: bytes) -> None:
        result = _data(await call(app, body, state["insurer_token"]))["importCareHistory"]
        if result["created"] != IMPORT_ITEMS:
            raise SystemExit(f"S4 created {result['created']} items, not {IMPORT_ITEMS}")

    for body in bodies():  # warm-up
        await run(body)
    per_request = []
    for _ in range(rounds):
        ready = bodies()
        start = time.process_time()
        for body in ready:
            await run(body)
        per_request.append((time.process_time() - start) / imports * 1000)
    return sorted(per_request)


async def measure(
    manifest: Path, url: str, *, rounds: int, requests: int, only: set[str], parts: list[str],
    cpu: bool = False, calls: bool = False,
) -> None:
    from backend import config
    from backend.app import create_app
    from bench import baseline

    state = json.loads(manifest.read_text())
    product = create_app(outbox_worker=False)
    in_place = InPlace(parts, cpu=cpu) if parts else None
    plain = baseline.create_app(url, config.settings().audit_key, pool_size=pool_size(url))
    async with product.router.lifespan_context(product), plain.router.lifespan_context(plain):
        for name, query, path in (("S1", S1, "/s1"), ("S2", S2, "/s2")):
            if name not in only:
                continue
            bodies = [json.dumps({"query": query, "variables": {"ins": i}}).encode() for i in state["ins"]]
            ours = await _rounds(product, bodies, state["token"], "/graphql", rounds, requests,
                                 in_place=in_place)
            ours_in_place = in_place.figures(requests) if in_place is not None else {}
            theirs = await _rounds(plain, bodies, state["token"], path, rounds, requests,
                                   in_place=in_place)
            print(f"{name}: CPU ms per request, best (median) of {rounds} rounds of {requests}: "
                  f"product {_best_and_median(ours, 3)}, "
                  f"baseline {_best_and_median(theirs, 3)}; "
                  f"baseline/product {theirs[0] / ours[0]:.2f}", flush=True)
            if in_place is not None:
                for line in in_place.lines(name, ours_in_place, in_place.figures(requests)):
                    print(line, flush=True)
            if calls:
                sample = min(requests, 50)
                product_calls = await _functions_run(product, bodies, state["token"], "/graphql", sample)
                baseline_calls = await _functions_run(plain, bodies, state["token"], path, sample)
                print(_breadth_line(name, product_calls, baseline_calls, sample), flush=True)
        if "S3" in only:
            cookie = [(b"cookie", f"dmp_session={await _history_reader()}".encode()),
                      (b"origin", b"http://localhost:8000")]
            ours = await _rounds(
                product, [json.dumps({"query": S3}).encode()], None, "/graphql", rounds, requests, cookie
            )
            print(f"S3: CPU ms per request, best (median) of {rounds} rounds of {requests}: "
                  f"product {_best_and_median(ours, 3)}", flush=True)
        if "S4" in only:
            if "insurer_token" not in state:
                raise SystemExit("S4 needs data seeded since S4 was added here: run with --seed")
            imports = max(2, requests // 100)
            ours = await _imports(product, state, rounds, imports)
            print(f"S4: CPU ms per 1,000 imported items, best (median) of {rounds} rounds of {imports}: "
                  f"product {_best_and_median(ours, 2)}", flush=True)
        if "S5" in only:
            logins = max(10, requests // 6)
            loop_thread, process = await _logins(product, url, rounds, logins)
            print(f"S5: CPU ms per login, best (median) of {rounds} rounds of {logins}: "
                  f"event loop's thread {_best_and_median(loop_thread, 2)}, "
                  f"the whole process, argon2 included, {_best_and_median(process, 2)}",
                  flush=True)


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
    parser.add_argument("--only", default="S1,S2", help="comma-separated: S1,S2,S3,S4,S5")
    parser.add_argument("--time", action="append", default=[], metavar="MODULE:NAME",
                        help="time this function or method in place during S1 and S2 (repeatable)")
    parser.add_argument("--calls", action="store_true",
                        help="count the Python functions S1's and S2's requests run (after the rounds)")
    parser.add_argument("--cpu", action="store_true",
                        help="time the --time parts by this thread's CPU time, not wall time")
    args = parser.parse_args()

    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - {"S1", "S2", "S3", "S4", "S5"}
    if unknown:
        parser.error(f"--only: unknown scenario(s) {', '.join(sorted(unknown))}")
    # S5's logins come from many addresses, as behind a load balancer (bench.run does the same).
    os.environ["DMP_TRUSTED_PROXY_HEADER"] = "X-Forwarded-For"
    STATE.mkdir(exist_ok=True)
    url = args.pg_url if args.db == "postgres" else f"sqlite://{STATE / 'bench.sqlite3'}"
    audit_key = configure_here(url, STATE / "data", 8000)
    for part in args.time:  # a misspelt part stops the run before it seeds, not after
        owner_of(part)
    manifest_path = STATE / f"manifest-{args.db}.json"
    if args.seed or not manifest_path.exists():
        asyncio.run(create_database(url))
        manifest = asyncio.run(seed(url, args.patients, audit_key, big_entries=300))
        first = manifest.practitioners[0]
        # The hot record is granted to every load practitioner, however few patients.
        ins = first.patients or [manifest.hot_ins]
        manifest_path.write_text(json.dumps({
            "token": first.token, "ins": ins,
            "insurer_token": manifest.insurer_token, "import_patients": manifest.import_patients,
        }))
    else:  # the data of an earlier run, under the migrations added since
        asyncio.run(migrate_database(url))
    # The event loop the server runs on (uvicorn picks uvloop when it is installed): the
    # standard loop's Python-level scheduling would weigh every task and callback more.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(measure(
            manifest_path, url, rounds=args.rounds, requests=args.requests, only=only,
            parts=args.time, cpu=args.cpu, calls=args.calls,
        ))


if __name__ == "__main__":
    main()
